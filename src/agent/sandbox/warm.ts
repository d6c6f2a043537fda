import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import type { SandboxPlan } from "./plan.js";

/**
 * What a warm sandbox is for: the profile's name and the plan resolved for it (write roots, hidden
 * paths, network, limits, cwd, workspace) with its private temp dir. Recomputed when an action
 * takes it: a credential dir created since, a changed symlink, another cwd gives another digest.
 */
export function planDigest(name: string, plan: SandboxPlan): string {
  return createHash("sha256").update(JSON.stringify({ name, plan })).digest("hex");
}

/** A started sandbox (the same wrapper, cgroup, limits and bwrap arguments as a cold run) waiting for its command. */
export interface WarmEntry {
  digest: string;
  tmp: string;
  child: ChildProcess;
  startedMs: number;
  /** Set once an action took it (used exactly once). */
  taken: boolean;
  /** Set when the launcher inside said it waits for its command. */
  ready: boolean;
  /** Releases its temp dir and cgroup (the SandboxRun's finish). */
  release(): void;
}

/** Spawns a waiting sandbox: stdin ignored, stdout/stderr piped for the action, fd 3 the command pipe. */
export function spawnWaiting(
  file: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): ChildProcess {
  return spawn(file, args, { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe", "pipe"] });
}

/** Alive and unused: no exit seen, the command pipe still open. */
export function usable(e: WarmEntry, maxAgeMs: number, now: number): boolean {
  const pipe = e.child.stdio[3];
  return (
    !e.taken &&
    e.ready &&
    e.child.exitCode === null &&
    e.child.signalCode === null &&
    pipe !== null &&
    pipe !== undefined &&
    !pipe.destroyed &&
    now - e.startedMs <= maxAgeMs
  );
}

/** Hands the command to a waiting sandbox, as data. */
export function sendCommand(
  e: WarmEntry,
  cmd: { argv: string[]; env: Record<string, string>; cwd: string },
): void {
  e.taken = true;
  const pipe = e.child.stdio[3] as NodeJS.WritableStream;
  pipe.end(JSON.stringify(cmd));
}

/** Kills a waiting sandbox's process group (bwrap, and so its PID namespace) and releases it. */
export function discard(e: WarmEntry): void {
  e.taken = true;
  try {
    if (e.child.pid !== undefined) process.kill(-e.child.pid, "SIGKILL");
  } catch {
    // already gone
  }
  e.child.once("close", () => e.release());
  if (e.child.exitCode !== null || e.child.signalCode !== null) e.release();
}

/**
 * Resolves true once the launcher acknowledges the command it was sent (`x` on fd 3), false when
 * the sandbox dies or closes fd 3 first: lost mid-handoff (`warm_lost`), the command never ran.
 */
export function handedOver(e: WarmEntry): Promise<boolean> {
  const pipe = e.child.stdio[3];
  if (pipe === null || pipe === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      pipe.removeListener("data", onData);
      pipe.removeListener("close", onGone);
      e.child.removeListener("exit", onGone);
      resolve(ok);
    };
    const onData = (b: Buffer) => {
      if (b.includes(0x78)) done(true);
    };
    const onGone = () => done(false);
    pipe.on("data", onData);
    pipe.once("close", onGone);
    e.child.once("exit", onGone);
  });
}

/** Resolves true once the launcher says it waits, false if the sandbox dies or `ms` pass first. */
export function waitReady(e: WarmEntry, ms: number): Promise<boolean> {
  const pipe = e.child.stdio[3];
  if (pipe === null || pipe === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      pipe.removeListener("data", onData);
      e.child.removeListener("exit", onExit);
      e.child.removeListener("error", onExit);
      if (ok) e.ready = true;
      resolve(ok);
    };
    const onData = () => done(true);
    const onExit = () => done(false);
    const timer = setTimeout(() => done(false), ms);
    pipe.once("data", onData);
    e.child.once("exit", onExit);
    // A spawn that failed (no such cwd) never exits: not a 10 s wait for nothing.
    e.child.once("error", onExit);
  });
}
