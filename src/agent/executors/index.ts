import { Codes } from "../../errors.js";
import type { Action } from "../../gate/actions.js";
import { runFile } from "./file.js";
import { runHttp } from "./http.js";
import { runShell } from "./shell.js";
import type { ActionSandbox, ExecutionResult, ExecutorLimits } from "./types.js";

export type { ActionSandbox, ExecutionResult, ExecutorLimits } from "./types.js";

/** Kinds the agent can execute itself; email.send and tool are executed by the caller. */
export const EXECUTABLE_KINDS: ReadonlySet<string> = new Set([
  "shell",
  "file.read",
  "file.write",
  "file.delete",
  "http",
]);

/** Runs an allowed action with the built-in executor for its kind. Never throws. */
export async function execute(
  action: Action,
  limits: ExecutorLimits,
  box: ActionSandbox,
): Promise<ExecutionResult> {
  try {
    switch (action.kind) {
      case "shell":
        return await runShell(action, limits, box);
      case "file.read":
      case "file.write":
      case "file.delete":
        return await runFile(action, limits, box);
      case "http":
        return await runHttp(action, limits, box);
      default:
        return {
          status: "error",
          duration_ms: 0,
          error: { code: Codes.EXEC_UNSUPPORTED, message: `no built-in executor for ${action.kind}` },
        };
    }
  } catch (e) {
    return {
      status: "error",
      duration_ms: 0,
      error: { code: Codes.INTERNAL, message: (e as Error).message },
    };
  }
}
