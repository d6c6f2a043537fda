import type { ForgeCode } from "../../errors.js";
import type { SandboxProfile } from "../../gate/sandbox-profile.js";
import type { Sandbox } from "../sandbox/index.js";
/** Limits every built-in executor honours; they come from config `executors.*`. */
export interface ExecutorLimits {
  cwd: string;
  shell_timeout_ms: number;
  excerpt_bytes: number;
  max_output_bytes: number;
  http_timeout_ms: number;
  http_max_bytes: number;
  file_max_bytes: number;
  /** Every file action finishes within this, or is recorded as a timeout. */
  file_timeout_ms: number;
  /** PATH/HOME/LANG handed to shell actions (taken from the daemon's environment once, at start). */
  base_env: Readonly<Record<string, string>>;
}

/**
 * An executor's outcome; becomes the record's `execution_result`. Executors never throw:
 * a failure is `status: "error"` with a coded error.
 */
export interface ExecutionResult {
  status: "ok" | "failed" | "timeout" | "error";
  duration_ms: number;
  error?: { code: ForgeCode; message: string };
  [key: string]: unknown;
}

/** The sandbox an action runs in, and the profile the policy chose for it (Gate.sandboxFor). */
export interface ActionSandbox {
  sandbox: Sandbox;
  name: string;
  profile: SandboxProfile;
}
