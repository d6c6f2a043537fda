import type { KeyObject } from "node:crypto";
import { isMainThread, type MessagePort, parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { Codes, ForgeError } from "../errors.js";
import { sha256Hex } from "../protocol/canonical.js";
import { Checkpoints } from "./checkpoints.js";
import type { Settle } from "./group-commit.js";
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
  /** The collector's ack persisted (meta acked_seq): an ack op at or below it writes nothing. */
  ackedSeq: number;
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
 * An append as posted to the writer: its op id and its WireRecord's strings, as a flat array. Appends
 * are the bulk of every batch, and an array crosses postMessage for about 0.55 us less per op than
 * the two objects of `{ id, t: "append", rec }` (no key per field to write, read and look up in a
 * map transition on the other side).
 */
export type WireAppend = [
  id: number,
  kind: string,
  session_id: string,
  action_id: string,
  before: string,
  after: string,
];

/** The append op a WireAppend stands for. */
function appendOp(a: WireAppend): WireOp {
  return {
    id: a[0],
    t: "append",
    rec: { kind: a[1], session_id: a[2], action_id: a[3], before: a[4], after: a[5] },
  };
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
  | { id: number; t: "resolve"; id_: string; invalid: WireError }
  | { id: number; t: "ack"; seq: number };

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

/**
 * How the ops settled, flat, SETTLED_WIDTH slots an op: `id, error, seq, prev_hash, hash`. Failed:
 * its error and `0, null, null`; committed: `null, 0, null, null`; committed chaining the record at
 * `seq`: `null, seq, prev_hash, hash`; an ack that signed the checkpoint at `seq`: `null, seq, null, null`. One flat array costs a third of what an array per op did to
 * copy across the threads.
 */
export type Settled = (number | string | WireError | null)[];
export const SETTLED_WIDTH = 5;

/** What the writer posts after a turn of commits, in commit order. */
export interface WriterReport {
  heads: Head[];
  settled: Settled;
  /** A transaction failed as a whole (the store alerts once). */
  unavailable?: WireError;
}

export type SyncCall = { t: "pages"; n: number };
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

/**
 * Records one INSERT statement writes: a transaction's rows are buffered and written this many to
 * a statement (a multi-row VALUES list), so each row does not pay a statement's own run (its
 * binding call, its statement journal, its start and halt). The chain trigger still checks each row.
 */
const ROWS_PER_INSERT = 16;
const INSERT_WIDTH = 7;

/** Most ops one transaction takes; the rest of a long turn goes in the next. */
export const MAX_BATCH_OPS = 4096;

/** What the store posts: ops of one turn, in order; `end` on the turn's last message. */
export interface OpsMessage {
  ops: (WireOp | WireAppend)[];
  end: boolean;
}

/**
 * An open transaction: its ops, their results, the head it has chained to, the ack it has written
 * (and the checkpoint that ack signed, 0 when none), and why it broke.
 */
interface Txn {
  ops: Op[];
  results: unknown[];
  seq: number;
  hash: string;
  acked: number;
  ackCheckpoint: number;
  broken: { err: unknown } | undefined;
  /** Rows chained and not inserted yet: INSERT_WIDTH values each, in seq order (flushRows). */
  rows: (string | number)[];
}

function runWriter(init: WriterInit, port: MessagePort): void {
  const db = new Database(init.path);
  db.pragma(`synchronous = ${init.synchronous}`);
  db.pragma("busy_timeout = 5000");
  if (init.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.floor(init.maxPageCount)}`);
  /** The INSERT of n rows, for n = ROWS_PER_INSERT and each smaller power of two (prepared before the first write). */
  const inserts = new Map<number, Database.Statement>();
  for (let n = ROWS_PER_INSERT; n >= 1; n >>= 1) {
    const values = Array(n).fill("(?, ?, ?, ?, ?, ?, ?)").join(", ");
    inserts.set(
      n,
      db.prepare(
        `INSERT INTO records (seq, kind, session_id, action_id, body, prev_hash, hash) VALUES ${values}`,
      ),
    );
  }
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
  let ackedSeq = init.ackedSeq;

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

  const begin = db.prepare("BEGIN IMMEDIATE");
  const commit = db.prepare("COMMIT");
  const rollback = db.prepare("ROLLBACK");

  /** The transaction being written, if any: its ops are applied as they arrive. */
  let txn: Txn | undefined;
  /** The last ops message did not end its turn: the open transaction waits for the rest of it. */
  let turnOpen = false;
  let commitScheduled = false;
  /** Synchronous calls that came while a transaction was open: answered once it committed. */
  const held: SyncCall[] = [];

  /** Starts a transaction from the committed head (a BEGIN that fails leaves it broken: every op is then tried alone). */
  const open = (): Txn => {
    const t: Txn = {
      ops: [],
      results: [],
      seq: headSeq,
      hash: headHash,
      acked: ackedSeq,
      ackCheckpoint: 0,
      broken: undefined,
      rows: [],
    };
    try {
      begin.run();
    } catch (err) {
      t.broken = { err };
    }
    return t;
  };

  /** Rolls `t` back: its ops are tried alone when it would have committed. */
  const abandon = (t: Txn, err: unknown): void => {
    t.broken = { err };
    t.rows = [];
    t.seq = headSeq;
    t.hash = headHash;
    t.acked = ackedSeq;
    t.ackCheckpoint = 0;
    if (db.inTransaction) {
      try {
        rollback.run();
      } catch {
        // SQLite rolled it back itself.
      }
    }
  };

  /** The body of `rec` at the next seq of `t`; refused (the op's own error) over maxRecordBytes. */
  const bodyAt = (t: Txn, rec: WireRecord): string => {
    const body = rec.before + (t.seq + 1) + rec.after;
    if (body.length > init.maxRecordBytes) {
      throw new ForgeError(
        Codes.EVIDENCE_INVALID,
        `evidence record is ${body.length} bytes, over the ${init.maxRecordBytes}-byte limit`,
      );
    }
    return body;
  };

  /** Inserts the rows `t` has buffered (throws SQLite's error: the transaction is then rolled back). */
  const flushRows = (t: Txn): void => {
    const rows = t.rows;
    if (rows.length === 0) return;
    t.rows = [];
    const count = rows.length / INSERT_WIDTH;
    if (count === ROWS_PER_INSERT) return void inserts.get(count)!.run(rows);
    // In seq order: as many full statements as fit, then the rest by powers of two.
    let at = 0;
    for (let n = ROWS_PER_INSERT; n >= 1; n >>= 1) {
      while (count - at >= n) {
        inserts.get(n)!.run(rows.slice(at * INSERT_WIDTH, (at + n) * INSERT_WIDTH));
        at += n;
      }
    }
  };

  /**
   * Chains `rec` (its `body` from bodyAt) at the next seq of `t`; its result is [seq, prev_hash,
   * hash]. The row is written with the next ROWS_PER_INSERT, before any other op's write, and
   * before the commit.
   */
  const chain = (t: Txn, rec: WireRecord, body: string): [number, string, string] => {
    const next = t.seq + 1;
    const prev = t.hash;
    const h = sha256Hex(prev + body);
    t.rows.push(next, rec.kind, rec.session_id, rec.action_id, body, prev, h);
    t.seq = next;
    t.hash = h;
    if (t.rows.length >= ROWS_PER_INSERT * INSERT_WIDTH) flushRows(t);
    return [next, prev, h];
  };

  /**
   * Applies op `i` of `t`. An error before the op's first write is the op's own (its result);
   * one after (SQLite's) throws: the transaction is then rolled back as a whole.
   */
  const apply = (t: Txn, op: Op, i: number): void => {
    let wrote = false;
    try {
      // The rows chained before this op are written before it (it may read them: an ack).
      if (op.t !== "append") flushRows(t);
      switch (op.t) {
        case "append": {
          const body = bodyAt(t, op.rec);
          wrote = true;
          t.results[i] = chain(t, op.rec, body);
          break;
        }
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
        case "resolve": {
          pending.require(op.id_);
          if ("invalid" in op) throw fromWire(op.invalid);
          const body = bodyAt(t, op.rec);
          wrote = true;
          t.results[i] = chain(t, op.rec, body);
          pending.delete(op.id_);
          break;
        }
        case "ack": {
          // Acks only move forward: one at or below the transaction's is already written.
          if (op.seq <= t.acked) break;
          wrote = true;
          if (cps.ack(op.seq)) {
            t.ackCheckpoint = op.seq;
            t.results[i] = op.seq;
          }
          t.acked = op.seq;
          break;
        }
      }
    } catch (err) {
      if (wrote || !(err instanceof ForgeError)) throw err;
      t.results[i] = err;
    }
  };

  /** Adds `op` to the open transaction (opening one), applying it now unless the transaction broke. */
  const add = (op: Op): void => {
    if (txn === undefined) txn = open();
    const t = txn;
    const i = t.ops.push(op) - 1;
    if (t.broken !== undefined) return;
    try {
      apply(t, op, i);
    } catch (err) {
      abandon(t, err);
    }
  };

  /** Commits `t` (signing a checkpoint if one fell due), then settles its ops; false if it failed as a whole. */
  const finish = (t: Txn): boolean => {
    if (t.broken === undefined) {
      try {
        flushRows(t);
        const checkpointed = cps.dueAt(t.seq);
        if (checkpointed) cps.insert(t.seq, t.hash);
        commit.run();
        headSeq = t.seq;
        headHash = t.hash;
        ackedSeq = t.acked;
        if (t.ackCheckpoint > cps.last) cps.last = t.ackCheckpoint;
        if (checkpointed) cps.committed(t.seq);
        report.heads.push({ seq: t.seq, hash: t.hash, checkpointed });
        for (let i = 0; i < t.ops.length; i++) {
          const r = t.results[i];
          if (r instanceof Error) t.ops[i]!.reject(r);
          else t.ops[i]!.resolve(r);
        }
        post();
        return true;
      } catch (err) {
        abandon(t, err);
      }
    }
    return false;
  };

  /** A transaction that failed as a whole, or alone. */
  const failed = (err: unknown): ForgeError => {
    const e = storeError(err);
    report.unavailable = toWire(e);
    post();
    return e;
  };

  /**
   * Commits the open transaction (or, with none, a checkpoint that fell due). One that failed as a
   * whole is retried op by op, in order, each in a transaction of its own, so only the ops that
   * fail on their own are rejected and the innocent ones that shared it are committed.
   */
  const commitNow = (): void => {
    const t = txn ?? (cps.requested && headSeq > cps.last ? open() : undefined);
    txn = undefined;
    if (t === undefined || !db.open) return;
    if (finish(t)) return;
    if (t.ops.length <= 1) {
      const e = failed(t.broken!.err);
      for (const op of t.ops) op.reject(e);
      return;
    }
    for (const op of t.ops) {
      const alone = open();
      alone.ops.push(op);
      if (alone.broken === undefined) {
        try {
          apply(alone, op, 0);
        } catch (err) {
          abandon(alone, err);
        }
      }
      if (!finish(alone)) op.reject(failed(alone.broken!.err));
    }
  };

  /** Commits once every turn that came has ended, after whatever messages are already here (they join). */
  const schedule = (): void => {
    if (commitScheduled) return;
    commitScheduled = true;
    setImmediate(() => {
      commitScheduled = false;
      if (turnOpen) return; // that turn's end commits it
      commitNow();
      answerHeld();
    });
  };

  // Settling an op (a method call on the op) adds its line to the next report.
  function resolve(this: WireOp, v: unknown): void {
    const c = v as [number, string, string] | number | undefined;
    if (c === undefined) report.settled.push(this.id, null, 0, null, null);
    else if (typeof c === "number") report.settled.push(this.id, null, c, null, null);
    else report.settled.push(this.id, null, c[0], c[1], c[2]);
    post();
  }
  function reject(this: WireOp, e: unknown): void {
    report.settled.push(this.id, toWire(e), 0, null, null);
    post();
  }

  port.on("message", (m: OpsMessage | { t: "checkpoint" } | { t: "close" }) => {
    if ("ops" in m) {
      // Applied as they come: the store posts a long turn in chunks, so its rows are written while
      // it encodes the rest. The turn's last message (`end`) lets it commit: one turn, one
      // transaction (with whatever else arrived meanwhile), at most MAX_BATCH_OPS ops.
      for (const op of m.ops) {
        const queued = (Array.isArray(op) ? appendOp(op) : op) as Op;
        queued.resolve = resolve;
        queued.reject = reject;
        add(queued);
        if (txn!.ops.length >= MAX_BATCH_OPS) commitNow();
      }
      turnOpen = !m.end;
      if (m.end) schedule();
      return;
    }
    if (m.t === "checkpoint") {
      if (headSeq > cps.last) {
        cps.requested = true;
        schedule();
      }
      return;
    }
    if (m.t === "close") {
      // The store ended its last turn before this message.
      turnOpen = false;
      commitNow();
      if (headSeq > cps.last) {
        cps.requested = true;
        commitNow();
      }
      answerHeld();
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
  const answer = (c: SyncCall): void => {
    let reply: SyncReply;
    try {
      reply = { ok: true, value: db.pragma(`max_page_count = ${Math.floor(c.n)}`, { simple: true }) };
    } catch (err) {
      reply = { ok: false, error: toWire(err) };
    }
    init.sync.postMessage(reply);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  };
  const answerHeld = (): void => {
    while (txn === undefined && held.length > 0) answer(held.shift()!);
  };
  // A call waits for the open transaction (the store ends its turn before it calls).
  init.sync.on("message", (c: SyncCall) => {
    if (txn !== undefined) held.push(c);
    else answer(c);
  });
  port.postMessage({ ready: true });
}

if (!isMainThread && (workerData as { role?: string } | null)?.role === "forge-evidence-writer") {
  runWriter(workerData as WriterInit, parentPort!);
}
