import { randomUUID } from "node:crypto";
import { z } from "zod";
import { canonicalJson, jsonString, sha256Hex, writeObject } from "./canonical.js";

/**
 * The evidence record: one object that is both the audit artefact and the experiment record.
 * The eleven seed fields are named exactly as in docs/design.md; the store adds the envelope.
 */
export const RECORD_KINDS = [
  "action",
  "inference",
  "training",
  "evaluation",
  "promotion",
  "benchmark",
  "alert",
  "policy",
] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export const GENESIS_HASH = "0".repeat(64);

const HEX64 = /^[0-9a-f]{64}$/;
const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const Hex64 = z.string().regex(HEX64);
const Rfc3339Ms = z.string().regex(RFC3339_MS, "RFC 3339 UTC with ms");
const EVALUATIONS = ["ALLOW", "DENY", "ESCALATE"] as const;
const EFFECTS = ["allow", "deny", "escalate"] as const;
const DECISIONS = ["approve", "deny", "expired", "agent-restart"] as const;

export const RuleMatchSchema = z.object({
  rule_id: z.string(),
  effect: z.enum(EFFECTS),
  risk: z.number(),
});

export const PolicyMatched = z.object({
  bundle: z.object({ id: z.string(), version: z.number().int(), sha256: z.string() }).nullable(),
  rules: z.array(RuleMatchSchema),
});
export type PolicyMatched = z.infer<typeof PolicyMatched>;

export const PrincipalReview = z.object({
  decision: z.enum(DECISIONS),
  /** Who: "uid:501", "operator:alice", or "system" for an expiry. */
  reviewer: z.string(),
  at: Rfc3339Ms,
  reason: z.string().nullable(),
});
export type PrincipalReview = z.infer<typeof PrincipalReview>;

/** What a producer hands to the store: the seed fields plus `kind` (and optionally the prompt). */
export const RecordInput = z.strictObject({
  kind: z.enum(RECORD_KINDS),
  session_id: z.string().min(1).max(256),
  action_id: z.string().min(1).max(256),
  timestamp: Rfc3339Ms,
  prompt_hash: Hex64.nullable(),
  /** The prompt itself is optional and redactable; the hash stays. */
  prompt: z.string().nullable().optional(),
  proposed_action: z.unknown(),
  /** null for kinds no gate judged (alert, benchmark). */
  evaluation: z.enum(EVALUATIONS).nullable(),
  policy_matched: PolicyMatched,
  composition_state: z.unknown(),
  execution_result: z.unknown().nullable(),
  principal_review: PrincipalReview.nullable(),
  latency_ms: z.number().nonnegative(),
  /** Who proposed it ("uid:501 pid:1234", "model:tiny", …); part of the authority. */
  principal: z.string().nullable().optional(),
});
export type RecordInput = z.infer<typeof RecordInput>;

/** A chained record as stored and shipped. */
export interface StoredRecord extends RecordInput {
  host_id: string;
  seq: number;
  prev_hash: string;
  hash: string;
}

export const StoredRecordSchema = RecordInput.extend({
  host_id: z.string().min(1),
  seq: z.number().int().positive(),
  prev_hash: Hex64,
  hash: Hex64,
});

/** The fields a record's hash covers: every field but `hash` and `prev_hash`, in canonical (sorted) order. */
const HASHED_KEYS: readonly string[] = [...Object.keys(RecordInput.shape), "host_id", "seq"].sort();
const HASHED_KEY_SET = new Set(HASHED_KEYS);
const QUOTED_KEYS = HASHED_KEYS.map((k) => JSON.stringify(k));

/**
 * The canonical JSON the hash covers: the record without `hash` and `prev_hash`. Identical to
 * canonicalJson of that object; records holding only the known fields skip the per-call key sort.
 */
export function recordBodyJson(rec: Omit<StoredRecord, "hash" | "prev_hash">): string {
  const obj = rec as unknown as Record<string, unknown>;
  for (const k of Object.keys(obj)) {
    if (!HASHED_KEY_SET.has(k) && k !== "hash" && k !== "prev_hash") {
      const { hash: _h, prev_hash: _p, ...body } = obj;
      return canonicalJson(body);
    }
  }
  return writeObject(obj, HASHED_KEYS, QUOTED_KEYS);
}

/**
 * recordBodyJson for a record the caller built from a RecordInput parse (strict schema: no
 * unknown fields) plus host_id and seq, so the key check is skipped. The store's hot path.
 */
export function parsedRecordBodyJson(rec: Omit<StoredRecord, "hash" | "prev_hash">): string {
  return writeObject(rec as unknown as Record<string, unknown>, HASHED_KEYS, QUOTED_KEYS);
}

/**
 * A record validated and serialised once, before it has a seq: its canonical body is
 * `before + seq + after` (`seq` sorts between `proposed_action` and `session_id`), and `record`
 * becomes the stored record once the store fills in `seq`, `prev_hash` and `hash`.
 */
export interface EncodedRecord {
  record: StoredRecord;
  before: string;
  after: string;
  /**
   * `before` without its `,"host_id":…` member and the `,"seq":` that ends it, as the two parts on
   * either side of host_id (the fast path knows them; zod's path leaves this out): draftJson joins
   * them to `after` without writing the record again or slicing the body.
   */
  host?: { head: string; tail: string };
}

/** Every RecordInput key, sorted: a draft's canonical JSON (no host_id, no seq). */
const INPUT_KEYS: readonly string[] = Object.keys(RecordInput.shape).sort();
const SEQ_SUFFIX = ',"seq":';

/**
 * The canonical JSON of the RecordInput `enc` was encoded from, without `host_id` and `seq`: what
 * a pending row stores for its draft (JSON.parse gives the record back). Cut from the encoded body
 * when the fast path encoded it; written again otherwise.
 */
export function draftJson(enc: EncodedRecord): string {
  const h = enc.host;
  if (h === undefined) return writeObject(enc.record as unknown as Record<string, unknown>, INPUT_KEYS);
  return h.head + h.tail + enc.after;
}

const BEFORE_SEQ = HASHED_KEYS.filter((k) => k < "seq");
const AFTER_SEQ = HASHED_KEYS.filter((k) => k > "seq");

/**
 * Validates `input` as a RecordInput and serialises it, once, for the store's hot path. Throws
 * zod's ZodError when it is not a valid record, and TypeError when a free-form field cannot be
 * canonicalised (a non-finite number, a function). The body is byte-identical to recordBodyJson
 * of the record zod would return, with `host_id` and `seq` added (property test in
 * test/evidence/store.test.ts).
 */
export function encodeRecord(input: unknown, hostId: string): EncodedRecord {
  const fast = encodePlain(input, hostId);
  if (fast !== undefined) return fast;
  // Anything the fast path is not sure of (extra keys zod strips, long ids it would count in code
  // points, every invalid record) goes through zod: its output, or its error message.
  const rec = RecordInput.parse(input) as StoredRecord;
  rec.host_id = hostId;
  rec.seq = 0;
  const body = writeObject(rec as unknown as Record<string, unknown>, BEFORE_SEQ);
  const tail = writeObject(rec as unknown as Record<string, unknown>, AFTER_SEQ);
  return { record: rec, before: `${body.slice(0, -1)},"seq":`, after: `,${tail.slice(1)}` };
}

const KIND_SET = new Set<string>(RECORD_KINDS);
const EVALUATION_SET = new Set<string>(EVALUATIONS);
const EFFECT_SET = new Set<string>(EFFECTS);
const DECISION_SET = new Set<string>(DECISIONS);
const INPUT_KEY_SET = new Set(Object.keys(RecordInput.shape));
const inputKey = (k: string) => INPUT_KEY_SET.has(k);
const policyKey = (k: string) => k === "bundle" || k === "rules";
const bundleKey = (k: string) => k === "id" || k === "version" || k === "sha256";
const ruleKey = (k: string) => k === "rule_id" || k === "effect" || k === "risk";
const reviewKey = (k: string) => k === "decision" || k === "reviewer" || k === "at" || k === "reason";

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** Only keys from `allowed` (own or inherited enumerable, as zod's strict check sees them). */
function onlyKeys(o: Record<string, unknown>, allowed: (k: string) => boolean): boolean {
  for (const k in o) if (!allowed(k)) return false;
  return true;
}

/** 1 to 256 UTF-16 units: certainly 1 to 256 code points, which is what zod counts. */
const isId = (v: unknown): v is string => typeof v === "string" && v.length >= 1 && v.length <= 256;

/**
 * The common case without zod: a record whose every field is certainly valid as it stands (zod
 * would accept it and strip nothing). Reads each field once, validates it and writes it in the
 * same step. Returns undefined whenever in doubt, and the caller falls back to zod.
 */
function encodePlain(input: unknown, hostId: string): EncodedRecord | undefined {
  if (!isObject(input) || !onlyKeys(input, inputKey) || !plainScalars(input)) return undefined;
  const o = input;
  // plainScalars checked these.
  const kind = o.kind as RecordKind;
  const session_id = o.session_id as string;
  const action_id = o.action_id as string;
  const timestamp = o.timestamp as string;
  const prompt_hash = o.prompt_hash as string | null;
  const prompt = o.prompt as string | null | undefined;
  const proposed_action = o.proposed_action;
  const evaluation = o.evaluation as RecordInput["evaluation"];
  const policy_matched = o.policy_matched;
  const composition_state = o.composition_state;
  const execution_result = o.execution_result;
  const principal_review = o.principal_review;
  const latency_ms = o.latency_ms as number;
  const principal = o.principal as string | null | undefined;
  const pm = policyMatchedJson(policy_matched);
  if (pm === undefined) return undefined;
  const pr = principal_review === null ? "null" : principalReviewJson(principal_review);
  if (pr === undefined) return undefined;

  // Keys in canonical (sorted) order; enum members, the timestamp and hex hashes need no escaping.
  const head = `{"action_id":${jsonString(action_id)},"composition_state":${canonicalJson(composition_state)},"evaluation":${evaluation === null ? "null" : `"${evaluation}"`},"execution_result":${canonicalJson(execution_result)}`;
  let tail = `,"kind":"${kind}","latency_ms":${String(latency_ms)},"policy_matched":${pm}`;
  if (principal !== undefined) tail += `,"principal":${principal === null ? "null" : jsonString(principal)}`;
  tail += `,"principal_review":${pr}`;
  if (prompt !== undefined) tail += `,"prompt":${prompt === null ? "null" : jsonString(prompt)}`;
  tail += `,"prompt_hash":${prompt_hash === null ? "null" : `"${prompt_hash}"`},"proposed_action":${canonicalJson(proposed_action)}`;
  const before = `${head},"host_id":${jsonString(hostId)}${tail}${SEQ_SUFFIX}`;
  const after = `,"session_id":${jsonString(session_id)},"timestamp":"${timestamp}"}`;

  const record: StoredRecord = {
    kind: kind as RecordKind,
    session_id,
    action_id,
    timestamp,
    prompt_hash,
    proposed_action,
    evaluation: evaluation as RecordInput["evaluation"],
    policy_matched: policy_matched as PolicyMatched,
    composition_state,
    execution_result,
    principal_review: principal_review as PrincipalReview | null,
    latency_ms,
    host_id: hostId,
    seq: 0,
    prev_hash: "",
    hash: "",
  };
  if (prompt !== undefined) record.prompt = prompt;
  if (principal !== undefined) record.principal = principal;
  return { record, before, after, host: { head, tail } };
}

/**
 * RecordInput's fields other than the two objects (policy_matched, principal_review) and the keys
 * themselves: each certainly valid as zod reads it. False whenever in doubt.
 */
function plainScalars(o: Record<string, unknown>): boolean {
  const { kind, session_id, action_id, timestamp, prompt_hash, prompt, evaluation, latency_ms, principal } =
    o;
  if (typeof kind !== "string" || !KIND_SET.has(kind)) return false;
  if (!isId(session_id) || !isId(action_id)) return false;
  if (typeof timestamp !== "string" || !RFC3339_MS.test(timestamp)) return false;
  if (prompt_hash !== null && (typeof prompt_hash !== "string" || !HEX64.test(prompt_hash))) return false;
  if (prompt !== undefined && prompt !== null && typeof prompt !== "string") return false;
  if (evaluation !== null && (typeof evaluation !== "string" || !EVALUATION_SET.has(evaluation)))
    return false;
  if (typeof latency_ms !== "number" || !(latency_ms >= 0) || latency_ms === Number.POSITIVE_INFINITY)
    return false;
  if (principal !== undefined && principal !== null && typeof principal !== "string") return false;
  // Required even though free-form: zod refuses a missing key.
  return (
    o.proposed_action !== undefined && o.composition_state !== undefined && o.execution_result !== undefined
  );
}

const bodyKey = (k: string) => INPUT_KEY_SET.has(k) || k === "host_id" || k === "seq";

/**
 * True when `v` is certainly a valid record body (StoredRecordSchema without hash and prev_hash:
 * a RecordInput plus host_id and seq, no other key), as the collector receives it; false whenever
 * in doubt (the caller then asks zod). The checks are encodeRecord's fast path's, without writing.
 */
export function isPlainBody(v: unknown): boolean {
  if (!isObject(v) || !onlyKeys(v, bodyKey) || !plainScalars(v)) return false;
  const { host_id, seq, policy_matched, principal_review } = v;
  if (typeof host_id !== "string" || host_id.length === 0) return false;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq <= 0) return false;
  if (policyMatchedJson(policy_matched) === undefined) return false;
  return principal_review === null || principalReviewJson(principal_review) !== undefined;
}

function policyMatchedJson(v: unknown): string | undefined {
  if (!isObject(v) || !onlyKeys(v, policyKey)) return undefined;
  const bundle = v.bundle;
  const rules = v.rules;
  let b = "null";
  if (bundle !== null) {
    if (!isObject(bundle) || !onlyKeys(bundle, bundleKey)) return undefined;
    const id = bundle.id;
    const version = bundle.version;
    const sha256 = bundle.sha256;
    if (typeof id !== "string" || typeof sha256 !== "string" || !Number.isSafeInteger(version))
      return undefined;
    b = `{"id":${jsonString(id)},"sha256":${jsonString(sha256)},"version":${String(version)}}`;
  }
  if (!Array.isArray(rules)) return undefined;
  let s = `{"bundle":${b},"rules":[`;
  for (let i = 0; i < rules.length; i++) {
    const r: unknown = rules[i];
    if (!isObject(r) || !onlyKeys(r, ruleKey)) return undefined;
    const rule_id = r.rule_id;
    const effect = r.effect;
    const risk = r.risk;
    if (typeof rule_id !== "string" || typeof effect !== "string" || !EFFECT_SET.has(effect))
      return undefined;
    if (typeof risk !== "number" || !Number.isFinite(risk)) return undefined;
    s += `${i > 0 ? "," : ""}{"effect":"${effect}","risk":${String(risk)},"rule_id":${jsonString(rule_id)}}`;
  }
  return `${s}]}`;
}

function principalReviewJson(v: unknown): string | undefined {
  if (!isObject(v) || !onlyKeys(v, reviewKey)) return undefined;
  const decision = v.decision;
  const reviewer = v.reviewer;
  const at = v.at;
  const reason = v.reason;
  if (typeof decision !== "string" || !DECISION_SET.has(decision) || typeof reviewer !== "string")
    return undefined;
  if (typeof at !== "string" || !RFC3339_MS.test(at)) return undefined;
  if (reason !== null && typeof reason !== "string") return undefined;
  return `{"at":"${at}","decision":"${decision}","reason":${reason === null ? "null" : jsonString(reason)},"reviewer":${jsonString(reviewer)}}`;
}

/** hash = sha256(prev_hash ‖ canonical JSON of every field but `hash` and `prev_hash`). */
export function recordHash(prevHash: string, rec: Omit<StoredRecord, "hash" | "prev_hash">): string {
  return sha256Hex(prevHash + recordBodyJson(rec));
}

/** sha256 of the canonical prompt (NFC, \r\n → \n), so equal prompts hash equal. */
export function promptHash(prompt: string | unknown): string {
  const text = typeof prompt === "string" ? prompt : canonicalJson(prompt);
  return sha256Hex(text.normalize("NFC").replace(/\r\n/g, "\n"));
}

/**
 * A record of the agent's own event (kind "alert", principal "system", nothing evaluated or run):
 * a refused policy reload, a tolerance breach, a drift finding. `what.kind` names the event.
 */
export function alertRecord(
  session_id: string,
  what: { kind: string } & Record<string, unknown>,
  message: string,
): RecordInput {
  return {
    kind: "alert",
    session_id,
    action_id: randomUUID(),
    timestamp: nowRfc3339(),
    prompt_hash: null,
    proposed_action: what,
    evaluation: null,
    policy_matched: { bundle: null, rules: [] },
    composition_state: null,
    execution_result: { message },
    principal_review: null,
    latency_ms: 0,
    principal: "system",
  };
}

/** RFC 3339 UTC with milliseconds. */
export function nowRfc3339(ms: number = Date.now()): string {
  return new Date(ms).toISOString();
}
