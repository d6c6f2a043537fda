import { isMainThread, parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import type { ChainRecord } from "../protocol/text-batch.js";
import { type BatchCheck, checkBatch, EMPTY_HEAD, storedText } from "./chain.js";
import { DECISION_UPDATE } from "./storage.js";

/**
 * The SQLite collector's writer (sqlite-storage.ts): a worker thread owning the only connection
 * that writes the database. It checks each records batch against the stored chain, inserts it, and
 * group-commits every write that arrived while the previous commit ran (each in its own savepoint),
 * posting the results back only after COMMIT returned with the storage's synchronous setting. The
 * collector's event loop, which parses and decodes the next frames, never waits on a sync or on
 * SQLite's inserts; it reads through its own connection (WAL: readers see each commit at once).
 */

export interface CollectorWriterInit {
  role: "forge-collector-writer";
  path: string;
  synchronous: "FULL" | "NORMAL";
}

/**
 * A records batch as it crosses to the writer: the columns the chain check and the row need, one
 * array each (strings and numbers: a cheap copy; the decoded `fields` stay on the collector's thread).
 */
export interface WireBatch {
  hostIds: string[];
  seqs: number[];
  prevHashes: string[];
  hashes: string[];
  sessions: string[];
  ts: number[];
  /** The canonical body each hash covers (the stored text is made from it here: chain.ts storedText). */
  bodies: string[];
}

/** What the writer answers for a batch: the indexes (into the batch) of the records it stored. */
export interface WireCheck {
  fresh: number[];
  head: BatchCheck["head"];
  problem: BatchCheck["problem"];
}

/** One write: its id and op (the method of SqliteStorage it serves) with that op's arguments. */
export type WriterOp =
  | { id: number; op: "ingest"; host: string; batch: WireBatch }
  | { id: number; op: "pin"; args: [string, string, string, number] }
  | { id: number; op: "register"; args: [string, string, number] }
  | { id: number; op: "revoke"; args: [string, number] }
  | { id: number; op: "setEpoch"; args: [string, string] }
  | { id: number; op: "touch"; args: [number, string] }
  | { id: number; op: "checkpoints"; host: string; rows: [number, string][]; atMs: number }
  | { id: number; op: "alert"; args: [string | null, string, number | null, string, number, number] }
  | { id: number; op: "decisions"; rows: unknown[][] }
  | { id: number; op: "heartbeat"; args: [string, number, string] }
  | { id: number; op: "series"; host: string; points: [number, string][]; cutoff: number }
  | { id: number; op: "reviewed"; args: [string, string, number, string] };

export type WriterReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };

function statements(db: Database.Database) {
  return {
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
    alert: db.prepare(
      `INSERT INTO alerts (host_id, code, seq, message, first_ms, last_ms) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (ifnull(host_id,''), code, ifnull(seq,-1)) DO UPDATE SET count = count + 1, last_ms = excluded.last_ms, message = excluded.message`,
    ),
    decision: db.prepare(
      `INSERT INTO decisions (host_id, action_id, session_id, state, created_ms, deadline_ms, body, received_ms, host_sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (host_id, action_id) DO UPDATE SET ${DECISION_UPDATE}`,
    ),
    heartbeat: db.prepare("UPDATE hosts SET heartbeat = ?, last_heartbeat_ms = ? WHERE host_id = ?"),
    addPoint: db.prepare(
      "INSERT INTO host_series (host_id, t_ms, point) VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET point = excluded.point",
    ),
    prunePoints: db.prepare("DELETE FROM host_series WHERE host_id = ? AND t_ms < ?"),
    addReviewed: db.prepare(
      "INSERT INTO reviewed (host_id, action_id, at_ms, body) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET at_ms = excluded.at_ms, body = excluded.body",
    ),
  };
}

/** The batch's records as checkBatch reads them (host, seq, hashes and the body the hash covers). */
function chainRecords(b: WireBatch): ChainRecord[] {
  const out = new Array<ChainRecord>(b.seqs.length);
  for (let i = 0; i < out.length; i++)
    out[i] = {
      host_id: b.hostIds[i]!,
      seq: b.seqs[i]!,
      prev_hash: b.prevHashes[i]!,
      hash: b.hashes[i]!,
      session_id: b.sessions[i]!,
      timestamp: "",
      body: b.bodies[i]!,
    };
  return out;
}

function run(db: Database.Database) {
  const st = statements(db);
  const ingest = (host: string, b: WireBatch): WireCheck => {
    const h = st.head.get(host) as { head_seq: number; head_hash: string } | undefined;
    const head = h === undefined ? EMPTY_HEAD : { seq: h.head_seq, hash: h.head_hash };
    const recs = chainRecords(b);
    const check = checkBatch(
      host,
      head,
      recs,
      (seq) => (st.hashOf.get(host, seq) as { hash: string } | undefined)?.hash,
    );
    // check.fresh is a subsequence of recs, in order: its indexes in one walk.
    const fresh: number[] = [];
    let j = 0;
    for (const r of check.fresh) {
      while (recs[j] !== r) j++;
      fresh.push(j++);
    }
    for (const i of fresh)
      st.insert.run(host, b.seqs[i], b.hashes[i], b.sessions[i], b.ts[i], storedText(recs[i]!));
    if (fresh.length > 0) st.setHead.run(check.head.seq, check.head.hash, host);
    return { fresh, head: check.head, problem: check.problem };
  };
  const apply = (w: WriterOp): unknown => {
    switch (w.op) {
      case "ingest":
        return ingest(w.host, w.batch);
      case "pin":
        return void st.pin.run(...w.args);
      case "register":
        return void st.register.run(...w.args);
      case "revoke":
        return void st.revoke.run(...w.args);
      case "setEpoch":
        return void st.setEpoch.run(...w.args);
      case "touch":
        return void st.touch.run(...w.args);
      case "checkpoints": {
        for (const [seq, body] of w.rows) st.addCp.run(w.host, seq, body, w.atMs);
        return void st.cpSeq.run(Math.max(...w.rows.map((r) => r[0])), w.host);
      }
      case "alert":
        return void st.alert.run(...w.args);
      case "decisions":
        for (const row of w.rows) st.decision.run(...row);
        return undefined;
      case "heartbeat":
        return void st.heartbeat.run(...w.args);
      case "series": {
        for (const [t, point] of w.points) st.addPoint.run(w.host, t, point);
        return void st.prunePoints.run(w.host, w.cutoff);
      }
      case "reviewed":
        return void st.addReviewed.run(...w.args);
    }
  };
  // Nested in commit's transaction, this is a SAVEPOINT: a write that throws is rolled back alone.
  const savepoint = db.transaction((w: WriterOp) => apply(w));
  const commit = db.transaction((ops: WriterOp[]) =>
    ops.map((w): WriterReply => {
      try {
        return { id: w.id, ok: true, value: savepoint(w) };
      } catch (err) {
        return { id: w.id, ok: false, error: err instanceof Error ? err.message : String(err) };
      }
    }),
  );
  let queued: WriterOp[] = [];
  const flush = () => {
    const ops = queued;
    queued = [];
    if (ops.length === 0) return;
    let replies: WriterReply[];
    try {
      replies = commit(ops);
    } catch (err) {
      const error = `commit failed: ${err instanceof Error ? err.message : String(err)}`;
      replies = ops.map((w) => ({ id: w.id, ok: false, error }));
    }
    parentPort!.postMessage(replies);
  };
  parentPort!.on("message", (m: WriterOp | { op: "close" }) => {
    if (m.op === "close") {
      flush();
      db.close();
      parentPort!.postMessage({ closed: true });
      parentPort!.close();
      return;
    }
    // Every write that arrives before the next turn joins the same commit (one sync).
    if (queued.length === 0) setImmediate(flush);
    queued.push(m);
  });
  parentPort!.postMessage({ ready: true });
}

if (!isMainThread && (workerData as CollectorWriterInit | undefined)?.role === "forge-collector-writer") {
  const init = workerData as CollectorWriterInit;
  const db = new Database(init.path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${init.synchronous}`);
  db.pragma("busy_timeout = 5000");
  run(db);
}
