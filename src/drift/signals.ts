/**
 * What drift watches: observations extracted from evidence records and heartbeats. One record
 * yields a few observations (`action.kind = shell`, `gate.latency_ms = 0.03`, …), each keyed by
 * its signal name plus the population it belongs to (`inference.ttft_ms{model=tiny}`,
 * `action.kind{principal=uid:501}`). docs/drift.md lists every signal.
 */
import type { DriftConfig } from "./config.js";

export type SignalType = "numerical" | "categorical";

export interface Observation {
  /** Signal key: name plus population, e.g. `gate.deny{session_kind=claude-code}`. */
  signal: string;
  type: SignalType;
  value: number | string;
}

/** The fields of a record drift reads (a StoredRecord or a RecordInput both fit). */
export interface RecordLike {
  kind: string;
  session_id: string;
  timestamp: string;
  proposed_action: unknown;
  evaluation: string | null;
  policy_matched: {
    bundle: { id: string; version: number; sha256: string } | null;
    rules: { rule_id: string }[];
  };
  execution_result: unknown;
  principal_review: { decision: string; at: string } | null;
  latency_ms: number;
  principal?: string | null;
  seq?: number;
  host_id?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
/** Category labels are cut short: a free-form string cannot grow a category without bound. */
const label = (v: unknown) => String(v).slice(0, 80);

/** "uid:501 pid:1234" → "uid:501": the pid changes every process and would split one population. */
export function principalOf(p: string | null | undefined): string {
  if (p === null || p === undefined || p === "") return "(none)";
  return p.trim().split(/\s+/)[0]!.slice(0, 64);
}

/** "claude-code:abc" → "claude-code"; an id without a kind prefix is a plain "session". */
export function sessionKindOf(sessionId: string): string {
  let kind = sessionKinds.get(sessionId);
  if (kind === undefined) {
    const m = /^([a-z][a-z0-9_.-]{0,31}):/i.exec(sessionId);
    kind = m === null ? "session" : m[1]!.toLowerCase();
    // A session's records come in runs, and each is read by two monitors at the collector: kept
    // for the sessions seen last, bounded.
    if (sessionKinds.size >= SESSION_KINDS_KEPT) sessionKinds.clear();
    sessionKinds.set(sessionId, kind);
  }
  return kind;
}
const SESSION_KINDS_KEPT = 4096;
const sessionKinds = new Map<string, string>();

/** The program a shell command runs first: env assignments skipped, path stripped. */
export function programOf(command: string): string {
  for (const word of command.trim().split(/\s+/)) {
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue;
    const base = word.replace(/^.*\//, "");
    return base === "" ? "(none)" : label(base);
  }
  return "(none)";
}

/** The keys of the three split signals of one population: action.kind, gate.deny, gate.escalate. */
export type SplitKeys = readonly [string, string, string];

/** Populations a record splits into: the whole, then per principal and per session kind. */
export interface Populations {
  principal: (p: string) => string;
  sessionKind: (k: string) => string;
  /**
   * The split signals' keys (`action.kind{principal=…}`, `gate.deny{…}`, `gate.escalate{…}`; the
   * whole population's without a suffix) of one population, built once: as bounded as the
   * populations, and a key used again is a string whose hash the signal map already knows.
   */
  splitKeys: (split: "principal" | "session_kind" | null, population: string) => SplitKeys;
}

/**
 * Bounded population labels: the first `max` distinct values of each split keep their name,
 * later ones fold into "(other)", so a stream of one-off principals cannot grow the signal set.
 */
export function boundedPopulations(max: number): Populations {
  const seen = { principal: new Set<string>(), session_kind: new Set<string>() };
  const bound = (set: Set<string>) => (v: string) => {
    if (set.has(v)) return v;
    if (set.size >= max) return "(other)";
    set.add(v);
    return v;
  };
  const whole: SplitKeys = ["action.kind", "gate.deny", "gate.escalate"];
  const keys = { principal: new Map<string, SplitKeys>(), session_kind: new Map<string, SplitKeys>() };
  const splitKeys = (split: "principal" | "session_kind" | null, population: string): SplitKeys => {
    if (split === null) return whole;
    let k = keys[split].get(population);
    if (k === undefined) {
      const s = `{${split}=${population}}`;
      k = [`action.kind${s}`, `gate.deny${s}`, `gate.escalate${s}`];
      keys[split].set(population, k);
    }
    return k;
  };
  return { principal: bound(seen.principal), sessionKind: bound(seen.session_kind), splitKeys };
}

/** Receives one observation (the monitor feeds it straight in: no Observation object per value). */
export type ObservationSink = (signal: string, type: SignalType, value: number | string) => void;

/** The observations of one evidence record (none for kinds drift does not watch). */
export function observationsOf(
  rec: RecordLike,
  cfg: Pick<DriftConfig, "split_by">,
  pops: Populations,
): Observation[] {
  const out: Observation[] = [];
  visitObservations(rec, cfg, pops, (signal, type, value) => out.push({ signal, type, value }));
  return out;
}

/** observationsOf's observations, in its order, handed to `sink` one by one. */
export function visitObservations(
  rec: RecordLike,
  cfg: Pick<DriftConfig, "split_by">,
  pops: Populations,
  sink: ObservationSink,
): void {
  // No closure, array or iterator per record: each observation is one call of the sink.
  if (rec.kind === "action" && rec.evaluation !== null) {
    const a = isObj(rec.proposed_action) ? rec.proposed_action : NO_FIELDS;
    const kind = typeof a.kind === "string" ? a.kind : "(unknown)";
    const kindLabel = label(kind);
    const deny = rec.evaluation === "DENY" ? "yes" : "no";
    const escalate = rec.evaluation === "ESCALATE" ? "yes" : "no";
    // The populations are resolved first (in this order: they fold new names into "(other)").
    const whole = pops.splitKeys(null, "");
    const byPrincipal = cfg.split_by.includes("principal")
      ? pops.splitKeys("principal", pops.principal(principalOf(rec.principal)))
      : null;
    const bySessionKind = cfg.split_by.includes("session_kind")
      ? pops.splitKeys("session_kind", pops.sessionKind(sessionKindOf(rec.session_id)))
      : null;
    splitObservations(sink, whole, kindLabel, deny, escalate);
    if (byPrincipal !== null) splitObservations(sink, byPrincipal, kindLabel, deny, escalate);
    if (bySessionKind !== null) splitObservations(sink, bySessionKind, kindLabel, deny, escalate);
    sink("action.evaluation", "categorical", label(rec.evaluation));
    if (kind === "shell" && typeof a.command === "string")
      sink("action.program", "categorical", label(programOf(a.command)));
    if (kind === "tool" && typeof a.name === "string") sink("action.tool", "categorical", label(a.name));
    const rules = rec.policy_matched.rules;
    if (rules.length === 0) sink("action.rule", "categorical", "(none)");
    for (let i = 0; i < rules.length; i++) sink("action.rule", "categorical", label(rules[i]!.rule_id));
    const reasons = isObj(rec.execution_result) ? rec.execution_result.reasons : undefined;
    if (Array.isArray(reasons))
      for (let i = 0; i < reasons.length; i++) sink("action.reason", "categorical", label(reasons[i]));
    if (finite(rec.latency_ms)) sink("gate.latency_ms", "numerical", rec.latency_ms);
    const review = rec.principal_review;
    if (review !== null) {
      sink("review.outcome", "categorical", label(review.decision));
      const ms = Date.parse(review.at) - Date.parse(rec.timestamp);
      if (ms >= 0 && finite(ms)) sink("review.latency_ms", "numerical", ms);
    }
  } else if (rec.kind === "inference") {
    const num = (signal: string, v: unknown) => {
      if (finite(v)) sink(signal, "numerical", v);
    };
    const cat = (signal: string, v: unknown) => sink(signal, "categorical", label(v));
    const x = isObj(rec.execution_result) ? rec.execution_result : {};
    const a = isObj(rec.proposed_action) ? rec.proposed_action : {};
    const model = label(x.model ?? a.model ?? "(unknown)");
    const m = `{model=${model}}`;
    const t = isObj(x.timing) ? x.timing : null;
    if (t !== null) {
      num(`inference.prompt_tokens${m}`, t.prompt_tokens);
      num(`inference.output_tokens${m}`, t.generated_tokens);
      num(`inference.tokens_per_s${m}`, t.tokens_per_s);
      num(`inference.ttft_ms${m}`, t.ttft_ms);
    }
    const calls = Array.isArray(x.tool_calls) ? x.tool_calls : [];
    num(`inference.tool_calls${m}`, calls.length);
    for (const c of calls) if (isObj(c) && typeof c.name === "string") cat(`inference.tool${m}`, c.name);
    cat(`inference.outcome${m}`, x.error !== undefined ? "error" : String(x.done_reason ?? "stop"));
  }
}

const NO_FIELDS: Obj = Object.freeze({});

/** One population's three split observations: action.kind, gate.deny, gate.escalate. */
function splitObservations(
  sink: ObservationSink,
  keys: SplitKeys,
  kind: string,
  deny: string,
  escalate: string,
): void {
  sink(keys[0], "categorical", kind);
  sink(keys[1], "categorical", deny);
  sink(keys[2], "categorical", escalate);
}

/** The observations of one heartbeat (the agent's payload, as the collector also receives it). */
export function heartbeatObservations(hb: unknown): Observation[] {
  const out: Observation[] = [];
  if (!isObj(hb)) return out;
  const reading = isObj(hb.reading) ? hb.reading : {};
  const num = (signal: string, v: unknown) => {
    if (finite(v)) out.push({ signal, type: "numerical", value: v });
  };
  num("host.cpu_percent", reading.cpu_percent);
  num("host.memory_used_percent", reading.memory_used_percent);
  num("host.temperature_c", reading.temperature_c);
  const q = isObj(hb.review_queue) ? hb.review_queue : {};
  num("review.queue_pending", q.pending);
  return out;
}

/** Which signals a reset trigger covers. */
export function coveredBy(trigger: "policy" | "promotion", signal: string, model?: string): boolean {
  if (trigger === "policy") return /^(action|gate|review)\./.test(signal);
  if (!signal.startsWith("inference.")) return false;
  return model === undefined || signal.endsWith(`{model=${model}}`);
}
