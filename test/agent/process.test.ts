import { execFileSync, spawn, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { until } from "../support/wait.js";
import {
  type AgentProcess,
  CLI,
  callFromChild,
  FIXTURE_POLICY,
  REPO,
  reviewCli,
  shell,
  spawnAgentProcess,
  stopAgentProcess,
  tempHome,
  tokenHeader,
} from "./helpers.js";

const running = new Set<AgentProcess>();
const homes: string[] = [];

const spawnDaemon = (home: string, args: string[] = []) =>
  spawnAgentProcess(home, ["--host-id", "proc-test", ...args], running);

const stopDaemon = (d: AgentProcess, signal: NodeJS.Signals = "SIGTERM") =>
  stopAgentProcess(d, signal, running);

function newHome(): string {
  const home = tempHome("fa-proc-");
  homes.push(home);
  copyFileSync(FIXTURE_POLICY, join(home, "policy.yaml"));
  return home;
}

const cli = (args: string[], env: Record<string, string> = {}) =>
  execFileSync(process.execPath, [CLI, ...args], { encoding: "utf8", env: { ...process.env, ...env } });

beforeAll(() => {
  // These tests run the built CLI; build it when it is missing (CI runs `npm test`, which builds first).
  if (!existsSync(join(REPO, "dist", "src", "agent", "daemon.js"))) {
    execFileSync("npx", ["tsc", "-p", "."], { cwd: REPO, stdio: "ignore" });
  }
});
afterEach(async () => {
  for (const d of [...running]) await stopDaemon(d, "SIGKILL");
});
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

describe("forge-agent run as a child process", () => {
  it("survives SIGKILL: a pending escalation is restored and can be approved; an interrupted execution is recorded as unknown", async () => {
    const home = newHome();
    const a = await spawnDaemon(home);
    // Proposed by another process than the test's: the test's reviewer must not run under the proposer.
    const esc = await callFromChild(join(home, "agent.sock"), "POST", "/v1/actions", {
      session_id: "crash",
      proposed_action: shell("deploy prod || echo fallback-ran"),
      execute: true,
    });
    expect(esc.body.state).toBe("escalated");
    // An execution in flight when the agent dies: its response never arrives.
    void a.client
      .post("/v1/actions", { session_id: "crash", proposed_action: shell("sleep 5"), execute: true })
      .catch(() => {});
    // It is in flight once the agent holds it beside the escalation.
    await until(
      async () => (await a.client.get("/v1/health")).body.actions.pending === 2,
      "the execution in flight",
    );
    await stopDaemon(a, "SIGKILL");
    expect(existsSync(join(home, "agent.sock"))).toBe(true); // stale: the restart must clear it

    const b = await spawnDaemon(home);
    const token = join(home, "review.token");
    const reviews = await b.client.call("GET", "/v1/reviews", undefined, tokenHeader(token));
    expect(reviews.body.reviews.map((r: { action_id: string }) => r.action_id)).toEqual([esc.body.action_id]);
    const approved = await reviewCli(
      join(home, "agent.sock"),
      token,
      esc.body.action_id,
      "approve",
      "after crash",
    );
    expect(approved.code).toBe(0);
    const done = await b.client.get(`/v1/actions/${esc.body.action_id}?wait=10000`);
    expect(done.body).toMatchObject({ state: "done", evaluation: "ALLOW" });
    expect(done.body.execution_result.stdout.excerpt).toBe("fallback-ran\n");

    const trace = await b.client.get("/v1/sessions/crash/trace");
    const sleepStep = trace.body.steps.find(
      (s: { proposed_action: { command?: string } }) => s.proposed_action?.command === "sleep 5",
    );
    expect(sleepStep.execution_result.status).toBe("unknown");
    expect(await stopDaemon(b)).toBe(0);
  });

  it("restores nothing as pending when review.on_restart is deny: the escalation becomes DENY agent-restart", async () => {
    const home = newHome();
    writeFileSync(join(home, "config.yaml"), "review:\n  on_restart: deny\n");
    const a = await spawnDaemon(home, ["--config", join(home, "config.yaml")]);
    const esc = await a.client.post("/v1/actions", {
      session_id: "r",
      proposed_action: shell("deploy prod"),
    });
    await stopDaemon(a, "SIGKILL");
    const b = await spawnDaemon(home, ["--config", join(home, "config.yaml")]);
    expect(
      (await b.client.call("GET", "/v1/reviews", undefined, tokenHeader(join(home, "review.token")))).body
        .reviews,
    ).toEqual([]);
    const v = await b.client.get(`/v1/actions/${esc.body.action_id}?wait=10000`);
    expect(v.body).toMatchObject({ state: "done", evaluation: "DENY" });
    expect(v.body.principal_review).toMatchObject({ decision: "agent-restart", reviewer: "system" });
  });

  it("SIGHUP with a broken policy keeps the old one and says why; with a good one swaps it", async () => {
    const home = newHome();
    const d = await spawnDaemon(home);
    const before = (await d.client.get("/v1/health")).body.policy;
    expect(
      (await d.client.post("/v1/actions", { session_id: "h", proposed_action: shell("deploy a") })).body
        .evaluation,
    ).toBe("ESCALATE");

    writeFileSync(join(home, "policy.yaml"), "rules:\n  - id: broken\n    efect: allow\n");
    d.proc.kill("SIGHUP");
    await until(() => d.out.join("").includes("policy reload failed"), "the reload to fail");
    expect(d.out.join("")).toContain("policy reload failed; keeping the previous policy");
    expect(d.out.join("")).toContain("FORGE_POLICY_INVALID");
    expect((await d.client.get("/v1/health")).body.policy).toEqual(before);
    expect(
      (await d.client.post("/v1/actions", { session_id: "h", proposed_action: shell("deploy b") })).body
        .evaluation,
    ).toBe("ESCALATE");

    const good = readFileSync(FIXTURE_POLICY, "utf8")
      .replace("version: 1", "version: 2")
      .replace("effect: escalate", "effect: allow")
      .replace('{ command: "deploy prod", expect: ESCALATE }', '{ command: "deploy prod", expect: ALLOW }');
    // A policy with no rules (only an allow-everything default) is refused outright.
    writeFileSync(join(home, "policy.yaml"), "defaults: {effect: allow}\n");
    d.proc.kill("SIGHUP");
    await until(() => d.out.join("").includes("defines no rules"), "the empty policy to be refused");
    expect(d.out.join("")).toContain("defines no rules");
    expect((await d.client.get("/v1/health")).body.policy).toEqual(before);

    // A reload that widens what is allowed is itself an action: SIGHUP alone is refused…
    writeFileSync(join(home, "policy.yaml"), good);
    d.proc.kill("SIGHUP");
    await until(
      () => d.out.join("").includes("allows more than the running one"),
      "the widening to be refused",
    );
    expect(d.out.join("")).toContain("rule 'escalate-deploy' goes from escalate to allow");
    expect((await d.client.get("/v1/health")).body.policy).toEqual(before);
    // …and a reviewer confirms it, with the review token.
    const confirmed = JSON.parse(
      cli([
        "policy",
        "reload",
        "--confirm",
        "--json",
        "--socket",
        join(home, "agent.sock"),
        "--token-file",
        join(home, "review.token"),
      ]),
    );
    expect(confirmed.widened).toContain("rule 'escalate-deploy' goes from escalate to allow");
    const after = await until(async () => {
      const p = (await d.client.get("/v1/health")).body.policy;
      return p.version !== before.version ? p : undefined;
    }, "the reload to apply");
    expect(after.version).toBe(2);
    expect(after.sha256).not.toBe(before.sha256);
    expect(
      (await d.client.post("/v1/actions", { session_id: "h", proposed_action: shell("deploy c") })).body
        .evaluation,
    ).toBe("ALLOW");
  });

  it("SIGTERM finishes the in-flight execution, flushes, exits 0 and removes the socket", async () => {
    const home = newHome();
    const d = await spawnDaemon(home);
    const inflight = d.client.post("/v1/actions", {
      session_id: "term",
      proposed_action: shell("sleep 0.3; echo finished"),
      execute: true,
    });
    await until(
      async () => (await d.client.get("/v1/health")).body.actions.pending === 1,
      "the execution in flight",
    );
    d.proc.kill("SIGTERM");
    const r = await inflight;
    expect(r.status).toBe(200);
    expect(r.body.execution_result.stdout.excerpt).toBe("finished\n");
    expect(await d.exited).toBe(0);
    running.delete(d);
    expect(existsSync(join(home, "agent.sock"))).toBe(false);
    expect(d.out.join("")).toContain("stopped; evidence flushed");
    // The record survived: trace reads it from the file now that no agent answers.
    const t = JSON.parse(cli(["trace", "term", "--json", "--socket", join(home, "agent.sock")]));
    expect(t.steps).toHaveLength(1);
    expect(t.steps[0].execution_result.stdout.excerpt).toBe("finished\n");
  });

  it("SIGTERM with the llama backend loaded still stops gracefully (signal-exit must not re-raise it)", async () => {
    const home = newHome();
    const d = await spawnDaemon(home, ["--backend", "llama"]);
    expect((await d.client.get("/api/version")).status).toBe(200);
    const deny = await d.client.post("/v1/actions", {
      session_id: "llama",
      proposed_action: shell("rm -rf /"),
    });
    expect(deny.body.recorded).toBe(true);
    d.client.close();
    d.proc.kill("SIGTERM");
    expect(await d.exited).toBe(0);
    running.delete(d);
    expect(d.out.join("")).toContain("stopped; evidence flushed");
  });

  it("refuses a bad config before starting: exit 1 and the key with its fix; bad usage exits 2", async () => {
    const home = newHome();
    writeFileSync(join(home, "config.yaml"), "sockt: /tmp/x.sock\n");
    const run = (args: string[]) =>
      new Promise<{ code: number | null; err: string }>((resolve) => {
        const p = spawn(process.execPath, [CLI, "run", ...args], { stdio: ["ignore", "ignore", "pipe"] });
        let err = "";
        p.stderr!.on("data", (c: Buffer) => (err += c.toString()));
        p.once("exit", (code) => resolve({ code, err }));
      });
    const bad = await run(["--config", join(home, "config.yaml")]);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain(
      "FORGE_CONFIG_INVALID: unknown key 'sockt' in config.yaml: did you mean 'socket'?",
    );
    const usage = await run(["--sockt", "x"]);
    expect(usage.code).toBe(2);
    expect(existsSync(join(home, "evidence.db"))).toBe(false);
  });

  it("review and trace CLI talk to the daemon over the socket", async () => {
    const home = newHome();
    const d = await spawnDaemon(home);
    const sock = join(home, "agent.sock");
    const esc = await callFromChild(sock, "POST", "/v1/actions", {
      session_id: "cli",
      proposed_action: shell("deploy z"),
    });
    // Without the review token the CLI is refused, and says where the token lives.
    expect(() => cli(["review", "list", "--socket", sock], { FORGE_HOME: join(home, "elsewhere") })).toThrow(
      /review token/,
    );
    const list = JSON.parse(cli(["review", "list", "--json", "--socket", sock], { FORGE_HOME: home }));
    expect(list.reviews.map((r: { action_id: string }) => r.action_id)).toEqual([esc.body.action_id]);
    expect(cli(["review", "list"], { FORGE_SOCKET: sock, FORGE_HOME: home })).toContain(esc.body.action_id);
    const out = cli([
      "review",
      "deny",
      esc.body.action_id,
      "--reason",
      "no deploys on friday",
      "--socket",
      sock,
      "--token-file",
      join(home, "review.token"),
    ]);
    expect(out).toContain("denied");
    const t = JSON.parse(cli(["trace", "cli", "--json", "--socket", sock]));
    expect(t.steps[0].principal_review).toMatchObject({ decision: "deny", reason: "no deploys on friday" });
    expect(cli(["trace", "cli", "--socket", sock])).toContain("review:   deny by uid:");
    // A second agent on the same socket is refused before it touches the evidence file.
    const second = spawn(
      process.execPath,
      [CLI, "run", "--home", home, "--backend", "none", "--host-id", "proc-test"],
      {
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    let err = "";
    second.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    const code = await new Promise((r) => second.once("exit", r));
    expect(code).toBe(1);
    expect(err).toContain("FORGE_AGENT_RUNNING");
    expect((await d.client.get("/v1/health")).status).toBe(200);
  });

  it("review takes a unique action-ID prefix, lists the candidates of an ambiguous one, and says who decided", async () => {
    const home = newHome();
    await spawnDaemon(home);
    const sock = join(home, "agent.sock");
    const review = (args: string[]) => {
      const r = spawnSync(
        process.execPath,
        [CLI, "review", ...args, "--socket", sock, "--token-file", join(home, "review.token")],
        { encoding: "utf8" },
      );
      return { code: r.status, out: r.stdout, err: r.stderr };
    };
    // 17 pending reviews: two of them share a first hex digit (pigeonhole), so that digit is ambiguous.
    const ids = (
      await Promise.all(
        Array.from({ length: 17 }, (_, i) =>
          callFromChild(sock, "POST", "/v1/actions", {
            session_id: `pre-${i}`,
            proposed_action: shell("deploy z"),
          }),
        ),
      )
    ).map((r) => r.body.action_id as string);
    const byFirst = new Map<string, string[]>();
    for (const id of ids) byFirst.set(id[0]!, [...(byFirst.get(id[0]!) ?? []), id]);
    const [digit, shared] = [...byFirst].find(([, v]) => v.length > 1)!;
    const ambiguous = review(["approve", digit]);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.err).toContain(
      `action ID prefix '${digit}' is ambiguous: it matches ${shared.length} pending reviews`,
    );
    for (const id of shared) expect(ambiguous.err).toContain(id);
    // The shortest prefix that names one action only.
    const target = ids[0]!;
    let n = 1;
    while (ids.filter((id) => id.startsWith(target.slice(0, n))).length > 1) n++;
    const denied = review(["deny", target.slice(0, n), "--reason", "by prefix"]);
    expect(denied.code).toBe(0);
    expect(denied.out).toContain(`${target}: denied`);
    // Deciding it again: who decided and when, not "not found".
    const again = review(["approve", target]);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(
      new RegExp(
        `FORGE_NOT_FOUND: no pending review ${target}: it was already decided: deny by uid:\\d+ pid:\\d+ at \\d{4}-\\d\\d-\\d\\dT`,
      ),
    );
    const unknown = review(["approve", "00000000-0000-4000-8000-000000000000"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/not found/);
  });
});
