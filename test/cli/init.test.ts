// `forge-agent init` through the built CLI: the template it writes loads against the config schema,
// names every top-level key, lands where every command looks for it, and is never overwritten
// without --force.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_KEYS, loadConfig } from "../../src/agent/config.js";
import { CONFIG_TEMPLATE } from "../../src/cli/init.js";
import { ensureBuilt } from "../support/build.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN = join(ROOT, "bin/forge-agent.js");
let dir: string;

function run(args: string[], env: Record<string, string>) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: "utf8",
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: join(dir, "home"), ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(() => {
  ensureBuilt();
  mkdirSync(join(ROOT, ".test-tmp"), { recursive: true });
  dir = mkdtempSync(join(ROOT, ".test-tmp", "init-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("forge-agent init", () => {
  it("writes the per-user config.yaml, which every command then reads, and which loads as written", () => {
    const xdg = join(dir, "xdg-config");
    const r = run(["init", "--json"], { XDG_CONFIG_HOME: xdg });
    expect(r.code).toBe(0);
    const file = join(xdg, "forge-agent", "config.yaml");
    expect(JSON.parse(r.out)).toEqual({ written: file });
    expect(readFileSync(file, "utf8")).toBe(CONFIG_TEMPLATE);
    // Found without --config, from the environment alone, as the CLI finds it.
    const c = loadConfig({ env: { HOME: join(dir, "home"), XDG_CONFIG_HOME: xdg }, cwd: "/" });
    expect(c.source).toEqual([`file:${file}`]);
    expect(c.backend).toBe("llama");
    expect(c.home).toBe(join(dir, "home", ".local", "share", "forge-agent"));
    // The values it writes are the defaults: the same config as no file at all.
    const none = loadConfig({
      env: { HOME: join(dir, "home"), XDG_CONFIG_HOME: join(dir, "none") },
      cwd: "/",
    });
    expect({ ...c, source: [] }).toEqual({ ...none, source: [] });
  });

  it("names every top-level config key, set or commented out", () => {
    const missing = CONFIG_KEYS.filter((k) => !new RegExp(`^(# )?${k}:`, "m").test(CONFIG_TEMPLATE));
    expect(missing).toEqual([]);
  });

  it("keeps an existing file (FORGE_CONFLICT, exit 1) unless --force", () => {
    const file = join(dir, "mine.yaml");
    writeFileSync(file, "backend: none\n");
    const again = run(["init", "--out", file], {});
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/FORGE_CONFLICT: .*mine\.yaml exists.*--force/);
    expect(readFileSync(file, "utf8")).toBe("backend: none\n");
    const forced = run(["init", "--out", file, "--force"], {});
    expect(forced.code).toBe(0);
    expect(forced.out).toMatch(/^wrote .*mine\.yaml/);
    expect(readFileSync(file, "utf8")).toBe(CONFIG_TEMPLATE);
    // FORGE_CONFIG names the file when --out does not.
    const env = join(dir, "env.yaml");
    expect(run(["init"], { FORGE_CONFIG: env }).code).toBe(0);
    expect(readFileSync(env, "utf8")).toBe(CONFIG_TEMPLATE);
  });
});
