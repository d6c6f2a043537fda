/** A queued write: settled once the transaction that holds it committed (or failed). */
export interface Settle<T> {
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

/** What a group commit asks of the store it commits for. */
export interface GroupCommitHooks<Op, Out> {
  /**
   * Runs `ops` in one transaction, filling `results[i]` with op i's value or its own error (an op
   * invalid on its own fails alone). Throws when the transaction failed as a whole and rolled back.
   */
  transact(ops: Op[], results: unknown[]): Out;
  /** After a committed transaction, before any of its ops settles (the head moves here). */
  committed(out: Out): void;
  /** After every op of a committed transaction settled (append listeners run here). */
  settled(out: Out): void;
  /** The error a lone op is rejected with when its own transaction failed. */
  failed(err: unknown): unknown;
  /** Records `op` chains (0 or 1): what the bounded buffer counts while it waits. */
  records(op: Op): number;
  /** Work to commit with no op queued (a checkpoint that fell due). */
  due(): boolean;
  /** False once the database is closed: nothing more can be committed. */
  ready(): boolean;
}

/** Most ops one group-commit transaction takes; the rest wait for the next turn of the event loop. */
export const MAX_BATCH_OPS = 4096;

/**
 * Group commit: every write queued during one turn of the event loop shares one transaction and
 * one sync, and each settles only after that commit. A batch that fails as a whole is retried op
 * by op, so only the ops that fail on their own are rejected.
 */
export class GroupCommit<Op extends Settle<never>, Out> {
  private queue: Op[] = [];
  private queuedRecords = 0;
  private scheduled = false;
  private stopped = false;
  /** The timer that commits deferred ops no other op's commit took along. */
  private readonly deferred = new DeferTimer(() => this.schedule());

  constructor(private readonly hooks: GroupCommitHooks<Op, Out>) {}

  /** Records queued and not yet in a transaction (the buffer bound counts them as taken). */
  get queued(): number {
    return this.queuedRecords;
  }

  /**
   * Queues `op` for the next transaction. With `deferMs` > 0 it starts no commit of its own: it
   * joins the next one another op starts, or commits after `deferMs` ms at the latest.
   */
  enqueue(op: Op, deferMs = 0): void {
    this.queue.push(op);
    this.queuedRecords += this.hooks.records(op);
    if (deferMs <= 0) {
      this.schedule();
      return;
    }
    this.deferred.within(deferMs);
  }

  /** Asks for a transaction in the next turn even with nothing queued (hooks.due() says what). */
  schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    // setImmediate runs after the promise callbacks of this turn, so every producer that was
    // woken by the previous commit has queued its next append by then: they share one commit.
    setImmediate(() => this.flush());
  }

  /** Stops scheduling and commits everything still queued, now (close() does this). */
  drain(): void {
    this.stopped = true;
    while (this.queue.length > 0) this.flush();
  }

  /** Commits everything queued in one transaction, then settles every op. */
  flush(): void {
    this.scheduled = false;
    this.deferred.clear();
    if (this.queue.length === 0 && !this.hooks.due()) return;
    if (!this.hooks.ready()) return;
    // A bounded batch keeps one transaction (and the event-loop stall it causes) short; the rest
    // of the queue goes in the next turn.
    let ops = this.queue;
    if (ops.length > MAX_BATCH_OPS) {
      this.queue = ops.slice(MAX_BATCH_OPS);
      ops = ops.slice(0, MAX_BATCH_OPS);
      this.schedule();
    } else {
      this.queue = [];
    }
    for (const op of ops) this.queuedRecords -= this.hooks.records(op);
    if (this.commit(ops)) return;
    // The batch failed as a whole. Whatever made it fail may belong to one op alone, so each op is
    // retried in a transaction of its own, in order: only the ops that fail on their own are
    // rejected, and the innocent ones that shared the batch are committed (a sync each).
    for (const op of ops) this.commit([op]);
  }

  /**
   * Runs `ops` in one transaction and settles each op. Returns false, having settled nothing, when
   * the transaction failed as a whole and rolled back; a single op that fails that way is rejected
   * with hooks.failed(err).
   */
  private commit(ops: Op[]): boolean {
    const results: unknown[] = new Array(ops.length);
    let out: Out;
    try {
      out = this.hooks.transact(ops, results);
    } catch (err) {
      if (ops.length > 1) return false;
      const e = this.hooks.failed(err);
      for (const op of ops) op.reject(e);
      return true;
    }
    this.hooks.committed(out);
    for (let i = 0; i < ops.length; i++) {
      const r = results[i];
      if (r instanceof Error) ops[i]!.reject(r);
      else (ops[i]!.resolve as (v: unknown) => void)(r);
    }
    this.hooks.settled(out);
    return true;
  }
}

/**
 * One timer for deferred work: `within(ms)` makes sure `fire` runs within `ms` at the latest (a
 * sooner deadline already set stands); `clear()` once the work ran anyway.
 */
export class DeferTimer {
  private pending: { due: number; timer: NodeJS.Timeout } | undefined;

  constructor(private readonly fire: () => void) {}

  within(ms: number): void {
    const due = Date.now() + ms;
    if (this.pending !== undefined && this.pending.due <= due) return;
    if (this.pending !== undefined) clearTimeout(this.pending.timer);
    this.pending = { due, timer: setTimeout(this.fire, ms) };
  }

  clear(): void {
    if (this.pending === undefined) return;
    clearTimeout(this.pending.timer);
    this.pending = undefined;
  }
}
