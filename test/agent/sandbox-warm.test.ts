// The warm pool's life with real sandboxes (bwrap + the launcher): pre-warm at daemon start, an
// action waiting for one still starting, renewal, and a warm sandbox lost mid-handoff.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { type ActionSandbox, type ExecutionResult, execute } from "../../src/agent/executors/index.js";
import { Sandbox, type SandboxConfig } from "../../src/agent/sandbox/index.js";
import type { Action } from "../../src/gate/actions.js";
import type { SandboxProfile } from "../../src/gate/sandbox-profile.js";
import { missing } from "../support/tools.js";
import { until } from "../support/wait.js";
import { shell, startTestAgent, type TestAgent } from "./helpers.js";
import { BWRAP_CONFIG, profile, testLimits } from "./sandbox-fixtures.js";

const base = mkdtempSync(join("/var/tmp", "sbx-warm-"));
const workspace = join(base, "ws");
mkdirSync(workspace, { recursive: true });
afterAll(() => rmSync(base, { recursive: true, force: true }));

const CFG = BWRAP_CONFIG;
const own = { workspace, home: base, protect: [join(base, "agent-home")] };
const limits = testLimits(workspace, base);
const exec = (sb: Sandbox, cmd: string, p: SandboxProfile = profile()): Promise<ExecutionResult> =>
  execute(shell(cmd) as Action, limits, { sandbox: sb, name: "t", profile: p } satisfies ActionSandbox);
const sandboxOf = (r: ExecutionResult) => r.sandbox as { start?: string; warm_lost?: boolean };
const out = (r: ExecutionResult) => (r.stdout as { excerpt: string }).excerpt;

/** Our own children (bwrap, which the wrapper shell became) running a waiting launcher. */
function launchers(): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(process.pid), "-f", "os.write"], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}

/** Every process under `pid` (children first found by pgrep -P, recursively). */
function descendants(pid: number): number[] {
  let kids: number[] = [];
  try {
    kids = execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map(Number);
  } catch {
    // none
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

const boxes: Sandbox[] = [];
const box = (cfg: Partial<SandboxConfig>) => {
  const sb = new Sandbox({ ...CFG, ...cfg }, own);
  boxes.push(sb);
  return sb;
};
afterAll(async () => {
  for (const sb of boxes) await sb.close();
});
// Each case's pool is closed after it (its refill too), so the next one counts only its own launchers.
afterEach(async () => {
  for (const sb of boxes.splice(0)) await sb.close();
});

describe.skipIf(missing("bwrap") || !existsSync("/usr/bin/python3"))("the warm pool", () => {
  it("an action waits for a warm sandbox that is still starting instead of going cold", async () => {
    const sb = box({ warm: 1 });
    sb.refill("t", profile(), workspace, { ...limits.base_env });
    // Spawned, not yet waiting for its command: without the wait this action would start cold.
    while (sb.startingCount === 0) await new Promise((r) => setImmediate(r));
    expect(sb.warmCount).toBe(0);
    const r = await exec(sb, "echo waited");
    expect(r.status).toBe("ok");
    expect(out(r)).toBe("waited\n");
    expect(sandboxOf(r).start).toBe("warm");
  });

  it("waiting sandboxes are renewed: replaced by fresh ones, the old ones killed, the pool still serves", async () => {
    const before = new Set(launchers());
    const sb = box({ warm: 1, warm_renew_ms: 1000 });
    sb.refill("t", profile(), workspace, { ...limits.base_env });
    await sb.ready();
    const first = launchers().filter((p) => !before.has(p));
    expect(first).toHaveLength(1);
    // Renewed: the first launcher is killed once a fresh one has taken its place.
    await until(
      () => sb.renewCount >= 1 && !launchers().includes(first[0]!) && launchers().some((p) => !before.has(p)),
      "a fresh launcher in place of the first",
      20_000,
    );
    await sb.ready();
    expect(sb.warmCount).toBe(1);
    const r = await exec(sb, "echo renewed");
    expect(out(r)).toBe("renewed\n");
    expect(sandboxOf(r).start).toBe("warm");
  });

  it("a warm sandbox lost between being taken and getting its command: the action runs cold (warm_lost)", async () => {
    const before = new Set(launchers());
    const sb = box({ warm: 1 });
    sb.refill("t", profile(), workspace, { ...limits.base_env });
    await sb.ready();
    expect(sb.warmCount).toBe(1);
    const pids = launchers().filter((p) => !before.has(p));
    expect(pids).toHaveLength(1);
    // The launcher itself (python, inside bwrap's PID namespace), killed now and taken in the same
    // turn: the agent has not seen it die, so it is handed the command, which never runs there.
    const python = descendants(pids[0]!).filter((p) =>
      readFileSync(`/proc/${p}/comm`, "utf8").trim().startsWith("python"),
    );
    expect(python).toHaveLength(1);
    process.kill(python[0]!, "SIGKILL");
    const r = await exec(sb, `echo ran-once >> ${workspace}/lost.txt; cat ${workspace}/lost.txt`);
    expect(r.status).toBe("ok");
    expect(out(r)).toBe("ran-once\n");
    expect(sandboxOf(r)).toMatchObject({ start: "cold", warm_lost: true });
  });

  it("an allowlist profile is served warm too", async () => {
    const sb = box({ warm: 1 });
    const p = profile({ network: { mode: "allowlist", hosts: ["example.org"] } });
    sb.refill("t", p, workspace, { ...limits.base_env });
    await sb.ready();
    const r = await exec(sb, "echo $https_proxy", p);
    expect(sandboxOf(r).start).toBe("warm");
    expect(out(r)).toBe("http://127.0.0.1:3128\n");
  });
});

describe.skipIf(missing("bwrap") || !existsSync("/usr/bin/python3"))("the daemon's warm pool", () => {
  let t: TestAgent | undefined;
  afterAll(async () => t?.stop());

  it("is pre-warmed at start (2 by default): the first ALLOWed shell action starts warm, under Landlock", async () => {
    t = await startTestAgent({ executors: { cwd: workspace } });
    expect(t.agent.config.sandbox.warm).toBe(2);
    // Filled at start, before any action (the log says how many wait); a loaded machine may take a while.
    const agent = t;
    const line = await until(
      () => agent.logs.find((l) => l.includes("sandbox pool pre-warmed")),
      "the pre-warm log line",
      30_000,
    );
    expect(JSON.parse(line)).toMatchObject({ warm: 2, landlock: { enforced: true } });
    const r = await t.client.post("/v1/actions", {
      session_id: "prewarm",
      proposed_action: shell("echo first"),
      execute: true,
    });
    expect(r.body.evaluation).toBe("ALLOW");
    expect(r.body.execution_result).toMatchObject({
      status: "ok",
      sandbox: { engine: "bwrap", start: "warm", landlock: { enforced: true } },
    });
  });
});
