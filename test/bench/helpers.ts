import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = join(ROOT, "bin", "forge-agent.js");

export { ensureBuilt } from "../support/build.js";

/** The environment without FORGE_* (a developer's own settings must not leak into a test). */
export function cleanEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("FORGE_")));
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** Spawns `forge-agent ARGS`; `child` is there to signal it, `done` settles on exit. */
export function start(args: string[]): { child: ChildProcess; done: Promise<Exit>; err: () => string } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(), stdio: "pipe" });
  let out = "";
  let err = "";
  child.stdout!.setEncoding("utf8").on("data", (c: string) => (out += c));
  child.stderr!.setEncoding("utf8").on("data", (c: string) => (err += c));
  const done = new Promise<Exit>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, out, err })),
  );
  return { child, done, err: () => err };
}

export function run(args: string[]): Promise<Exit> {
  return start(args).done;
}
