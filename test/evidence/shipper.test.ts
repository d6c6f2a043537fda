import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Collector, startCollector } from "../../src/collector/server.js";
import { EvidenceStore, verifyStore } from "../../src/evidence/index.js";
import { Shipper } from "../../src/evidence/shipper.js";
import { signCollectorMessage } from "../../src/protocol/collector-auth.js";
import { CloseCodes } from "../../src/protocol/messages.js";
import type { RecordInput } from "../../src/protocol/record.js";
import { allRecords, chainProblem, getJson, input } from "../collector/helpers.js";
import { TcpProxy } from "../collector/proxy.js";
import { until } from "../support/wait.js";
import { tamper } from "./helpers.js";

let dir: string;
let stores: EvidenceStore[];
let shippers: Shipper[];
let collectors: Collector[];
let proxies: TcpProxy[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "forge-shipper-"));
  stores = [];
  shippers = [];
  collectors = [];
  proxies = [];
});
afterEach(async () => {
  for (const s of shippers) await s.stop();
  for (const p of proxies) await p.close();
  for (const s of stores) await s.close().catch(() => {});
  for (const c of collectors) await c.close();
  rmSync(dir, { recursive: true, force: true });
});

const FAST = { initialMs: 20, maxMs: 200 };

function store(opts: Partial<Parameters<typeof EvidenceStore.open>[0]> = {}): EvidenceStore {
  const s = EvidenceStore.open({
    path: join(dir, "agent.db"),
    keyDir: join(dir, "keys"),
    hostId: "host-1",
    synchronous: "NORMAL",
    checkpointEvery: 100,
    ...opts,
  });
  stores.push(s);
  return s;
}

async function collector(port = 0): Promise<Collector> {
  const c = await startCollector({
    database: `sqlite:${join(dir, "collector.db")}`,
    listen: `127.0.0.1:${port}`,
  });
  collectors.push(c);
  return c;
}

function shipper(
  s: EvidenceStore,
  url: string,
  over: Partial<ConstructorParameters<typeof Shipper>[0]> = {},
) {
  const sh = new Shipper({ store: s, url, backoff: FAST, ...over });
  shippers.push(sh);
  sh.start();
  return sh;
}

const rec = (i: number): RecordInput => input(`s${i % 5}`, i);

async function appendMany(s: EvidenceStore, from: number, n: number): Promise<number[]> {
  const out = await Promise.all(Array.from({ length: n }, (_, i) => s.append(rec(from + i))));
  return out.map((r) => r.seq);
}

describe("Shipper", () => {
  it("ships every record once, prunes only what was acked, and forwards checkpoints", async () => {
    const s = store();
    await appendMany(s, 0, 300);
    const col = await collector();
    const sh = shipper(s, col.url, { batchSize: 64, maxInFlight: 2 });
    await appendMany(s, 300, 700);
    await until(() => sh.status().backlog === 0, "backlog to drain");
    expect(sh.status()).toMatchObject({ connected: true, lastAckedSeq: 1000, backlog: 0, reconnects: 0 });
    const got = await allRecords(col.httpUrl, "host-1");
    expect(got).toHaveLength(1000);
    expect(chainProblem("host-1", got)).toBeNull();
    // The agent pruned acked rows (acks are persisted within ackFlushMs); its chain still verifies.
    await until(() => s.ackedSeq() === 1000, "ack persisted");
    expect(s.unshipped(0, 10)).toEqual([]);
    expect(verifyStore(join(dir, "agent.db"), { keyDir: join(dir, "keys") }).ok).toBe(true);
    await until(
      async () => (await getJson(`${col.httpUrl}/v1/hosts/host-1`)).body.checkpoint_seq === 1000,
      "cps",
    );
    const alerts = await getJson(`${col.httpUrl}/v1/alerts`);
    expect(alerts.body.alerts).toEqual([]);
  });

  it("a collector URL without a path means /v1/ws (ws://host:port and ws://host:port/)", async () => {
    const s = store();
    await appendMany(s, 0, 20);
    const col = await collector();
    const bare = col.url.replace(/\/v1\/ws$/, "");
    expect(bare).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const sh = shipper(s, bare);
    await until(() => sh.status().backlog === 0, "backlog to drain over a bare URL");
    expect(sh.status()).toMatchObject({ connected: true, lastAckedSeq: 20 });
    expect(await allRecords(col.httpUrl, "host-1")).toHaveLength(20);
    await sh.stop();
    const slash = shipper(s, `${bare}/`);
    await until(() => slash.status().connected, "connect over a trailing-slash URL");
  });

  it("sends heartbeats and delivers collector messages to handlers", async () => {
    const s = store();
    const col = await collector();
    const sh = shipper(s, col.url);
    expect(sh.send({ type: "heartbeat", x: 1 })).toBe(sh.status().connected);
    await until(() => sh.status().connected, "connect");
    expect(sh.send({ type: "heartbeat", cpu_percent: 3 })).toBe(true);
    await until(
      async () => (await getJson(`${col.httpUrl}/v1/hosts/host-1`)).body.heartbeat?.cpu_percent === 3,
      "hb",
    );
    const got: unknown[] = [];
    sh.on("policy", (m) => got.push(m));
    expect(col.ctx.sendTo("host-1", { type: "policy", bundle: "b", signature: "s" })).toBe(true);
    await until(() => got.length === 1, "policy message");
    expect(got[0]).toEqual({ type: "policy", bundle: "b", signature: "s" });
  });

  it("keeps records while the collector is down and drains the backlog when it returns", async () => {
    const s = store();
    let col = await collector();
    const port = Number(new URL(col.httpUrl).port);
    const sh = shipper(s, col.url);
    await appendMany(s, 0, 200);
    await until(() => sh.status().backlog === 0, "first drain");
    await col.close();
    collectors.pop();
    await appendMany(s, 200, 500);
    // Two more connection attempts started since: at least one failed with these records waiting.
    const tries = sh.status().reconnects;
    await until(() => sh.status().reconnects >= tries + 2, "a failed reconnect");
    expect(sh.status()).toMatchObject({ connected: false, backlog: 500, lastAckedSeq: 200 });
    col = await collector(port);
    await until(() => sh.status().backlog === 0, "drain after restart");
    expect(sh.status().reconnects).toBeGreaterThanOrEqual(1);
    const got = await allRecords(col.httpUrl, "host-1");
    expect(got).toHaveLength(700);
    expect(chainProblem("host-1", got)).toBeNull();
  });

  it("loses and duplicates nothing when a loopback proxy cuts the connection mid-batch", async () => {
    const s = store();
    const col = await collector();
    const proxy = await new TcpProxy(Number(new URL(col.httpUrl).port)).listen();
    proxies.push(proxy);
    const sh = shipper(s, proxy.url(), { batchSize: 200, maxInFlight: 4 });
    const owed: number[] = [];
    let cuts = 0;
    for (let round = 0; round < 10; round++) {
      owed.push(...(await appendMany(s, round * 400, 400)));
      // Cut after some bytes of this round went through: frames are torn mid-batch.
      const mark = proxy.forwarded;
      await until(() => proxy.forwarded > mark + 20_000 || sh.status().backlog === 0, "bytes to flow", 5000);
      if (proxy.cutAll() > 0) cuts++;
    }
    await until(() => sh.status().backlog === 0, "final drain");
    expect(cuts).toBeGreaterThanOrEqual(5);
    const got = await allRecords(col.httpUrl, "host-1");
    expect(got.map((r) => r.seq)).toEqual(owed.sort((a, b) => a - b));
    expect(chainProblem("host-1", got)).toBeNull();
  });

  it("fails appends cleanly with FORGE_EVIDENCE_FULL while the collector is down, then recovers", async () => {
    const alerts: string[] = [];
    const s = store({ maxUnackedRecords: 150, onAlert: (a) => alerts.push(a.code) });
    const col = await collector();
    const port = Number(new URL(col.httpUrl).port);
    await col.close();
    collectors.pop();
    const sh = shipper(s, `ws://127.0.0.1:${port}/v1/ws`);
    const results = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => s.append(rec(i))));
    const ok = results.filter((r) => r.status === "fulfilled");
    const failed = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(ok).toHaveLength(150);
    expect(new Set(failed.map((f) => f.reason.code))).toEqual(new Set(["FORGE_EVIDENCE_FULL"]));
    expect(alerts).toContain("FORGE_EVIDENCE_FULL");
    const col2 = await collector(port);
    await until(() => s.ackedSeq() === 150, "drain");
    expect(alerts).toContain("FORGE_EVIDENCE_RECOVERED");
    await expect(s.append(rec(1000))).resolves.toMatchObject({ seq: 151 });
    await until(() => sh.status().backlog === 0, "drain 2");
    const got = await allRecords(col2.httpUrl, "host-1");
    expect(got).toHaveLength(151);
    expect(chainProblem("host-1", got)).toBeNull();
  });
});

/** Opens the agent's file as an attacker would: drops the append-only triggers first. */

describe("tampering in the agent's SQLite file before shipping", () => {
  // [name, edit, close codes accepted, alert code, seq the alert names]
  const cases: Array<[string, (db: Database.Database) => void, number[], string, number]> = [
    [
      "an edited row",
      (db) => {
        const { body } = db.prepare("SELECT body FROM records WHERE seq = 15").get() as { body: string };
        db.prepare("UPDATE records SET body = ? WHERE seq = 15").run(body.replace('"echo 14"', '"rm -rf /"'));
      },
      [CloseCodes.CHAIN_FORK],
      "hash-mismatch",
      15,
    ],
    [
      "a deleted row",
      (db) => db.prepare("DELETE FROM records WHERE seq = 15").run(),
      [CloseCodes.CHAIN_GAP],
      "chain-gap",
      16,
    ],
    [
      "two rows swapped",
      (db) => {
        db.prepare("UPDATE records SET seq = -1 WHERE seq = 15").run();
        db.prepare("UPDATE records SET seq = 15 WHERE seq = 16").run();
        db.prepare("UPDATE records SET seq = 16 WHERE seq = -1").run();
      },
      // The store keeps seq in its own column: the swapped row arrives as seq 16 in slot 15.
      [CloseCodes.CHAIN_GAP, CloseCodes.CHAIN_FORK],
      "",
      0,
    ],
  ];
  it.each(cases)(
    "detects %s: alert, refusal, nothing past the bad seq stored",
    async (_n, edit, closes, code, alertSeq) => {
      let s = store();
      await appendMany(s, 0, 30);
      await s.close();
      stores.pop();
      tamper(join(dir, "agent.db"), edit);
      s = store();
      const col = await collector();
      const sh = shipper(s, col.url, { batchSize: 8 });
      await until(() => sh.status().lastClose !== null, "refusal");
      expect(closes).toContain(sh.status().lastClose!.code);
      const got = await allRecords(col.httpUrl, "host-1");
      expect(got.map((r) => r.seq)).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
      const alerts = (await getJson(`${col.httpUrl}/v1/alerts?host_id=host-1`)).body.alerts;
      expect(alerts).toHaveLength(1);
      if (alertSeq) expect(alerts[0].seq).toBe(alertSeq);
      if (code) expect(alerts[0].code).toBe(code);
      expect(sh.status().lastAckedSeq).toBe(14);
    },
  );
});

/**
 * A stand-in collector (a real ws server on 127.0.0.1) that offers a given protocol version,
 * answers hello with seq 0, keeps every records frame and acks it: to see the wire form the
 * shipper picks.
 */
async function standIn(protocol: number) {
  const { WebSocketServer } = await import("ws");
  const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const frames: Array<{ bytes: number; msg: Record<string, unknown> }> = [];
  // It holds a collector key and signs its acks, as a real collector does (collector-auth.ts).
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  const public_key_pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  wss.on("connection", (ws) => {
    ws.send(JSON.stringify({ type: "challenge", nonce: "n", protocol, public_key_pem }));
    let agentNonce = "";
    const ack = (m: Record<string, unknown>) =>
      ws.send(JSON.stringify(signCollectorMessage(privateKey, agentNonce, m)));
    ws.on("message", (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.type === "hello") {
        agentNonce = msg.agent_nonce;
        ack({ type: "ack", seq: 0, checkpoint_seq: 0 });
      }
      if (msg.type !== "records") return;
      frames.push({ bytes: (data as Buffer).length, msg });
      const items = (msg.bodies ?? msg.texts ?? msg.records) as unknown[];
      ack({ type: "ack", seq: msg.from_seq + items.length - 1 });
    });
  });
  const port = (wss.address() as { port: number }).port;
  collectors.push({ close: () => new Promise<void>((r) => wss.close(() => r())) } as unknown as Collector);
  return { url: `ws://127.0.0.1:${port}/v1/ws`, frames };
}

describe("wire form by the collector's protocol", () => {
  it("protocol 1: StoredRecord objects", async () => {
    const s = store();
    await appendMany(s, 0, 50);
    const want = s.unshipped(0, 100);
    const col = await standIn(1);
    const sh = shipper(s, col.url, { batchSize: 20 });
    await until(() => sh.status().backlog === 0, "backlog to drain");
    expect(col.frames.every((f) => f.msg.texts === undefined)).toBe(true);
    expect(col.frames.flatMap((f) => f.msg.records as unknown[])).toEqual(want);
  });

  it("protocol 2: the stored canonical body texts, cut to maxBatchBytes, every seq once in order", async () => {
    const s = store();
    await appendMany(s, 0, 200);
    const want = s.unshippedRaw(0, 1000);
    const col = await standIn(2);
    const sh = shipper(s, col.url, { batchSize: 64, maxBatchBytes: 8 * 1024 });
    await until(() => sh.status().backlog === 0, "backlog to drain");
    expect(col.frames.length).toBeGreaterThan(200 / 64);
    for (const f of col.frames) {
      expect(f.bytes).toBeLessThanOrEqual(8 * 1024);
      expect(f.msg.records).toBeUndefined();
      expect(f.msg.from_seq).toBe(JSON.parse((f.msg.texts as Array<{ body: string }>)[0]!.body).seq);
    }
    const got = col.frames.flatMap(
      (f) => f.msg.texts as Array<{ prev_hash: string; hash: string; body: string }>,
    );
    expect(got).toEqual(want.map(({ prev_hash, hash, body }) => ({ prev_hash, hash, body })));
  });

  it("protocol 4: the stored bodies written into the frame as JSON, cut to maxBatchBytes, every seq once", async () => {
    const s = store();
    await appendMany(s, 0, 200);
    const want = s.unshippedRaw(0, 1000);
    const col = await standIn(4);
    const sh = shipper(s, col.url, { batchSize: 64, maxBatchBytes: 8 * 1024 });
    await until(() => sh.status().backlog === 0, "backlog to drain");
    expect(col.frames.length).toBeGreaterThan(200 / 64);
    for (const f of col.frames) {
      expect(f.bytes).toBeLessThanOrEqual(8 * 1024);
      expect(f.msg.texts).toBeUndefined();
      expect(f.msg.from_seq).toBe((f.msg.bodies as Array<{ body: { seq: number } }>)[0]!.body.seq);
    }
    const got = col.frames.flatMap(
      (f) => f.msg.bodies as Array<{ prev_hash: string; hash: string; body: unknown }>,
    );
    expect(got).toEqual(
      want.map(({ prev_hash, hash, body }) => ({ prev_hash, hash, body: JSON.parse(body) })),
    );
  });
});
