/**
 * How the agent's drift monitor used to be fed, kept as the baseline of bench/drift.ts's
 * CPU-per-commit figure and of test/agent/drift-feed.test.ts: after each commit, read the
 * records after a cursor back from the store (`unshipped`, one SELECT and a JSON.parse each).
 * The agent now takes each commit's records from the store as committed (`onCommit`).
 */
import type { EvidenceStore } from "../src/evidence/store.js";
import type { StoredRecord } from "../src/protocol/record.js";

/** An `onCommit`-shaped source that re-reads every commit's records from the store. */
export function rereadCommits(store: EvidenceStore) {
  return (listener: (records: readonly StoredRecord[]) => void): (() => void) => {
    let cursor = store.lastSeq();
    return store.onAppend((last) => {
      const records: StoredRecord[] = [];
      while (cursor < last) {
        const batch = store.unshipped(cursor, 1000);
        if (batch.length === 0) {
          cursor = last;
          break;
        }
        for (const rec of batch) {
          cursor = rec.seq;
          records.push(rec);
        }
      }
      listener(records);
    });
  };
}
