import { defaultSocketPath } from "../agent/client.js";
import { Codes, ForgeError } from "../errors.js";
import { parseHookInput, postToolUse, preToolUse } from "../integrations/claude-code.js";
import { parse, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { AGENT } from "./spec.js";

const MAX_INPUT = 8 * 1024 * 1024;

/**
 * `forge-agent hook claude-code [--socket PATH] [--escalate ask|wait] [--wait-ms MS]`: Claude Code's
 * PreToolUse / PostToolUse hook command. PreToolUse always exits 0 with a JSON decision on stdout
 * (deny when anything fails); PostToolUse reports the result and never blocks (exit 0, notes on stderr).
 */
export default async function hook(argv: string[], env: Env): Promise<number> {
  const { values, positionals } = parse(argv, AGENT.hook.flags);
  if (positionals[0] !== "claude-code" || positionals.length !== 1)
    throw new UsageError(
      "usage: forge-agent hook claude-code [--socket PATH] [--escalate ask|wait] [--wait-ms MS]",
    );
  const escalate = values.escalate ?? env.FORGE_HOOK_ESCALATE ?? "ask";
  if (escalate !== "ask" && escalate !== "wait") throw new UsageError("--escalate must be ask or wait");
  const waitMs = Number(values["wait-ms"] ?? env.FORGE_HOOK_WAIT_MS ?? 300_000);
  if (!Number.isInteger(waitMs) || waitMs < 0) throw new UsageError("--wait-ms must be a whole number of ms");
  const o = { socket: values.socket ?? defaultSocketPath(env), escalate, waitMs } as const;

  let text: string;
  try {
    text = await readStdin();
  } catch (err) {
    return answerDeny(`forge-agent hook: ${(err as Error).message}`);
  }
  let input: ReturnType<typeof parseHookInput>;
  try {
    input = parseHookInput(text);
  } catch (err) {
    // An unreadable event may be a PreToolUse: never let it through.
    return answerDeny(`forge-agent hook: ${(err as Error).message}`);
  }
  if (input.hook_event_name === "PreToolUse") {
    process.stdout.write(`${JSON.stringify(await preToolUse(input, o))}\n`);
    return 0;
  }
  try {
    process.stderr.write(`forge-agent: ${await postToolUse(input, o)}\n`);
  } catch (err) {
    process.stderr.write(`forge-agent: PostToolUse not recorded: ${(err as Error).message}\n`);
  }
  return 0;
}

function answerDeny(reason: string): number {
  process.stdout.write(
    `${JSON.stringify({ hookSpecificOutput: { hookEventName: "PreToolUse", permissionDecision: "deny", permissionDecisionReason: reason } })}\n`,
  );
  process.stderr.write(`${reason}\n`);
  return 0;
}

function readStdin(): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    process.stdin.on("data", (b: Buffer) => {
      size += b.length;
      if (size > MAX_INPUT)
        reject(new ForgeError(Codes.PAYLOAD_TOO_LARGE, `hook input exceeds ${MAX_INPUT} bytes`));
      else parts.push(b);
    });
    process.stdin.on("end", () => resolve(Buffer.concat(parts).toString("utf8")));
    process.stdin.on("error", reject);
  });
}
