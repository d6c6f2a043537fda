import { createHash } from "node:crypto";
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { type ActionView, callAgent, waitAction } from "../agent/client.js";
import { Codes, ForgeError, isForgeCode } from "../errors.js";
import { type Action, parseAction } from "../gate/actions.js";

/**
 * Claude Code's PreToolUse / PostToolUse hook: the hook input (JSON on stdin, Claude Code's
 * documented schema) becomes a proposal on the agent's socket, and the decision goes back in the
 * documented output form (`hookSpecificOutput.permissionDecision` allow | deny | ask + reason).
 * Every failure before a decision is a deny (fail closed).
 */

const HookInput = z.object({
  session_id: z.string().min(1).max(200),
  hook_event_name: z.enum(["PreToolUse", "PostToolUse"]),
  tool_name: z.string().min(1),
  tool_input: z.record(z.string(), z.unknown()).default({}),
  tool_use_id: z.string().optional(),
  tool_response: z.unknown().optional(),
  cwd: z.string().optional(),
  transcript_path: z.string().optional(),
  permission_mode: z.string().optional(),
});
export type HookInput = z.infer<typeof HookInput>;

export interface HookOptions {
  socket: string;
  /** ESCALATE: "ask" hands the call to Claude Code's own prompt; "wait" holds it in our review queue. */
  escalate: "ask" | "wait";
  /** How long "wait" holds before it answers deny, ms. */
  waitMs: number;
}

export interface HookOutput {
  hookSpecificOutput: {
    hookEventName: "PreToolUse";
    permissionDecision: "allow" | "deny" | "ask";
    permissionDecisionReason: string;
  };
}

/** The session the records carry: Claude Code's, prefixed so it cannot collide with other clients'. */
export function sessionOf(input: { session_id: string }): string {
  return `claude-code-${input.session_id}`;
}

/** The most text of a Write (or of an edit's new strings) the hook hands the gate to read. */
const READ_TEXT_BYTES = 64 * 1024;

/** Claude Code's tool call as the action the gate judges (Bash→shell, Read→file.read, …, mcp__*→tool). */
export function hookToAction(input: Pick<HookInput, "tool_name" | "tool_input" | "cwd">): Action {
  const a = input.tool_input;
  const path = (p: unknown) =>
    typeof p === "string" && input.cwd !== undefined && !isAbsolute(p) ? resolve(input.cwd, p) : p;
  switch (input.tool_name) {
    case "Bash":
      return parseAction({ kind: "shell", command: a.command, ...(input.cwd ? { cwd: input.cwd } : {}) });
    case "Read":
      return parseAction({ kind: "file.read", path: path(a.file_path) });
    case "Write":
      // The text goes along (up to READ_TEXT_BYTES) so the gate can judge the file when it is
      // later run or loaded by a test runner; a larger one is judged as unread.
      return parseAction({
        kind: "file.write",
        path: path(a.file_path),
        ...(typeof a.content === "string" ? { content_sha256: sha256(a.content) } : {}),
        ...(typeof a.content === "string" && Buffer.byteLength(a.content) <= READ_TEXT_BYTES
          ? { content: a.content }
          : {}),
      });
    case "Edit":
    case "MultiEdit": {
      const list = input.tool_name === "Edit" ? [a] : Array.isArray(a.edits) ? a.edits : [];
      const edits: { old_text: string; new_text: string }[] = [];
      let bytes = 0;
      for (const e of list as Record<string, unknown>[]) {
        if (typeof e?.old_string !== "string" || typeof e.new_string !== "string") {
          edits.length = 0;
          break;
        }
        bytes += Buffer.byteLength(e.new_string);
        edits.push({ old_text: e.old_string, new_text: e.new_string });
      }
      return parseAction({
        kind: "file.write",
        path: path(a.file_path),
        ...(edits.length > 0 && edits.length <= 1000 && bytes <= READ_TEXT_BYTES ? { edits } : {}),
      });
    }
    case "WebFetch":
      return parseAction({ kind: "http", method: "GET", url: a.url });
  }
  // mcp__server__tool and every other tool (Glob, Grep, Task, …): a tool action under its own name.
  return parseAction({ kind: "tool", name: input.tool_name, arguments: a });
}

export function parseHookInput(text: string): HookInput {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ForgeError(Codes.BAD_REQUEST, `hook input is not JSON: ${(err as Error).message}`);
  }
  const r = HookInput.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ForgeError(
      Codes.BAD_REQUEST,
      `hook input: ${i.path.join(".") || "body"}: ${i.message} (expected Claude Code's PreToolUse/PostToolUse JSON)`,
    );
  }
  return r.data;
}

/** One wait on the socket while a review is open, ms. */
const WAIT_SLICE_MS = 1_000;

const deny = (reason: string): HookOutput => decision("deny", reason);

function decision(d: "allow" | "deny" | "ask", reason: string): HookOutput {
  return {
    hookSpecificOutput: {
      hookEventName: "PreToolUse",
      permissionDecision: d,
      permissionDecisionReason: reason,
    },
  };
}

function why(v: ActionView): string {
  const rules = v.policy_matched.rules.map((r) => r.rule_id).join(", ");
  const reasons = v.reasons.length > 0 ? v.reasons.join("; ") : "no reason given";
  return `forge-agent ${v.evaluation}${rules ? ` (${rules})` : ""}: ${reasons} [action ${v.action_id}]`;
}

/** PreToolUse: one decision, never a throw (anything that goes wrong is a deny naming the fix). */
export async function preToolUse(input: HookInput, o: HookOptions): Promise<HookOutput> {
  let action: Action;
  try {
    action = hookToAction(input);
  } catch (err) {
    return deny(`forge-agent cannot judge this ${input.tool_name} call: ${(err as Error).message}`);
  }
  try {
    const r = await callAgent(o.socket, "POST", "/v1/actions", {
      session_id: sessionOf(input),
      proposed_action: action,
    });
    if (r.status !== 200) {
      const e = (r.body as { error?: { code?: string; message?: string } }).error;
      return deny(`forge-agent refused the proposal (${e?.code ?? r.status}): ${e?.message ?? "no message"}`);
    }
    let v = r.body as ActionView;
    if (v.evaluation === "ESCALATE" && v.state === "escalated") {
      if (o.escalate === "ask")
        return decision("ask", `${why(v)}; approve here, or run 'forge-agent review'`);
      // Short waits in a loop: the socket's wait returns on a change from the state it finds, so a
      // review that lands between two calls costs at most one slice, never the whole deadline.
      const end = Date.now() + o.waitMs;
      for (;;) {
        const slice = Math.max(0, Math.min(WAIT_SLICE_MS, end - Date.now()));
        const w = await waitAction(o.socket, v.action_id, slice);
        if (w.status !== 200)
          return deny(`forge-agent: action ${v.action_id} cannot be read (HTTP ${w.status})`);
        v = w.body as ActionView;
        if (v.state !== "escalated") break;
        if (Date.now() >= end)
          return deny(`forge-agent: review of action ${v.action_id} did not finish in ${o.waitMs} ms`);
      }
      const review = v.principal_review;
      const by = review
        ? `${review.decision} by ${review.reviewer}${review.reason ? `: ${review.reason}` : ""}`
        : "";
      return v.evaluation === "ALLOW" && v.state !== "done"
        ? decision("allow", `forge-agent review: ${by} [action ${v.action_id}]`)
        : deny(`forge-agent review: ${by || "denied"} [action ${v.action_id}]`);
    }
    return v.evaluation === "ALLOW" ? decision("allow", why(v)) : deny(why(v));
  } catch (err) {
    const e = err as ForgeError;
    if (e.code === Codes.AGENT_UNREACHABLE)
      return deny(
        `forge-agent is not running (${o.socket}): start it with 'forge-agent run' (or 'forge-agent install'), then retry. Tool calls are denied until it answers.`,
      );
    return deny(`forge-agent hook failed (${e.code ?? "error"}): ${e.message}`);
  }
}

/**
 * PostToolUse: reports the tool's result to the action PreToolUse allowed (the oldest one of this
 * session, same action, still waiting for its result). Returns what it did, for stderr.
 */
export async function postToolUse(input: HookInput, o: HookOptions): Promise<string> {
  const action = hookToAction(input);
  const session = sessionOf(input);
  const t = await callAgent(o.socket, "GET", `/v1/sessions/${encodeURIComponent(session)}/trace`);
  if (t.status !== 200) throw new ForgeError(Codes.INTERNAL, `trace of ${session}: HTTP ${t.status}`);
  const want = JSON.stringify(action);
  const steps = (t.body as { steps: { action_id: string; state: string; proposed_action: unknown }[] }).steps;
  const step = steps.find((s) => s.state === "allowed" && JSON.stringify(s.proposed_action) === want);
  if (step === undefined)
    return `no allowed ${input.tool_name} action waits for a result in ${session} (asked in Claude Code, or already reported)`;
  const response = JSON.stringify(input.tool_response ?? null);
  const failed =
    typeof input.tool_response === "object" &&
    input.tool_response !== null &&
    ((input.tool_response as { success?: unknown }).success === false ||
      (input.tool_response as { interrupted?: unknown }).interrupted === true);
  const r = await callAgent(o.socket, "POST", `/v1/actions/${encodeURIComponent(step.action_id)}/result`, {
    status: failed ? "failed" : "ok",
    reported_by: "claude-code PostToolUse",
    ...(input.tool_use_id ? { tool_use_id: input.tool_use_id } : {}),
    tool_response_sha256: sha256(response),
    tool_response_bytes: Buffer.byteLength(response),
  });
  if (r.status !== 200) {
    const e = (r.body as { error?: { code?: string; message?: string } }).error;
    throw new ForgeError(
      isForgeCode(e?.code) ? e.code : Codes.INTERNAL,
      `result of ${step.action_id}: ${e?.message ?? r.status}`,
    );
  }
  return `result of ${step.action_id} recorded`;
}

function sha256(s: string): string {
  return createHash("sha256").update(s).digest("hex");
}
