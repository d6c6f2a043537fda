import { createHash } from "node:crypto";
import pg from "pg";
import type { WireCheckpoint } from "../protocol/checkpoint.js";
import type { StoredRecord } from "../protocol/record.js";
import type { ChainRecord } from "../protocol/text-batch.js";
import { type BatchCheck, type ChainHead, checkBatch, EMPTY_HEAD } from "./chain.js";
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

// pg returns int8 as strings by default; every int8 here (seq, epoch ms) fits a double.
const INT8 = 20;
const parseInt8 = (v: string) => Number(v);

const SCHEMA = `
CREATE TABLE IF NOT EXISTS hosts (
  host_id TEXT PRIMARY KEY,
  public_key_pem TEXT,
  status TEXT NOT NULL CHECK (status IN ('registered','pinned','revoked')),
  epoch TEXT,
  head_seq BIGINT NOT NULL DEFAULT 0,
  head_hash TEXT NOT NULL DEFAULT '${EMPTY_HEAD.hash}',
  checkpoint_seq BIGINT NOT NULL DEFAULT 0,
  first_seen_ms BIGINT NOT NULL,
  last_seen_ms BIGINT,
  last_heartbeat_ms BIGINT,
  heartbeat JSONB
);
CREATE TABLE IF NOT EXISTS records (
  host_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  hash TEXT NOT NULL,
  session_id TEXT NOT NULL,
  ts_ms BIGINT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (host_id, seq)
);
CREATE INDEX IF NOT EXISTS records_session ON records (session_id, host_id, seq);
CREATE INDEX IF NOT EXISTS records_time ON records (ts_ms);
CREATE TABLE IF NOT EXISTS checkpoints (
  host_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  body TEXT NOT NULL,
  received_ms BIGINT NOT NULL,
  PRIMARY KEY (host_id, seq)
);
CREATE TABLE IF NOT EXISTS alerts (
  id BIGSERIAL PRIMARY KEY,
  host_id TEXT,
  code TEXT NOT NULL,
  seq BIGINT,
  message TEXT NOT NULL,
  first_ms BIGINT NOT NULL,
  last_ms BIGINT NOT NULL,
  count BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_key ON alerts ((coalesce(host_id,'')), code, (coalesce(seq,-1)));
-- The head move of one batch (PgStorage.ingest, insertAfter): under the host's transaction-scoped
-- advisory lock, moves the head from (p_seq, p_hash) to (p_head_seq, p_head_hash), or raises
-- SQLSTATE FGH01 when the stored head is not (p_seq, p_hash) (or there is no host row). The batch's
-- rows follow in the same transaction as COPY records FROM STDIN, which a raise here never reaches.
CREATE OR REPLACE FUNCTION forge_ingest_head(p_host text, p_lock bigint, p_seq bigint, p_hash text,
  p_head_seq bigint, p_head_hash text) RETURNS void LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_advisory_xact_lock(p_lock);
  UPDATE hosts SET head_seq = p_head_seq, head_hash = p_head_hash
    WHERE host_id = p_host AND head_seq = p_seq AND head_hash = p_hash;
  IF NOT FOUND THEN
    RAISE EXCEPTION USING ERRCODE = 'FGH01', MESSAGE = 'forge_ingest_head: the stored head is not the one expected';
  END IF;
END
$fn$;
CREATE TABLE IF NOT EXISTS decisions (
  host_id TEXT NOT NULL,
  action_id TEXT NOT NULL,
  session_id TEXT NOT NULL,
  state TEXT NOT NULL,
  created_ms BIGINT NOT NULL,
  deadline_ms BIGINT,
  body TEXT NOT NULL,
  received_ms BIGINT NOT NULL,
  PRIMARY KEY (host_id, action_id)
);
CREATE INDEX IF NOT EXISTS decisions_time ON decisions (received_ms);
ALTER TABLE decisions ADD COLUMN IF NOT EXISTS host_sig TEXT;
-- Each host's chart points (fleet.ts SeriesPoint as JSON): the host view's history across restarts.
CREATE TABLE IF NOT EXISTS host_series (
  host_id TEXT NOT NULL,
  t_ms BIGINT NOT NULL,
  point TEXT NOT NULL,
  PRIMARY KEY (host_id, t_ms)
);
-- Reviews decided through a collector (storage.ts ReviewedRow as JSON): "Decided here" across restarts.
CREATE TABLE IF NOT EXISTS reviewed (
  host_id TEXT NOT NULL,
  action_id TEXT NOT NULL,
  at_ms BIGINT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (host_id, action_id)
);
CREATE INDEX IF NOT EXISTS reviewed_time ON reviewed (at_ms);
`;

/** The advisory-lock key of a host: 64 bits of sha256(host_id), as a signed bigint string. */
export function hostLockKey(hostId: string): string {
  return createHash("sha256").update(`forge-host:${hostId}`).digest().readBigInt64BE(0).toString();
}

/**
 * PostgreSQL storage (node-postgres pool). Several collectors may share one database: `ingest`
 * takes a per-host transaction-scoped advisory lock, reads the head, checks the batch against it,
 * moves the head and COPYs the rows that follow it, all in one transaction. Two collectors
 * ingesting the same host are therefore serialised, and the second sees the first one's head.
 */
export class PgStorage implements CollectorStorage {
  readonly kind = "postgres" as const;
  private readonly pool: pg.Pool;
  /**
   * The head each host had after this collector's last ingest of it: a hint only (another collector
   * may have moved it since); forge_ingest_head checks it under the lock before anything is written.
   */
  private readonly heads = new Map<string, ChainHead>();

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  static async open(url: string): Promise<PgStorage> {
    const pool = new pg.Pool({ connectionString: url, max: 8, types: { getTypeParser: pgTypeParser } });
    // An idle client's error (server restart) must not crash the collector; the next query reconnects.
    pool.on("error", () => {});
    const client = await pool.connect();
    try {
      // Two collectors starting at once on a fresh database: serialise the DDL.
      await client.query("SELECT pg_advisory_lock(7263541)");
      await client.query(SCHEMA);
      await client.query("SELECT pg_advisory_unlock(7263541)");
    } finally {
      client.release();
    }
    return new PgStorage(pool);
  }

  async getHost(hostId: string): Promise<HostRow | undefined> {
    const r = await this.pool.query("SELECT * FROM hosts WHERE host_id = $1", [hostId]);
    return r.rows[0];
  }

  async hosts(): Promise<HostRow[]> {
    return (await this.pool.query("SELECT * FROM hosts ORDER BY host_id")).rows;
  }

  async pinHost(hostId: string, publicKeyPem: string, epoch: string): Promise<HostRow> {
    await this.pool.query(
      "INSERT INTO hosts (host_id, public_key_pem, status, epoch, first_seen_ms) VALUES ($1, $2, 'pinned', $3, $4) ON CONFLICT (host_id) DO NOTHING",
      [hostId, publicKeyPem, epoch, Date.now()],
    );
    return (await this.getHost(hostId))!;
  }

  async registerHost(hostId: string, publicKeyPem: string): Promise<void> {
    await this.pool.query(
      "INSERT INTO hosts (host_id, public_key_pem, status, first_seen_ms) VALUES ($1, $2, 'registered', $3) ON CONFLICT (host_id) DO UPDATE SET public_key_pem = excluded.public_key_pem, status = 'registered'",
      [hostId, publicKeyPem, Date.now()],
    );
  }

  async revokeHost(hostId: string): Promise<void> {
    await this.pool.query(
      "INSERT INTO hosts (host_id, status, first_seen_ms) VALUES ($1, 'revoked', $2) ON CONFLICT (host_id) DO UPDATE SET status = 'revoked'",
      [hostId, Date.now()],
    );
  }

  async setEpoch(hostId: string, epoch: string): Promise<void> {
    await this.pool.query("UPDATE hosts SET epoch = $1 WHERE host_id = $2 AND head_seq = 0", [epoch, hostId]);
  }

  async touchHost(hostId: string, atMs: number): Promise<void> {
    await this.pool.query("UPDATE hosts SET last_seen_ms = $1 WHERE host_id = $2", [atMs, hostId]);
  }

  /**
   * One round trip (one query: the head move and a COPY of the rows; one commit) when the batch follows the head this collector last
   * saw and the stored head is still that; otherwise the general transaction below, which reads
   * the head and the stored hashes of re-sent seqs under the lock. Both check the same chain with
   * the same advisory lock, so the outcome is the same: only the round trips differ (6 → 1).
   */
  async ingest(hostId: string, records: ChainRecord[]): Promise<BatchCheck> {
    const hint = this.heads.get(hostId);
    if (hint !== undefined && records[0]!.seq === hint.seq + 1) {
      // Every seq is above the hinted head, so no stored hash is consulted.
      const check = checkBatch(hostId, hint, records, () => undefined);
      if (check.fresh.length > 0 && (await insertAfter(this.pool, hostId, hint, check))) {
        this.heads.set(hostId, check.head);
        return check;
      }
    }
    return this.ingestLocked(hostId, records);
  }

  private async ingestLocked(hostId: string, records: ChainRecord[]): Promise<BatchCheck> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [hostLockKey(hostId)]);
      const h = await client.query("SELECT head_seq, head_hash FROM hosts WHERE host_id = $1", [hostId]);
      const head =
        h.rows[0] === undefined ? EMPTY_HEAD : { seq: h.rows[0].head_seq, hash: h.rows[0].head_hash };
      const stored = new Map<number, string>();
      const lo = records[0]?.seq ?? 0;
      if (lo <= head.seq) {
        const hi = Math.min(head.seq, records[records.length - 1]!.seq);
        const r = await client.query(
          "SELECT seq, hash FROM records WHERE host_id = $1 AND seq BETWEEN $2 AND $3",
          [hostId, lo, hi],
        );
        for (const row of r.rows) stored.set(row.seq, row.hash);
      }
      const check = checkBatch(hostId, head, records, (seq) => stored.get(seq));
      // The head was read under the lock this transaction holds: it cannot have moved, so false
      // only means there is no host row (a host is pinned at its hello, before any records).
      if (check.fresh.length > 0 && !(await insertAfter(client, hostId, head, check)))
        throw new Error(`no host row for '${hostId}'`);
      await client.query("COMMIT");
      this.heads.set(hostId, check.head);
      return check;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** One round trip for all of a checkpoints message's seqs (per seq, one each, until perf43). */
  async recordHashes(hostId: string, seqs: readonly number[]): Promise<Map<number, string>> {
    const r = await this.pool.query(
      "SELECT seq, hash FROM records WHERE host_id = $1 AND seq = ANY($2::bigint[])",
      [hostId, seqs],
    );
    return new Map(r.rows.map((row) => [row.seq, row.hash]));
  }

  async addCheckpoints(hostId: string, cps: WireCheckpoint[], atMs: number): Promise<void> {
    await this.pool.query(
      `WITH ins AS (INSERT INTO checkpoints (host_id, seq, body, received_ms)
         SELECT $1, t.s, t.b, $4 FROM unnest($2::bigint[], $3::text[]) AS t(s, b) ON CONFLICT DO NOTHING)
       UPDATE hosts SET checkpoint_seq = greatest(checkpoint_seq, $5) WHERE host_id = $1`,
      [
        hostId,
        cps.map((c) => c.seq),
        cps.map((c) => JSON.stringify(c)),
        atMs,
        Math.max(...cps.map((c) => c.seq)),
      ],
    );
  }

  async checkpoints(hostId: string, limit: number): Promise<CheckpointRow[]> {
    const r = await this.pool.query(
      "SELECT body, received_ms FROM checkpoints WHERE host_id = $1 ORDER BY seq DESC LIMIT $2",
      [hostId, limit],
    );
    return r.rows.map((row) => ({ ...JSON.parse(row.body), received_ms: row.received_ms }));
  }

  async addAlert(a: AlertInput, atMs: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO alerts (host_id, code, seq, message, first_ms, last_ms) VALUES ($1, $2, $3, $4, $5, $5)
       ON CONFLICT ((coalesce(host_id,'')), code, (coalesce(seq,-1)))
       DO UPDATE SET count = alerts.count + 1, last_ms = excluded.last_ms, message = excluded.message`,
      [a.host_id, a.code, a.seq, a.message, atMs],
    );
  }

  async alerts(q: { host_id?: string; limit: number }): Promise<AlertRow[]> {
    const r =
      q.host_id === undefined
        ? await this.pool.query("SELECT * FROM alerts ORDER BY last_ms DESC, id DESC LIMIT $1", [q.limit])
        : await this.pool.query(
            "SELECT * FROM alerts WHERE host_id = $1 ORDER BY last_ms DESC, id DESC LIMIT $2",
            [q.host_id, q.limit],
          );
    return r.rows;
  }

  async putDecisions(rows: DecisionRow[]): Promise<void> {
    if (rows.length === 0) return;
    await this.pool.query(
      `INSERT INTO decisions (host_id, action_id, session_id, state, created_ms, deadline_ms, body, received_ms, host_sig)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::text[], $8::bigint[], $9::text[])
       ON CONFLICT (host_id, action_id) DO UPDATE SET ${DECISION_UPDATE}`,
      [
        rows.map((d) => d.host_id),
        rows.map((d) => d.action_id),
        rows.map((d) => d.session_id),
        rows.map((d) => d.state),
        rows.map((d) => d.created_ms),
        rows.map((d) => d.deadline_ms),
        rows.map((d) => JSON.stringify(d.record)),
        rows.map((d) => d.received_ms),
        rows.map((d) => d.host_sig),
      ],
    );
  }

  async decisions(q: { host_id?: string; session_id?: string; limit: number }): Promise<DecisionRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.host_id !== undefined) where.push(`host_id = $${args.push(q.host_id)}`);
    if (q.session_id !== undefined) where.push(`session_id = $${args.push(q.session_id)}`);
    const r = await this.pool.query(
      `SELECT * FROM decisions ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY received_ms DESC, action_id LIMIT $${args.push(q.limit)}`,
      args,
    );
    return r.rows.map(({ body, created_ms, deadline_ms, received_ms, ...d }) => ({
      ...d,
      created_ms: Number(created_ms),
      deadline_ms: deadline_ms === null ? null : Number(deadline_ms),
      received_ms: Number(received_ms),
      record: JSON.parse(body),
    }));
  }

  async records(q: RecordQuery): Promise<StoredRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    const add = (sql: string, v: unknown) => {
      args.push(v);
      where.push(sql.replace("?", `$${args.length}`));
    };
    if (q.host_id !== undefined) add("host_id = ?", q.host_id);
    if (q.session_id !== undefined) add("session_id = ?", q.session_id);
    if (q.after_seq !== undefined) add("seq > ?", q.after_seq);
    if (q.since_ms !== undefined) add("ts_ms >= ?", q.since_ms);
    if (q.until_ms !== undefined) add("ts_ms <= ?", q.until_ms);
    args.push(q.limit);
    const sql = `SELECT body FROM records ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY host_id, seq LIMIT $${args.length}`;
    return (await this.pool.query(sql, args)).rows.map((r) => JSON.parse(r.body));
  }

  async setHeartbeat(hostId: string, payload: unknown, atMs: number): Promise<void> {
    await this.pool.query("UPDATE hosts SET heartbeat = $1, last_heartbeat_ms = $2 WHERE host_id = $3", [
      JSON.stringify(payload),
      atMs,
      hostId,
    ]);
  }

  async addSeries(hostId: string, points: readonly SeriesRow[]): Promise<void> {
    if (points.length === 0) return;
    const newest = Math.max(...points.map((p) => p.t));
    await this.pool.query(
      `WITH put AS (
         INSERT INTO host_series (host_id, t_ms, point)
         SELECT $1, * FROM unnest($2::bigint[], $3::text[])
         ON CONFLICT (host_id, t_ms) DO UPDATE SET point = excluded.point)
       DELETE FROM host_series WHERE host_id = $1 AND t_ms < $4`,
      [hostId, points.map((p) => p.t), points.map((p) => JSON.stringify(p)), newest - SERIES_RETENTION_MS],
    );
  }

  async series(hostId: string, q: { since_ms?: number; until_ms?: number; limit: number }) {
    const r = await this.pool.query(
      "SELECT point FROM host_series WHERE host_id = $1 AND t_ms >= $2 AND t_ms <= $3 ORDER BY t_ms DESC LIMIT $4",
      [hostId, q.since_ms ?? 0, q.until_ms ?? Number.MAX_SAFE_INTEGER, q.limit],
    );
    return r.rows.reverse().map((row) => JSON.parse(row.point) as SeriesRow);
  }

  async addReviewed(row: ReviewedRow): Promise<void> {
    await this.pool.query(
      `INSERT INTO reviewed (host_id, action_id, at_ms, body) VALUES ($1, $2, $3, $4)
       ON CONFLICT (host_id, action_id) DO UPDATE SET at_ms = excluded.at_ms, body = excluded.body`,
      [row.host_id, row.action_id, row.at_ms, JSON.stringify(row)],
    );
  }

  async reviewed(limit: number): Promise<ReviewedRow[]> {
    const r = await this.pool.query(
      "SELECT body FROM reviewed ORDER BY at_ms DESC, action_id DESC LIMIT $1",
      [limit],
    );
    return r.rows.map((row) => JSON.parse(row.body) as ReviewedRow);
  }

  async sessions(q: SessionQuery): Promise<SessionRow[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (q.host_id !== undefined) where.push(`host_id = $${args.push(q.host_id)}`);
    if (q.since_ms !== undefined) where.push(`ts_ms >= $${args.push(q.since_ms)}`);
    if (q.until_ms !== undefined) where.push(`ts_ms <= $${args.push(q.until_ms)}`);
    if (q.text !== undefined) {
      const n = args.push(likePattern(q.text));
      where.push(`(session_id ILIKE $${n} ESCAPE '\\' OR body ILIKE $${n} ESCAPE '\\')`);
    }
    const r = await this.pool.query(
      `SELECT session_id, array_agg(DISTINCT host_id ORDER BY host_id) AS hosts, COUNT(*) AS records, MIN(ts_ms) AS first_ms, MAX(ts_ms) AS last_ms
       FROM records ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       GROUP BY session_id ORDER BY last_ms DESC, session_id LIMIT $${args.push(q.limit)}`,
      args,
    );
    return r.rows;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** SQLSTATE forge_ingest_head raises when the stored head is not the one the batch follows. */
const HEAD_MOVED = "FGH01";

/** A field of COPY's text format: backslash, tab, newline and carriage return escaped. */
function copyField(s: string): string {
  // Four single-character searches cost less than one character-class regex over a record body.
  return s.indexOf("\\") === -1 && s.indexOf("\t") === -1 && s.indexOf("\n") === -1 && s.indexOf("\r") === -1
    ? s
    : s.replace(COPY_SPECIALS, copyEscape);
}
const COPY_SPECIALS = /[\\\t\n\r]/g;
const copyEscape = (c: string) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r");

/** What of pg's Connection a COPY FROM STDIN uses (not in its type declarations). */
interface CopyConnection {
  stream: { writable: boolean; write(chunk: Buffer): boolean };
  endCopyFrom(): void;
}

/**
 * The rows of `fresh` in COPY's text format (host_id, seq, hash, session_id, ts_ms, body), framed
 * as one CopyData message ('d', int32 length, the bytes) in one allocation. The rows are appended
 * to one string, each with its stored text written in place (chain.ts storedText: the prefix, then
 * the canonical body after its "{"), so the only copies are the one flatten and the UTF-8 write:
 * no stored text, row string or joined text is made and copied on its own.
 */
function copyRows(hostId: string, fresh: readonly ChainRecord[]): Buffer {
  const host = copyField(hostId);
  let text = "";
  for (let i = 0; i < fresh.length; i++) {
    const r = fresh[i]!;
    text += `${host}\t${r.seq}\t${r.hash}\t${copyField(r.session_id)}\t${timestampMs(r)}\t{"hash":"${r.hash}","prev_hash":"${r.prev_hash}",${copyField(r.body).slice(1)}\n`;
  }
  const n = Buffer.byteLength(text);
  const msg = Buffer.allocUnsafe(5 + n);
  msg[0] = 0x64;
  msg.writeInt32BE(4 + n, 1);
  msg.write(text, 5);
  return msg;
}

/**
 * One simple-protocol query (several statements, one round trip) whose COPY FROM STDIN is answered
 * with `message` (a framed CopyData, written as it is: pg's own sendCopyFromChunk copies the bytes
 * twice more). pg.Query answers COPY with a failure (it has no source).
 */
class CopyQuery extends pg.Query {
  constructor(
    text: string,
    private readonly message: Buffer,
    callback: (err: Error | undefined) => void,
  ) {
    super(text, callback);
  }

  handleCopyInResponse(con: CopyConnection): void {
    if (con.stream.writable) con.stream.write(this.message);
    con.endCopyFrom();
  }
}

/**
 * Inserts `check.fresh` and moves the head to `check.head`, if the stored head is still `after`;
 * false (nothing written) otherwise. One round trip: forge_ingest_head (the host's advisory lock,
 * the head check and move) and COPY records FROM STDIN in one transaction, the one the caller's
 * client is in or, on a pool, the implicit transaction of the one query (a raise rolls it back).
 * No ON CONFLICT: under the lock, with the head at `after`, no row above `after.seq` is stored (rows
 * are written only with the head move that covers them), so a duplicate key can only be a fault,
 * and it fails the whole batch (nothing written) instead of skipping a row the head then claims.
 */
async function insertAfter(
  db: pg.Pool | pg.PoolClient,
  hostId: string,
  after: ChainHead,
  check: BatchCheck,
): Promise<boolean> {
  const q = (v: string | number) => pg.escapeLiteral(String(v));
  const text =
    `SELECT forge_ingest_head(${q(hostId)}, ${q(hostLockKey(hostId))}, ${q(after.seq)}, ${q(after.hash)}, ` +
    `${q(check.head.seq)}, ${q(check.head.hash)}); ` +
    "COPY records (host_id, seq, hash, session_id, ts_ms, body) FROM STDIN";
  const client = db instanceof pg.Pool ? await db.connect() : db;
  let broken: Error | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      client.query(
        new CopyQuery(text, copyRows(hostId, check.fresh), (err) => (err ? reject(err) : resolve())),
      );
    });
    return true;
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === HEAD_MOVED) return false;
    // An error PostgreSQL answered (a SQLSTATE) leaves the connection usable; any other may not.
    if (code === undefined) broken = err as Error;
    throw err;
  } finally {
    if (client !== db) (client as pg.PoolClient).release(broken);
  }
}

function pgTypeParser(oid: number, format?: string): (v: string) => unknown {
  if (oid === INT8) return parseInt8;
  return pg.types.getTypeParser(oid, format as "text");
}
