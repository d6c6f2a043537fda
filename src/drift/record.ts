/**
 * Drift events as evidence records: an `alert` record with proposed_action.kind = "drift" and
 * `event` finding | recovery | reset, carrying the signal, method, statistic, threshold,
 * p-value, both windows' summaries, the distributions and the top contributing categories.
 */
import { alertRecord, type RecordInput } from "../protocol/record.js";
import type { DriftEvent } from "./detector.js";

/** JSON (and the canonical hash form) has no Infinity or NaN: those become "inf", "-inf", "nan". */
export function jsonSafe(v: unknown): unknown {
  if (typeof v === "number") {
    if (Number.isFinite(v)) return v;
    return Number.isNaN(v) ? "nan" : v > 0 ? "inf" : "-inf";
  }
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = jsonSafe(x);
    return out;
  }
  return v;
}

/** One line for logs, webhooks and the record's execution_result. */
export function driftMessage(e: DriftEvent): string {
  if (e.event === "reset")
    return `drift reference reset by a ${e.trigger} (${e.signals.length} signals${e.closed.length ? `, closed: ${e.closed.join(", ")}` : ""})`;
  const p =
    e.pvalue === null
      ? ""
      : ` p=${fmt(e.pvalue)}${e.pvalue_adjusted !== null ? ` (adjusted ${fmt(e.pvalue_adjusted)})` : ""}`;
  const top = e.top[0]
    ? `; top: ${e.top[0].category} ${fmt(e.top[0].reference_share)} → ${fmt(e.top[0].current_share)}`
    : "";
  const what = e.event === "finding" ? "drifted" : "no longer drifts";
  return `${e.signal} ${what}: ${e.method} ${fmt(e.statistic)} vs ${fmt(e.threshold)}${p}${top}`;
}

const fmt = (v: number) => (Number.isFinite(v) ? String(Math.round(v * 10_000) / 10_000) : String(v));

/** The evidence record of one drift event (the agent's own host). */
export function driftRecord(hostId: string, e: DriftEvent): RecordInput {
  return alertRecord(
    `drift:${hostId}`,
    { ...(jsonSafe(e) as Record<string, unknown>), kind: "drift" },
    driftMessage(e),
  );
}

/** What a webhook receives: the event without the distributions (the record has them). */
export function webhookBody(e: DriftEvent): Record<string, unknown> {
  if (e.event === "reset")
    return { event: e.event, trigger: e.trigger, signals: e.signals, closed: e.closed, at_ms: e.at_ms };
  return {
    event: e.event,
    signal: e.signal,
    method: e.method,
    statistic: Number.isFinite(e.statistic) ? e.statistic : String(e.statistic),
    threshold: e.threshold,
    pvalue: e.pvalue,
    pvalue_adjusted: e.pvalue_adjusted,
    top: e.top.map((t) => ({ ...t, contribution: Number.isFinite(t.contribution) ? t.contribution : "inf" })),
    examples: e.examples,
    at_ms: e.at_ms,
  };
}
