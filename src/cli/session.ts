import { resolve } from "node:path";
import { callAgent, defaultSocketPath, unwrap } from "../agent/client.js";
import type { WorkspaceDeclared } from "../agent/workspaces.js";
import { Codes, hasForgeCode } from "../errors.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { AGENT } from "./spec.js";

/** The endpoint's refusals (POST /v1/sessions/:id/workspace), each with what to do instead. */
const REFUSED: Partial<Record<string, string>> = {
  [Codes.WORKSPACE_OUTSIDE]: "a root is not an existing directory inside executors.workspaces",
  [Codes.CONFLICT]: "the session already has its workspace or has acted: use a new session id",
  [Codes.SELF_REVIEW]: "an action the agent executed may not declare a workspace",
  [Codes.RATE_LIMITED]: "too many sessions hold a declared workspace",
};

/**
 * `forge-agent session workspace SESSION ROOT...`: declares a session's workspace roots on the
 * running agent (issue 19 §3), once, before the session's first action. Prints the resolved roots.
 * Exit 0 declared, 3 refused (the code and why), 1 the agent could not be asked.
 */
export default async function session(argv: string[], env: Env): Promise<number> {
  const { values, positionals } = parse(argv, AGENT.session.flags);
  if (positionals[0] !== "workspace") throw new UsageError("give 'workspace SESSION ROOT...'");
  const [, id, ...roots] = positionals;
  if (id === undefined || roots.length === 0) throw new UsageError("give a session id and at least one root");
  const socket = values.socket ?? defaultSocketPath(env);
  try {
    const r = unwrap<WorkspaceDeclared>(
      await callAgent(socket, "POST", `/v1/sessions/${encodeURIComponent(id)}/workspace`, {
        roots: roots.map((r) => resolve(r)),
      }),
    );
    if (values.json) printJson(r);
    else
      process.stdout.write(
        `session ${r.session_id}: workspace ${r.roots.join(", ")} (record ${r.record.seq})\n`,
      );
    return 0;
  } catch (err) {
    const hint = hasForgeCode(err) ? REFUSED[err.code] : undefined;
    if (!hasForgeCode(err) || hint === undefined) throw err;
    if (values.json) printJson({ error: { code: err.code, message: err.message } });
    process.stderr.write(`forge-agent: ${err.code}: refused (${hint}): ${err.message}\n`);
    return 3;
  }
}
