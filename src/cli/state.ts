import { callAgent, defaultSocketPath, unwrap } from "../agent/client.js";
import type { StateView, TrackView } from "../agent/gate-state.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { AGENT } from "./spec.js";

/** A clear waits for a reviewer: as long as the agent's review deadline allows (capped here). */
const CLEAR_TIMEOUT_MS = 24 * 3600_000;

/**
 * `forge-agent state show|clear`: the running agent's composition state (issue 19 §8). `clear`
 * proposes a `gate.state.clear` action: the gate judges it (a principal never clears its own
 * state), a reviewer decides, and only then is the state forgotten. Exit 0 cleared, 3 denied.
 */
export default async function state(argv: string[], env: Env): Promise<number> {
  const { values, positionals } = parse(argv, AGENT.state.flags);
  const sub = positionals[0];
  if (positionals.length !== 1 || (sub !== "show" && sub !== "clear"))
    throw new UsageError("give 'show' or 'clear'");
  const socket = values.socket ?? defaultSocketPath(env);
  const target = {
    ...(values.session ? { session: values.session } : {}),
    ...(values.principal ? { principal: values.principal } : {}),
  };
  if (sub === "show") {
    const q = new URLSearchParams(target).toString();
    const v = unwrap<StateView>(await callAgent(socket, "GET", `/v1/gate/state${q ? `?${q}` : ""}`));
    if (values.json) printJson(v);
    else process.stdout.write(formatState(v));
    return 0;
  }
  if (target.session === undefined && target.principal === undefined)
    throw new UsageError("clear needs --session ID and/or --principal P");
  process.stderr.write(
    "forge-agent: the clear is a governed action; waiting for a reviewer if it escalates\n",
  );
  const r = unwrap<{
    review: { decision: string; reviewer: string; reason: string | null };
    cleared: { sessions: number; principals: number };
  }>(await callAgent(socket, "POST", "/v1/gate/state/clear", target, CLEAR_TIMEOUT_MS));
  if (values.json) printJson(r);
  else
    process.stdout.write(
      r.review.decision === "approve"
        ? `cleared ${r.cleared.sessions} session(s), ${r.cleared.principals} principal(s) (approved by ${r.review.reviewer})\n`
        : `not cleared: ${r.review.decision} by ${r.review.reviewer}${r.review.reason ? `: ${r.review.reason}` : ""}\n`,
    );
  return r.review.decision === "approve" ? 0 : 3;
}

function formatState(v: StateView): string {
  const lines: string[] = [];
  const track = (what: string, t: TrackView) => {
    const owner = t.principal ? ` (principal ${t.principal})` : "";
    lines.push(
      `${what} ${t.key}${owner}: ${t.actions} action(s)${t.evicted ? ", history incomplete (evicted)" : ""}`,
    );
    for (const l of t.labels) {
      const by = l.set_by
        ? `set in session ${l.set_by.session_id} by action ${l.set_by.action_id ?? "(no id)"} at ${l.set_by.at}: ${l.set_by.summary}`
        : "origin not recorded";
      lines.push(`  label ${l.label}: ${by}`);
    }
    for (const a of t.artefacts.slice(0, 20)) lines.push(`  artefact ${a}`);
    if (t.artefacts.length > 20) lines.push(`  … and ${t.artefacts.length - 20} more artefacts`);
  };
  for (const t of v.sessions) track("session", t);
  for (const t of v.principals) track("principal", t);
  if (v.sessions.length < v.total.sessions || v.principals.length < v.total.principals)
    lines.push(
      `(showing ${v.sessions.length} of ${v.total.sessions} sessions, ${v.principals.length} of ${v.total.principals} principals: filter with --session/--principal)`,
    );
  if (lines.length === 0) lines.push("no composition state");
  return `${lines.join("\n")}\n`;
}
