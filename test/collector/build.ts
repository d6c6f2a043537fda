import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const COLLECTOR_BIN = join(ROOT, "bin", "forge-collector.js");
export const WRITER = join(ROOT, "test", "fixtures", "shipper-writer.mjs");

function newest(dir: string): number {
  let t = 0;
  for (const f of readdirSync(dir)) if (f.endsWith(".ts")) t = Math.max(t, statSync(join(dir, f)).mtimeMs);
  return t;
}

/**
 * Child fixtures run the built JavaScript: build with `npx tsc -p .` when dist is missing or older
 * than the collector/evidence sources (tsc emits even if another component has type errors).
 */
export function ensureBuilt(): void {
  const src = Math.max(newest(join(ROOT, "src/collector")), newest(join(ROOT, "src/evidence")));
  const outs = [
    "dist/src/collector/server.js",
    "dist/src/evidence/shipper.js",
    "dist/src/cli/collector-run.js",
  ];
  const stale = outs.some((o) => !existsSync(join(ROOT, o)) || statSync(join(ROOT, o)).mtimeMs < src);
  if (stale) spawnSync("npx", ["tsc", "-p", "."], { cwd: ROOT, stdio: "ignore" });
}
