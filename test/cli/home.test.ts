// The CLI finds the agent the same way from any directory (issue 21): FORGE_HOME, then the config
// file, then the per-user home — never ./var under the current directory. A real daemon started
// with no --home, and the CLI run from elsewhere with no --socket.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TINY_MODEL_FILE } from "../../src/inference/tiny-model.js";
import { CLI, FIXTURE_POLICY, REPO, UdsClient } from "../agent/helpers.js";
import { ensureBuilt } from "../support/build.js";
import { until } from "../support/wait.js";

let dir: string;
const procs: ChildProcess[] = [];

/** A user with only HOME set (no XDG_*), plus `extra`. */
function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: join(dir, "u"),
    XDG_DATA_HOME: "",
    XDG_CONFIG_HOME: "",
    FORGE_POLICY: FIXTURE_POLICY,
    ...extra,
  };
}

function cli(args: string[], cwd: string, env: Record<string, string>) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: "utf8", cwd, env });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

async function startDaemon(cwd: string, env: Record<string, string>, socket: string): Promise<void> {
  const p = spawn(process.execPath, [CLI, "run", "--backend", "none"], { cwd, env, stdio: "ignore" });
  procs.push(p);
  const c = new UdsClient(socket);
  try {
    await until(
      async () => p.exitCode !== null || (await c.get("/v1/health")).status === 200,
      () => `the daemon on ${socket}`,
      30_000,
    );
  } finally {
    c.close();
  }
  expect(p.exitCode).toBeNull();
}

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), "forge-home-"));
  for (const d of ["a", "b", "u"]) mkdirSync(join(dir, d));
});
afterEach(async () => {
  for (const p of procs.splice(0)) {
    if (p.exitCode === null) {
      p.kill("SIGTERM");
      await new Promise((r) => p.once("exit", r));
    }
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("where the CLI finds the agent", () => {
  it("a daemon started with no --home is found by status from any other directory: the per-user home", async () => {
    const home = join(dir, "u", ".local", "share", "forge-agent");
    await startDaemon(join(dir, "a"), userEnv(), join(home, "agent.sock"));
    for (const cwd of [join(dir, "b"), "/"]) {
      const s = cli(["status", "--json"], cwd, userEnv());
      expect(s.code).toBe(0);
      const agent = JSON.parse(s.out).agent;
      expect(agent.running, cwd).toBe(true);
      expect(agent.socket).toBe(join(home, "agent.sock"));
    }
    // Without any service installed (no systemd here, nor a unit file): the agent's own state, as text.
    const text = cli(["status"], "/", userEnv());
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^agent: {5}running \(pid \d+, up \d+ s/m);
    expect(text.out).toContain(`socket:    ${join(home, "agent.sock")}`);
    expect(text.out).toMatch(/^policy: {4}\S+@\d+ \(sha256 [0-9a-f]{12}…\)$/m);
    expect(text.out).toMatch(/^collector: none configured/m);
    expect(text.out).toMatch(/^model: {5}none \(backend none\)$/m);
    expect(text.out).toMatch(/^service: {3}(none \(|forge-agent)/m);
    // Nothing was made under the directory it was started in.
    expect(spawnSync("ls", ["-A", join(dir, "a")], { encoding: "utf8" }).stdout).toBe("");
  });

  it("FORGE_HOME, then the per-user config file's home, then the per-user default", async () => {
    const cfgHome = join(dir, "cfg-state");
    const xdgConfig = join(dir, "u", "conf");
    mkdirSync(join(xdgConfig, "forge-agent"), { recursive: true });
    writeFileSync(join(xdgConfig, "forge-agent", "config.yaml"), `home: ${cfgHome}\n`);
    const env = userEnv({ XDG_CONFIG_HOME: xdgConfig });
    await startDaemon(join(dir, "a"), env, join(cfgHome, "agent.sock"));
    const viaConfig = JSON.parse(cli(["status", "--json"], "/", env).out).agent;
    expect(viaConfig).toMatchObject({ running: true, socket: join(cfgHome, "agent.sock") });
    // FORGE_HOME wins over the config file: nothing runs there.
    const other = join(dir, "elsewhere");
    const viaEnv = JSON.parse(cli(["status", "--json"], "/", { ...env, FORGE_HOME: other }).out).agent;
    expect(viaEnv).toMatchObject({ running: false, socket: join(other, "agent.sock") });
  });

  it("scripts/make-tiny-model writes the model where the agent looks: <home>/models, not ./var", () => {
    const home = join(dir, "model-home");
    const r = spawnSync(join(REPO, "scripts/make-tiny-model"), [], {
      encoding: "utf8",
      cwd: join(dir, "b"),
      env: userEnv({ FORGE_HOME: home }),
    });
    expect(r.status).toBe(0);
    expect(r.stdout.split("\n")[0]).toBe(join(home, "models", TINY_MODEL_FILE));
    expect(existsSync(join(home, "models", TINY_MODEL_FILE))).toBe(true);
    expect(existsSync(join(dir, "b", "var"))).toBe(false);
  });

  it("a --user service's home is the one the CLI looks in ($XDG_DATA_HOME honoured)", () => {
    const data = join(dir, "xdg-data");
    const env = userEnv({ XDG_DATA_HOME: data });
    const plan = cli(["install", "--user", "--dry-run", "--target", "systemd"], "/", env);
    expect(plan.code).toBe(0);
    expect(plan.out).toContain(`Environment="FORGE_HOME=${join(data, "forge-agent")}"`);
    const s = JSON.parse(cli(["status", "--json", "--target", "systemd", "--user"], "/", env).out);
    expect(s.agent.socket).toBe(join(data, "forge-agent", "agent.sock"));
  });
});
