/**
 * Group commit's small parts. The write queue itself is split across the two threads: the store
 * (store.ts) posts each turn's ops, the writer (writer.ts) applies them as they arrive and commits
 * once the turn ended.
 */

/** A queued write: settled once the transaction that holds it committed (or failed). */
export interface Settle<T> {
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
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
