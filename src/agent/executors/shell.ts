import { type ChildProcess, spawn } from "node:child_process";
import { resolve } from "node:path";
import { Codes } from "../../errors.js";
import { LANDLOCK_FAILED, type SandboxApplied } from "../sandbox/index.js";
import { Capture } from "./capture.js";
import type { ActionSandbox, ExecutionResult, ExecutorLimits } from "./types.js";

/**
 * Runs `/bin/sh -c command` under the action's sandbox profile with a scrubbed environment
 * (PATH, HOME, LANG, plus the action's env); `execution_result.sandbox` says how it was contained.
 */
export async function runShell(
  action: { command: string; cwd?: string; env?: Record<string, string> },
  limits: ExecutorLimits,
  box: ActionSandbox,
): Promise<ExecutionResult> {
  const cwd = resolve(limits.cwd, action.cwd ?? ".");
  const argv = ["/bin/sh", "-c", action.command];
  const env = { ...limits.base_env, ...(action.env ?? {}) };
  try {
    // A sandbox started ahead of time for exactly this confinement, else one started now.
    const warm = await box.sandbox.takeWarm(box.name, box.profile, cwd);
    let lost = false;
    if (warm !== null) {
      let handed: Promise<boolean> = Promise.resolve(false);
      const result = await captured(warm.child, limits, () => {
        handed = warm.send({ argv, env, cwd });
      });
      const applied = await warm.finish();
      // Lost between being taken and getting its command (warm_lost): nothing ran, so run it cold.
      if (await handed) return landlockChecked({ ...result, sandbox: applied });
      lost = true;
    }
    const run = await box.sandbox.prepare(box.name, box.profile, cwd, argv);
    if (run === null) return unavailable(box);
    const child = spawn(run.file, run.args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const result = await captured(child, limits);
    const applied = await run.finish();
    return landlockChecked({ ...result, sandbox: lost ? { ...applied, warm_lost: true } : applied });
  } finally {
    // The next action most likely has the same profile: have its sandbox waiting (background).
    box.sandbox.refill(box.name, box.profile, cwd, { ...limits.base_env });
  }
}

/**
 * The launcher exits 126 with LANDLOCK_FAILED on stderr when the Landlock rules it had to apply
 * could not be: the command never ran. The record says so (an error, sandbox-unavailable, and
 * `landlock.enforced: false` with the kernel's reason) instead of a plain failed command.
 */
function landlockChecked(r: ExecutionResult): ExecutionResult {
  const stderr = (r.stderr as { excerpt?: string } | undefined)?.excerpt ?? "";
  const sb = r.sandbox as SandboxApplied | undefined;
  if (r.exit_code !== 126 || !stderr.startsWith(LANDLOCK_FAILED) || sb?.landlock === undefined) return r;
  const reason = stderr.slice(LANDLOCK_FAILED.length).split("\n")[0]!;
  return {
    ...r,
    status: "error",
    error: { code: Codes.SANDBOX_UNAVAILABLE, message: `sandbox-unavailable: Landlock: ${reason}` },
    sandbox: { ...sb, landlock: { ...sb.landlock, enforced: false, reason } },
  };
}

/** The record of an action the sandbox could not contain (sandbox.on_unavailable: deny). */
export function unavailable(box: ActionSandbox): ExecutionResult {
  const why = box.sandbox.probe();
  return {
    status: "error",
    duration_ms: 0,
    error: {
      code: Codes.SANDBOX_UNAVAILABLE,
      message: `sandbox-unavailable: ${why.ok ? "unknown" : why.reason}`,
    },
    sandbox: { engine: "none", profile: box.name, confined: false, reason: why.ok ? "unknown" : why.reason },
  };
}

/**
 * Captures the output of `child` (spawned detached: its own process group), started by `go` when
 * it waits for its command. On timeout, or when the output passes max_output_bytes, the whole
 * group gets SIGKILL (inside a sandbox, killing bwrap takes its PID namespace, and so every
 * descendant, with it).
 */
function captured(child: ChildProcess, limits: ExecutorLimits, go?: () => void): Promise<ExecutionResult> {
  const started = performance.now();
  const stdout = new Capture(limits.excerpt_bytes);
  const stderr = new Capture(limits.excerpt_bytes);
  return new Promise((resolve) => {
    let timedOut = false;
    let overflow = false;
    let settled = false;
    const finish = (r: Omit<ExecutionResult, "duration_ms">) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...r, duration_ms: round(performance.now() - started) } as ExecutionResult);
    };
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
      } catch {
        // the group is already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, limits.shell_timeout_ms);
    const onData = (cap: Capture) => (chunk: Buffer) => {
      cap.push(chunk);
      if (!overflow && stdout.bytes + stderr.bytes > limits.max_output_bytes) {
        overflow = true;
        killGroup();
      }
    };
    child.stdout?.on("data", onData(stdout));
    child.stderr?.on("data", onData(stderr));
    child.on("error", (err: NodeJS.ErrnoException) => {
      finish({
        status: "error",
        exit_code: null,
        error: { code: Codes.EXEC_SPAWN, message: `${err.code ?? ""} ${err.message}`.trim() },
        stdout: stdout.result(),
        stderr: stderr.result(),
        timed_out: false,
      });
    });
    // 'close' waits for the pipes: a grandchild holding them open keeps us here until the
    // timeout kills the group, which is the bound we want.
    child.on("close", (code, signal) => {
      killGroup();
      finish({
        status: timedOut ? "timeout" : code === 0 ? "ok" : "failed",
        exit_code: code,
        signal: signal ?? null,
        stdout: stdout.result(),
        stderr: stderr.result(),
        timed_out: timedOut,
        output_limit_exceeded: overflow,
      });
    });
    go?.();
  });
}

export const round = (ms: number) => Math.round(ms * 1000) / 1000;
