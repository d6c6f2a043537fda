import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { ensurePrivateFile, SQLITE_SIDECARS } from "../platform/private-files.js";
import type { WireCheckpoint } from "../protocol/checkpoint.js";
import type { StoredRecord } from "../protocol/record.js";
import type { ChainRecord } from "../protocol/text-batch.js";
import { type BatchCheck, EMPTY_HEAD } from "./chain.js";
import type { CollectorWriterInit, WireBatch, WireCheck, WriterOp, WriterReply } from "./sqlite-writer.js";
import {
  type AlertInput,
  type AlertRow,
  type CheckpointRow,
  type CollectorStorage,
  type DecisionRow,
  type HostRow,
  likePattern,
  type RecordQuery,
  type ReviewedRow,
  SERIES_RETENTION_MS,
  type SeriesRow,
  type SessionQuery,
  type SessionRow,
  timestampMs,
} from "./storage.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS hosts (
  host_id TEXT PRIMARY KEY,
  public_key_pem TEXT,
  status TEXT NOT NULL CHECK (status IN ('registered','pinned','revoked')),
  epoch TEXT,
  head_seq INTEGER NOT NULL DEFAULT 0,
  head_hash TEXT NOT NULL DEFAULT '${EMPTY_HEAD.hash}',
  checkpoint_seq INTEGER NOT NULL DEFAULT 0,
  first_seen_ms INTEGER NOT NULL,
  last_seen_ms INTEGER,
  last_heartbeat_ms INTEGER,
  heartbeat TEXT
);
-- A rowid table (rows of ~1 KB are too large for WITHOUT ROWID to pay off); (host_id, seq) is unique.
CREATE TABLE IF NOT EXISTS records (
  id INTEGER PRIMARY KEY,
  host_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  hash TEXT NOT NULL,
  session_id TEXT NOT NULL,
  ts_ms INTEGER NOT NULL,
  body TEXT NOT NULL,
  UNIQUE (host_id, seq)
);
CREATE INDEX IF NOT EXISTS records_session ON records (session_id, host_id, seq);
CREATE INDEX IF NOT EXISTS records_time ON records (ts_ms);
CREATE TABLE IF NOT EXISTS checkpoints (
  host_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  body TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  PRIMARY KEY (host_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY,
  host_id TEXT,
  code TEXT NOT NULL,
  seq INTEGER,
  message TEXT NOT NULL,
  first_ms INTEGER NOT NULL,
  last_ms INTEGER NOT NULL,
  count INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_key ON alerts (ifnull(host_id,''), code, ifnull(seq,-1));
CREATE TABLE IF NOT EXISTS decisions (
  host_id TEXT NOT NULL,
  action_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  state TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  deadline_ms INTEGER,
  body TEXT NOT NULL,
  received_ms INTEGER NOT NULL,
  host_sig TEXT,
  PRIMARY KEY (host_id, action_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS decisions_time ON decisions (received_ms);
-- Each host's chart points (fleet.ts SeriesPoint as JSON): the host view's history across restarts.
CREATE TABLE IF NOT EXISTS host_series (
  host_id TEXT NOT NULL,
  t_ms INTEGER NOT NULL,
  point TEXT NOT NULL,
  PRIMARY KEY (host_id, t_ms)
) WITHOUT ROWID;
-- Reviews decided through a collector (storage.ts ReviewedRow as JSON): "Decided here" across restarts.
CREATE TABLE IF NOT EXISTS reviewed (
  host_id TEXT NOT NULL,
  action_id TEXT NOT NULL,
  at_ms INTEGER NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (host_id, action_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS reviewed_time ON reviewed (at_ms);
`;

interface RawHost extends Omit<HostRow, "heartbeat"> {
  heartbeat: string | null;
}

const toHost = (r: RawHost | undefined): HostRow | undefined =>
  r === undefined ? undefined : { ...r, heartbeat: r.heartbeat === null ? null : JSON.parse(r.heartbeat) };

/** A write posted to the writer thread, waiting for its commit. */
interface InFlight {
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Distributes the write ops over their arguments (WriterOp without its id). */
type WriteOp = WriterOp extends infer W ? (W extends { id: number } ? Omit<W, "id"> : never) : never;

/**
 * better-sqlite3 storage (WAL). synchronous=FULL by default: an ack lets the agent delete its copy,
 * so a committed batch must survive power loss. Every write goes to one writer thread
 * (sqlite-writer.ts), which checks records batches against the stored chain, inserts them, and
 * group-commits the writes of every connection that arrive while a commit runs (records batches,
 * heartbeats, last-seen…), each in its own savepoint: N agents share one fsync, and each promise
 * resolves only once that commit is durable. Reads use this thread's own connection, which sees
 * every commit the writer reported. The event loop so never blocks on a sync or an insert.
 */
export class SqliteStorage implements CollectorStorage {
  readonly kind = "sqlite" as const;
  private readonly db: Database.Database;
  private readonly st: ReturnType<SqliteStorage["prepare"]>;
  private readonly worker: Worker;
  private readonly inflight = new Map<number, InFlight>();
  private nextId = 1;
  /** Set once the writer is gone (exit, error, close): every write then fails with it. */
  private dead: Error | null = null;
  private readonly exited: Promise<void>;

  private constructor(db: Database.Database, path: string, synchronous: "FULL" | "NORMAL") {
    this.db = db;
    this.st = this.prepare();
    const init: CollectorWriterInit = { role: "forge-collector-writer", path, synchronous };
    // No inherited flags: the parent's (--input-type, --eval…) can stop a worker from starting.
    this.worker = new Worker(writerUrl(), { workerData: init, execArgv: [] });
    this.worker.unref();
    this.worker.on("message", (m: WriterReply[] | { ready: true } | { closed: true }) => {
      if (Array.isArray(m)) for (const r of m) this.settle(r);
    });
    this.worker.on("error", (err) => this.fail(err));
    this.exited = new Promise((resolve) =>
      this.worker.once("exit", (code) => {
        this.fail(new Error(`the collector's SQLite writer thread exited (code ${code})`));
        resolve();
      }),
    );
  }

  private settle(r: WriterReply): void {
    const w = this.inflight.get(r.id);
    if (w === undefined) return;
    this.inflight.delete(r.id);
    if (this.inflight.size === 0) this.worker.unref();
    if (r.ok) w.resolve(r.value);
    else w.reject(new Error(r.error));
  }

  private fail(err: Error): void {
    this.dead ??= err;
    const waiting = [...this.inflight.values()];
    this.inflight.clear();
    for (const w of waiting) w.reject(this.dead);
  }

  /** Posts a write to the writer thread; resolves with its result once its commit is durable. */
  private write<T = void>(op: WriteOp): Promise<T> {
    if (this.dead !== null) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      // A write in flight keeps the process alive until it is durable; an idle writer does not.
      if (this.inflight.size === 0) this.worker.ref();
      this.inflight.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.worker.postMessage({ ...op, id });
    });
  }

  static open(path: string, opts: { synchronous?: "FULL" | "NORMAL" } = {}): SqliteStorage {
    // 0600 from creation, -wal/-shm included: records can hold execution excerpts.
    ensurePrivateFile(path, SQLITE_SIDECARS);
    const db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${opts.synchronous ?? "FULL"}`);
    db.pragma("busy_timeout = 5000");
    db.exec(SCHEMA);
    // Databases made before protocol 5 lack the decisions' host signature.
    const cols = db.prepare("PRAGMA table_info(decisions)").all() as Array<{ name: string }>;
    if (!cols.some((c) => c.name === "host_sig")) db.exec("ALTER TABLE decisions ADD COLUMN host_sig TEXT");
    return new SqliteStorage(db, path, opts.synchronous ?? "FULL");
  }

  private prepare() {
    const db = this.db;
    return {
      host: db.prepare("SELECT * FROM hosts WHERE host_id = ?"),
      hosts: db.prepare("SELECT * FROM hosts ORDER BY host_id"),
      hashOf: db.prepare("SELECT hash FROM records WHERE host_id = ? AND seq = ?"),
      cps: db.prepare(
        "SELECT body, received_ms FROM checkpoints WHERE host_id = ? ORDER BY seq DESC LIMIT ?",
      ),
      reviewed: db.prepare("SELECT body FROM reviewed ORDER BY at_ms DESC, action_id DESC LIMIT ?"),
    };
  }

  async getHost(hostId: string): Promise<HostRow | undefined> {
    return toHost(this.st.host.get(hostId) as RawHost | undefined);
  }

  async hosts(): Promise<HostRow[]> {
    return (this.st.hosts.all() as RawHost[]).map((r) => toHost(r)!);
  }

  async pinHost(hostId: string, publicKeyPem: string, epoch: string): Promise<HostRow> {
    await this.write({ op: "pin", args: [hostId, publicKeyPem, epoch, Date.now()] });
    return (await this.getHost(hostId))!;
  }

  async registerHost(hostId: string, publicKeyPem: string): Promise<void> {
    await this.write({ op: "register", args: [hostId, publicKeyPem, Date.now()] });
  }

  async revokeHost(hostId: string): Promise<void> {
    await this.write({ op: "revoke", args: [hostId, Date.now()] });
  }

  async setEpoch(hostId: string, epoch: string): Promise<void> {
    await this.write({ op: "setEpoch", args: [epoch, hostId] });
  }

  async touchHost(hostId: string, atMs: number): Promise<void> {
    await this.write({ op: "touch", args: [atMs, hostId] });
  }

  async ingest(hostId: string, records: ChainRecord[]): Promise<BatchCheck> {
    const n = records.length;
    const batch: WireBatch = {
      hostIds: new Array(n),
      seqs: new Array(n),
      prevHashes: new Array(n),
      hashes: new Array(n),
      sessions: new Array(n),
      ts: new Array(n),
      bodies: new Array(n),
    };
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      batch.hostIds[i] = r.host_id;
      batch.seqs[i] = r.seq;
      batch.prevHashes[i] = r.prev_hash;
      batch.hashes[i] = r.hash;
      batch.sessions[i] = r.session_id;
      batch.ts[i] = timestampMs(r);
      batch.bodies[i] = r.body;
    }
    const c = await this.write<WireCheck>({ op: "ingest", host: hostId, batch });
    // The records this thread decoded (with their fields), not the writer's copies.
    return { fresh: c.fresh.map((i) => records[i]!), head: c.head, problem: c.problem };
  }

  async recordHashes(hostId: string, seqs: readonly number[]): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    for (const seq of seqs) {
      const row = this.st.hashOf.get(hostId, seq) as { hash: string } | undefined;
      if (row !== undefined) out.set(seq, row.hash);
    }
    return out;
  }

  async addCheckpoints(hostId: string, cps: WireCheckpoint[], atMs: number): Promise<void> {
    if (cps.length === 0) return;
    await this.write({
      op: "checkpoints",
      host: hostId,
      rows: cps.map((cp) => [cp.seq, JSON.stringify(cp)]),
      atMs,
    });
  }

  async checkpoints(hostId: string, limit: number): Promise<CheckpointRow[]> {
    return (this.st.cps.all(hostId, limit) as { body: string; received_ms: number }[]).map((r) => ({
      ...JSON.parse(r.body),
      received_ms: r.received_ms,
    }));
  }

  async addAlert(a: AlertInput, atMs: number): Promise<void> {
    await this.write({ op: "alert", args: [a.host_id, a.code, a.seq, a.message, atMs, atMs] });
  }

  async alerts(q: { host_id?: string; limit: number }): Promise<AlertRow[]> {
    const where = q.host_id === undefined ? "" : "WHERE host_id = ?";
    const args: unknown[] = q.host_id === undefined ? [] : [q.host_id];
    return this.db
      .prepare(`SELECT * FROM alerts ${where} ORDER BY last_ms DESC, id DESC LIMIT ?`)
      .all(...args, q.limit) as AlertRow[];
  }

  async putDecisions(rows: DecisionRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.write({
      op: "decisions",
      rows: rows.map((d) => [
        d.host_id,
        d.action_id,
        d.session_id,
        d.state,
        d.created_ms,
        d.deadline_ms,
        JSON.stringify(d.record),
        d.received_ms,
        d.host_sig,
      ]),
    });
  }

  async decisions(q: { host_id?: string; session_id?: string; limit: number }): Promise<DecisionRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.host_id !== undefined) where.push("host_id = ?") && args.push(q.host_id);
    if (q.session_id !== undefined) where.push("session_id = ?") && args.push(q.session_id);
    const rows = this.db
      .prepare(
        `SELECT * FROM decisions ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY received_ms DESC, action_id LIMIT ?`,
      )
      .all(...args, q.limit) as Array<Omit<DecisionRow, "record"> & { body: string }>;
    return rows.map(({ body, ...d }) => ({ ...d, record: JSON.parse(body) }));
  }

  async records(q: RecordQuery): Promise<StoredRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.host_id !== undefined) where.push("host_id = ?") && args.push(q.host_id);
    if (q.session_id !== undefined) where.push("session_id = ?") && args.push(q.session_id);
    if (q.after_seq !== undefined) where.push("seq > ?") && args.push(q.after_seq);
    if (q.since_ms !== undefined) where.push("ts_ms >= ?") && args.push(q.since_ms);
    if (q.until_ms !== undefined) where.push("ts_ms <= ?") && args.push(q.until_ms);
    const sql = `SELECT body FROM records ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY host_id, seq LIMIT ?`;
    return (this.db.prepare(sql).all(...args, q.limit) as { body: string }[]).map((r) => JSON.parse(r.body));
  }

  async setHeartbeat(hostId: string, payload: unknown, atMs: number): Promise<void> {
    const text = JSON.stringify(payload);
    await this.write({ op: "heartbeat", args: [text, atMs, hostId] });
  }

  async addSeries(hostId: string, points: readonly SeriesRow[]): Promise<void> {
    if (points.length === 0) return;
    const newest = Math.max(...points.map((p) => p.t));
    await this.write({
      op: "series",
      host: hostId,
      points: points.map((p) => [p.t, JSON.stringify(p)]),
      cutoff: newest - SERIES_RETENTION_MS,
    });
  }

  async series(hostId: string, q: { since_ms?: number; until_ms?: number; limit: number }) {
    const rows = this.db
      .prepare(
        "SELECT point FROM host_series WHERE host_id = ? AND t_ms >= ? AND t_ms <= ? ORDER BY t_ms DESC LIMIT ?",
      )
      .all(hostId, q.since_ms ?? 0, q.until_ms ?? Number.MAX_SAFE_INTEGER, q.limit) as { point: string }[];
    return rows.reverse().map((r) => JSON.parse(r.point) as SeriesRow);
  }

  async addReviewed(row: ReviewedRow): Promise<void> {
    await this.write({
      op: "reviewed",
      args: [row.host_id, row.action_id, row.at_ms, JSON.stringify(row)],
    });
  }

  async reviewed(limit: number): Promise<ReviewedRow[]> {
    return (this.st.reviewed.all(limit) as { body: string }[]).map((r) => JSON.parse(r.body) as ReviewedRow);
  }

  async sessions(q: SessionQuery): Promise<SessionRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.host_id !== undefined) where.push("host_id = ?") && args.push(q.host_id);
    if (q.since_ms !== undefined) where.push("ts_ms >= ?") && args.push(q.since_ms);
    if (q.until_ms !== undefined) where.push("ts_ms <= ?") && args.push(q.until_ms);
    if (q.text !== undefined) {
      // LIKE is case-insensitive for ASCII in SQLite.
      where.push("(session_id LIKE ? ESCAPE '\\' OR body LIKE ? ESCAPE '\\')");
      args.push(likePattern(q.text), likePattern(q.text));
    }
    const rows = this.db
      .prepare(
        `SELECT session_id, json_group_array(DISTINCT host_id) AS hosts, COUNT(*) AS records, MIN(ts_ms) AS first_ms, MAX(ts_ms) AS last_ms
         FROM records ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
         GROUP BY session_id ORDER BY last_ms DESC, session_id LIMIT ?`,
      )
      .all(...args, q.limit) as Array<Omit<SessionRow, "hosts"> & { hosts: string }>;
    return rows.map((r) => ({ ...r, hosts: (JSON.parse(r.hosts) as string[]).sort() }));
  }

  /** Waits for every write posted so far to commit, stops the writer, and closes the database. */
  async close(): Promise<void> {
    if (!this.db.open) return;
    if (this.dead === null) {
      this.worker.ref();
      this.worker.postMessage({ op: "close" });
    }
    await this.exited;
    this.db.close();
  }
}

/**
 * The writer thread's script: sqlite-writer.js beside this file. Under the tests this file is
 * TypeScript (vitest) and a worker cannot load .ts, so the writer comes from the build (dist/,
 * which the tests' global setup builds first).
 */
function writerUrl(): URL {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith(".ts")) return new URL("../../dist/src/collector/sqlite-writer.js", here);
  return new URL("./sqlite-writer.js", here);
}
