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
  const m = /^([a-z][a-z0-9_.-]{0,31}):/i.exec(sessionId);
  return m === null ? "session" : m[1]!.toLowerCase();
}

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
  const num = (signal: string, v: unknown) => {
    if (finite(v)) sink(signal, "numerical", v);
  };
  const cat = (signal: string, v: unknown) => sink(signal, "categorical", label(v));
  if (rec.kind === "action" && rec.evaluation !== null) {
    const a = isObj(rec.proposed_action) ? rec.proposed_action : {};
    const kind = typeof a.kind === "string" ? a.kind : "(unknown)";
    const deny = rec.evaluation === "DENY" ? "yes" : "no";
    const escalate = rec.evaluation === "ESCALATE" ? "yes" : "no";
    const splits: SplitKeys[] = [pops.splitKeys(null, "")];
    if (cfg.split_by.includes("principal"))
      splits.push(pops.splitKeys("principal", pops.principal(principalOf(rec.principal))));
    if (cfg.split_by.includes("session_kind"))
      splits.push(pops.splitKeys("session_kind", pops.sessionKind(sessionKindOf(rec.session_id))));
    for (const [kindKey, denyKey, escalateKey] of splits) {
      cat(kindKey, kind);
      cat(denyKey, deny);
      cat(escalateKey, escalate);
    }
    cat("action.evaluation", rec.evaluation);
    if (kind === "shell" && typeof a.command === "string") cat("action.program", programOf(a.command));
    if (kind === "tool" && typeof a.name === "string") cat("action.tool", a.name);
    const rules = rec.policy_matched.rules;
    if (rules.length === 0) cat("action.rule", "(none)");
    for (const r of rules) cat("action.rule", r.rule_id);
    const reasons = isObj(rec.execution_result) ? rec.execution_result.reasons : undefined;
    if (Array.isArray(reasons)) for (const r of reasons) cat("action.reason", r);
    num("gate.latency_ms", rec.latency_ms);
    const review = rec.principal_review;
    if (review !== null) {
      cat("review.outcome", review.decision);
      const ms = Date.parse(review.at) - Date.parse(rec.timestamp);
      if (ms >= 0) num("review.latency_ms", ms);
    }
  } else if (rec.kind === "inference") {
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
