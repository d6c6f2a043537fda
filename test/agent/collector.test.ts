import { execFile } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetPlugin } from "../../src/collector/fleet-plugin.js";
import { type Collector, startCollector } from "../../src/collector/index.js";
import { until } from "../support/wait.js";
import { CLI, shell, startTestAgent, type TestAgent, tempHome } from "./helpers.js";

/** The daemon wired to a real collector on 127.0.0.1: records ship and are acked, heartbeats arrive. */
describe("agent → collector", () => {
  const dir = tempHome("fa-coll-");
  let collector: Collector;
  let t: TestAgent;
  beforeAll(async () => {
    collector = await startCollector({
      database: `sqlite:${join(dir, "collector.db")}`,
      listen: "127.0.0.1:0",
    });
    t = await startTestAgent({ collector_url: collector.url, heartbeat_ms: 100 });
  });
  afterAll(async () => {
    await t.stop();
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("ships final records, prunes what the collector acked, and sends heartbeats with pending reviews", async () => {
    const deny = await t.client.post("/v1/actions", {
      session_id: "ship",
      proposed_action: shell("rm -rf /"),
    });
    const esc = await t.client.post("/v1/actions", {
      session_id: "ship",
      proposed_action: shell("deploy prod"),
    });
    let records: { seq: number; action_id: string }[] = [];
    let host: { heartbeat?: { reviews?: { action_id: string }[] } } = {};
    await until(
      async () => {
        const shipped = await fetch(`${collector.httpUrl}/v1/records?host_id=test-host`);
        records = ((await shipped.json()) as { records: typeof records }).records;
        host = (await (await fetch(`${collector.httpUrl}/v1/hosts/test-host`)).json()) as typeof host;
        const acked = (await t.client.get("/v1/health")).body.evidence.ackedSeq;
        return records.length >= 2 && acked >= deny.body.seq && host.heartbeat?.reviews?.length;
      },
      "records shipped and acked, and the review in a heartbeat",
      30_000,
    );
    expect(records.map((r) => r.action_id)).toContain(deny.body.action_id);
    const health = (await t.client.get("/v1/health")).body;
    expect(health.evidence.ackedSeq).toBeGreaterThanOrEqual(deny.body.seq);
    expect(health.collector.connected).toBe(true);
    expect(host.heartbeat?.reviews?.map((r) => r.action_id)).toEqual([esc.body.action_id]);
  });

  it("traces a session whose records were acked and pruned locally, from the collector's copy", async () => {
    const deny = await t.client.post("/v1/actions", {
      session_id: "pruned",
      proposed_action: shell("rm -rf /"),
    });
    await until(
      async () => (await t.client.get("/v1/health")).body.evidence.ackedSeq >= deny.body.seq,
      "the record acked",
      30_000,
    );
    const tr = (await t.client.get("/v1/sessions/pruned/trace")).body;
    expect(tr.sources).toEqual({ local: 0, collector: 1 });
    expect(tr.steps).toHaveLength(1);
    expect(tr.steps[0]).toMatchObject({
      action_id: deny.body.action_id,
      evaluation: "DENY",
      seq: deny.body.seq,
    });

    // With the daemon stopped, the CLI reads the local file and asks the collector for the rest.
    await t.agent.close();
    // Asynchronously: the collector answering the CLI lives in this process.
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [CLI, "trace", "pruned", "--json", "--socket", t.agent.socketPath, "--collector-url", collector.url],
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    expect(JSON.parse(out).steps.map((s: { action_id: string }) => s.action_id)).toEqual([
      deny.body.action_id,
    ]);
  });
});

/**
 * Issue 21 item 1: `npm start` runs its collector with an operator, so reading records back needs
 * a credential. The agent and the CLI sign with the host key; a trace that may be missing records
 * says so in the human output too.
 */
describe("trace of a pruned session against a collector with operators (as npm start runs it)", () => {
  const dir = tempHome("fa-coll-ops-");
  let collector: Collector;
  let t: TestAgent;
  let denyId: string;
  beforeAll(async () => {
    collector = await startCollector({
      database: `sqlite:${join(dir, "collector.db")}`,
      listen: "127.0.0.1:0",
      plugins: [fleetPlugin({ operators: [{ name: "local", secret: "a-one-run-token" }] }).plugin],
    });
    t = await startTestAgent({ collector_url: collector.url, heartbeat_ms: 100 });
    const deny = await t.client.post("/v1/actions", {
      session_id: "demo",
      proposed_action: shell("rm -rf /"),
    });
    denyId = deny.body.action_id;
    await until(
      async () => (await t.client.get("/v1/health")).body.evidence.ackedSeq >= deny.body.seq,
      "the record acked (and pruned)",
      30_000,
    );
  });
  afterAll(async () => {
    await t.stop();
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = (args: string[]) =>
    new Promise<{ code: number; stdout: string }>((resolve) =>
      execFile(process.execPath, [CLI, ...args], (err, stdout) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout }),
      ),
    );

  it("the running agent reads the pruned record back with its host key; the CLI prints it", async () => {
    const tr = (await t.client.get("/v1/sessions/demo/trace")).body;
    expect(tr.sources).toEqual({ local: 0, collector: 1 });
    expect(tr.steps.map((s: { action_id: string }) => s.action_id)).toEqual([denyId]);
    const out = await cli(["trace", "demo", "--socket", t.agent.socketPath]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain("session demo: 1 step(s)");
    expect(out.stdout).toContain(denyId);
    expect(out.stdout).not.toContain("incomplete");
  });

  it("the collector lists the session's pending actions: the escalation and the action in flight", async () => {
    const long = `echo ${"x".repeat(300)}`;
    const flying = await t.client.post("/v1/actions", {
      session_id: "demo-pending",
      proposed_action: shell(long),
    });
    expect(flying.body.state).toBe("allowed");
    const esc = await t.client.post("/v1/actions", {
      session_id: "demo-pending",
      proposed_action: shell("deploy prod"),
    });
    expect(esc.body.state).toBe("escalated");
    const auth = { authorization: "Bearer a-one-run-token" };
    type P = { action_id: string; state: string; host_id: string; summary?: string };
    const pending = await until(
      async () => {
        const r = await fetch(`${collector.httpUrl}/v1/sessions/demo-pending/pending`, { headers: auth });
        const p = ((await r.json()) as { pending: P[] }).pending;
        return p.length === 2 ? p : undefined;
      },
      "both pending actions in a heartbeat",
      30_000,
    );
    expect(pending.map((p) => [p.action_id, p.state, p.host_id]).sort()).toEqual(
      [
        [flying.body.action_id, "allowed", "test-host"],
        [esc.body.action_id, "escalated", "test-host"],
      ].sort(),
    );
    // In flight carries a bounded summary, never the action itself.
    const f = pending.find((p) => p.action_id === flying.body.action_id)!;
    expect(f.summary!.length).toBeLessThanOrEqual(120);
    expect(f.summary).toMatch(/^shell: echo x+\.\.\.$/);
    expect(f).not.toHaveProperty("proposed_action");
    // Without a credential the route is closed like the rest of the API.
    expect((await fetch(`${collector.httpUrl}/v1/sessions/demo-pending/pending`)).status).toBe(401);
    await t.client.post(`/v1/actions/${flying.body.action_id}/result`, { status: "ok", exit_code: 0 });
  });

  it("with the agent stopped, the CLI signs with the host key from the evidence directory", async () => {
    await t.agent.close();
    const sock = t.agent.socketPath;
    const ok = await cli(["trace", "demo", "--socket", sock, "--collector-url", collector.url]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(denyId);
    expect(ok.stdout).not.toContain("incomplete");
    const json = JSON.parse(
      (await cli(["trace", "demo", "--json", "--socket", sock, "--collector-url", collector.url])).stdout,
    );
    expect(json.sources).toEqual({ local: 0, collector: 1 });

    // No collector named: the human output says records were pruned and how to get them.
    const bare = await cli(["trace", "demo", "--socket", sock]);
    expect(bare.code).toBe(1);
    expect(bare.stdout).toContain("session demo: no evidence");
    expect(bare.stdout).toMatch(/warning: this trace may be incomplete: .*--collector-url/);

    // A collector that refuses the credential: the refusal is in the human output.
    const wrongToken = join(dir, "wrong-token");
    writeFileSync(wrongToken, "not-the-operator-secret\n");
    const refused = await cli([
      "trace",
      "demo",
      "--socket",
      sock,
      "--collector-url",
      collector.url,
      "--collector-token-file",
      wrongToken,
    ]);
    expect(refused.stdout).toMatch(/warning: this trace may be incomplete: .*HTTP 401/);
  });
});
