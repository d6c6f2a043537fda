import type { KeyObject } from "node:crypto";
import { isMainThread, type MessagePort, parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { Codes, ForgeError } from "../errors.js";
import { sha256Hex } from "../protocol/canonical.js";
import { Checkpoints } from "./checkpoints.js";
import { GroupCommit, type Settle } from "./group-commit.js";
import { type PendingPatch, type PendingRow, PendingTable } from "./pending.js";

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

/**
 * A record as the store's thread encoded it (encodeRecord): the columns the row stores, and the
 * canonical body around its seq (`before + seq + after`), which only the chain head's owner knows.
 * Strings only, so a batch crosses to the writer as a cheap copy.
 */
export interface WireRecord {
  kind: string;
  session_id: string;
  action_id: string;
  before: string;
  after: string;
}

/**
 * An op as posted to the writer: its id and what it writes, encoded. A resolve whose final record
 * could not be encoded still comes (`invalid`): its pending row is checked first, as before, so an
 * unknown id is NOT_FOUND whatever the record.
 */
export type WireOp =
  | { id: number; t: "append"; rec: WireRecord }
  | { id: number; t: "put"; p: Omit<PendingRow, "record">; text: string }
  | {
      id: number;
      t: "update";
      id_: string;
      patch: Pick<PendingPatch, "state" | "deadline_ms">;
      text: string | undefined;
    }
  | { id: number; t: "resolve"; id_: string; rec: WireRecord }
  | { id: number; t: "resolve"; id_: string; invalid: WireError };

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

/** How an op settled: failed, committed, or committed chaining the record at `seq`. */
export type Settled =
  | [id: number, error: WireError]
  | [id: number, error: null]
  | [id: number, error: null, seq: number, prev_hash: string, hash: string];

/** What the writer posts after a turn of commits, in commit order. */
export interface WriterReport {
  heads: Head[];
  settled: Settled[];
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

/** An op queued for a transaction: settling it adds its line to the next report. */
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
    /** Chains `rec` at the next seq; its result is [seq, prev_hash, hash]. */
    const chain = (rec: WireRecord): [number, string, string] => {
      const next = seq + 1;
      const body = rec.before + next + rec.after;
      if (body.length > init.maxRecordBytes) {
        throw new ForgeError(
          Codes.EVIDENCE_INVALID,
          `evidence record is ${body.length} bytes, over the ${init.maxRecordBytes}-byte limit`,
        );
      }
      const prev = hash;
      const h = sha256Hex(prev + body);
      wrote = true;
      insert.run(next, rec.kind, rec.session_id, rec.action_id, body, prev, h);
      seq = next;
      hash = h;
      return [next, prev, h];
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
            if ("invalid" in op) throw fromWire(op.invalid);
            results[i] = chain(op.rec);
            pending.delete(op.id_);
            break;
        }
      } catch (err) {
        if (wrote || !(err instanceof ForgeError)) throw err;
        results[i] = err;
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

  // Settling an op (GroupCommit calls these as its methods) adds its line to the next report.
  function resolve(this: WireOp, v: unknown): void {
    const c = v as [number, string, string] | undefined;
    report.settled.push(c === undefined ? [this.id, null] : [this.id, null, c[0], c[1], c[2]]);
    post();
  }
  function reject(this: WireOp, e: unknown): void {
    report.settled.push([this.id, toWire(e)]);
    post();
  }

  port.on("message", (m: WireOp[] | { t: "checkpoint" } | { t: "close" }) => {
    if (Array.isArray(m)) {
      // One turn of the store's event loop: one transaction (with whatever else arrived meanwhile).
      for (const op of m) {
        const queued = op as Op;
        queued.resolve = resolve;
        queued.reject = reject;
        writes.enqueue(queued);
      }
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
