import { execFile } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "../agent/helpers.js";
import { tempDir } from "../fleet/helpers.js";
import { missing } from "../support/tools.js";

/**
 * scripts/newcomer-check run for real, in link mode (this checkout's node_modules and addon; a
 * clone of this checkout's HEAD): every step a newcomer takes must PASS, and nothing it started
 * may be left running or on disk.
 */

const SCRIPT = join(REPO, "scripts", "newcomer-check");
const dir = tempDir("fa-newcomer-test-");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function runScript(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("FORGE_")) env[k] = v;
    execFile(
      process.execPath,
      [SCRIPT, ...args],
      { env, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (e, out, err) => resolve({ code: e ? ((e as { code?: number }).code ?? null) : 0, out, err }),
    );
  });
}

/** The processes whose command line names `marker`, other than pgrep itself. */
async function processesNaming(marker: string): Promise<string[]> {
  return new Promise((resolve) =>
    execFile("pgrep", ["-af", marker], (_e, out) =>
      resolve(
        String(out)
          .split("\n")
          .filter((l) => l.trim() !== "" && !l.includes("pgrep")),
      ),
    ),
  );
}

describe("scripts/newcomer-check", () => {
  it("refuses bad usage (exit 2) and fails, cleaning up, when its install cannot happen (exit 1)", async () => {
    const bad = await runScript(["--install", "npm"], 30_000);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain("--install is ci or link");
    const r = await runScript(["--install", "link", "--link-from", join(dir, "none")], 120_000);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^PASS clone: /m);
    expect(r.out).toMatch(/^FAIL install: --install link needs .*node_modules/m);
    expect(r.out).toMatch(/^newcomer-check: FAIL \(1 passed, 1 failed/m);
    const work = /-> (\S+)\/forge-agent/.exec(r.out)![1]!;
    expect(existsSync(work)).toBe(false);
  }, 180_000);

  it("reads the curl lines from the clone's README: a README that lost one fails the run", async () => {
    // A clone of this checkout whose README no longer has the DENY line, committed.
    const broken = join(dir, "broken");
    const git = (...args: string[]) =>
      new Promise<void>((resolve, reject) =>
        execFile(
          "git",
          ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args],
          { cwd: dir },
          (e) => (e ? reject(e) : resolve()),
        ),
      );
    await git("clone", "--quiet", REPO, broken);
    const readme = join(broken, "README.md");
    writeFileSync(
      readme,
      readFileSync(readme, "utf8")
        .split("\n")
        .filter((l) => !/# DENY/.test(l))
        .join("\n"),
    );
    await git("-C", broken, "commit", "--quiet", "-am", "the README loses its DENY line");
    const r = await runScript(["--repo", broken, "--install", "link", "--link-from", REPO], 900_000);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^PASS npm start: /m);
    expect(r.out).toContain(
      "FAIL readme curl: README.md's quick start has curl lines for [ALLOW,ESCALATE], want one each of ALLOW, DENY, ESCALATE",
    );
    expect(r.out).toMatch(/^newcomer-check: FAIL/m);
  }, 900_000);

  it.skipIf(missing("tmux") || missing("bwrap"))(
    "a fresh clone passes every step, and leaves no process or temp dir behind",
    async () => {
      const json = join(dir, "result.json");
      const r = await runScript(
        ["--install", "link", "--link-from", REPO, "--json", json, "--timeout-s", "300"],
        900_000,
      );
      expect(r.out, r.err).toMatch(/^newcomer-check: PASS/m);
      expect(r.code).toBe(0);
      const result = JSON.parse(readFileSync(json, "utf8")) as {
        ok: boolean;
        steps: { step: string; ok: boolean }[];
      };
      expect(result.ok).toBe(true);
      expect(result.steps.map((s) => s.step)).toEqual([
        "clone",
        "install",
        "npm start",
        "readme curl ALLOW",
        "readme curl DENY",
        "readme curl ESCALATE",
        "readme curl ALLOW sees the clone as cloned",
        "trace",
        "ollama client",
        "second host, bare URL",
        "review watch",
        "clone unchanged",
      ]);
      const work = /-> (\S+)\/forge-agent/.exec(r.out)![1]!;
      expect(existsSync(work)).toBe(false);
      expect(await processesNaming(work)).toEqual([]);
    },
    900_000,
  );
});
