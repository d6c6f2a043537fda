import { sha256Hex } from "../protocol/canonical.js";
import { CloseCodes } from "../protocol/messages.js";
import { GENESIS_HASH } from "../protocol/record.js";
import type { ChainRecord } from "../protocol/text-batch.js";

/** The collector's durable view of one host's chain: its highest contiguous seq and that record's hash. */
export interface ChainHead {
  seq: number;
  hash: string;
}

export const EMPTY_HEAD: ChainHead = { seq: 0, hash: GENESIS_HASH };

/**
 * The JSON text the collector stores for a record: the whole StoredRecord, written as
 * `{"hash":…,"prev_hash":…,` followed by the canonical body without its opening brace. String
 * concatenation only; the canonical body is "{" followed by the text after the fixed 154-character prefix.
 */
export function storedText(r: ChainRecord): string {
  return `{"hash":"${r.hash}","prev_hash":"${r.prev_hash}",${r.body.slice(1)}`;
}

export interface ChainProblem {
  code: "chain-gap" | "chain-fork" | "hash-mismatch" | "wrong-host";
  closeCode: number;
  seq: number;
  message: string;
}

export interface BatchCheck {
  /** Records to insert, in seq order (already-stored identical records are left out). */
  fresh: ChainRecord[];
  /** Head after inserting `fresh`. */
  head: ChainHead;
  /** Set when the batch breaks the chain; `fresh` then holds the valid prefix only. */
  problem: ChainProblem | null;
}

/**
 * Checks one batch against the stored chain (pure; run inside the storage transaction).
 * `storedHash(seq)` returns the stored hash of an already-committed seq (≤ head.seq).
 * A re-sent identical record is a duplicate (skipped); a re-sent seq with other content is a fork.
 * Every new record must follow the head: seq = head.seq + 1, prev_hash = head.hash, and
 * sha256(prev_hash ‖ body) must equal its `hash` (an edited record fails here).
 */
export function checkBatch(
  hostId: string,
  head: ChainHead,
  records: ChainRecord[],
  storedHash: (seq: number) => string | undefined,
): BatchCheck {
  const fresh: ChainRecord[] = [];
  let cur = head;
  const fail = (code: ChainProblem["code"], seq: number, message: string): BatchCheck => ({
    fresh,
    head: cur,
    problem: {
      code,
      seq,
      message,
      closeCode: code === "chain-gap" ? CloseCodes.CHAIN_GAP : CloseCodes.CHAIN_FORK,
    },
  });
  for (const r of records) {
    if (r.host_id !== hostId) return fail("wrong-host", r.seq, `record ${r.seq} names host '${r.host_id}'`);
    if (sha256Hex(r.prev_hash + r.body) !== r.hash) {
      return fail("hash-mismatch", r.seq, `record ${r.seq}: hash does not match its content (edited?)`);
    }
    if (r.seq <= cur.seq) {
      const have = storedHash(r.seq);
      if (have === undefined || have !== r.hash) {
        return fail("chain-fork", r.seq, `record ${r.seq} differs from the stored record with that seq`);
      }
      continue;
    }
    if (r.seq !== cur.seq + 1) {
      return fail("chain-gap", r.seq, `expected seq ${cur.seq + 1}, got ${r.seq} (missing records)`);
    }
    if (r.prev_hash !== cur.hash) {
      return fail(
        "chain-fork",
        r.seq,
        `record ${r.seq}: prev_hash does not match the hash of seq ${cur.seq}`,
      );
    }
    fresh.push(r);
    cur = { seq: r.seq, hash: r.hash };
  }
  return { fresh, head: cur, problem: null };
}
