import type { ActionView } from "../agent/actions.js";
import { callAgent, defaultReviewTokenPath, defaultSocketPath, unwrap } from "../agent/client.js";
import { REVIEW_TOKEN_HEADER, readReviewToken } from "../agent/review-token.js";
import { summarize } from "../agent/trace.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";

/**
 * `forge-agent review list | approve ID | deny ID [--reason TEXT]`, over the agent's socket, with
 * the review token (--token-file, FORGE_REVIEW_TOKEN_FILE, or <FORGE_HOME>/review.token).
 */
export default async function review(argv: string[], env: Env): Promise<number> {
  const { values, positionals } = parse(argv, {
    socket: { type: "string" },
    "token-file": { type: "string" },
    reason: { type: "string" },
    json: { type: "boolean" },
  });
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
    else {
      for (const r of reviews) {
        const left = r.deadline_ms ? Math.max(0, Math.round((r.deadline_ms - Date.now()) / 1000)) : null;
        const rules = r.policy_matched.rules.map((m) => m.rule_id).join(",");
        process.stdout.write(
          `${r.action_id}  session ${r.session_id}  risk ${r.risk}  rules ${rules || "-"}  ${left === null ? "" : `${left}s left`}\n` +
            `  action: ${summarize(r.proposed_action)}${r.principal ? `  by ${r.principal}` : ""}\n` +
            (r.reasons.length > 0 ? `  ${r.reasons.join("; ")}\n` : ""),
        );
      }
    }
    return 0;
  }
  if (sub === "approve" || sub === "deny") {
    if (id === undefined)
      throw new UsageError(`review ${sub} needs an action ID (see 'forge-agent review list')`);
    const full = await resolvePrefix(socket, auth, id);
    const view = unwrap<ActionView>(
      await callAgent(
        socket,
        "POST",
        `/v1/reviews/${encodeURIComponent(full)}`,
        { decision: sub, reason: values.reason ?? null },
        undefined,
        auth,
      ),
    );
    if (values.json) printJson(view);
    else
      process.stdout.write(
        `${full}: ${sub === "approve" ? "approved" : "denied"} (now ${view.evaluation}, ${view.state})\n`,
      );
    return 0;
  }
  throw new UsageError(sub === undefined ? "missing subcommand" : `unknown subcommand '${sub}'`);
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
