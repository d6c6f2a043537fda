import type { ActionView } from "../agent/actions.js";
import { summarize } from "../agent/trace.js";

/**
 * Text from an action (its command, its output) made safe for a terminal: control characters other
 * than newline and tab are shown as \xNN, so a proposed command cannot move the cursor, retitle the
 * window or hide itself from the reviewer.
 */
export function printable(s: string): string {
  return s.replace(
    /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/** A duration for people: "42s", "3m 05s", "2h 10m" (ms in, rounded down to the second). */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** One pending review as `review list` and `review watch` print it: a header line, then details. */
export function reviewLines(r: ActionView, now = Date.now()): string[] {
  const rules = r.policy_matched.rules.map((m) => m.rule_id).join(",");
  const left = typeof r.deadline_ms === "number" ? `  ${formatDuration(r.deadline_ms - now)} left` : "";
  const lines = [
    printable(`${r.action_id}  session ${r.session_id}  risk ${r.risk}  rules ${rules || "-"}${left}`),
    printable(`  action: ${summarize(r.proposed_action)}${r.principal ? `  by ${r.principal}` : ""}`),
  ];
  if (r.reasons.length > 0) lines.push(printable(`  ${r.reasons.join("; ")}`));
  return lines;
}

/**
 * What an executed action did, for a reviewer who just approved it: the status line, then the
 * excerpts of its output (each at most `maxLines` lines).
 */
export function resultLines(result: unknown, maxLines = 10): string[] {
  const lines = [printable(`result: ${summarize(result)}`)];
  if (result === null || typeof result !== "object") return lines;
  const o = result as Record<string, unknown>;
  for (const stream of ["stdout", "stderr"] as const) {
    const excerpt = (o[stream] as { excerpt?: unknown } | undefined)?.excerpt;
    if (typeof excerpt !== "string" || excerpt === "") continue;
    const body = excerpt.replace(/\n$/, "").split("\n");
    lines.push(`${stream}:`);
    for (const l of body.slice(0, maxLines)) lines.push(`  ${printable(l)}`);
    if (body.length > maxLines) lines.push(`  … ${body.length - maxLines} more line(s)`);
  }
  const err = o.error as { code?: unknown; message?: unknown } | undefined;
  if (err && typeof err.message === "string")
    lines.push(printable(`error: ${String(err.code ?? "")} ${err.message}`));
  return lines;
}
