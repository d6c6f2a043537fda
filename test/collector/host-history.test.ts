// The dashboard's read API over both storages: a host's chart history survives a collector restart
// (the collector closed and started again on the same database, every bit of memory gone), the
// host view reads a time range of it, and GET /v1/sessions searches the sessions by text, host and
// time, refusing a bad parameter with FORGE_BAD_REQUEST and the parameter's name.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetPlugin } from "../../src/collector/fleet-plugin.js";
import { type Collector, startCollector } from "../../src/collector/server.js";
import type { RecordInput } from "../../src/protocol/record.js";
import { ensureBuilt, operatorsFile, startCollectorProcess, tempDir } from "../fleet/helpers.js";
import { nextMs, until } from "../support/wait.js";
import { connectHost, input, ship, storageBackends, TestHost } from "./helpers.js";

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers by shape
type Json = Record<string, any>;

const SECRET = "ops-secret-history";
const AUTH = { authorization: `Bearer ${SECRET}` };

function start(database: string): Promise<Collector> {
  const fleet = fleetPlugin({
    operators: [{ name: "alice", secret: SECRET }],
    // Every heartbeat is stored at once: the restart below loses nothing.
    fleet: { persistEveryMs: 0 },
  });
  return startCollector({ database, listen: "127.0.0.1:0", plugins: [fleet.plugin] });
}

/** A record of `session` at `iso`, its command `command`. */
function at(session: string, iso: string, command: string, i: number): RecordInput {
  return { ...input(session, i), timestamp: iso, proposed_action: { kind: "shell", command } };
}

describe.each(storageBackends("fa-history"))("host history and session search (%s)", (_name, open) => {
  let db: Awaited<ReturnType<typeof open>>;
  let collector: Collector;
  const host = new TestHost("hist-host");
  const other = new TestHost("hist-other");

  const get = async (path: string, headers: Record<string, string> = AUTH) => {
    const r = await fetch(`${collector.httpUrl}${path}`, { headers });
    return { status: r.status, body: (await r.json()) as Json };
  };

  beforeAll(async () => {
    db = await open();
    collector = await start(db.database);
  });
  afterAll(async () => {
    await collector?.close();
    await db?.cleanup();
  });

  it("keeps a host's chart points across a collector restart", async () => {
    const { c } = await connectHost(collector.url, host);
    const cpus = [11, 22, 33, 44, 55];
    for (const cpu of cpus) {
      c.send({ type: "heartbeat", reading: { cpu_percent: cpu, watts: { cpu: cpu / 10 } } });
      // One point per heartbeat, each at its own millisecond.
      await until(
        async () => (await get(`/v1/hosts/${host.hostId}`)).body.series?.length >= cpus.indexOf(cpu) + 1,
      );
      await nextMs();
    }
    const before = (await get(`/v1/hosts/${host.hostId}`)).body.series as Json[];
    expect(before.map((p) => p.cpu_percent)).toEqual(cpus);
    c.close();
    await c.closed;

    // The restart: a new collector over the same database; the host has not come back.
    await collector.close();
    collector = await start(db.database);
    const after = await get(`/v1/hosts/${host.hostId}`);
    expect(after.status).toBe(200);
    expect(after.body.connected).toBe(false);
    expect(after.body.series).toEqual(before);
    expect(after.body.series[2].watts).toEqual({ cpu: 3.3 });

    // A time range reads part of it (both bounds inclusive).
    const from = before[1]!.t;
    const to = before[3]!.t;
    const part = await get(`/v1/hosts/${host.hostId}?since=${from}&until=${new Date(to).toISOString()}`);
    expect(part.body.series.map((p: Json) => p.cpu_percent)).toEqual([22, 33, 44]);
    // The host comes back: its new point follows the stored ones.
    const again = await connectHost(collector.url, host);
    again.c.send({ type: "heartbeat", reading: { cpu_percent: 66 } });
    await until(async () => (await get(`/v1/hosts/${host.hostId}`)).body.series.length === 6);
    expect((await get(`/v1/hosts/${host.hostId}`)).body.series.map((p: Json) => p.cpu_percent)).toEqual([
      ...cpus,
      66,
    ]);
    again.c.close();
  });

  it("keeps what was decided here across a collector restart, newest first", async () => {
    const { c } = await connectHost(collector.url, host);
    const review = (id: string, command: string) => ({
      action_id: id,
      session_id: "change-window",
      timestamp: new Date().toISOString(),
      proposed_action: { kind: "shell", command },
      reasons: ["needs a human"],
      deadline_ms: Date.now() + 600_000,
    });
    c.send({
      type: "heartbeat",
      reading: { cpu_percent: 1 },
      reviews: [review("rev-a", "make deploy"), review("rev-b", "rm -rf ./cache")],
    });
    await until(async () => (await get("/v1/reviews")).body.reviews?.length === 2);
    // The host answers each review the way an agent does.
    const decide = async (id: string, decision: string, reason?: string) => {
      const answered = c.next("review").then((m) =>
        c.send({
          type: "review_result",
          action_id: m!.action_id,
          ok: true,
          state: "allowed",
          evaluation: "ALLOW",
        }),
      );
      const r = await fetch(`${collector.httpUrl}/v1/reviews/${id}`, {
        method: "POST",
        headers: { ...AUTH, "content-type": "application/json" },
        body: JSON.stringify({ decision, reason }),
      });
      await answered;
      expect(r.status).toBe(200);
    };
    await decide("rev-a", "approve", "change window open");
    await nextMs();
    await decide("rev-b", "deny");
    const before = (await get("/v1/reviews")).body.decided as Json[];
    expect(before.map((d) => d.action_id)).toEqual(["rev-b", "rev-a"]);
    c.close();
    await c.closed;

    await collector.close();
    collector = await start(db.database);
    const after = (await get("/v1/reviews")).body as Json;
    expect(after.decided).toEqual(before);
    expect(after.decided[1]).toMatchObject({
      host_id: host.hostId,
      action_id: "rev-a",
      decision: "approve",
      reviewer: "operator:alice",
      session_id: "change-window",
      proposed_action: { kind: "shell", command: "make deploy" },
      reason: "change window open",
    });
    expect(after.decided[0]).toMatchObject({ decision: "deny", reason: null });
  });

  it("refuses a bad range on the host view with the parameter's name", async () => {
    for (const [q, param] of [
      ["since=yesterday", "since"],
      ["since=2026-11-26T00:00:00Z&until=2026-11-25T00:00:00Z", "since"],
      ["from=1", "from"],
    ] as const) {
      const r = await get(`/v1/hosts/${host.hostId}?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code).toBe("FORGE_BAD_REQUEST");
      expect(r.body.error.details).toEqual({ param });
    }
  });

  it("searches sessions by text, host and time", async () => {
    const a = await connectHost(collector.url, host);
    await ship(
      a.c,
      host.append([
        at("deploy-alpha", "2026-11-25T03:00:00.000Z", "make deploy", 101),
        at("deploy-alpha", "2026-11-25T03:05:00.000Z", "rm -rf ./build", 102),
        at("cleanup_beta", "2026-11-25T04:00:00.000Z", "git clean -fdx", 103),
        at("50%-gamma", "2026-11-25T05:00:00.000Z", "echo done", 104),
      ]),
    );
    const b = await connectHost(collector.url, other);
    await ship(b.c, other.append([at("deploy-alpha", "2026-11-25T06:00:00.000Z", "echo other host", 1)]));
    a.c.close();
    b.c.close();

    const ids = async (q: string) =>
      ((await get(`/v1/sessions?${q}`)).body.sessions as Json[]).map((s) => s.session_id);
    // Newest activity first; a session lists each host once.
    const all = (await get("/v1/sessions")).body.sessions as Json[];
    expect(all.map((s) => s.session_id)).toEqual(["deploy-alpha", "50%-gamma", "cleanup_beta"]);
    expect(all[0]).toEqual({
      session_id: "deploy-alpha",
      hosts: ["hist-host", "hist-other"],
      records: 3,
      first_ms: Date.parse("2026-11-25T03:00:00.000Z"),
      last_ms: Date.parse("2026-11-25T06:00:00.000Z"),
    });
    expect(await ids("q=ALPHA")).toEqual(["deploy-alpha"]);
    // Record text matches too.
    expect(await ids(`q=${encodeURIComponent("rm -rf")}`)).toEqual(["deploy-alpha"]);
    // % and _ are literal, not wildcards.
    expect(await ids(`q=${encodeURIComponent("%")}`)).toEqual(["50%-gamma"]);
    expect(await ids("q=n_p")).toEqual([]);
    expect(await ids("q=_beta")).toEqual(["cleanup_beta"]);
    expect(await ids("host_id=hist-other")).toEqual(["deploy-alpha"]);
    // A range counts the records inside it.
    const inRange = (await get("/v1/sessions?since=2026-11-25T03:04:00Z&until=2026-11-25T04:30:00Z")).body
      .sessions as Json[];
    expect(inRange.map((s) => [s.session_id, s.records])).toEqual([
      ["cleanup_beta", 1],
      ["deploy-alpha", 1],
    ]);
    expect(await ids("limit=1")).toEqual(["deploy-alpha"]);
  });

  it("refuses bad search parameters with FORGE_BAD_REQUEST and the parameter's name", async () => {
    for (const [q, param] of [
      ["since=not-a-time", "since"],
      ["until=2026-13-45", "until"],
      ["since=2026-11-26T00:00:00Z&until=2026-11-25T00:00:00Z", "since"],
      ["limit=0", "limit"],
      ["limit=ten", "limit"],
      [`q=${"x".repeat(201)}`, "q"],
      ["q=a%00b", "q"],
      ["serach=alpha", "serach"],
    ] as const) {
      const r = await get(`/v1/sessions?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.error.code, q).toBe("FORGE_BAD_REQUEST");
      expect(r.body.error.details, q).toEqual({ param });
    }
    // Like the rest of the API, closed without a session.
    expect((await get("/v1/sessions", {})).status).toBe(401);
  });
});

describe("host history across a killed collector process", () => {
  it("keeps every chart point the collector accepted when its process is SIGKILLed and started again", async () => {
    ensureBuilt();
    const dir = tempDir("fa-history-kill-");
    const args = ["--operators-file", operatorsFile(dir, [{ name: "alice", password: "pw-history-1" }])];
    const auth = { authorization: "Bearer pw-history-1" };
    let proc = await startCollectorProcess(dir, args);
    try {
      const host = new TestHost("killed-host");
      const { c } = await connectHost(proc.url, host);
      for (const cpu of [7, 8, 9, 10]) {
        c.send({ type: "heartbeat", reading: { cpu_percent: cpu } });
        await nextMs();
      }
      // A connection's messages are handled in order: once this batch is acked, the points are committed.
      await ship(c, host.extend(1));
      proc.child.kill("SIGKILL");
      await proc.stop();
      proc = await startCollectorProcess(dir, args);
      const r = await fetch(`${proc.http}/v1/hosts/${host.hostId}`, { headers: auth });
      const body = (await r.json()) as Json;
      expect(body.series.map((p: Json) => p.cpu_percent)).toEqual([7, 8, 9, 10]);
    } finally {
      await proc.stop();
    }
  }, 60_000);
});
