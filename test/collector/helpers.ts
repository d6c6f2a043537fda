import { generateKeyPairSync, type KeyObject, randomUUID, sign } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import WebSocket from "ws";
import { checkBatch, EMPTY_HEAD } from "../../src/collector/chain.js";
import { signCheckpoint } from "../../src/evidence/keys.js";
import { decisionSigningInput, helloSigningInput, type WireDecision } from "../../src/protocol/messages.js";
import { GENESIS_HASH, type RecordInput, recordHash, type StoredRecord } from "../../src/protocol/record.js";
import { chainRecordOf } from "../../src/protocol/text-batch.js";
import { findTool } from "../support/tools.js";

/** A fake agent host: a key, an epoch, and a chain it can extend. */
export class TestHost {
  readonly key: KeyObject;
  readonly pem: string;
  readonly epoch = randomUUID();
  readonly chain: StoredRecord[] = [];

  constructor(readonly hostId: string) {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    this.key = privateKey;
    this.pem = publicKey.export({ type: "spki", format: "pem" }).toString();
  }

  /** Appends n records to the local chain and returns them. */
  extend(n: number, session = "s1"): StoredRecord[] {
    const out: StoredRecord[] = [];
    for (let i = 0; i < n; i++) {
      const prev = this.chain[this.chain.length - 1];
      const seq = (prev?.seq ?? 0) + 1;
      const body = { ...input(session, seq), host_id: this.hostId, seq };
      const prev_hash = prev?.hash ?? GENESIS_HASH;
      const rec: StoredRecord = { ...body, prev_hash, hash: recordHash(prev_hash, body) };
      this.chain.push(rec);
      out.push(rec);
    }
    return out;
  }

  /** Chains `inputs` (records as an agent would write them) onto the local chain and returns them. */
  append(inputs: RecordInput[]): StoredRecord[] {
    return inputs.map((inp) => {
      const prev = this.chain[this.chain.length - 1];
      const seq = (prev?.seq ?? 0) + 1;
      const body = { ...inp, host_id: this.hostId, seq };
      const prev_hash = prev?.hash ?? GENESIS_HASH;
      const rec: StoredRecord = { ...body, prev_hash, hash: recordHash(prev_hash, body) };
      this.chain.push(rec);
      return rec;
    });
  }

  checkpoint(seq: number) {
    const r = this.chain[seq - 1]!;
    const cp = { host_id: this.hostId, seq, hash: r.hash };
    return { ...cp, signature: signCheckpoint(this.key, cp), at: new Date().toISOString() };
  }

  /** `d` with this host's signature (protocol 5 decisions). */
  signDecision(d: WireDecision): WireDecision {
    const sig = sign(null, decisionSigningInput(this.hostId, d), this.key).toString("base64");
    return { ...d, host_sig: sig };
  }

  hello(nonce: string, over: Partial<Record<string, unknown>> = {}) {
    return {
      type: "hello",
      host_id: this.hostId,
      epoch: this.epoch,
      last_seq: this.chain.length,
      public_key_pem: this.pem,
      signature: sign(null, helloSigningInput(nonce, this.hostId, this.epoch), this.key).toString("base64"),
      ...over,
    };
  }
}

export function input(session: string, i: number): RecordInput {
  return {
    kind: "action",
    session_id: session,
    action_id: `a-${i}`,
    timestamp: new Date(Date.UTC(2026, 10, 25, 3, 0, 0, i)).toISOString(),
    prompt_hash: null,
    proposed_action: { type: "shell", command: `echo ${i}` },
    evaluation: "ALLOW",
    policy_matched: { bundle: null, rules: [] },
    composition_state: { labels: [] },
    execution_result: { exit_code: 0 },
    principal_review: null,
    latency_ms: 0.01,
  };
}

/** A raw protocol client with an inbox. */
export class Client {
  readonly ws: WebSocket;
  private readonly inbox: Array<Record<string, unknown>> = [];
  private waiters: Array<() => void> = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  readonly opened: Promise<void>;

  constructor(url: string) {
    this.ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024 });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve());
      this.ws.once("error", reject);
    });
    this.closed = new Promise((resolve) =>
      this.ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    this.ws.on("error", () => {});
    this.ws.on("message", (d) => {
      this.inbox.push(JSON.parse(d.toString()));
      for (const w of this.waiters.splice(0)) w();
    });
    this.ws.on("close", () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** The next message (optionally of a type), or null when the connection closed first. */
  async next(type?: string): Promise<Record<string, unknown> | null> {
    for (;;) {
      const i = this.inbox.findIndex((m) => type === undefined || m.type === type);
      if (i >= 0) return this.inbox.splice(i, 1)[0]!;
      if (this.ws.readyState >= WebSocket.CLOSING) return null;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === "string" ? msg : JSON.stringify(msg));
  }

  /** Waits for the ack that covers `seq` (or any ack when seq is undefined). */
  async ackAtLeast(seq: number): Promise<number> {
    for (;;) {
      const m = await this.next("ack");
      if (m === null) throw new Error("closed before ack");
      if ((m.seq as number) >= seq) return m.seq as number;
    }
  }

  close(): void {
    this.ws.close();
  }
}

/** Sends `recs` in batches of 100 and waits for the ack of each. */
export async function ship(c: Client, recs: StoredRecord[]): Promise<void> {
  for (let i = 0; i < recs.length; i += 100) {
    const part = recs.slice(i, i + 100);
    c.send({ type: "records", from_seq: part[0]!.seq, records: part });
    await c.ackAtLeast(part[part.length - 1]!.seq);
  }
}

/** Connects and authenticates `host`; returns the client and the collector's answer to hello. */
export async function connectHost(url: string, host: TestHost) {
  const c = new Client(url);
  await c.opened;
  const ch = await c.next("challenge");
  c.send(host.hello(ch!.nonce as string));
  const welcome = await c.next("ack");
  return { c, welcome, challenge: ch };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON bodies
export async function getJson(url: string): Promise<{ status: number; body: any }> {
  let r: Response;
  try {
    r = await fetch(url);
  } catch (err) {
    // A pooled keep-alive socket the collector closed while this process was busy in synchronous
    // work (verifyStore), before undici saw the close: a GET is safe to send again, once.
    if ((err as { cause?: { code?: string } }).cause?.code !== "UND_ERR_SOCKET") throw err;
    r = await fetch(url);
  }
  return { status: r.status, body: await r.json() };
}

/** FORGE_TEST_PG_URL, or null (skip) — except under CI, where a missing server is a failure. */
export function pgUrl(): string | null {
  const url = process.env.FORGE_TEST_PG_URL;
  if (url) return url;
  findTool("postgresql"); // throws under CI/strict; otherwise notes the skip
  return null;
}

/** Creates a fresh database on the server; returns its URL and a drop function. */
export async function freshPgDatabase(baseUrl: string, prefix: string) {
  const name = `${prefix}_${randomUUID().replace(/-/g, "").slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async drop() {
      const a = new pg.Client({ connectionString: baseUrl });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** Fetches every record of a host from the collector's API (paging by after_seq). */
export async function allRecords(httpUrl: string, hostId: string): Promise<StoredRecord[]> {
  const out: StoredRecord[] = [];
  for (;;) {
    const after = out.length ? out[out.length - 1]!.seq : 0;
    const r = await getJson(
      `${httpUrl}/v1/records?host_id=${encodeURIComponent(hostId)}&after_seq=${after}&limit=10000`,
    );
    out.push(...r.body.records);
    if (r.body.records.length < 10000) return out;
  }
}

/** Asserts-by-return: the collector's copy of a host's chain is 1..n, gap-free, hashes linked and recomputed. */
export function chainProblem(hostId: string, records: StoredRecord[]): string | null {
  for (let i = 0; i < records.length; i++) {
    if (records[i]!.seq !== i + 1) return `seq ${records[i]!.seq} at position ${i + 1}`;
  }
  const check = checkBatch(hostId, EMPTY_HEAD, records.map(chainRecordOf), () => undefined);
  return check.problem === null ? null : check.problem.message;
}

export type StorageBackend = [
  name: string,
  open: () => Promise<{ database: string; cleanup: () => Promise<void> }>,
];

/** The collector storages a test runs against: SQLite always, PostgreSQL when a server is configured. */
export function storageBackends(prefix: string): StorageBackend[] {
  const backends: StorageBackend[] = [
    [
      "sqlite",
      async () => {
        const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
        return {
          database: `sqlite:${join(dir, "c.db")}`,
          cleanup: async () => rmSync(dir, { recursive: true }),
        };
      },
    ],
  ];
  const pgBase = pgUrl();
  if (pgBase !== null) {
    backends.push([
      "postgres",
      async () => {
        const db = await freshPgDatabase(pgBase, prefix.replace(/-/g, "_"));
        return { database: db.url, cleanup: db.drop };
      },
    ]);
  }
  return backends;
}
