import type { KeyObject } from "node:crypto";
import { isMainThread, type MessagePort, parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { Codes, ForgeError } from "../errors.js";
import { sha256Hex } from "../protocol/canonical.js";
import { encodeRecord, type RecordInput, type StoredRecord } from "../protocol/record.js";
import { Checkpoints } from "./checkpoints.js";
import { GroupCommit, type Settle } from "./group-commit.js";
import { type PendingAction, type PendingPatch, PendingTable } from "./pending.js";

/**
 * The evidence store's writer (store.ts): a worker thread that owns the only connection that
 * writes the file. It holds the chain head, chains and group-commits every write, signs the
 * checkpoints, and posts each commit's new head and the ops' results back only after SQLite's
 * COMMIT (with the store's synchronous setting) returned. The event loop that parses requests
 * never blocks on a sync.
 */

export interface WriterInit {
  role: "forge-evidence-writer";
  path: string;
  hostId: string;
  privateKey: KeyObject;
  publicKeyPem: string;
  synchronous: "FULL" | "NORMAL";
  maxPageCount: number | undefined;
  checkpointEvery: number;
  maxRecordBytes: number;
  headSeq: number;
  headHash: string;
  /** The synchronous-call port and its flag (store.ts call()). */
  sync: MessagePort;
  flag: SharedArrayBuffer;
}

/** An op as posted to the writer: its id, and what store.ts's Op held without the callbacks. */
export type WireOp =
  | { id: number; t: "append"; rec: RecordInput; deferMs?: number }
  | { id: number; t: "put"; p: PendingAction; text: string; deferMs?: number }
  | { id: number; t: "update"; id_: string; patch: PendingPatch; text: string | undefined; deferMs?: number }
  | { id: number; t: "resolve"; id_: string; rec: RecordInput; deferMs?: number };

/** A ForgeError as it crosses the thread boundary. */
export interface WireError {
  code: string;
  message: string;
  details?: unknown;
}

export interface Head {
  seq: number;
  hash: string;
  checkpointed: boolean;
}

/** What the writer posts after a turn of commits, in commit order. */
export interface WriterReport {
  heads: Head[];
  /** [op id, error or null, value]. */
  settled: [number, WireError | null, unknown][];
  /** A transaction failed as a whole (the store alerts once). */
  unavailable?: WireError;
}

export type SyncCall = { t: "ack"; seq: number; hash: string | undefined } | { t: "pages"; n: number };
export type SyncReply = { ok: true; value: unknown } | { ok: false; error: WireError };

/** SQLite result codes that mean "the store cannot take writes right now", as opposed to a bug. */
const UNAVAILABLE_CODES = /^SQLITE_(FULL|IOERR|CANTOPEN|READONLY|BUSY|LOCKED|CORRUPT|NOTADB|NOMEM|PROTOCOL)/;

/** Maps a SQLite (or other) failure to FORGE_EVIDENCE_UNAVAILABLE, keeping the SQLite code in details. */
export function storeError(err: unknown): ForgeError {
  if (err instanceof ForgeError) return err;
  const sqliteCode = (err as { code?: unknown }).code;
  const code = typeof sqliteCode === "string" ? sqliteCode : "UNKNOWN";
  const why = UNAVAILABLE_CODES.test(code)
    ? code.startsWith("SQLITE_FULL")
      ? "the disk (or the configured max_page_count) is full"
      : "SQLite cannot write the evidence database"
    : "SQLite refused the write";
  return new ForgeError(
    Codes.EVIDENCE_UNAVAILABLE,
    `evidence store unavailable: ${why} (${code}: ${(err as Error).message})`,
    {
      cause: err,
      details: { sqlite_code: code },
    },
  );
}

export function toWire(err: unknown): WireError {
  const e = err instanceof ForgeError ? err : storeError(err);
  return e.details === undefined
    ? { code: e.code, message: e.message }
    : { code: e.code, message: e.message, details: e.details };
}

export function fromWire(w: WireError): ForgeError {
  return w.details === undefined
    ? new ForgeError(w.code as never, w.message)
    : new ForgeError(w.code as never, w.message, { details: w.details as never });
}

function invalidRecord(err: unknown): ForgeError {
  const issues =
    err !== null && typeof err === "object" && "issues" in err && Array.isArray(err.issues)
      ? (err.issues as { path: (string | number)[]; message: string }[])
          .map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`)
          .join("; ")
      : String((err as Error).message ?? err);
  return new ForgeError(Codes.EVIDENCE_INVALID, `invalid evidence record: ${issues}`, { cause: err });
}

type Op = WireOp & Settle<unknown>;

function runWriter(init: WriterInit, port: MessagePort): void {
  const db = new Database(init.path);
  db.pragma(`synchronous = ${init.synchronous}`);
  db.pragma("busy_timeout = 5000");
  if (init.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.floor(init.maxPageCount)}`);
  const insert = db.prepare(
    "INSERT INTO records (seq, kind, session_id, action_id, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const setMeta = db.prepare("UPDATE meta SET value = ? WHERE key = ?");
  const pending = new PendingTable(db);
  const cps = new Checkpoints(
    db,
    { privateKey: init.privateKey, publicKeyPem: init.publicKeyPem },
    init.hostId,
    init.checkpointEvery,
  );
  let headSeq = init.headSeq;
  let headHash = init.headHash;

  let report: WriterReport = { heads: [], settled: [] };
  let posting = false;
  const post = () => {
    if (posting) return;
    posting = true;
    // After the flush that settled the ops returns: one message per turn of commits.
    queueMicrotask(() => {
      posting = false;
      const r = report;
      report = { heads: [], settled: [] };
      port.postMessage(r);
    });
  };

  const applyBatch = (ops: Op[], results: unknown[]): Head => {
    let seq = headSeq;
    let hash = headHash;
    let wrote = false;
    const chain = (rec: RecordInput): StoredRecord => {
      const enc = encodeRecord(rec, init.hostId);
      const next = seq + 1;
      const body = enc.before + next + enc.after;
      if (body.length > init.maxRecordBytes) {
        throw new ForgeError(
          Codes.EVIDENCE_INVALID,
          `evidence record is ${body.length} bytes, over the ${init.maxRecordBytes}-byte limit`,
        );
      }
      const h = sha256Hex(hash + body);
      const stored = enc.record;
      wrote = true;
      insert.run(next, stored.kind, stored.session_id, stored.action_id, body, hash, h);
      stored.seq = next;
      stored.prev_hash = hash;
      stored.hash = h;
      seq = next;
      hash = h;
      return stored;
    };
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      wrote = false;
      try {
        switch (op.t) {
          case "append":
            results[i] = chain(op.rec);
            break;
          case "put":
            wrote = true;
            pending.put(op.p, op.text);
            break;
          case "update": {
            const write = pending.patcher(op.id_, op.patch, op.text);
            wrote = true;
            write();
            break;
          }
          case "resolve":
            pending.require(op.id_);
            results[i] = chain(op.rec);
            pending.delete(op.id_);
            break;
        }
      } catch (err) {
        if (wrote || err instanceof Database.SqliteError) throw err;
        results[i] = err instanceof ForgeError ? err : invalidRecord(err);
      }
    }
    const checkpointed = cps.dueAt(seq);
    if (checkpointed) cps.insert(seq, hash);
    return { seq, hash, checkpointed };
  };

  const transact = db.transaction((ops: Op[], results: unknown[]) => applyBatch(ops, results)).immediate;
  const writes = new GroupCommit<Op, Head>({
    transact: (ops, results) => transact(ops, results),
    committed: (head) => {
      headSeq = head.seq;
      headHash = head.hash;
      if (head.checkpointed) cps.committed(head.seq);
      report.heads.push(head);
      post();
    },
    settled: () => {},
    failed: (err) => {
      const e = storeError(err);
      report.unavailable = toWire(e);
      post();
      return e;
    },
    records: (op) => (op.t === "append" || op.t === "resolve" ? 1 : 0),
    due: () => cps.requested,
    ready: () => db.open,
  });

  const settle = (id: number): Settle<unknown> => ({
    resolve: (v) => {
      report.settled.push([id, null, v]);
      post();
    },
    reject: (e) => {
      report.settled.push([id, toWire(e), undefined]);
      post();
    },
  });

  port.on("message", (m: WireOp[] | { t: "checkpoint" } | { t: "close" }) => {
    if (Array.isArray(m)) {
      // One turn of the store's event loop: one transaction (with whatever else arrived meanwhile).
      for (const op of m) writes.enqueue({ ...op, ...settle(op.id) } as Op);
      return;
    }
    if (m.t === "checkpoint") {
      if (headSeq > cps.last) {
        cps.requested = true;
        writes.schedule();
      }
      return;
    }
    if (m.t === "close") {
      writes.drain();
      if (headSeq > cps.last) {
        cps.requested = true;
        writes.flush();
      }
      let cleanly = false;
      if (headSeq === cps.last) {
        try {
          setMeta.run("closed", "state");
          cleanly = true;
        } catch (err) {
          // Stays "open": verify then reports an unclean close, which is what this is.
          report.unavailable = toWire(err);
        }
      }
      db.close();
      // The last report (if any) goes before "closed".
      const r = report;
      if (r.heads.length > 0 || r.settled.length > 0 || r.unavailable) port.postMessage(r);
      report = { heads: [], settled: [] };
      port.postMessage({ closed: cleanly });
      init.sync.close();
      port.close();
      return;
    }
  });

  const flag = new Int32Array(init.flag);
  init.sync.on("message", (c: SyncCall) => {
    let reply: SyncReply;
    try {
      if (c.t === "ack") {
        cps.ack(c.seq, c.hash);
        reply = { ok: true, value: cps.last };
      } else {
        reply = { ok: true, value: db.pragma(`max_page_count = ${Math.floor(c.n)}`, { simple: true }) };
      }
    } catch (err) {
      reply = { ok: false, error: toWire(err) };
    }
    init.sync.postMessage(reply);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
  port.postMessage({ ready: true });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === "forge-evidence-writer") {
  runWriter(workerData as WriterInit, parentPort!);
}
