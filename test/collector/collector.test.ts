import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Collector, startCollector } from "../../src/collector/server.js";
import { signCheckpoint } from "../../src/evidence/keys.js";
import { CloseCodes } from "../../src/protocol/messages.js";
import { Client, connectHost, getJson, pgUrl, storageBackends, TestHost } from "./helpers.js";

const PG = pgUrl();
let n = 0;
const hostName = (p: string) => `${p}-${process.pid}-${++n}`;

const backends = storageBackends("forge-coll");
if (PG === null) {
  describe.skip("postgres collector (FORGE_TEST_PG_URL unset)", () => it("skipped", () => {}));
}

describe.each(backends)("collector over %s", (_name, make) => {
  let col: Collector;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const b = await make();
    cleanup = b.cleanup;
    col = await startCollector({
      database: b.database,
      listen: "127.0.0.1:0",
      maxPayload: 256 * 1024,
      adminToken: "secret",
      authTimeoutMs: 2000,
    });
  });
  afterAll(async () => {
    await col?.close();
    await cleanup?.();
  });

  it("pins a new host, commits then acks, dedups a re-sent batch, and serves the records", async () => {
    const h = new TestHost(hostName("pin"));
    const { c, welcome } = await connectHost(col.url, h);
    expect(welcome).toMatchObject({ type: "ack", seq: 0, checkpoint_seq: 0 });
    const batch = h.extend(50, "sess-a");
    c.send({ type: "records", from_seq: 1, records: batch });
    expect(await c.ackAtLeast(50)).toBe(50);
    const more = h.extend(10, "sess-b");
    c.send({ type: "records", from_seq: 51, records: more });
    expect(await c.ackAtLeast(60)).toBe(60);
    // A re-sent identical batch (e.g. after a lost ack) is fine and re-acked.
    c.send({ type: "records", from_seq: 41, records: h.chain.slice(40, 60) });
    expect(await c.ackAtLeast(60)).toBe(60);

    const all = await getJson(`${col.httpUrl}/v1/records?host_id=${h.hostId}&limit=1000`);
    expect(all.body.records.map((r: { seq: number }) => r.seq)).toEqual(h.chain.map((r) => r.seq));
    expect(all.body.records[59]).toEqual(h.chain[59]);
    const sess = await getJson(`${col.httpUrl}/v1/records?host_id=${h.hostId}&session_id=sess-b`);
    expect(sess.body.records).toHaveLength(10);
    const after = await getJson(`${col.httpUrl}/v1/records?host_id=${h.hostId}&after_seq=55`);
    expect(after.body.records.map((r: { seq: number }) => r.seq)).toEqual([56, 57, 58, 59, 60]);
    // Timestamps are 03:00:00.001 + (seq-1) ms.
    const since = h.chain[9]!.timestamp;
    const until = h.chain[11]!.timestamp;
    const range = await getJson(
      `${col.httpUrl}/v1/records?host_id=${h.hostId}&since=${since}&until=${until}`,
    );
    expect(range.body.records.map((r: { seq: number }) => r.seq)).toEqual([10, 11, 12]);
    const badQ = await getJson(`${col.httpUrl}/v1/records?after_seq=x`);
    expect(badQ.status).toBe(400);
    expect(badQ.body.error.code).toBe("FORGE_BAD_REQUEST");

    const host = await getJson(`${col.httpUrl}/v1/hosts/${h.hostId}`);
    expect(host.body).toMatchObject({ host_id: h.hostId, status: "pinned", last_seq: 60, connected: true });
    expect((await getJson(`${col.httpUrl}/v1/hosts/nope`)).status).toBe(404);
    const metrics = await (await fetch(`${col.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/forge_collector_records_ingested_total \d+/);
    expect(metrics).toMatch(/forge_collector_records_duplicate_total [1-9]\d*/);
    c.close();
    await c.closed;
  });

  it("stores heartbeats and verified checkpoints; refuses a checkpoint with a bad signature", async () => {
    const h = new TestHost(hostName("cp"));
    const { c } = await connectHost(col.url, h);
    c.send({ type: "records", from_seq: 1, records: h.extend(20) });
    await c.ackAtLeast(20);
    c.send({ type: "checkpoints", checkpoints: [h.checkpoint(10), h.checkpoint(20)] });
    c.send({ type: "heartbeat", cpu_percent: 12.5, backlog: 0 });
    // Messages of one connection are handled in order: once this ack arrives, both are stored.
    c.send({ type: "records", from_seq: 20, records: h.chain.slice(19, 20) });
    await c.ackAtLeast(20);
    const host = await getJson(`${col.httpUrl}/v1/hosts/${h.hostId}`);
    expect(host.body.checkpoint_seq).toBe(20);
    expect(host.body.checkpoints.map((x: { seq: number }) => x.seq)).toEqual([20, 10]);
    expect(host.body.heartbeat).toEqual({ cpu_percent: 12.5, backlog: 0 });
    const fleet = await getJson(`${col.httpUrl}/v1/fleet`);
    const me = fleet.body.hosts.find((x: { host_id: string }) => x.host_id === h.hostId);
    expect(me.last_heartbeat_ms).toBeGreaterThan(0);

    const forged = { ...h.checkpoint(20), hash: h.chain[18]!.hash };
    c.send({ type: "checkpoints", checkpoints: [forged] });
    expect((await c.closed).code).toBe(CloseCodes.BAD_CHECKPOINT);
    const alerts = await getJson(`${col.httpUrl}/v1/alerts?host_id=${h.hostId}`);
    expect(alerts.body.alerts[0]).toMatchObject({ code: "bad-checkpoint", seq: 20 });
  });

  it("refuses a signed checkpoint of a seq it does not hold, or of another hash, even behind a valid one, and stores none of that message", async () => {
    const h = new TestHost(hostName("cp-stored"));
    const signed = (seq: number, hash: string) => {
      const cp = { host_id: h.hostId, seq, hash };
      return { ...cp, signature: signCheckpoint(h.key, cp), at: new Date().toISOString() };
    };
    const first = await connectHost(col.url, h);
    first.c.send({ type: "records", from_seq: 1, records: h.extend(20) });
    await first.c.ackAtLeast(20);
    const refusedWith = async (c: Client, checkpoints: unknown[], message: string) => {
      c.send({ type: "checkpoints", checkpoints });
      expect((await c.closed).code).toBe(CloseCodes.BAD_CHECKPOINT);
      const alerts = await getJson(`${col.httpUrl}/v1/alerts?host_id=${h.hostId}`);
      expect(alerts.body.alerts[0]).toMatchObject({ code: "bad-checkpoint", message });
    };
    await refusedWith(
      first.c,
      [h.checkpoint(10), signed(30, h.chain[19]!.hash)],
      "checkpoint 30: no stored record with that seq",
    );
    await refusedWith(
      (await connectHost(col.url, h)).c,
      [h.checkpoint(10), signed(20, h.chain[18]!.hash)],
      "checkpoint 20: hash differs from the stored record's",
    );
    const host = await getJson(`${col.httpUrl}/v1/hosts/${h.hostId}`);
    expect(host.body.checkpoint_seq).toBe(0);
    expect(host.body.checkpoints).toEqual([]);
  });

  it("refuses a gap after committing the valid prefix, and raises an alert", async () => {
    const h = new TestHost(hostName("gap"));
    const { c } = await connectHost(col.url, h);
    const recs = h.extend(10);
    c.send({ type: "records", from_seq: 1, records: [...recs.slice(0, 4), ...recs.slice(5)] });
    expect(await c.ackAtLeast(4)).toBe(4);
    expect((await c.closed).code).toBe(CloseCodes.CHAIN_GAP);
    const alerts = await getJson(`${col.httpUrl}/v1/alerts?host_id=${h.hostId}`);
    expect(alerts.body.alerts).toHaveLength(1);
    expect(alerts.body.alerts[0]).toMatchObject({ code: "chain-gap", seq: 6 });
    // The host reconnects and sends the missing record: the chain continues.
    const again = await connectHost(col.url, h);
    expect(again.welcome!.seq).toBe(4);
    again.c.send({ type: "records", from_seq: 5, records: recs.slice(4) });
    expect(await again.c.ackAtLeast(10)).toBe(10);
    again.c.close();
  });

  it("detects an edited, a reordered and a re-written record", async () => {
    const h = new TestHost(hostName("fork"));
    const { c } = await connectHost(col.url, h);
    const recs = h.extend(6);
    c.send({ type: "records", from_seq: 1, records: recs.slice(0, 3) });
    await c.ackAtLeast(3);
    // Edited: content changed, hash kept.
    const edited = { ...recs[3]!, evaluation: "DENY" as const };
    c.send({ type: "records", from_seq: 4, records: [edited] });
    expect((await c.closed).code).toBe(CloseCodes.CHAIN_FORK);

    // Reordered: seq 5's content (rehashed consistently) claimed as seq 4.
    const r2 = await connectHost(col.url, h);
    r2.c.send({ type: "records", from_seq: 5, records: [recs[4]!, recs[3]!] });
    expect((await r2.c.closed).code).toBe(CloseCodes.CHAIN_GAP);

    // Re-written history: a different, self-consistent record at an already stored seq.
    const other = new TestHost(h.hostId);
    const fake = other.extend(1, "another-session")[0]!;
    const r3 = await connectHost(col.url, h);
    r3.c.send({ type: "records", from_seq: 1, records: [fake] });
    expect((await r3.c.closed).code).toBe(CloseCodes.CHAIN_FORK);

    const alerts = await getJson(`${col.httpUrl}/v1/alerts?host_id=${h.hostId}`);
    const codes = alerts.body.alerts.map((a: { code: string }) => a.code).sort();
    expect(codes).toEqual(["chain-fork", "chain-gap", "hash-mismatch"]);
    const stored = await getJson(`${col.httpUrl}/v1/records?host_id=${h.hostId}`);
    expect(stored.body.records).toEqual(recs.slice(0, 3));
  });

  it("closes bad frames, unknown types, oversized frames and unauthenticated hosts while another host keeps shipping", async () => {
    const good = new TestHost(hostName("good"));
    const g = await connectHost(col.url, good);
    let shipped = 0;
    const shipOne = async () => {
      g.c.send({ type: "records", from_seq: shipped + 1, records: good.extend(5) });
      shipped += 5;
      expect(await g.c.ackAtLeast(shipped)).toBe(shipped);
    };

    const cases: Array<[string, (c: Client, nonce: string) => void, number]> = [
      ["malformed JSON", (c) => c.send("{not json"), CloseCodes.BAD_FRAME],
      ["JSON without type", (c) => c.send("[1,2]"), CloseCodes.BAD_FRAME],
      [
        "records before hello",
        (c) => c.send({ type: "records", from_seq: 1, records: [] }),
        CloseCodes.UNAUTHENTICATED,
      ],
      [
        "bad signature",
        (c, nonce) =>
          c.send(new TestHost("imp").hello(nonce, { signature: Buffer.alloc(64).toString("base64") })),
        CloseCodes.UNAUTHENTICATED,
      ],
      [
        "signature over another nonce (replay)",
        (c) => c.send(new TestHost(hostName("replay")).hello("old-nonce")),
        CloseCodes.UNAUTHENTICATED,
      ],
      [
        "oversized frame",
        (c) => c.send(JSON.stringify({ type: "hello", pad: "x".repeat(300 * 1024) })),
        1009,
      ],
    ];
    for (const [name, act, code] of cases) {
      const c = new Client(col.url);
      await c.opened;
      const ch = await c.next("challenge");
      act(c, ch!.nonce as string);
      expect((await c.closed).code, name).toBe(code);
      await shipOne();
    }
    // Unknown type after auth; a key other than the pinned one.
    const h = new TestHost(hostName("unk"));
    const u = await connectHost(col.url, h);
    u.c.send({ type: "teleport" });
    expect((await u.c.closed).code).toBe(CloseCodes.UNKNOWN_TYPE);
    await shipOne();
    const impostor = new TestHost(good.hostId);
    const i = await connectHost(col.url, impostor);
    expect(i.welcome).toBeNull();
    expect((await i.c.closed).code).toBe(CloseCodes.UNAUTHENTICATED);
    await shipOne();
    // No hello at all: closed after the auth timeout.
    const silent = new Client(col.url);
    expect((await silent.closed).code).toBe(CloseCodes.UNAUTHENTICATED);
    await shipOne();
    g.c.close();
  });

  it("refuses a host whose store epoch changed, and a host behind the collector", async () => {
    const h = new TestHost(hostName("epoch"));
    const a = await connectHost(col.url, h);
    a.c.send({ type: "records", from_seq: 1, records: h.extend(3) });
    await a.c.ackAtLeast(3);
    a.c.close();
    const c = new Client(col.url);
    const ch = await c.next("challenge");
    const { sign } = await import("node:crypto");
    const { helloSigningInput } = await import("../../src/protocol/messages.js");
    const epoch = "new-epoch";
    const signature = sign(null, helloSigningInput(ch!.nonce as string, h.hostId, epoch), h.key).toString(
      "base64",
    );
    c.send(h.hello(ch!.nonce as string, { epoch, signature, last_seq: 0 }));
    expect((await c.closed).code).toBe(CloseCodes.EPOCH_CHANGED);
    const b = new Client(col.url);
    const ch2 = await b.next("challenge");
    b.send(h.hello(ch2!.nonce as string, { last_seq: 1 }));
    expect((await b.closed).code).toBe(CloseCodes.CHAIN_FORK);
  });

  it("admin routes register and revoke hosts; a revoked host is refused, a live one is cut", async () => {
    const h = new TestHost(hostName("rev"));
    const unauth = await fetch(`${col.httpUrl}/v1/hosts/${h.hostId}/revoke`, { method: "POST" });
    expect(unauth.status).toBe(401);
    const { c } = await connectHost(col.url, h);
    const r = await fetch(`${col.httpUrl}/v1/hosts/${h.hostId}/revoke`, {
      method: "POST",
      headers: { authorization: "Bearer secret" },
    });
    expect(r.status).toBe(200);
    expect((await c.closed).code).toBe(CloseCodes.REVOKED);
    const again = await connectHost(col.url, h);
    expect(again.welcome).toBeNull();
    expect((await again.c.closed).code).toBe(CloseCodes.REVOKED);
    const reg = await fetch(`${col.httpUrl}/v1/hosts/${h.hostId}/register`, {
      method: "POST",
      headers: { authorization: "Bearer secret", "content-type": "application/json" },
      body: JSON.stringify({ public_key_pem: h.pem }),
    });
    expect(reg.status).toBe(200);
    const ok = await connectHost(col.url, h);
    expect(ok.welcome).toMatchObject({ type: "ack", seq: 0 });
    ok.c.close();
  });
});

describe("collector with --require-registered", () => {
  it("refuses unregistered hosts and admits registered ones", async () => {
    const dir = mkdtempSync(join(tmpdir(), "forge-collector-"));
    const known = new TestHost("known");
    const col = await startCollector({
      database: `sqlite:${join(dir, "c.db")}`,
      listen: "127.0.0.1:0",
      requireRegistered: true,
      registerHosts: { known: known.pem },
      revokeHosts: ["gone"],
    });
    try {
      const stranger = await connectHost(col.url, new TestHost("stranger"));
      expect((await stranger.c.closed).code).toBe(CloseCodes.UNREGISTERED);
      const gone = await connectHost(col.url, new TestHost("gone"));
      expect((await gone.c.closed).code).toBe(CloseCodes.REVOKED);
      const ok = await connectHost(col.url, known);
      expect(ok.welcome).toMatchObject({ type: "ack", seq: 0 });
      ok.c.send({ type: "records", from_seq: 1, records: known.extend(2) });
      expect(await ok.c.ackAtLeast(2)).toBe(2);
      ok.c.close();
      const host = await getJson(`${col.httpUrl}/v1/hosts/known`);
      expect(host.body.status).toBe("registered");
    } finally {
      await col.close();
      rmSync(dir, { recursive: true });
    }
  });
});
