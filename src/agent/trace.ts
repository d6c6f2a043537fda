import type { StoredRecord } from "../protocol/record.js";
import type { ActionView } from "./actions.js";

/** One step of a reconstructed session. */
export interface TraceStep {
  seq: number | null;
  timestamp: string | null;
  kind: string;
  action_id: string;
  principal: string | null;
  proposed_action: unknown;
  evaluation: string | null;
  rules: { rule_id: string; effect: string; risk: number }[];
  bundle: { id: string; version: number; sha256: string } | null;
  composition_state: unknown;
  principal_review: unknown;
  execution_result: unknown;
  latency_ms: number | null;
  hash: string | null;
  /** "final" for chained records, else the pending state. */
  state: string;
}

export interface TraceSources {
  /** Records read from this host's store. */
  local: number;
  /** Records read back from the collector (pruned here after its ack). */
  collector: number;
  /** Set when records may be missing: why, and what to do. */
  incomplete?: string;
}

export interface Trace {
  session_id: string;
  steps: TraceStep[];
  sources?: TraceSources;
}

/**
 * Rebuilds a session from its evidence: chained records in proposal order (timestamp, then
 * seq: a record is chained when final, so seq alone would put a slow ALLOW after later DENYs),
 * then what is still pending.
 */
export function buildTrace(session_id: string, records: StoredRecord[], pending: ActionView[] = []): Trace {
  const steps: TraceStep[] = records
    .filter((r) => r.session_id === session_id)
    .sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : a.seq - b.seq))
    .map((r) => ({
      seq: r.seq,
      timestamp: r.timestamp,
      kind: r.kind,
      action_id: r.action_id,
      principal: r.principal ?? null,
      proposed_action: r.proposed_action,
      evaluation: r.evaluation,
      rules: r.policy_matched.rules,
      bundle: r.policy_matched.bundle,
      composition_state: r.composition_state,
      principal_review: r.principal_review,
      execution_result: r.execution_result,
      latency_ms: r.latency_ms,
      hash: r.hash,
      state: "final",
    }));
  for (const p of pending) {
    steps.push({
      seq: null,
      timestamp: p.timestamp ?? null,
      kind: "action",
      action_id: p.action_id,
      principal: p.principal ?? null,
      proposed_action: p.proposed_action ?? null,
      evaluation: p.evaluation,
      rules: p.policy_matched.rules,
      bundle: p.policy_matched.bundle,
      composition_state: null,
      principal_review: p.principal_review ?? null,
      execution_result: null,
      latency_ms: p.latency_ms,
      hash: null,
      state: p.state,
    });
  }
  return { session_id, steps };
}

/** This host's records and the collector's copy of them, one per seq (they overlap until the ack prunes). */
export function mergeCopies(archived: StoredRecord[], local: StoredRecord[]): StoredRecord[] {
  const bySeq = new Map<number, StoredRecord>();
  for (const r of [...archived, ...local]) bySeq.set(r.seq, r);
  return [...bySeq.values()];
}

/** What a trace says when the collector's copy could not be read. */
export function missingShipped(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const coded = typeof code === "string" && code.startsWith("FORGE_") ? `${code}: ` : "";
  return `records already shipped to the collector are missing: ${coded}${(err as Error).message}`;
}

/** The trace for people: one block per step. */
export function formatTrace(t: Trace): string {
  const warning = t.sources?.incomplete
    ? [`warning: this trace may be incomplete: ${t.sources.incomplete}`]
    : [];
  if (t.steps.length === 0) return [`session ${t.session_id}: no evidence`, ...warning].join("\n");
  const lines = [`session ${t.session_id}: ${t.steps.length} step(s)`, ...warning];
  t.steps.forEach((s, i) => {
    lines.push(
      `${i + 1}. ${s.timestamp ?? "-"}  seq ${s.seq ?? "-"}  ${s.kind}  ${s.evaluation ?? "-"}  [${s.state}]  ${s.action_id}`,
    );
    lines.push(`   action:   ${summarize(s.proposed_action)}`);
    if (s.principal) lines.push(`   by:       ${s.principal}`);
    const rules = s.rules.map((r) => `${r.rule_id}(${r.effect})`).join(", ");
    lines.push(
      `   rules:    ${rules || "(none)"}${s.bundle ? `  bundle ${s.bundle.id}@${s.bundle.version}` : ""}`,
    );
    const cs = s.composition_state as { labels?: string[] } | null;
    if (cs?.labels && cs.labels.length > 0) lines.push(`   state:    labels ${cs.labels.join(", ")}`);
    const pr = s.principal_review as {
      decision: string;
      reviewer: string;
      at: string;
      reason: string | null;
    } | null;
    if (pr)
      lines.push(
        `   review:   ${pr.decision} by ${pr.reviewer} at ${pr.at}${pr.reason ? ` (${pr.reason})` : ""}`,
      );
    if (s.execution_result !== null && s.execution_result !== undefined) {
      lines.push(
        `   result:   ${s.kind === "training" ? trainingResult(s.execution_result) : summarize(s.execution_result)}`,
      );
    }
  });
  return lines.join("\n");
}

/**
 * One line for a `training` record's result (src/training/job.ts, loop.ts): the milestone and its
 * digests in full, so the trace of a job session reads as the run — start or resume, each
 * checkpoint, each anomaly and its outcome, each halt, the end.
 */
function trainingResult(v: unknown): string {
  const o = (v ?? {}) as Record<string, unknown>;
  const ck = (c: unknown) => {
    const x = (c ?? {}) as { step?: number; digest?: string };
    return `step ${x.step ?? "?"} sha256:${x.digest ?? "?"}`;
  };
  switch (o.event) {
    case "start":
    case "resume": {
      const b = o.base as { ref?: string; sha256?: string } | undefined;
      return `${String(o.event)}: ${String(o.trainer)}, ${String(o.parameters)} parameters${b ? `, base ${b.ref} sha256:${b.sha256}` : ""}${o.from_checkpoint ? `, from checkpoint ${ck(o.from_checkpoint)}` : ""}`;
    }
    case "checkpoint": {
      const c = (o.checkpoint ?? {}) as { steps_log_sha256?: string };
      return `checkpoint ${ck(o.checkpoint)}, loss ${String(o.loss)}, ${String(o.tokens)} tokens, steps log sha256:${c.steps_log_sha256 ?? "?"}`;
    }
    case "anomaly":
      return `anomaly at step ${String(o.step)}: ${String(o.rule)} (loss ${String(o.loss)}) → ${String(o.action)}: ${String(o.outcome)}`;
    case "halt":
      return `halt at step ${String(o.step)}: ${String(o.reason)}${o.budget ? ` ${String(o.budget)} (${String(o.value)} > ${String(o.limit)})` : ""}${o.rule ? ` ${String(o.rule)}` : ""}${o.review ? `, review ${String(o.review)}` : ""}`;
    case "end": {
      const err = o.error as { code?: string } | null | undefined;
      return `end ${String(o.state)}: ${String(o.steps ?? 0)} steps, ${String(o.tokens ?? 0)} tokens${o.final_weights_sha256 ? `, weights sha256:${String(o.final_weights_sha256)}` : ""}${o.gguf ? `, gguf ${String(o.gguf)} sha256:${String(o.gguf_sha256)}` : ""}${err?.code ? `, ${err.code}` : ""}`;
    }
    default:
      return summarize(v);
  }
}

/** One line for an action or a result, for people. */
export function summarize(v: unknown): string {
  if (v === null || v === undefined) return "-";
  const o = v as Record<string, unknown>;
  if (o.kind === "shell") return `shell: ${String(o.command)}`;
  if (typeof o.kind === "string" && typeof o.path === "string") return `${o.kind}: ${o.path}`;
  if (o.kind === "http") return `http: ${String(o.method)} ${String(o.url)}`;
  if (o.kind === "training.run") {
    const d = o.dataset as { ref?: string; sha256?: string } | undefined;
    const m = o.model as { base?: string | null; parameters?: number } | undefined;
    return `training.run: ${String(o.job)} on ${String(o.trainer)}, ${m?.parameters ?? "?"} parameters${m?.base ? `, base ${m.base}` : ""}, dataset ${d?.ref ?? "?"}`;
  }
  if (typeof o.status === "string") {
    const exit = o.exit_code !== undefined ? ` exit ${String(o.exit_code)}` : "";
    return `${o.status}${exit}${typeof o.duration_ms === "number" ? ` in ${o.duration_ms} ms` : ""}`;
  }
  const s = JSON.stringify(v);
  return s.length > 160 ? `${s.slice(0, 157)}...` : s;
}
