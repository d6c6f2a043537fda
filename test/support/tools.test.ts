/**
 * Issue 21 item 2: a test that needs a system tool skips with a visible reason when it is absent,
 * the run ends with one line naming what was skipped and the command that installs it, and under
 * CI (CI=true) or FORGE_TEST_STRICT=1 an absent tool is a failure. Driven here with a PATH that
 * holds only `sh`, so the probe really runs and really finds nothing.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const KEYS = ["PATH", "CI", "FORGE_TEST_STRICT"] as const;

describe("test/support/tools.ts", () => {
  let dir: string;
  let cwd: string;
  let saved: Record<string, string | undefined>;

  beforeEach(() => {
    saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
    dir = mkdtempSync(join(tmpdir(), "fa-tools-"));
    const bin = join(dir, "bin");
    // A PATH with only a shell: `command -v plistutil` runs and finds nothing.
    mkdirSync(bin);
    symlinkSync("/bin/sh", join(bin, "sh"));
    process.env.PATH = bin;
    delete process.env.CI;
    delete process.env.FORGE_TEST_STRICT;
    cwd = process.cwd();
    // The skip list is written under the cwd's .test-tmp: here, not into the real run's list.
    process.chdir(dir);
    vi.resetModules();
  });
  afterEach(() => {
    process.chdir(cwd);
    for (const k of KEYS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("outside CI: absent means skip, and the skip is noted for the closing line", async () => {
    const { findTool, missing } = await import("./tools.js");
    expect(missing("plistutil")).toBe(true);
    expect(findTool("skopeo")).toBeNull();
    expect(readFileSync(join(dir, ".test-tmp", "missing-tools"), "utf8").split("\n")).toEqual(
      expect.arrayContaining(["plistutil", "skopeo"]),
    );
    // The closing line: one line, every skipped tool once, and the command that installs them.
    const setup = await import("./global-setup.js");
    const out: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((s) => {
      out.push(String(s));
      return true;
    });
    try {
      setup.teardown();
    } finally {
      spy.mockRestore();
    }
    expect(out.join("")).toBe(
      "\nskipped for missing system tools: plistutil, skopeo — install them all with scripts/install-test-deps\n",
    );
  });

  it.each([
    ["CI", "true"],
    ["FORGE_TEST_STRICT", "1"],
  ])("with %s=%s an absent tool fails the test that needs it", async (key, value) => {
    process.env[key] = value;
    const { findTool } = await import("./tools.js");
    expect(() => findTool("plistutil")).toThrow(
      /test tool 'plistutil' is missing \(CI\/FORGE_TEST_STRICT\): run scripts\/install-test-deps/,
    );
  });

  it("scripts/install-test-deps installs every tool the probes know, and .ci/run uses it", async () => {
    const repo = cwd;
    const script = readFileSync(join(repo, "scripts", "install-test-deps"), "utf8");
    // Debian package for each probe.
    for (const pkg of [
      "libplist-utils",
      "chromium",
      "postgresql",
      "systemd",
      "docker-registry",
      "skopeo",
      "bubblewrap",
      "python3-torch",
      "python3-scipy",
      "tmux",
      "apache2-utils",
    ])
      expect(script).toMatch(new RegExp(`\\s${pkg}\\s`));
    expect(readFileSync(join(repo, ".ci", "run"), "utf8")).toContain("scripts/install-test-deps");
  });
});
