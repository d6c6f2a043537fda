import { sign as cryptoSign, randomUUID } from "node:crypto";
import { statSync } from "node:fs";
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { z } from "zod";
import { Codes, ForgeError } from "../errors.js";
import { ensurePrivateFile, SQLITE_SIDECARS } from "../platform/private-files.js";
import type { Checkpoint } from "../protocol/checkpoint.js";
import {
  draftJson,
  type EncodedRecord,
  encodeRecord,
  GENESIS_HASH,
  nowRfc3339,
  type RecordInput,
  type StoredRecord,
} from "../protocol/record.js";
import { Checkpoints } from "./checkpoints.js";
import { DeferTimer, type Settle } from "./group-commit.js";
import { type HostKey, loadOrCreateHostKey } from "./keys.js";
import {
  type PendingAction,
  PendingActionSchema,
  type PendingPatch,
  PendingPatchSchema,
  PendingTable,
  plainPending,
} from "./pending.js";
import { ACTION_BUCKET_BITS, SCHEMA_SQL, SCHEMA_VERSION } from "./schema.js";
import {
  fromWire,
  type OpsMessage,
  SETTLED_WIDTH,
  type SyncCall,
  type SyncReply,
  storeError,
  toWire,
  type WireAppend,
  type WireError,
  type WireOp,
  type WireRecord,
  type WriterInit,
  type WriterReport,
} from "./writer.js";

export { type PendingAction, PendingActionSchema } from "./pending.js";
export { storeError } from "./writer.js";

export interface StoreOptions {
  /** SQLite file (WAL); its directory is created if missing. */
  path: string;
  hostId: string;
  /** Where the host's ed25519 key lives (generated on first open, file mode 0600). */
  keyDir: string;
  /** Default FULL: a record must survive power loss before the action it allows runs (docs/evidence.md). */
  synchronous?: "FULL" | "NORMAL";
  /** Bounded buffer: appends that would leave more than this many unacked records fail with FORGE_EVIDENCE_FULL. Default 1,000,000. */
  maxUnackedRecords?: number;
  /** SQLite max_page_count for this connection (tests use it to simulate a full disk). */
  maxPageCount?: number;
  /** Sign a checkpoint every N records (default 1000). */
  checkpointEvery?: number;
  /** … or every T seconds when records arrived since the last one (default 60). */
  checkpointSeconds?: number;
  /** Largest canonical record accepted, in bytes (default 1 MiB); larger appends fail FORGE_EVIDENCE_INVALID. */
  maxRecordBytes?: number;
  /** Buffer full, SQLite unavailable (full disk, I/O error), and recovery from either. */
  onAlert?: (alert: { code: string; message: string }) => void;
}

export interface StoreStats {
  lastSeq: number;
  ackedSeq: number;
  /** Committed records not yet acked. */
  backlog: number;
  pending: number;
  /** Database file plus WAL, bytes. */
  dbBytes: number;
  /** Transactions committed by group commit since open (one sync each). */
  commits: number;
  /** Records chained since open. */
  appended: number;
}

interface RecordRow {
  seq: number;
  body: string;
  prev_hash: string;
  hash: string;
}

/**
 * Ops of one turn posted together: a longer turn goes to the writer in chunks of this many, so
 * the two threads overlap (still one transaction, writer.ts).
 */
const CHUNK_OPS = 16;

/** How long a synchronous call (setMaxPageCount) waits for the writer before failing closed. */
const SYNC_CALL_MS = 30_000;

function invalid(what: string, err: unknown): ForgeError {
  const issues =
    err instanceof z.ZodError
      ? err.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")
      : String((err as Error).message ?? err);
  return new ForgeError(Codes.EVIDENCE_INVALID, `invalid ${what}: ${issues}`, { cause: err });
}

/**
 * The host's evidence store: a hash-chained, append-only log of records in SQLite, plus durable
 * pending actions (pending.ts) and signed checkpoints and acks (checkpoints.ts). Writes are
 * group-committed (writer.ts): every write queued during one turn of the event loop shares
 * one transaction and one sync, and each promise resolves only after that commit. This file chains
 * the records and answers the queries.
 */
export class EvidenceStore {
  readonly hostId: string;
  /** Random id made when the database file is created; a wiped/recreated store has a new epoch. */
  readonly epoch: string;
  /** The host's ed25519 public key (SPKI PEM). */
  readonly publicKeyPem: string;

  private readonly db: Database.Database;
  private readonly key: HostKey;
  private readonly path: string;
  private readonly maxUnacked: number;
  private readonly maxRecordBytes: number;
  private readonly onAlert: (alert: { code: string; message: string }) => void;
  private readonly listeners = new Set<(lastSeq: number) => void>();
  private readonly commitListeners = new Set<(records: readonly StoredRecord[]) => void>();
  private readonly pendingListeners = new Set<(p: PendingAction) => void>();
  /** records() statements by SQL text (at most 8 filter combinations). */
  private readonly queries = new Map<string, Database.Statement>();
  private readonly timer: NodeJS.Timeout;

  private headSeq: number;
  private headHash: string;
  private acked: number;
  private closed = false;
  private fullAlerted = false;
  private unavailableAlerted = false;
  private commits = 0;
  private appended = 0;

  private readonly st: ReturnType<EvidenceStore["prepare"]>;
  private readonly pending: PendingTable;
  private readonly cps: Checkpoints;
  /** The writer thread (writer.ts): the only connection that writes the file, and the chain head's owner. */
  private readonly worker: Worker;
  private readonly syncPort: MessagePort;
  private readonly syncFlag: Int32Array;
  /** Ops posted to the writer and not settled yet, by id (with the record an append or resolve chains). */
  private readonly inflight = new Map<number, Settle<unknown> & { record: StoredRecord | undefined }>();
  private nextOp = 1;
  /** Ops queued in this turn, not posted yet. */
  private batch: (WireOp | WireAppend)[] = [];
  private scheduled = false;
  /** Chunks of this turn went to the writer, and its end (post) has not. */
  private turnOpen = false;
  /** The timer that posts deferred ops no other op's batch took along. */
  private readonly deferred = new DeferTimer(() => this.schedule());
  /** Records posted and not committed yet (the buffer bound counts them as taken). */
  private queued = 0;
  /** Set when the writer thread failed: every write is refused from then on. */
  private dead: ForgeError | undefined;
  private exited: Promise<void>;
  private readonly started: Promise<void>;

  private constructor(opts: StoreOptions) {
    this.hostId = opts.hostId;
    this.path = opts.path;
    this.maxUnacked = opts.maxUnackedRecords ?? 1_000_000;
    this.maxRecordBytes = opts.maxRecordBytes ?? 1024 * 1024;
    const checkpointEvery = opts.checkpointEvery ?? 1000;
    this.onAlert = opts.onAlert ?? (() => {});
    if (!opts.hostId) throw new ForgeError(Codes.EVIDENCE_INVALID, "hostId must be a non-empty string");
    const synchronous = opts.synchronous ?? "FULL";
    if (synchronous !== "FULL" && synchronous !== "NORMAL") {
      throw new ForgeError(
        Codes.EVIDENCE_INVALID,
        `synchronous must be "FULL" or "NORMAL", got ${JSON.stringify(synchronous)}`,
      );
    }
    if (!(this.maxUnacked >= 1) || !(checkpointEvery >= 1)) {
      throw new ForgeError(Codes.EVIDENCE_INVALID, "maxUnackedRecords and checkpointEvery must be >= 1");
    }
    const seconds = opts.checkpointSeconds ?? 60;
    if (!(seconds > 0) || !Number.isFinite(seconds)) {
      throw new ForgeError(
        Codes.EVIDENCE_INVALID,
        `checkpointSeconds must be a positive number, got ${seconds}`,
      );
    }

    this.key = loadOrCreateHostKey(opts.keyDir);
    this.publicKeyPem = this.key.publicKeyPem;

    let meta: Record<string, string>;
    try {
      // 0600 from creation (and its -wal/-shm, which SQLite creates with the database's mode).
      ensurePrivateFile(opts.path, SQLITE_SIDECARS);
      this.db = new Database(opts.path);
    } catch (err) {
      throw storeError(err);
    }
    try {
      const mode = this.db.pragma("journal_mode = WAL", { simple: true });
      if (mode !== "wal") throw new Error(`journal_mode is ${mode}, expected wal`);
      this.db.pragma(`synchronous = ${synchronous}`);
      this.db.pragma("busy_timeout = 5000");
      if (opts.maxPageCount !== undefined)
        this.db.pragma(`max_page_count = ${Math.floor(opts.maxPageCount)}`);
      this.db.exec(SCHEMA_SQL);
      const initMeta = this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)");
      this.db
        .transaction(() => {
          initMeta.run("schema_version", String(SCHEMA_VERSION));
          initMeta.run("host_id", opts.hostId);
          initMeta.run("epoch", randomUUID());
          initMeta.run("created_at", nowRfc3339());
          initMeta.run("acked_seq", "0");
          initMeta.run("base_seq", "0");
          initMeta.run("base_hash", GENESIS_HASH);
          initMeta.run("public_key_pem", this.publicKeyPem);
          // "open" until close() has signed the final checkpoint (verify tells a crash from a deleted one).
          initMeta.run("state", "open");
          this.db.prepare("UPDATE meta SET value = 'open' WHERE key = 'state'").run();
          // SCHEMA_SQL has just brought an older file's indexes up to date.
          this.db
            .prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'")
            .run(String(SCHEMA_VERSION));
        })
        .immediate();
      meta = readMeta(this.db);
    } catch (err) {
      this.db.close();
      throw storeError(err);
    }
    if (meta.host_id !== opts.hostId) {
      this.db.close();
      throw new ForgeError(
        Codes.CONFLICT,
        `evidence database ${opts.path} belongs to host '${meta.host_id}', not '${opts.hostId}': use that host id or another file`,
      );
    }
    if (meta.public_key_pem !== this.publicKeyPem) {
      // Its checkpoints were signed with another key: continuing would leave a chain no one can verify.
      this.db.close();
      throw new ForgeError(
        Codes.CONFLICT,
        `evidence database ${opts.path} was signed with a different host key than the one in ${opts.keyDir}: restore that key, or move the database aside to start a new chain`,
      );
    }
    this.epoch = meta.epoch!;
    this.acked = Number(meta.acked_seq);
    this.st = this.prepare();
    this.pending = new PendingTable(this.db);
    this.cps = new Checkpoints(this.db, this.key, this.hostId, checkpointEvery);
    const head = this.st.head.get() as { seq: number; hash: string } | undefined;
    this.headSeq = head?.seq ?? Number(meta.base_seq);
    this.headHash = head?.hash ?? meta.base_hash!;
    const sync = new MessageChannel();
    const flag = new SharedArrayBuffer(4);
    this.syncPort = sync.port1;
    this.syncFlag = new Int32Array(flag);
    const init: WriterInit = {
      role: "forge-evidence-writer",
      path: opts.path,
      hostId: this.hostId,
      privateKey: this.key.privateKey,
      publicKeyPem: this.publicKeyPem,
      synchronous,
      maxPageCount: opts.maxPageCount,
      checkpointEvery,
      maxRecordBytes: this.maxRecordBytes,
      headSeq: this.headSeq,
      headHash: this.headHash,
      ackedSeq: this.acked,
      sync: sync.port2,
      flag,
    };
    try {
      // No inherited flags: the parent's (--input-type, --eval…) can stop a worker from starting.
      this.worker = new Worker(writerUrl(), { workerData: init, transferList: [sync.port2], execArgv: [] });
    } catch (err) {
      this.db.close();
      throw storeError(err);
    }
    this.worker.on("message", (m: WriterReport | { ready: true } | { closed: boolean }) => this.report(m));
    this.started = new Promise<void>((resolve, reject) => {
      const on = (m: unknown) => {
        if (m !== null && typeof m === "object" && "ready" in m) {
          this.worker.off("message", on);
          // Like a database handle, an idle store does not keep the process alive; a starting
          // writer or a write in flight does.
          if (this.inflight.size === 0 && !this.closed) this.worker.unref();
          resolve();
        }
      };
      this.worker.on("message", on);
      this.worker.once("exit", () => reject(this.dead));
    });
    this.started.catch(() => {});
    this.worker.on("error", (err) => this.writerFailed(err));
    this.exited = new Promise((resolve) =>
      this.worker.once("exit", (code) => {
        this.writerFailed(new Error(`the evidence writer thread exited (code ${code})`));
        resolve();
      }),
    );

    this.timer = setInterval(() => {
      if (this.headSeq > this.cps.last) this.worker.postMessage({ t: "checkpoint" });
    }, seconds * 1000);
    this.timer.unref();
  }

  /**
   * Settles once the writer thread has opened its connection (writes queued before then wait for
   * it); rejects FORGE_EVIDENCE_UNAVAILABLE if it failed. A daemon awaits it before it listens.
   */
  ready(): Promise<void> {
    return this.started;
  }

  /** Opens (creating if needed) the store at `opts.path`. Throws FORGE_EVIDENCE_UNAVAILABLE if SQLite cannot. */
  static open(opts: StoreOptions): EvidenceStore {
    return new EvidenceStore(opts);
  }

  private prepare() {
    const db = this.db;
    return {
      head: db.prepare("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1"),
      get: db.prepare("SELECT seq, body, prev_hash, hash FROM records WHERE seq = ?"),
      after: db.prepare("SELECT seq, body, prev_hash, hash FROM records WHERE seq > ? ORDER BY seq LIMIT ?"),
    };
  }

  /** Sets SQLite's max_page_count for this connection (returns the limit in effect). */
  setMaxPageCount(pages: number): number {
    if (this.dead) throw this.dead;
    return this.call({ t: "pages", n: pages }) as number;
  }

  /**
   * A synchronous call to the writer thread: posts `c` and blocks this thread until the writer
   * answered (after whatever commit it is in). Throws the writer's error, or fails closed when
   * the writer does not answer within SYNC_CALL_MS.
   */
  private call(c: SyncCall): unknown {
    // The writer answers between transactions: a turn whose first chunks it holds ends here.
    if (this.turnOpen) this.post();
    Atomics.store(this.syncFlag, 0, 0);
    this.syncPort.postMessage(c);
    if (Atomics.wait(this.syncFlag, 0, 0, SYNC_CALL_MS) === "timed-out") {
      const e = new ForgeError(
        Codes.EVIDENCE_UNAVAILABLE,
        `evidence store unavailable: the writer thread did not answer within ${SYNC_CALL_MS} ms`,
        { details: { writer: "unresponsive" } },
      );
      this.writerFailed(e);
      throw e;
    }
    const reply = receiveMessageOnPort(this.syncPort)?.message as SyncReply | undefined;
    if (reply === undefined)
      throw new ForgeError(Codes.EVIDENCE_UNAVAILABLE, "evidence writer gave no answer");
    if (!reply.ok) throw fromWire(reply.error);
    return reply.value;
  }

  /**
   * Queues one op for the writer; `s` settles when the writer reports its commit (or failure),
   * with `record` (an append's or resolve's, encoded here) completed by its seq and hashes. Every
   * op queued during one turn of the event loop goes to the writer in one message, so they share
   * one transaction (the writer may add ops that arrived while it was committing). With
   * `deferMs` > 0 the op starts no batch of its own: it goes with the next one another op starts,
   * or after `deferMs` ms at the latest.
   */
  private enqueue(
    op: DistributiveOmit<WireOp, "id"> | WireAppend,
    s: Settle<unknown>,
    record?: StoredRecord,
    deferMs = 0,
  ): void {
    const id = this.nextOp++;
    this.inflight.set(id, { resolve: s.resolve, reject: s.reject, record });
    if (record !== undefined) this.queued++;
    if (this.inflight.size === 1) this.worker.ref();
    if (Array.isArray(op)) op[0] = id;
    else (op as WireOp).id = id;
    this.batch.push(op as WireOp | WireAppend);
    if (deferMs <= 0) {
      // A long turn goes in chunks, so the writer writes its first rows while this thread encodes
      // the rest; the turn's last message (post) still ends its one transaction.
      if (this.batch.length >= CHUNK_OPS) this.postChunk();
      this.schedule();
      return;
    }
    this.deferred.within(deferMs);
  }

  /** Posts the ops queued so far in this turn, which goes on: the writer applies them and waits for the turn's end. */
  private postChunk(): void {
    if (this.dead) return;
    const m: OpsMessage = { ops: this.batch, end: false };
    this.batch = [];
    this.turnOpen = true;
    this.worker.postMessage(m);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // setImmediate runs after the promise callbacks of this turn, so every producer that was
    // woken by the previous commit has queued its next op by then: they share one message.
    setImmediate(() => this.post());
  }

  /**
   * Posts the ops queued in this turn to the writer, as one batch. Ops hold only strings and
   * numbers (records are encoded before they are queued), so the copy cannot fail.
   */
  private post(): void {
    this.scheduled = false;
    this.deferred.clear();
    const ops = this.batch;
    this.batch = [];
    if ((ops.length === 0 && !this.turnOpen) || this.dead) return;
    this.turnOpen = false;
    const m: OpsMessage = { ops, end: true };
    this.worker.postMessage(m);
  }

  /**
   * Validates and encodes `rec` for the writer (the canonical body around its seq) and makes the
   * record the caller gets back once it is chained. Throws FORGE_EVIDENCE_INVALID.
   */
  private encode(rec: RecordInput): { wire: WireRecord; record: StoredRecord } {
    let enc: ReturnType<typeof encodeRecord>;
    try {
      enc = encodeRecord(rec, this.hostId);
    } catch (err) {
      throw invalid("evidence record", err);
    }
    const r = enc.record;
    return {
      wire: {
        kind: r.kind,
        session_id: r.session_id,
        action_id: r.action_id,
        before: enc.before,
        after: enc.after,
      },
      record: r,
    };
  }

  /** A report from the writer: the heads of the commits it made, then the ops they settled, in order. */
  private report(m: WriterReport | { ready: true } | { closed: boolean }): void {
    if ("ready" in m || "closed" in m) return;
    const before = this.headSeq;
    for (const head of m.heads) {
      this.appended += head.seq - this.headSeq;
      this.headSeq = head.seq;
      this.headHash = head.hash;
      if (head.checkpointed) this.cps.committed(head.seq);
      this.commits++;
    }
    if (m.heads.length > 0 && this.unavailableAlerted && m.unavailable === undefined) {
      this.unavailableAlerted = false;
      this.onAlert({
        code: Codes.EVIDENCE_RECOVERED,
        message: "evidence store writable again: appends resume",
      });
    }
    const chained: StoredRecord[] = [];
    const s = m.settled;
    for (let i = 0; i < s.length; i += SETTLED_WIDTH) {
      const id = s[i] as number;
      const op = this.inflight.get(id);
      if (op === undefined) continue;
      this.inflight.delete(id);
      const rec = op.record;
      if (rec !== undefined) this.queued--;
      const error = s[i + 1] as WireError | null;
      const seq = s[i + 2] as number;
      if (error !== null) op.reject(fromWire(error));
      else if (seq > 0 && rec !== undefined) {
        rec.seq = seq;
        rec.prev_hash = s[i + 3] as string;
        rec.hash = s[i + 4] as string;
        chained.push(rec);
        op.resolve(rec);
      } else op.resolve(seq);
    }
    if (this.inflight.size === 0 && !this.closed) this.worker.unref();
    if (m.unavailable !== undefined) this.unavailable(fromWire(m.unavailable));
    if (this.headSeq > before) for (const l of this.listeners) l(this.headSeq);
    if (chained.length > 0) {
      chained.sort((a, b) => a.seq - b.seq);
      for (const l of this.commitListeners) l(chained);
    }
  }

  /** The writer thread failed (or exited): every op in flight fails closed, and so does every later write. */
  private writerFailed(err: unknown): void {
    if (this.dead) return;
    this.dead =
      err instanceof ForgeError
        ? err
        : new ForgeError(
            Codes.EVIDENCE_UNAVAILABLE,
            `evidence store unavailable: the writer thread failed (${(err as Error).message ?? String(err)})`,
            { details: { writer: "failed" } },
          );
    if (this.closed && this.inflight.size === 0) return;
    for (const op of this.inflight.values()) op.reject(this.dead);
    this.inflight.clear();
    this.queued = 0;
    if (!this.closed) this.onAlert({ code: Codes.EVIDENCE_UNAVAILABLE, message: this.dead.message });
  }

  /** Signs `data` with the host key (ed25519). */
  sign(data: Uint8Array): Buffer {
    return cryptoSign(null, data, this.key.privateKey);
  }

  /**
   * Validates and chains one record; resolves with it once committed, rejects FORGE_EVIDENCE_INVALID
   * (consuming no seq) if it is not a valid record. The record is encoded at the call (what is
   * hashed and stored is fixed then); the record it resolves with shares the caller's nested
   * objects (proposed_action, composition_state…), as the listeners' copy does.
   */
  append(rec: RecordInput): Promise<StoredRecord> {
    return new Promise((resolve, reject) => {
      const refused = this.admit(1);
      if (refused) return reject(refused);
      let enc: { wire: WireRecord; record: StoredRecord };
      try {
        enc = this.encode(rec);
      } catch (err) {
        return reject(err);
      }
      const w = enc.wire;
      const op: WireAppend = [0, w.kind, w.session_id, w.action_id, w.before, w.after];
      this.enqueue(op, { resolve, reject } as Settle<unknown>, enc.record);
    });
  }

  /** Stores (or replaces) a pending action; resolves once durable. */
  putPending(p: PendingAction): Promise<void> {
    return new Promise((resolve, reject) => {
      const refused = this.admit(0);
      if (refused) return reject(refused);
      let parsed: PendingAction;
      let text: string;
      try {
        // The common case without zod: the row's own fields certain, its draft on the fast path.
        const enc = plainPending(p) ? this.plainDraft(p.record) : undefined;
        if (enc !== undefined) {
          parsed = p;
          text = this.sizedDraft(enc);
        } else {
          parsed = PendingActionSchema.parse(p);
          text = this.draftText(parsed.record);
        }
      } catch (err) {
        return reject(invalid("pending action", err));
      }
      const durable = () => {
        resolve();
        for (const l of this.pendingListeners) l(parsed);
      };
      const { record: _draft, ...row } = parsed;
      this.enqueue({ t: "put", p: row, text }, { resolve: durable, reject } as Settle<unknown>);
    });
  }

  /** Changes a pending action's state, deadline or draft record; FORGE_NOT_FOUND if it is not pending. */
  updatePending(action_id: string, patch: PendingPatch): Promise<void> {
    return new Promise((resolve, reject) => {
      const refused = this.admit(0);
      if (refused) return reject(refused);
      let parsed: typeof patch;
      let text: string | undefined;
      try {
        parsed = PendingPatchSchema.parse(patch);
        text = parsed.record === undefined ? undefined : this.draftText(parsed.record);
      } catch (err) {
        return reject(invalid("pending action patch", err));
      }
      // A changed pending action goes to the listeners too (the shipper re-sends the decision, so
      // the collector's copy shows an approved escalation as allowed, issue 20).
      const durable = () => {
        resolve();
        const now = this.pending.get(action_id);
        if (now !== null && now !== undefined) for (const l of this.pendingListeners) l(now);
      };
      const { record: _draft, ...fields } = parsed;
      this.enqueue({ t: "update", id_: action_id, patch: fields, text }, {
        resolve: durable,
        reject,
      } as Settle<unknown>);
    });
  }

  /**
   * Chains the final record and deletes the pending row in one transaction; FORGE_NOT_FOUND if not
   * pending. With `deferMs` > 0 the op starts no commit of its own: it joins the next group commit
   * another op starts, or commits after `deferMs` ms (a reported result then shares the sync of the
   * next proposal instead of adding one). It still resolves only once committed.
   */
  resolvePending(action_id: string, final: RecordInput, deferMs = 0): Promise<StoredRecord> {
    return new Promise((resolve, reject) => {
      const refused = this.admit(1);
      if (refused) return reject(refused);
      const settle = { resolve, reject } as Settle<unknown>;
      let enc: { wire: WireRecord; record: StoredRecord };
      try {
        enc = this.encode(final);
      } catch (err) {
        // Still goes to the writer, which checks the pending row first: NOT_FOUND before INVALID.
        this.enqueue({ t: "resolve", id_: action_id, invalid: toWire(err) }, settle, undefined, deferMs);
        return;
      }
      this.enqueue({ t: "resolve", id_: action_id, rec: enc.wire }, settle, enc.record, deferMs);
    });
  }

  /**
   * The JSON a pending row stores for a draft record, made before the op joins a batch. The draft
   * must be a record the chain can take (encodeRecord: valid, finite numbers, bounded depth and
   * size): a draft that can never be chained would be an ALLOW with no final record.
   */
  private draftText(draft: RecordInput): string {
    return this.sizedDraft(encodeRecord(draft, this.hostId));
  }

  /** The draft's canonical JSON (draftJson), refused when the chained record would be over maxRecordBytes. */
  private sizedDraft(enc: EncodedRecord): string {
    const bytes = enc.before.length + enc.after.length + 20;
    if (bytes > this.maxRecordBytes) {
      throw new ForgeError(
        Codes.EVIDENCE_INVALID,
        `draft record is about ${bytes} bytes, over the ${this.maxRecordBytes}-byte limit`,
      );
    }
    return draftJson(enc);
  }

  /**
   * `draft` encoded on encodeRecord's fast path (valid as it stands, zod would strip nothing), or
   * undefined: then zod parses the whole pending action, for its stripped copy or its error.
   */
  private plainDraft(draft: unknown): EncodedRecord | undefined {
    try {
      const enc = encodeRecord(draft, this.hostId);
      return enc.host === undefined ? undefined : enc;
    } catch {
      return undefined;
    }
  }

  getPending(action_id: string): PendingAction | undefined {
    this.live();
    return this.pending.get(action_id);
  }

  listPending(): PendingAction[] {
    this.live();
    return this.pending.list();
  }

  get(seq: number): StoredRecord | undefined {
    this.live();
    const row = this.st.get.get(seq) as RecordRow | undefined;
    return row && recordFromRow(row);
  }

  /** Records matching every given filter, ascending seq; limit defaults to 10,000. */
  records(q: {
    after_seq?: number;
    session_id?: string;
    action_id?: string;
    kind?: string;
    limit?: number;
  }): StoredRecord[] {
    this.live();
    const after = q.after_seq ?? 0;
    const where: string[] = ["r.seq > ?"];
    const args: unknown[] = [];
    let from = "records AS r";
    if (q.action_id !== undefined) {
      // Probe records_action_bucket one bucket at a time, from the oldest row that can match (rows
      // up to the acked seq are pruned) to the head: a seek per 1024 records, never a table scan.
      const lo = Math.max(after, this.acked) + 1;
      from = `b CROSS JOIN records AS r`;
      // Division, not >>: JS shifts are 32-bit, seq is not.
      const bucket = (seq: number) => Math.floor(seq / 2 ** ACTION_BUCKET_BITS);
      args.push(bucket(lo), bucket(this.headSeq));
      where.push(`(r.seq >> ${ACTION_BUCKET_BITS}) = b.k`, "r.action_id = ?");
    }
    args.push(after);
    if (q.action_id !== undefined) args.push(q.action_id);
    if (q.session_id !== undefined) {
      where.push("r.session_id = ?");
      args.push(q.session_id);
    }
    if (q.kind !== undefined) {
      where.push("r.kind = ?");
      args.push(q.kind);
    }
    args.push(q.limit ?? 10_000);
    const buckets =
      q.action_id === undefined
        ? ""
        : "WITH RECURSIVE b(k) AS (SELECT ? UNION ALL SELECT k + 1 FROM b WHERE k < ?) ";
    const sql = `${buckets}SELECT r.seq, r.body, r.prev_hash, r.hash FROM ${from} WHERE ${where.join(" AND ")} ORDER BY r.seq LIMIT ?`;
    let stmt = this.queries.get(sql);
    if (stmt === undefined) {
      stmt = this.db.prepare(sql);
      this.queries.set(sql, stmt);
    }
    return (stmt.all(...args) as RecordRow[]).map(recordFromRow);
  }

  /** Highest committed seq (0 if none); never goes down, even after pruning. */
  lastSeq(): number {
    return this.headSeq;
  }

  /** Hash of the record at lastSeq() (the pruning anchor's when every record is pruned; zeros when empty). */
  lastHash(): string {
    return this.headHash;
  }

  /** Highest seq the collector acked (persisted). */
  ackedSeq(): number {
    return this.acked;
  }

  /**
   * Persists the collector's ack and prunes every record up to it; resolves once that is durable.
   * Before pruning, a checkpoint is signed at the ack point, so the remaining chain stays anchored
   * to a signed hash. The writer thread does it, in a group commit like any write: this thread
   * never waits for the prune or its sync, and ackedSeq() moves once it committed. Rejects
   * FORGE_CONFLICT for an ack beyond the last committed seq, FORGE_EVIDENCE_UNAVAILABLE if SQLite
   * fails (nothing changed then).
   */
  markAcked(seq: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(closedError());
      if (!Number.isInteger(seq) || seq < 0)
        return reject(
          new ForgeError(Codes.EVIDENCE_INVALID, `ack seq must be a whole number >= 0, got ${seq}`),
        );
      if (seq > this.headSeq) {
        return reject(
          new ForgeError(
            Codes.CONFLICT,
            `ack for seq ${seq} is beyond the last committed seq ${this.headSeq}`,
          ),
        );
      }
      if (seq <= this.acked) return resolve();
      if (this.dead) return reject(this.dead);
      const durable = (checkpoint: unknown) => {
        if ((checkpoint as number) > this.cps.last) this.cps.last = checkpoint as number;
        if (seq > this.acked) this.acked = seq;
        if (this.fullAlerted && this.headSeq + this.queued - this.acked < this.maxUnacked) {
          this.fullAlerted = false;
          this.onAlert({
            code: Codes.EVIDENCE_RECOVERED,
            message: "evidence buffer has room again: appends resume",
          });
        }
        resolve();
      };
      this.enqueue({ t: "ack", seq }, { resolve: durable, reject });
    });
  }

  /** Committed records after `after_seq`, ascending, at most `limit`. */
  unshipped(after_seq: number, limit: number): StoredRecord[] {
    this.live();
    return (this.st.after.all(after_seq, limit) as RecordRow[]).map(recordFromRow);
  }

  /** Calls `listener(lastSeq)` after each commit that chained records; returns the unsubscribe function. */
  /** Called after each pending action (a decision not final yet) is durable, and again after each change to it; returns the unsubscribe. */
  onPending(listener: (p: PendingAction) => void): () => void {
    this.pendingListeners.add(listener);
    return () => this.pendingListeners.delete(listener);
  }

  onAppend(listener: (lastSeq: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Calls `listener(records)` after each commit that chained records, with those records as
   * committed (ascending; the objects the appenders receive: read them, do not change them), so
   * a listener that needs them does not read them back. Returns the unsubscribe function.
   */
  onCommit(listener: (records: readonly StoredRecord[]) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  checkpoints(after_seq = 0): Checkpoint[] {
    this.live();
    return this.cps.list(after_seq, this.publicKeyPem);
  }

  stats(): StoreStats {
    this.live();
    let dbBytes = 0;
    for (const f of [this.path, `${this.path}-wal`]) {
      try {
        dbBytes += statSync(f).size;
      } catch {
        // no WAL yet
      }
    }
    return {
      lastSeq: this.headSeq,
      ackedSeq: this.acked,
      backlog: this.headSeq - this.acked,
      pending: this.pending.count(),
      dbBytes,
      commits: this.commits,
      appended: this.appended,
    };
  }

  /**
   * Commits queued work, signs a final checkpoint if records arrived since the last one, marks
   * the file closed cleanly (meta state), then closes. verify requires that tail checkpoint.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    const closedMsg = new Promise<void>((resolve) => {
      const on = (m: unknown) => {
        if (m !== null && typeof m === "object" && "closed" in m) {
          this.worker.off("message", on);
          resolve();
        }
      };
      this.worker.on("message", on);
      this.exited.then(resolve);
    });
    this.post();
    // The writer's answer is what keeps the process alive until the store is closed.
    this.worker.ref();
    if (!this.dead) this.worker.postMessage({ t: "close" });
    await closedMsg;
    await this.worker.terminate();
    await this.exited;
    this.listeners.clear();
    this.commitListeners.clear();
    this.pendingListeners.clear();
    this.db.close();
  }

  /** Throws FORGE_EVIDENCE_CLOSED after close(), rather than SQLite's TypeError. */
  private live(): void {
    if (this.closed) throw closedError();
  }

  /** Null when one more record fits; otherwise the error to reject with (and the alert, once). */
  private admit(n: number): ForgeError | null {
    if (this.closed) return closedError();
    if (this.dead) return this.dead;
    if (n === 0) return null;
    if (this.headSeq + this.queued + n - this.acked > this.maxUnacked) {
      const err = new ForgeError(
        Codes.EVIDENCE_FULL,
        `evidence buffer full: ${this.headSeq + this.queued - this.acked} records await the collector's ack (max ${this.maxUnacked}); the action is refused until records are shipped`,
      );
      if (!this.fullAlerted) {
        this.fullAlerted = true;
        this.onAlert({ code: Codes.EVIDENCE_FULL, message: err.message });
      }
      return err;
    }
    return null;
  }

  private unavailable(err: unknown): ForgeError {
    const e = storeError(err);
    if (!this.unavailableAlerted) {
      this.unavailableAlerted = true;
      this.onAlert({ code: Codes.EVIDENCE_UNAVAILABLE, message: e.message });
    }
    return e;
  }

  // --- shipping: raw rows (owned by the shipper work) ---

  /**
   * Committed records after `after_seq`, ascending, at most `limit`, as stored: `body` is the
   * canonical JSON text `hash` covers (sha256(prev_hash + body)). Nothing is parsed, so the
   * shipper can send the text as-is.
   */
  unshippedRaw(
    after_seq: number,
    limit: number,
  ): { seq: number; body: string; prev_hash: string; hash: string }[] {
    this.live();
    return this.st.after.all(after_seq, limit) as RecordRow[];
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * The writer thread's script: writer.js beside this file. Under the tests this file is TypeScript
 * (vitest) and a worker cannot load .ts, so the writer comes from the build (dist/, which the
 * tests that open a store build first).
 */
function writerUrl(): URL {
  const here = new URL(import.meta.url);
  if (here.pathname.endsWith(".ts")) return new URL("../../dist/src/evidence/writer.js", here);
  return new URL("./writer.js", here);
}

function closedError(): ForgeError {
  return new ForgeError(Codes.EVIDENCE_CLOSED, "evidence store is closed");
}

function recordFromRow(row: RecordRow): StoredRecord {
  const rec = JSON.parse(row.body) as StoredRecord;
  rec.prev_hash = row.prev_hash;
  rec.hash = row.hash;
  return rec;
}

/** The meta table as an object. */
export function readMeta(db: Database.Database): Record<string, string> {
  const out: Record<string, string> = {};
  for (const r of db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[])
    out[r.key] = r.value;
  return out;
}
