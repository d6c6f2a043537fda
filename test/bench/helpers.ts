import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BIN = join(ROOT, "bin", "forge-agent.js");

function newest(dir: string): number {
  let t = 0;
  for (const f of readdirSync(join(ROOT, dir), { recursive: true }) as string[])
    if (f.endsWith(".ts")) t = Math.max(t, statSync(join(ROOT, dir, f)).mtimeMs);
  return t;
}

function built(file: string): number {
  try {
    return statSync(join(ROOT, "dist", file)).mtimeMs;
  } catch {
    return 0;
  }
}

const stale = () =>
  Math.max(newest("bench"), newest("src")) > Math.min(built("bench/run.js"), built("src/cli/bench.js"));

/**
 * The CLI tests spawn the built JavaScript: rebuild when bench/ or src/ is newer than dist. Test
 * files run in parallel, so one builds (holding a lock directory) while the others wait for it.
 */
export function ensureBuilt(): void {
  if (!stale()) return;
  const lock = join(tmpdir(), "forge-bench-tsc.lock");
  const end = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > end) rmSync(lock, { recursive: true, force: true }); // a crashed holder
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (stale()) spawnSync("npx", ["tsc", "-p", "."], { cwd: ROOT, stdio: "ignore" });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
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
