/**
 * The evidence database. One file per host, WAL mode. The chain's integrity rules live in the
 * schema as well as in the code, so a bug (or a careless sqlite3 session) cannot rewrite history:
 *
 * - records: append-only. UPDATE is refused outright. INSERT must extend the chain: seq is the
 *   last seq + 1 and prev_hash is the last hash (or the pruning anchor when every row is pruned).
 *   DELETE is refused unless the row's seq <= meta.acked_seq: only rows the collector acked can be
 *   pruned.
 * - meta: host_id and epoch never change; acked_seq and base_seq never go backwards; no meta row
 *   can be deleted (a missing acked_seq would otherwise read as NULL and open the prune gate).
 * - checkpoints: neither updated nor deleted.
 * - pending: ordinary mutable rows (not part of the chain).
 *
 * An attacker with write access can drop the triggers; `verifyStore` is what detects that.
 */
export const SCHEMA_VERSION = 2;

/** records_action_bucket groups 2^10 = 1024 consecutive seqs per bucket. */
export const ACTION_BUCKET_BITS = 10;

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS records (
  seq        INTEGER PRIMARY KEY,
  kind       TEXT NOT NULL,
  session_id TEXT NOT NULL,
  action_id  TEXT NOT NULL,
  body       TEXT NOT NULL,
  prev_hash  TEXT NOT NULL,
  hash       TEXT NOT NULL
);
-- Lookup by action_id, bucketed by seq. Action ids are random (UUIDs), so a plain index on
-- action_id takes each insert to a random leaf: a commit of 64 records dirtied about 64 index
-- pages, and ingest cost 17-20 us of CPU per record instead of about 4 (bench/evidence.ts,
-- docs/evidence.md). Leading with seq >> ACTION_BUCKET_BITS keeps every insert in the newest
-- bucket's few pages; a lookup probes each bucket of the unacked backlog in turn (about 1 ms
-- per 100k records, store.ts). The old index is dropped from databases made before.
DROP INDEX IF EXISTS records_action;
CREATE INDEX IF NOT EXISTS records_action_bucket ON records(seq >> ${ACTION_BUCKET_BITS}, action_id);
-- No index on session_id: it would touch one leaf page per concurrent session in every commit
-- (measured: about 2x slower ingest at 64 sessions); a session query scans the unacked backlog
-- instead, and the collector keeps the indexed history.

CREATE TABLE IF NOT EXISTS checkpoints (
  seq       INTEGER PRIMARY KEY,
  hash      TEXT NOT NULL,
  signature TEXT NOT NULL,
  at        TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS pending (
  action_id   TEXT PRIMARY KEY,
  session_id  TEXT NOT NULL,
  state       TEXT NOT NULL CHECK (state IN ('allowed', 'escalated')),
  record      TEXT NOT NULL,
  deadline_ms INTEGER,
  created_ms  INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS records_append_only BEFORE UPDATE ON records
BEGIN
  SELECT RAISE(ABORT, 'evidence records are append-only: UPDATE refused');
END;

CREATE TRIGGER IF NOT EXISTS records_prune_acked_only BEFORE DELETE ON records
WHEN OLD.seq > COALESCE((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'acked_seq'), 0)
BEGIN
  SELECT RAISE(ABORT, 'evidence records are append-only: only acked rows may be pruned');
END;

CREATE TRIGGER IF NOT EXISTS records_extend_chain BEFORE INSERT ON records
WHEN NOT COALESCE(
  (SELECT seq = NEW.seq - 1 AND hash = NEW.prev_hash FROM records ORDER BY seq DESC LIMIT 1),
  (SELECT CAST(b.value AS INTEGER) = NEW.seq - 1 AND h.value = NEW.prev_hash
     FROM meta AS b, meta AS h WHERE b.key = 'base_seq' AND h.key = 'base_hash'),
  0)
BEGIN
  SELECT RAISE(ABORT, 'evidence records must extend the chain: seq = last + 1, prev_hash = last hash');
END;

CREATE TRIGGER IF NOT EXISTS meta_fixed BEFORE UPDATE ON meta
WHEN OLD.key IN ('host_id', 'epoch', 'created_at')
  OR (OLD.key IN ('acked_seq', 'base_seq') AND CAST(NEW.value AS INTEGER) < CAST(OLD.value AS INTEGER))
BEGIN
  SELECT RAISE(ABORT, 'evidence meta: host_id/epoch are fixed and acked_seq/base_seq never go backwards');
END;

CREATE TRIGGER IF NOT EXISTS meta_no_delete BEFORE DELETE ON meta
BEGIN
  SELECT RAISE(ABORT, 'evidence meta rows cannot be deleted');
END;

CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN
  SELECT RAISE(ABORT, 'checkpoints are append-only: UPDATE refused');
END;

CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN
  SELECT RAISE(ABORT, 'checkpoints are append-only: DELETE refused');
END;
`;
