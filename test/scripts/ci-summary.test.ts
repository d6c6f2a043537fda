import { spawnSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "../agent/helpers.js";
import { tempDir } from "../fleet/helpers.js";

/** scripts/ci-summary.js: the closing line CI reads, counting the suite and the newcomer check. */

const dir = tempDir("fa-ci-summary-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function summary(...files: string[]) {
  const r = spawnSync(process.execPath, [join(REPO, "scripts", "ci-summary.js"), ...files], {
    encoding: "utf8",
  });
  return { code: r.status, out: r.stdout };
}

function write(name: string, value: unknown): string {
  const p = join(dir, name);
  writeFileSync(p, typeof value === "string" ? value : JSON.stringify(value));
  return p;
}

const vitest = write("vitest.json", {
  numPassedTests: 10,
  numFailedTests: 1,
  numFailedTestSuites: 1,
  numPendingTests: 3,
});

describe("ci-summary", () => {
  it("counts the suite's tests, a suite that failed to load as a failure, and the skips", () => {
    expect(summary(vitest)).toEqual({ code: 0, out: "10 passed, 2 failed, 3 skipped\n" });
  });

  it("counts the newcomer check as one: passed, or failed with its failing steps named", () => {
    const pass = write("pass.json", {
      ok: true,
      install: "link",
      wall_s: 42,
      steps: [{ step: "clone", ok: true, saw: "" }],
    });
    expect(summary(vitest, pass).out).toBe(
      "newcomer-check: PASS (1 steps, 42 s, install link)\n11 passed, 2 failed, 3 skipped\n",
    );
    const fail = write("fail.json", {
      ok: false,
      install: "link",
      wall_s: 40,
      steps: [
        { step: "clone", ok: true, saw: "" },
        { step: "trace", ok: false, saw: "no evidence" },
        { step: "review watch", ok: false, saw: "" },
      ],
    });
    expect(summary(vitest, fail)).toEqual({
      code: 0,
      out: "newcomer-check: FAIL (trace, review watch)\n10 passed, 3 failed, 3 skipped\n",
    });
  });

  it("a report it was given that is missing or not one is a failure, and exits 1", () => {
    const gone = summary(vitest, join(dir, "absent.json"));
    expect(gone.code).toBe(1);
    expect(gone.out).toMatch(/^newcomer-check: no result \(ENOENT/);
    expect(gone.out).toContain("10 passed, 3 failed");
    expect(summary(vitest, write("other.json", { numPassedTests: 1 })).out).toMatch(
      /^newcomer-check: no result \(not a newcomer-check result\)/,
    );
    const broken = summary(write("broken.json", "{"));
    expect(broken.code).toBe(1);
    expect(broken.out).toMatch(/^test report unreadable .*\n0 passed, 1 failed\n$/);
  });
});
