import { type ActionView, callAgent, waitAction } from "../agent/client.js";
import { Codes, type ForgeError } from "../errors.js";
import type { Action } from "../gate/actions.js";

/**
 * One governed decision for an integration that executes the action itself (MCP gateway): propose
 * without execute, and on ESCALATE hold on the review queue in slices (so the caller can show
 * progress) until a reviewer decides or `waitMs` passes. Never throws: every failure is a deny
 * whose reason names the fix (fail closed).
 */
export interface Decision {
  allow: boolean;
  /** The action to report the result to (present when the daemon recorded one). */
  action_id?: string;
  reason: string;
}

export interface GovernOptions {
  socket: string;
  /** How long an ESCALATE may wait for review before it is a deny, ms. */
  waitMs: number;
  /** Called before each wait slice while the action waits for review. */
  onWaiting?: (view: ActionView, waitedMs: number) => void;
}

/**
 * GET ?wait= waits for a change from the state it finds: a review that lands between two GETs
 * leaves "allowed", which then waits the whole slice for "done". Short slices bound that delay.
 */
const SLICE_MS = 2_000;

export async function govern(session_id: string, action: Action, o: GovernOptions): Promise<Decision> {
  try {
    const r = await callAgent(o.socket, "POST", "/v1/actions", { session_id, proposed_action: action });
    if (r.status !== 200) {
      const e = (r.body as { error?: { code?: string; message?: string } }).error;
      return {
        allow: false,
        reason: `forge-agent refused the proposal (${e?.code ?? r.status}): ${e?.message}`,
      };
    }
    let v = r.body as ActionView;
    let waited = 0;
    const started = Date.now();
    while (v.state === "escalated") {
      if (waited >= o.waitMs)
        return {
          allow: false,
          action_id: v.action_id,
          reason: `forge-agent: action ${v.action_id} waited ${o.waitMs} ms for review and was not approved (${why(v)}); approve it with 'forge-agent review' and retry`,
        };
      o.onWaiting?.(v, waited);
      const slice = Math.min(SLICE_MS, o.waitMs - waited);
      const w = await waitAction(o.socket, v.action_id, slice);
      if (w.status !== 200)
        return { allow: false, reason: `forge-agent: action ${v.action_id}: HTTP ${w.status}` };
      v = w.body as ActionView;
      waited = Date.now() - started;
    }
    const allow = v.evaluation === "ALLOW" && v.state === "allowed";
    return { allow, action_id: v.action_id, reason: why(v) };
  } catch (err) {
    const e = err as ForgeError;
    if (e.code === Codes.AGENT_UNREACHABLE)
      return {
        allow: false,
        reason: `forge-agent is not running (${o.socket}): start it with 'forge-agent run' (or 'npm start'), then retry; calls are denied until it answers`,
      };
    return { allow: false, reason: `forge-agent failed (${e.code ?? "error"}): ${e.message}` };
  }
}

/** The decision in words: verdict, rules, reasons, reviewer, and the action id to look it up. */
export function why(v: ActionView): string {
  const rules = v.policy_matched.rules.map((r) => r.rule_id).join(", ");
  const reasons = v.reasons.length > 0 ? v.reasons.join("; ") : "no reason given";
  const review = v.principal_review
    ? `; ${v.principal_review.decision} by ${v.principal_review.reviewer}${v.principal_review.reason ? `: ${v.principal_review.reason}` : ""}`
    : "";
  return `forge-agent ${v.evaluation}${rules ? ` (${rules})` : ""}: ${reasons}${review} [action ${v.action_id}]`;
}

/** What became of a result report: recorded, refused for good, or worth sending again. */
export type ReportOutcome = { ok: true } | { ok: false; retry: boolean; error: string };

/**
 * Reports what the integration did with an allowed action. `deferMs` > 0 lets the daemon commit
 * the record with its next group commit (at most that later). `onSent` runs once the report is in
 * the daemon's socket buffer. A daemon that is down, times out or fails (5xx) is worth a retry:
 * the action stays pending (durable, restored by a restarted daemon) until its result lands.
 */
export async function reportResult(
  socket: string,
  action_id: string,
  result: Record<string, unknown>,
  deferMs = 0,
  onSent?: () => void,
): Promise<ReportOutcome> {
  try {
    const query = deferMs > 0 ? `?defer_ms=${deferMs}` : "";
    const path = `/v1/actions/${encodeURIComponent(action_id)}/result${query}`;
    const r = await callAgent(socket, "POST", path, result, 30_000, {}, onSent);
    if (r.status === 200) return { ok: true };
    const e = (r.body as { error?: { code?: string; message?: string } }).error;
    return {
      ok: false,
      retry: r.status >= 500,
      error: `result of ${action_id} not recorded (${e?.code ?? r.status}): ${e?.message}`,
    };
  } catch (err) {
    onSent?.();
    return {
      ok: false,
      retry: true,
      error: `result of ${action_id} not recorded: ${(err as Error).message}`,
    };
  }
}

/**
 * Whether the daemon's policy denies this action outright (POST /v1/evaluate, a dry run that
 * records nothing). Undefined when the daemon cannot say: the caller then shows what it would
 * hide, since every call is still gated.
 */
export async function deniedOutright(
  socket: string,
  session_id: string,
  action: Action,
): Promise<boolean | undefined> {
  try {
    const r = await callAgent(socket, "POST", "/v1/evaluate", { session_id, proposed_action: action });
    if (r.status !== 200) return undefined;
    return (r.body as { denied_outright?: unknown }).denied_outright === true;
  } catch {
    return undefined;
  }
}

/** The sha256 of the daemon's active policy bundle (`GET /v1/health`), or undefined when it cannot say. */
export async function policyDigest(socket: string): Promise<string | undefined> {
  try {
    const r = await callAgent(socket, "GET", "/v1/health");
    const sha = (r.body as { policy?: { sha256?: unknown } }).policy?.sha256;
    return r.status === 200 && typeof sha === "string" ? sha : undefined;
  } catch {
    return undefined;
  }
}
