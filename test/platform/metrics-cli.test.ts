import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { Reading } from "../../src/platform/metrics.js";

const repo = fileURLToPath(new URL("../../", import.meta.url));
const bin = fileURLToPath(new URL("../../bin/forge-agent.js", import.meta.url));

function run(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { cwd: repo, encoding: "utf8", timeout: 30_000 });
}

describe("forge-agent metrics (built CLI)", () => {
  beforeAll(() => {
    if (!existsSync(new URL("../../dist/src/cli/metrics.js", import.meta.url))) {
      throw new Error("dist/ is not built: run `npx tsc -p .` (npm test does it in pretest)");
    }
  });

  it("--json prints one valid reading", () => {
    const r = run("metrics", "--json", "--interval", "200");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const reading = JSON.parse(r.stdout) as Reading;
    expect(reading.platform).toBe(process.platform);
    expect(reading.elapsedMs).toBeGreaterThanOrEqual(199);
    expect(reading.cpu.percent).toBeGreaterThanOrEqual(0);
    expect(reading.cpu.percent).toBeLessThanOrEqual(100);
    expect(reading.memory.totalBytes).toBeGreaterThan(0);
    expect(typeof reading.watts).toBe("object");
  });

  it("prints a table for people", () => {
    const r = run("metrics", "--interval", "100");
    expect(r.status).toBe(0);
    for (const row of ["cpu", "power", "memory", "temperature"])
      expect(r.stdout).toMatch(new RegExp(`^${row} `, "m"));
  });

  it.each([["abc"], ["10"], ["1.5"], ["700000"]])("--interval %s is bad usage: exit 2", (value) => {
    const r = run("metrics", "--interval", value);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/--interval/);
    expect(r.stderr).toMatch(/usage: forge-agent metrics/);
  });

  it("an unknown flag is bad usage: exit 2", () => {
    expect(run("metrics", "--watts").status).toBe(2);
  });
});
