import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SimAgent, simHeartbeat } from "../../bench/fleet-agent.js";
import { fleetPlugin } from "../../src/collector/fleet-plugin.js";
import { type Collector, startCollector } from "../../src/collector/index.js";
import { proposeFromChild, reviewAs, shell, startTestAgent, type TestAgent } from "../agent/helpers.js";
import { until } from "../support/wait.js";
import { http, tempDir } from "./helpers.js";

/** A webhook receiver on 127.0.0.1 that answers 503 to the first `failFirst` requests. */
async function webhookServer(failFirst: number) {
  const got: Array<Record<string, unknown>> = [];
  let n = 0;
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      n++;
      if (n <= failFirst) {
        res.writeHead(503).end();
        return;
      }
      got.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    attempts: () => n,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

const BEARER = { authorization: "Bearer alice-secret-1" };

describe("fleet state, heartbeats, metrics, tolerances and the review relay (in-process collector)", () => {
  const dir = tempDir("fa-fleet-");
  let collector: Collector;
  let hook: Awaited<ReturnType<typeof webhookServer>>;
  let a: TestAgent;
  const sims: SimAgent[] = [];

  beforeAll(async () => {
    hook = await webhookServer(1);
    const plugin = fleetPlugin({
      operators: [{ name: "alice", secret: "alice-secret-1" }],
      fleet: { staleAfterMs: 1000, offlineAfterMs: 2500, persistEveryMs: 0 },
      tolerances: {
        hysteresis: 0,
        indicators: { evidence_backlog: { max: 100 } },
        webhook: { url: hook.url, retries: 2, backoff_ms: 20 },
      },
    });
    collector = await startCollector({
      database: `sqlite:${join(dir, "collector.db")}`,
      listen: "127.0.0.1:0",
      plugins: [plugin.plugin],
    });
    a = await startTestAgent({ collector_url: collector.url, heartbeat_ms: 100, host_id: "agent-a" });
  });
  afterAll(async () => {
    await a.stop();
    for (const s of sims) await s.close();
    await collector.close();
    await hook.close();
  });

  const host = async (id: string) =>
    (await http("GET", `${collector.httpUrl}/v1/hosts/${id}`, undefined, BEARER)).body;

  it("a real agent's heartbeat carries facts, the platform reading, gate counts, backlog and policy; the host is online with a series", async () => {
    await a.client.post("/v1/actions", { session_id: "s1", proposed_action: shell("echo hi") });
    await a.client.post("/v1/actions", { session_id: "s1", proposed_action: shell("rm -rf /") });
    const h = await until(async () => {
      const h = await host("agent-a");
      const c = h.heartbeat?.gate?.counts;
      return c?.ALLOW >= 1 && c?.DENY >= 1 && h.series?.length >= 3 && h.heartbeat?.facts ? h : undefined;
    });
    expect(h.status).toBe("online");
    expect(h.reasons).toEqual([]);
    const hb = h.heartbeat;
    expect(typeof hb.facts.chip).toBe("string");
    expect(hb.facts.memory_bytes).toBeGreaterThan(0);
    expect(hb.facts.arch).toBe(process.arch);
    expect(hb.reading.cpu_percent).toBeGreaterThanOrEqual(0);
    expect(hb.reading.memory_used_percent).toBeGreaterThan(0);
    expect(hb.gate.p99_ms).toBeGreaterThan(0);
    expect(hb.gate.deny_rate).toBeCloseTo(0.5, 5);
    expect(hb.policy).toMatchObject({ id: "agent-test", version: 1, source: "file" });
    expect(typeof hb.evidence.backlog).toBe("number");
    expect(h.series.at(-1)).toHaveProperty("cpu_percent");
    const fleet = (await http("GET", `${collector.httpUrl}/v1/fleet`, undefined, BEARER)).body;
    expect(fleet.hosts.find((x: { host_id: string }) => x.host_id === "agent-a").status).toBe("online");
  });

  it("the agent's /metrics and the collector's /metrics expose the same figures under the same names", async () => {
    const names = [
      "forge_decisions_total",
      "forge_evidence_backlog",
      "forge_pending_reviews",
      "forge_cpu_percent",
      "forge_memory_used_percent",
      "forge_gate_latency_p99_seconds",
      "forge_deny_rate",
      "forge_policy_version",
    ];
    const value = (text: string, name: string, labels: string) => {
      const line = text
        .split("\n")
        .find(
          (l) =>
            (l.startsWith(`${name}{`) || l.startsWith(`${name} `)) &&
            labels.split(",").every((x) => l.includes(x)),
        );
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
    };
    // The agent's counter only moves when we propose, so both sides settle on the same number.
    const agentText = (await a.client.get("/metrics")).text;
    const allow = value(agentText, "forge_decisions_total", 'evaluation="ALLOW"');
    expect(allow).toBeGreaterThanOrEqual(1);
    const collText = await until(async () => {
      const t = await (await fetch(`${collector.httpUrl}/metrics`)).text();
      return value(t, "forge_decisions_total", 'host_id="agent-a",evaluation="ALLOW"') === allow
        ? t
        : undefined;
    });
    for (const n of names) {
      expect(agentText, n).toMatch(new RegExp(`^${n}[ {]`, "m"));
      expect(collText, n).toMatch(new RegExp(`^${n}\\{host_id="agent-a"`, "m"));
    }
    expect(value(collText, "forge_policy_version", 'host_id="agent-a"')).toBe(
      value(agentText, "forge_policy_version", ""),
    );
  });

  it("status goes stale then offline with reasons; a disconnect is stale, then offline", async () => {
    const s = new SimAgent("sim-quiet", collector.url);
    sims.push(s);
    await s.connect();
    const st = async () => (await host("sim-quiet")) as { status: string; reasons: string[] };
    expect(await st()).toMatchObject({ status: "stale", reasons: ["connected, no heartbeat yet"] });
    s.heartbeat(simHeartbeat(1));
    await until(async () => (await st()).status === "online");
    const stale = await until(async () => ((await st()).status === "stale" ? st() : undefined));
    expect(stale.reasons[0]).toMatch(/^last heartbeat \d+ s ago$/);
    const off = await until(async () => ((await st()).status === "offline" ? st() : undefined));
    expect(off.reasons[0]).toMatch(/^connected, but no heartbeat for \d+ s$/);
    s.heartbeat(simHeartbeat(2));
    await until(async () => (await st()).status === "online");
    await s.close();
    const gone = await until(async () => ((await st()).status !== "online" ? st() : undefined));
    // Disconnected with a fresh heartbeat: stale (may be a reconnect), then offline.
    expect(gone.status).toBe("stale");
    expect(gone.reasons[0]).toMatch(/^disconnected \d+ s ago$/);
    const later = await until(async () => ((await st()).status === "offline" ? st() : undefined));
    expect(later.reasons).toEqual([
      expect.stringMatching(/^disconnected/),
      expect.stringMatching(/^last heartbeat/),
    ]);
  });

  it("collector tolerances: a breach and its recovery are each a stored alert, and the webhook is retried", async () => {
    const s = new SimAgent("sim-backlog", collector.url);
    sims.push(s);
    await s.connect();
    s.heartbeat(simHeartbeat(1, { evidence: { backlog: 10, last_seq: 0 } }));
    s.heartbeat(simHeartbeat(2, { evidence: { backlog: 5000, last_seq: 0 } }));
    s.heartbeat(simHeartbeat(3, { evidence: { backlog: 6000, last_seq: 0 } }));
    await until(async () => (await host("sim-backlog")).status === "online");
    s.heartbeat(simHeartbeat(4, { evidence: { backlog: 0, last_seq: 0 } }));
    const alerts = await until(async () => {
      const r = await http("GET", `${collector.httpUrl}/v1/alerts?host_id=sim-backlog`, undefined, BEARER);
      return r.body.alerts.length >= 2 ? r.body.alerts : undefined;
    });
    expect(alerts.map((x: { code: string }) => x.code).sort()).toEqual([
      "tolerance-breach:evidence_backlog",
      "tolerance-recovery:evidence_backlog",
    ]);
    expect(alerts.find((x: { code: string }) => x.code.includes("breach")).message).toMatch(
      /evidence_backlog = 5000/,
    );
    // First delivery answered 503, retried; then the recovery.
    const got = await until(() => (hook.got.length >= 2 ? hook.got : undefined));
    expect(got.map((g) => [g.host_id, g.kind, g.indicator])).toEqual([
      ["sim-backlog", "breach", "evidence_backlog"],
      ["sim-backlog", "recovery", "evidence_backlog"],
    ]);
    expect(hook.attempts()).toBe(3);
  });

  it("an operator's approve travels to the agent over its WebSocket and is recorded with the operator's identity", async () => {
    const esc = await a.client.post("/v1/actions", {
      session_id: "relay",
      proposed_action: shell("deploy prod"),
    });
    expect(esc.body.evaluation).toBe("ESCALATE");
    const id = esc.body.action_id as string;
    const listed = await until(async () => {
      const r = await http("GET", `${collector.httpUrl}/v1/reviews`, undefined, BEARER);
      return r.body.reviews.find((x: { action_id: string }) => x.action_id === id);
    });
    expect(listed.host_id).toBe("agent-a");
    // Refused without an operator, and for an id nobody waits on.
    expect(
      (await http("POST", `${collector.httpUrl}/v1/reviews/${id}`, { decision: "approve" })).status,
    ).toBe(401);
    const unknown = await http(
      "POST",
      `${collector.httpUrl}/v1/reviews/nope`,
      { decision: "approve" },
      BEARER,
    );
    expect(unknown.status).toBe(404);
    const bad = await http("POST", `${collector.httpUrl}/v1/reviews/${id}`, { decision: "maybe" }, BEARER);
    expect(bad.body.error.code).toBe("FORGE_BAD_REQUEST");

    const r = await http(
      "POST",
      `${collector.httpUrl}/v1/reviews/${id}`,
      { decision: "approve", reason: "ok by me" },
      BEARER,
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      host_id: "agent-a",
      action_id: id,
      reviewer: "operator:alice",
      evaluation: "ALLOW",
    });
    const view = (await a.client.get(`/v1/actions/${id}`)).body;
    expect(view.principal_review).toMatchObject({
      decision: "approve",
      reviewer: "operator:alice",
      reason: "ok by me",
    });
    // Deciding twice is a conflict the agent reports, not a second approval.
    const again = await http(
      "POST",
      `${collector.httpUrl}/v1/reviews/${id}`,
      { decision: "deny", host_id: "agent-a" },
      BEARER,
    );
    expect(again.status).toBe(404);
  });
});

describe("agent tolerances (no collector)", () => {
  let hook: Awaited<ReturnType<typeof webhookServer>>;
  let t: TestAgent;
  beforeAll(async () => {
    hook = await webhookServer(0);
    t = await startTestAgent({
      host_id: "agent-tol",
      heartbeat_ms: 100,
      tolerances: {
        hysteresis: 0,
        indicators: { escalation_queue_age_s: { max: 0.3 } },
        webhook: { url: hook.url, retries: 1, backoff_ms: 10 },
      },
    });
  });
  afterAll(async () => {
    await t.stop();
    await hook.close();
  });

  it("an escalation left waiting breaches the queue-age tolerance; deciding it recovers; both are alert records and webhook calls", async () => {
    // From another process: the reviewer below must not run under the proposer.
    const esc = await proposeFromChild(t, { session_id: "tol", proposed_action: shell("deploy prod") });
    const alerts = async () =>
      (
        (await t.client.get("/v1/sessions/agent:agent-tol/trace")).body.steps as Array<{
          kind: string;
          proposed_action: any;
        }>
      ).filter((s) => s.kind === "alert");
    const breach = await until(async () => ((await alerts()).length >= 1 ? alerts() : undefined));
    expect(breach[0]!.proposed_action).toMatchObject({
      kind: "tolerance.breach",
      indicator: "escalation_queue_age_s",
    });
    expect(breach[0]!.proposed_action.value).toBeGreaterThan(0.3);
    // Three more heartbeats judged the breached indicator again (the time for a repeat has passed).
    const beat = async () => (await t.client.get("/v1/health")).body.heartbeat_at_ms as number;
    let ticks = 0;
    let last = await beat();
    await until(async () => {
      const now = await beat();
      if (now > last) [ticks, last] = [ticks + 1, now];
      return ticks >= 3;
    }, "three heartbeats after the breach");
    expect(await alerts()).toHaveLength(1); // reported once, not on every heartbeat
    expect((await reviewAs(t, esc.body.action_id, "deny", "no")).code).toBe(0);
    const both = await until(async () => ((await alerts()).length >= 2 ? alerts() : undefined));
    expect(both[1]!.proposed_action).toMatchObject({
      kind: "tolerance.recovery",
      indicator: "escalation_queue_age_s",
      value: 0,
    });
    await until(() => hook.got.length >= 2);
    expect(hook.got.map((g) => [g.source, g.host_id, g.kind])).toEqual([
      ["agent", "agent-tol", "breach"],
      ["agent", "agent-tol", "recovery"],
    ]);
  });
});
