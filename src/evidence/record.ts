import { z } from "zod";
import { canonicalJson, sha256Hex, writeObject } from "./canonical.js";

/**
 * The evidence record: one object that is both the audit artefact and the experiment record.
 * The eleven seed fields are named exactly as in DESIGN.md; the store adds the envelope.
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

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const Rfc3339Ms = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/, "RFC 3339 UTC with ms");

export const RuleMatchSchema = z.object({
  rule_id: z.string(),
  effect: z.enum(["allow", "deny", "escalate"]),
  risk: z.number(),
});

export const PolicyMatched = z.object({
  bundle: z.object({ id: z.string(), version: z.number().int(), sha256: z.string() }).nullable(),
  rules: z.array(RuleMatchSchema),
});
export type PolicyMatched = z.infer<typeof PolicyMatched>;

export const PrincipalReview = z.object({
  decision: z.enum(["approve", "deny", "expired", "agent-restart"]),
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
  evaluation: z.enum(["ALLOW", "DENY", "ESCALATE"]).nullable(),
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

/** hash = sha256(prev_hash ‖ canonical JSON of every field but `hash` and `prev_hash`). */
export function recordHash(prevHash: string, rec: Omit<StoredRecord, "hash" | "prev_hash">): string {
  return sha256Hex(prevHash + recordBodyJson(rec));
}

/** sha256 of the canonical prompt (NFC, \r\n → \n), so equal prompts hash equal. */
export function promptHash(prompt: string | unknown): string {
  const text = typeof prompt === "string" ? prompt : canonicalJson(prompt);
  return sha256Hex(text.normalize("NFC").replace(/\r\n/g, "\n"));
}

/** RFC 3339 UTC with milliseconds. */
export function nowRfc3339(ms: number = Date.now()): string {
  return new Date(ms).toISOString();
}
