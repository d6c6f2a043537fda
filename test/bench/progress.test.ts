/**
 * Progress: a bar when stderr is a terminal (run under script(1), which gives the child a real
 * pseudo-terminal), plain lines when it is a pipe (the other tests read those).
 */
import { spawnSync } from "node:child_process";
import { beforeAll, expect, it } from "vitest";
import { BIN, cleanEnv, ensureBuilt, ROOT, run } from "./helpers.js";

const hasScript = spawnSync("script", ["--version"]).status === 0;

beforeAll(() => ensureBuilt());

it.skipIf(!hasScript)("draws a progress bar on a TTY", () => {
  const cmd = `${process.execPath} ${BIN} bench --suite metrics --duration 0.2 --no-record`;
  const r = spawnSync("script", ["-qec", cmd, "/dev/null"], { cwd: ROOT, env: cleanEnv(), encoding: "utf8" });
  expect(r.status, r.stdout).toBe(0);
  expect(r.stdout).toMatch(/bench \[[█░]+\] 100% \| metrics \(1\/1\)/);
  expect(r.stdout).not.toContain("bench: [1/1] metrics: started");
});

it("prints plain lines when stderr is not a terminal", async () => {
  const r = await run(["bench", "--suite", "metrics", "--duration", "0.2", "--no-record"]);
  expect(r.code, r.err).toBe(0);
  expect(r.err).toContain("bench: [1/1] metrics: started");
  expect(r.err).toMatch(/bench: metrics: ok \(\d+\.\d s\)/);
  expect(r.err).not.toContain("█");
});
