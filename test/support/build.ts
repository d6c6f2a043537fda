// Tests that spawn the CLI, the collector or a fixture run the built JavaScript in dist/ (tsx is not
// installed). `npm test` builds first (pretest); a targeted `npx vitest run FILE` after an edit
// rebuilds here, once, when any source under src/ or bench/ is newer than dist.
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

function newestSource(dir: string): number {
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

// tsc without --incremental rewrites every output, so one output from each root dates the build.
const stale = () =>
  Math.max(newestSource("src"), newestSource("bench")) >
  Math.min(built("src/cli/forge-agent.js"), built("bench/run.js"));

/**
 * Rebuilds dist/ when it is missing or older than the sources. Test files run in parallel, so one
 * builds (holding a lock directory) while the others wait for it. tsc emits even when another
 * component has type errors, so its exit status is not checked: the tests that follow say what broke.
 */
export function ensureBuilt(): void {
  if (!stale()) return;
  const lock = join(tmpdir(), "forge-tsc.lock");
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
