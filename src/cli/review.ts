import type { ActionView } from "../agent/actions.js";
import { callAgent, defaultReviewTokenPath, defaultSocketPath, unwrap, waitAction } from "../agent/client.js";
import { REVIEW_TOKEN_HEADER, readReviewToken } from "../agent/review-token.js";
import { summarize } from "../agent/trace.js";
import { intFlag, parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { desktopNotifier } from "./notify.js";
import { printable, resultLines, reviewLines } from "./review-view.js";
import { AGENT } from "./spec.js";

/**
 * `forge-agent review list | watch | approve ID | deny ID [--reason TEXT]`, over the agent's
 * socket, with the review token (--token-file, FORGE_REVIEW_TOKEN_FILE, or <FORGE_HOME>/review.token).
 */
export default async function review(argv: string[], env: Env): Promise<number> {
  const { values, positionals } = parse(argv, AGENT.review.flags);
  const waitMs = intFlag(values.wait, "wait", 60) * 1000;
  const socket = values.socket ?? defaultSocketPath(env);
  const auth = reviewerHeaders(values["token-file"], env);
  const [sub, id, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
  if (sub === "list") {
    if (id !== undefined) throw new UsageError("review list takes no ID");
    const { reviews } = unwrap<{ reviews: ActionView[] }>(
      await callAgent(socket, "GET", "/v1/reviews", undefined, undefined, auth),
    );
    if (values.json) printJson({ reviews });
    else if (reviews.length === 0) process.stdout.write("no pending reviews\n");
    else for (const r of reviews) process.stdout.write(`${reviewLines(r).join("\n")}\n`);
    return 0;
  }
  if (sub === "watch") {
    if (id !== undefined) throw new UsageError("review watch takes no ID");
    return await watch(socket, auth, {
      intervalMs: intFlag(values["interval-ms"], "interval-ms", 1000, 50),
      notify: values.notify === true || env.FORGE_REVIEW_NOTIFY === "1",
      waitMs,
      reason: values.reason ?? null,
    });
  }
  if (sub === "approve" || sub === "deny") {
    if (id === undefined)
      throw new UsageError(`review ${sub} needs an action ID (see 'forge-agent review list')`);
    const full = await resolvePrefix(socket, auth, id);
    const view = await decide(socket, auth, full, sub, values.reason ?? null, waitMs);
    if (values.json) printJson(view);
    else process.stdout.write(`${outcomeLines(full, sub, view).join("\n")}\n`);
    return 0;
  }
  throw new UsageError(sub === undefined ? "missing subcommand" : `unknown subcommand '${sub}'`);
}

/**
 * Decides one pending review. An approved action the agent executes itself (`execute: true`) is
 * followed until it is done, at most `waitMs`, so the reviewer sees what it did.
 */
async function decide(
  socket: string,
  auth: Record<string, string>,
  id: string,
  decision: "approve" | "deny",
  reason: string | null,
  waitMs: number,
): Promise<ActionView> {
  let view = unwrap<ActionView>(
    await callAgent(
      socket,
      "POST",
      `/v1/reviews/${encodeURIComponent(id)}`,
      { decision, reason },
      undefined,
      auth,
    ),
  );
  const until = Date.now() + waitMs;
  while (view.state === "executing" && Date.now() < until) {
    view = unwrap<ActionView>(await waitAction(socket, id, Math.max(1, until - Date.now())));
  }
  return view;
}

/** What a decision did, for people: the outcome, then an executed action's result or where it stands. */
function outcomeLines(id: string, decision: "approve" | "deny", view: ActionView): string[] {
  const lines = [
    `${id}: ${decision === "approve" ? "approved" : "denied"} (now ${view.evaluation}, ${view.state})`,
  ];
  if (view.state === "done" && view.execution_result !== null && view.execution_result !== undefined) {
    lines.push(...resultLines(view.execution_result).map((l) => `  ${l}`));
  } else if (view.state === "executing") {
    lines.push(
      `  still executing: 'forge-agent trace ${printable(view.session_id)}' shows its result when it is done`,
    );
  } else if (view.state === "allowed") {
    lines.push("  the proposer executes it and reports its result");
  }
  return lines;
}

/** `review watch`: the live list (src/cli/review-watch.ts), with an optional desktop notification. */
async function watch(
  socket: string,
  auth: Record<string, string>,
  o: { intervalMs: number; notify: boolean; waitMs: number; reason: string | null },
): Promise<number> {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new UsageError("review watch needs a terminal; use 'review list --json' in scripts");
  }
  const notifier = o.notify ? desktopNotifier() : null;
  if (o.notify && notifier === null) {
    process.stderr.write(`review watch: no desktop notifier on ${process.platform}; continuing without\n`);
  }
  const { watchReviews } = await import("./review-watch.js");
  try {
    await watchReviews({
      intervalMs: o.intervalMs,
      load: async () =>
        unwrap<{ reviews: ActionView[] }>(
          await callAgent(socket, "GET", "/v1/reviews", undefined, undefined, auth),
        ).reviews,
      decide: async (id, decision) =>
        outcomeLines(id, decision, await decide(socket, auth, id, decision, o.reason, o.waitMs)),
      onNew:
        notifier === null
          ? undefined
          : (r) =>
              void notifier(
                `forge-agent: review ${r.action_id.slice(0, 8)}`,
                printable(summarize(r.proposed_action)),
              ),
    });
  } catch (err) {
    if ((err as Error).name !== "ExitPromptError") throw err;
  }
  return 0;
}

/**
 * As git takes a commit: a prefix of exactly one pending review's action ID means that ID; a prefix
 * of several is refused with the candidates; anything else goes to the agent as given (it answers
 * "already decided by X at T" or not found).
 */
async function resolvePrefix(socket: string, auth: Record<string, string>, id: string): Promise<string> {
  const { reviews } = unwrap<{ reviews: ActionView[] }>(
    await callAgent(socket, "GET", "/v1/reviews", undefined, undefined, auth),
  );
  if (reviews.some((r) => r.action_id === id)) return id;
  const matches = reviews.filter((r) => r.action_id.startsWith(id));
  if (matches.length === 1) return matches[0]!.action_id;
  if (matches.length > 1) {
    throw new UsageError(
      `action ID prefix '${id}' is ambiguous: it matches ${matches.length} pending reviews:\n${matches
        .map((r) => `  ${r.action_id}  session ${r.session_id}  ${summarize(r.proposed_action)}`)
        .join("\n")}`,
    );
  }
  return id;
}

/** The review capability for the agent's API: the token file's content (docs/security.md). */
export function reviewerHeaders(tokenFile: string | undefined, env: Env): Record<string, string> {
  const path = tokenFile ?? defaultReviewTokenPath(env);
  const token = readReviewToken(path);
  if (token === null) {
    throw new UsageError(
      `cannot read the review token ${path}: reviewing needs it (pass --token-file, set FORGE_REVIEW_TOKEN_FILE, or run as the agent's owner)`,
    );
  }
  return { [REVIEW_TOKEN_HEADER]: token };
}
