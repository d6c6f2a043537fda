import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Machine } from "../../bench/report.js";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = join(ROOT, "bin", "forge-agent.js");

export { ensureBuilt } from "../support/build.js";

/** A stand-in machine for reports built in process (run.test, format.test); `model` as given. */
export function testMachine(model = "m"): Machine {
  return {
    hostname: "test",
    chip: "Test CPU",
    cores: { logical: 2, physical: 2, performance: null, efficiency: null },
    memory_bytes: 2 ** 30,
    os: { platform: "linux", arch: "x64", release: "6", name: "Test OS 1" },
    node: { version: process.version, v8: "0", abi: "115" },
    addon: { path: "/x.node", loaded: true, abi: 2, mlx: false, mlx_reason: "not built" },
    backend: "llama",
    model,
    model_digest: null,
    model_bytes: null,
    load_average: { start: [0, 0, 0], end: null },
    date: new Date().toISOString(),
  };
}

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
