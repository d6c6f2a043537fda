import Database from "better-sqlite3";
import { ensurePrivateFile, SQLITE_SIDECARS } from "../platform/private-files.js";
import type { WireCheckpoint } from "../protocol/checkpoint.js";
import type { StoredRecord } from "../protocol/record.js";
import type { ChainRecord } from "../protocol/text-batch.js";
import { type BatchCheck, checkBatch, EMPTY_HEAD, storedText } from "./chain.js";
import {
  type AlertInput,
  type AlertRow,
  type CheckpointRow,
  type CollectorStorage,
  DECISION_UPDATE,
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

/** A write waiting for the next group commit. */
interface GroupedWrite {
  run: () => unknown;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/**
 * better-sqlite3 storage (WAL). synchronous=FULL by default: an ack lets the agent delete its copy,
 * so a committed batch must survive power loss. Group commit across connections: the writes of
 * every connection (records batches, heartbeats, last-seen) that arrive while a commit holds the
 * event loop are committed together in the next one, each in its own savepoint, so N agents share
 * one fsync instead of paying one each; each promise resolves only once that commit is durable.
 */
export class SqliteStorage implements CollectorStorage {
  readonly kind = "sqlite" as const;
  private readonly db: Database.Database;
  private readonly st: ReturnType<SqliteStorage["prepare"]>;
  private readonly ingestOne: (hostId: string, records: ChainRecord[]) => BatchCheck;
  private queued: GroupedWrite[] = [];
  private readonly commitGroup: (writes: GroupedWrite[]) => { ok: boolean; value: unknown }[];

  private constructor(db: Database.Database) {
    this.db = db;
    this.st = this.prepare();
    // Run inside a group commit's savepoint (grouped).
    this.ingestOne = (hostId: string, records: ChainRecord[]) => {
      const h = this.st.head.get(hostId) as { head_seq: number; head_hash: string } | undefined;
      const head = h === undefined ? EMPTY_HEAD : { seq: h.head_seq, hash: h.head_hash };
      const check = checkBatch(hostId, head, records, (seq) => {
        const row = this.st.hashOf.get(hostId, seq) as { hash: string } | undefined;
        return row?.hash;
      });
      for (const r of check.fresh) {
        this.st.insert.run(hostId, r.seq, r.hash, r.session_id, timestampMs(r), storedText(r));
      }
      if (check.fresh.length > 0) this.st.setHead.run(check.head.seq, check.head.hash, hostId);
      return check;
    };
    // Nested in commitGroup's transaction, this is a SAVEPOINT: a write that throws is rolled back alone.
    const savepoint = db.transaction((w: GroupedWrite) => w.run());
    this.commitGroup = db.transaction((writes: GroupedWrite[]) =>
      writes.map((w) => {
        try {
          return { ok: true, value: savepoint(w) };
        } catch (err) {
          return { ok: false, value: err };
        }
      }),
    );
  }

  /** Queues a write for the next group commit; resolves with its result once that commit is durable. */
  private grouped<T>(run: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(() => this.flush());
      this.queued.push({ run, resolve: resolve as (v: unknown) => void, reject });
    });
  }

  /** Commits every queued write in one transaction (one fsync), then settles their promises. */
  private flush(): void {
    const writes = this.queued;
    this.queued = [];
    if (writes.length === 0) return;
    let results: { ok: boolean; value: unknown }[];
    try {
      results = this.commitGroup(writes);
    } catch (err) {
      for (const w of writes) w.reject(err);
      return;
    }
    for (let i = 0; i < writes.length; i++) {
      const r = results[i]!;
      if (r.ok) writes[i]!.resolve(r.value);
      else writes[i]!.reject(r.value);
    }
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
    return new SqliteStorage(db);
  }

  private prepare() {
    const db = this.db;
    return {
      host: db.prepare("SELECT * FROM hosts WHERE host_id = ?"),
      hosts: db.prepare("SELECT * FROM hosts ORDER BY host_id"),
      pin: db.prepare(
        "INSERT INTO hosts (host_id, public_key_pem, status, epoch, first_seen_ms) VALUES (?, ?, 'pinned', ?, ?) ON CONFLICT (host_id) DO NOTHING",
      ),
      register: db.prepare(
        "INSERT INTO hosts (host_id, public_key_pem, status, first_seen_ms) VALUES (?, ?, 'registered', ?) ON CONFLICT (host_id) DO UPDATE SET public_key_pem = excluded.public_key_pem, status = 'registered'",
      ),
      revoke: db.prepare(
        "INSERT INTO hosts (host_id, status, first_seen_ms) VALUES (?, 'revoked', ?) ON CONFLICT (host_id) DO UPDATE SET status = 'revoked'",
      ),
      setEpoch: db.prepare("UPDATE hosts SET epoch = ? WHERE host_id = ? AND head_seq = 0"),
      touch: db.prepare("UPDATE hosts SET last_seen_ms = ? WHERE host_id = ?"),
      head: db.prepare("SELECT head_seq, head_hash FROM hosts WHERE host_id = ?"),
      hashOf: db.prepare("SELECT hash FROM records WHERE host_id = ? AND seq = ?"),
      insert: db.prepare(
        "INSERT INTO records (host_id, seq, hash, session_id, ts_ms, body) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      ),
      setHead: db.prepare("UPDATE hosts SET head_seq = ?, head_hash = ? WHERE host_id = ?"),
      addCp: db.prepare(
        "INSERT INTO checkpoints (host_id, seq, body, received_ms) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
      ),
      cpSeq: db.prepare("UPDATE hosts SET checkpoint_seq = max(checkpoint_seq, ?) WHERE host_id = ?"),
      cps: db.prepare(
        "SELECT body, received_ms FROM checkpoints WHERE host_id = ? ORDER BY seq DESC LIMIT ?",
      ),
      alert: db.prepare(
        `INSERT INTO alerts (host_id, code, seq, message, first_ms, last_ms) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (ifnull(host_id,''), code, ifnull(seq,-1)) DO UPDATE SET count = count + 1, last_ms = excluded.last_ms, message = excluded.message`,
      ),
      heartbeat: db.prepare("UPDATE hosts SET heartbeat = ?, last_heartbeat_ms = ? WHERE host_id = ?"),
      addPoint: db.prepare(
        "INSERT INTO host_series (host_id, t_ms, point) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET point = excluded.point",
      ),
      prunePoints: db.prepare("DELETE FROM host_series WHERE host_id = ? AND t_ms < ?"),
      addReviewed: db.prepare(
        "INSERT INTO reviewed (host_id, action_id, at_ms, body) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET at_ms = excluded.at_ms, body = excluded.body",
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
    this.st.pin.run(hostId, publicKeyPem, epoch, Date.now());
    return (await this.getHost(hostId))!;
  }

  async registerHost(hostId: string, publicKeyPem: string): Promise<void> {
    this.st.register.run(hostId, publicKeyPem, Date.now());
  }

  async revokeHost(hostId: string): Promise<void> {
    this.st.revoke.run(hostId, Date.now());
  }

  async setEpoch(hostId: string, epoch: string): Promise<void> {
    this.st.setEpoch.run(epoch, hostId);
  }

  async touchHost(hostId: string, atMs: number): Promise<void> {
    await this.grouped(() => this.st.touch.run(atMs, hostId));
  }

  async ingest(hostId: string, records: ChainRecord[]): Promise<BatchCheck> {
    return this.grouped(() => this.ingestOne(hostId, records));
  }

  async recordHash(hostId: string, seq: number): Promise<string | undefined> {
    return (this.st.hashOf.get(hostId, seq) as { hash: string } | undefined)?.hash;
  }

  async addCheckpoints(hostId: string, cps: WireCheckpoint[], atMs: number): Promise<void> {
    this.db.transaction(() => {
      for (const cp of cps) this.st.addCp.run(hostId, cp.seq, JSON.stringify(cp), atMs);
      this.st.cpSeq.run(Math.max(...cps.map((c) => c.seq)), hostId);
    })();
  }

  async checkpoints(hostId: string, limit: number): Promise<CheckpointRow[]> {
    return (this.st.cps.all(hostId, limit) as { body: string; received_ms: number }[]).map((r) => ({
      ...JSON.parse(r.body),
      received_ms: r.received_ms,
    }));
  }

  async addAlert(a: AlertInput, atMs: number): Promise<void> {
    this.st.alert.run(a.host_id, a.code, a.seq, a.message, atMs, atMs);
  }

  async alerts(q: { host_id?: string; limit: number }): Promise<AlertRow[]> {
    const where = q.host_id === undefined ? "" : "WHERE host_id = ?";
    const args: unknown[] = q.host_id === undefined ? [] : [q.host_id];
    return this.db
      .prepare(`SELECT * FROM alerts ${where} ORDER BY last_ms DESC, id DESC LIMIT ?`)
      .all(...args, q.limit) as AlertRow[];
  }

  async putDecisions(rows: DecisionRow[]): Promise<void> {
    const put = this.db.prepare(
      `INSERT INTO decisions (host_id, action_id, session_id, state, created_ms, deadline_ms, body, received_ms, host_sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (host_id, action_id) DO UPDATE SET ${DECISION_UPDATE}`,
    );
    this.db.transaction(() => {
      for (const d of rows)
        put.run(
          d.host_id,
          d.action_id,
          d.session_id,
          d.state,
          d.created_ms,
          d.deadline_ms,
          JSON.stringify(d.record),
          d.received_ms,
          d.host_sig,
        );
    })();
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
    await this.grouped(() => this.st.heartbeat.run(text, atMs, hostId));
  }

  async addSeries(hostId: string, points: readonly SeriesRow[]): Promise<void> {
    if (points.length === 0) return;
    const newest = Math.max(...points.map((p) => p.t));
    await this.grouped(() => {
      for (const p of points) this.st.addPoint.run(hostId, p.t, JSON.stringify(p));
      this.st.prunePoints.run(hostId, newest - SERIES_RETENTION_MS);
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
    await this.grouped(() =>
      this.st.addReviewed.run(row.host_id, row.action_id, row.at_ms, JSON.stringify(row)),
    );
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

  async close(): Promise<void> {
    if (!this.db.open) return;
    this.flush();
    this.db.close();
  }
}
