import Database from "better-sqlite3";
import { Codes, ForgeError } from "../errors.js";
import { type Checkpoint, verifyCheckpoint } from "../protocol/checkpoint.js";
import { GENESIS_HASH, recordHash, type StoredRecord } from "../protocol/record.js";
import { readPublicKeyPem } from "./keys.js";

export interface VerifyProblem {
  seq: number;
  code: string;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  host_id: string | null;
  /** Records present (after pruning). */
  records: number;
  checkpoints: number;
  /** Seq of the last record present (the pruning anchor when none are). */
  last_seq: number;
  /** meta state: "closed" after a clean close, "open" while open or after a crash (null in files older than this field). */
  state: string | null;
  /** Lowest seq at which something is wrong; null when ok. */
  first_bad_seq: number | null;
  /** The first MAX_PROBLEMS problems found, by seq. */
  problems: VerifyProblem[];
  /** Problems found beyond MAX_PROBLEMS and not listed. */
  problems_omitted: number;
  /** Where the public key came from: the key directory, or the database itself (weaker: an attacker can replace both). */
  key_source: "key_dir" | "database";
}

const MAX_PROBLEMS = 1000;

/** Problem codes in verify reports (stable, like error codes). */
export const VerifyCodes = {
  GAP: "missing_records",
  SEQ_MISMATCH: "seq_mismatch",
  HOST_MISMATCH: "host_mismatch",
  BAD_JSON: "bad_json",
  PREV_HASH: "prev_hash_mismatch",
  HASH: "hash_mismatch",
  BAD_SIGNATURE: "bad_checkpoint_signature",
  CHECKPOINT_MISMATCH: "checkpoint_mismatch",
  TRUNCATED: "truncated",
  UNANCHORED: "unanchored_prefix",
  /** The store says it was closed cleanly (which signs a checkpoint at the head), yet no valid checkpoint covers the head. */
  TAIL_CHECKPOINT_MISSING: "tail_checkpoint_missing",
  /** Records after the last valid checkpoint, and the store is open or was not closed cleanly (a crash). */
  UNSIGNED_TAIL: "unsigned_tail",
} as const;

/**
 * Pure chain check of consecutive records starting after a record whose hash is `prevHash`:
 * seq must step by one, each prev_hash must be the previous hash, each hash must recompute.
 * Shared with the collector.
 */
export function verifyRecords(
  records: StoredRecord[],
  prevHash: string,
): { ok: boolean; first_bad_seq: number | null; problem?: string } {
  let prev = prevHash;
  for (let i = 0; i < records.length; i++) {
    const r = records[i]!;
    if (i > 0 && r.seq !== records[i - 1]!.seq + 1) {
      return {
        ok: false,
        first_bad_seq: records[i - 1]!.seq + 1,
        problem: `seq ${r.seq} follows ${records[i - 1]!.seq}`,
      };
    }
    if (r.prev_hash !== prev)
      return {
        ok: false,
        first_bad_seq: r.seq,
        problem: `seq ${r.seq}: prev_hash does not link to the previous record`,
      };
    let h: string;
    try {
      h = recordHash(r.prev_hash, r);
    } catch (err) {
      return {
        ok: false,
        first_bad_seq: r.seq,
        problem: `seq ${r.seq}: cannot canonicalise: ${(err as Error).message}`,
      };
    }
    if (h !== r.hash)
      return { ok: false, first_bad_seq: r.seq, problem: `seq ${r.seq}: hash does not match its content` };
    prev = r.hash;
  }
  return { ok: true, first_bad_seq: null };
}

/**
 * Recomputes the whole local chain of an evidence database and every checkpoint signature,
 * reading the file only. The public key is read from `keyDir` when given (trusted), else from
 * the database's meta table. Throws FORGE_NOT_FOUND if the file is missing or not an evidence store.
 */
export function verifyStore(path: string, opts: { keyDir?: string } = {}): VerifyReport {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new ForgeError(
      Codes.NOT_FOUND,
      `cannot open evidence database ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  try {
    return verifyOpen(db, opts.keyDir);
  } catch (err) {
    if (err instanceof ForgeError) throw err;
    throw new ForgeError(
      Codes.NOT_FOUND,
      `${path} is not a readable evidence database: ${(err as Error).message}`,
      { cause: err },
    );
  } finally {
    db.close();
  }
}

function verifyOpen(db: Database.Database, keyDir: string | undefined): VerifyReport {
  const meta: Record<string, string> = {};
  for (const r of db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[])
    meta[r.key] = r.value;
  const hostId = meta.host_id ?? null;
  const problems: VerifyProblem[] = [];
  const found = { firstBad: null as number | null, omitted: 0 };
  // A wholesale rewrite would otherwise list every row: keep the first MAX_PROBLEMS, count the rest.
  const problem = (seq: number, code: string, message: string) => {
    if (found.firstBad === null || seq < found.firstBad) found.firstBad = seq;
    if (problems.length < MAX_PROBLEMS) problems.push({ seq, code, message });
    else found.omitted++;
  };

  const keySource = keyDir !== undefined ? "key_dir" : "database";
  const publicKeyPem = keyDir !== undefined ? readPublicKeyPem(keyDir) : (meta.public_key_pem ?? "");

  // Checkpoints first: each must carry a valid signature; valid ones then vouch for record hashes.
  const signed = new Map<number, string>();
  const cps = db.prepare("SELECT seq, hash, signature, at FROM checkpoints ORDER BY seq").all() as Omit<
    Checkpoint,
    "host_id"
  >[];
  for (const c of cps) {
    const cp: Checkpoint = { host_id: hostId ?? "", ...c };
    if (verifyCheckpoint(cp, publicKeyPem)) signed.set(c.seq, c.hash);
    else
      problem(
        c.seq,
        VerifyCodes.BAD_SIGNATURE,
        `checkpoint at seq ${c.seq}: signature does not verify with the host key`,
      );
  }

  // Pruned prefix: the first remaining record links to the anchor, which a signed checkpoint must vouch for.
  const baseSeq = Number(meta.base_seq ?? 0);
  const baseHash = meta.base_hash ?? GENESIS_HASH;
  if (baseSeq > 0 && signed.get(baseSeq) !== baseHash) {
    problem(
      baseSeq + 1,
      VerifyCodes.UNANCHORED,
      `records up to ${baseSeq} were pruned but no valid checkpoint vouches for seq ${baseSeq}'s hash`,
    );
  }

  let expected = baseSeq + 1;
  let prevHash = baseHash;
  let count = 0;
  const rows = db
    .prepare("SELECT seq, body, prev_hash, hash FROM records ORDER BY seq")
    .iterate() as IterableIterator<{
    seq: number;
    body: string;
    prev_hash: string;
    hash: string;
  }>;
  for (const row of rows) {
    count++;
    if (row.seq !== expected) {
      if (row.seq > expected)
        problem(expected, VerifyCodes.GAP, `records ${expected}..${row.seq - 1} are missing`);
      else
        problem(row.seq, VerifyCodes.SEQ_MISMATCH, `seq ${row.seq} appears where ${expected} was expected`);
    }
    let body: Record<string, unknown> | null = null;
    try {
      body = JSON.parse(row.body) as Record<string, unknown>;
    } catch {
      problem(row.seq, VerifyCodes.BAD_JSON, `seq ${row.seq}: stored JSON does not parse`);
    }
    if (body) {
      if (body.seq !== row.seq)
        problem(
          row.seq,
          VerifyCodes.SEQ_MISMATCH,
          `row ${row.seq} holds the record of seq ${String(body.seq)} (reordered?)`,
        );
      if (body.host_id !== hostId)
        problem(
          row.seq,
          VerifyCodes.HOST_MISMATCH,
          `seq ${row.seq}: host_id ${String(body.host_id)} is not ${hostId}`,
        );
      let h = "";
      try {
        h = recordHash(row.prev_hash, body as unknown as StoredRecord);
      } catch {
        // leaves h empty: reported as a hash mismatch below
      }
      if (h !== row.hash)
        problem(
          row.seq,
          VerifyCodes.HASH,
          `seq ${row.seq}: hash does not match the record's content (edited?)`,
        );
    }
    if (row.prev_hash !== prevHash)
      problem(
        row.seq,
        VerifyCodes.PREV_HASH,
        `seq ${row.seq}: prev_hash does not link to the previous record`,
      );
    const vouched = signed.get(row.seq);
    if (vouched !== undefined && vouched !== row.hash) {
      problem(
        row.seq,
        VerifyCodes.CHECKPOINT_MISMATCH,
        `seq ${row.seq}: hash differs from the signed checkpoint (chain rewritten?)`,
      );
    }
    // Continue from what is stored, so one bad row is reported once rather than cascading.
    prevHash = row.hash;
    expected = row.seq + 1;
  }
  const lastSeq = expected - 1;
  let truncated = false;
  for (const seq of signed.keys()) {
    if (seq > lastSeq) {
      truncated = true;
      problem(
        lastSeq + 1,
        VerifyCodes.TRUNCATED,
        `a signed checkpoint covers seq ${seq} but the chain ends at ${lastSeq} (records deleted from the end)`,
      );
      break;
    }
  }
  // The head must be signed: the store signs at every ack and at close, so records past the last
  // signature were either never vouched for (still open, or a crash) or lost their checkpoint.
  // Without this, deleting checkpoints would turn a key-less edit into a clean report.
  if (lastSeq > 0 && !truncated && !signed.has(lastSeq)) {
    let lastSigned = 0;
    for (const seq of signed.keys()) if (seq < lastSeq && seq > lastSigned) lastSigned = seq;
    const span = `records ${lastSigned + 1}..${lastSeq}`;
    if (meta.state === "closed") {
      problem(
        lastSigned + 1,
        VerifyCodes.TAIL_CHECKPOINT_MISSING,
        `${span} are not covered by a signed checkpoint, yet the store was closed cleanly, which signs one at its last record: the checkpoint was deleted, or records were added after the close`,
      );
    } else {
      problem(
        lastSigned + 1,
        VerifyCodes.UNSIGNED_TAIL,
        `${span} are not covered by a signed checkpoint: the store is open or was not closed cleanly (a crash). Stop the agent (a clean close signs the tail) and verify again; if it still fails, the tail checkpoint was removed`,
      );
    }
  }
  problems.sort((a, b) => a.seq - b.seq);
  return {
    ok: found.firstBad === null,
    host_id: hostId,
    records: count,
    checkpoints: cps.length,
    last_seq: lastSeq,
    state: meta.state ?? null,
    first_bad_seq: found.firstBad,
    problems,
    problems_omitted: found.omitted,
    key_source: keySource,
  };
}
