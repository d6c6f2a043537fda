import type Database from "better-sqlite3";
import type { Checkpoint } from "../protocol/checkpoint.js";
import { nowRfc3339 } from "../protocol/record.js";
import { type HostKey, signCheckpoint } from "./keys.js";

/**
 * Signed checkpoints and the collector's acks. A checkpoint is the host key's signature over
 * (host_id, seq, hash): signed every N records, when one falls due by time, at close, and at every
 * ack before the records up to it are pruned, so what remains of the chain stays anchored to a
 * signed hash.
 */
export class Checkpoints {
  /** Seq of the newest checkpoint (0 when none). */
  last: number;
  /** A checkpoint was asked for (by time, or by close) and the next transaction signs one. */
  requested = false;
  private readonly st: ReturnType<typeof prepare>;

  constructor(
    db: Database.Database,
    private readonly key: HostKey,
    private readonly hostId: string,
    /** Sign one every this many records. */
    private readonly every: number,
  ) {
    this.st = prepare(db);
    this.last = (this.st.last.get() as { seq: number | null }).seq ?? 0;
  }

  /** Whether the transaction that brings the head to `seq` signs a checkpoint there. */
  dueAt(seq: number): boolean {
    return seq > this.last && (this.requested || seq - this.last >= this.every);
  }

  /** Signs and inserts the checkpoint at (seq, hash), inside the caller's transaction. */
  insert(seq: number, hash: string): void {
    const sig = signCheckpoint(this.key.privateKey, { host_id: this.hostId, seq, hash });
    this.st.insert.run(seq, hash, sig, nowRfc3339());
  }

  /** The transaction that inserted the checkpoint at `seq` committed. */
  committed(seq: number): void {
    this.last = seq;
    this.requested = false;
  }

  /** Checkpoints after `after_seq`, ascending, with the host's id and public key. */
  list(after_seq: number, publicKeyPem: string): Checkpoint[] {
    return (this.st.list.all(after_seq) as Omit<Checkpoint, "host_id">[]).map((c) => ({
      host_id: this.hostId,
      seq: c.seq,
      hash: c.hash,
      signature: c.signature,
      public_key_pem: publicKeyPem,
      at: c.at,
    }));
  }

  /**
   * Writes an ack at `seq` inside the caller's transaction: acked_seq, and when the record at `seq`
   * is here, a checkpoint signed at it, every record up to it pruned and the chain's base moved
   * there. True when it signed that checkpoint (the caller moves `last` once the transaction
   * committed). Throws SQLite's error: the caller rolls the transaction back.
   */
  ack(seq: number): boolean {
    this.st.setMeta.run(String(seq), "acked_seq");
    const row = this.st.hashAt.get(seq) as { hash: string } | undefined;
    if (row === undefined) return false;
    this.insert(seq, row.hash);
    this.st.prune.run(seq);
    this.st.setMeta.run(String(seq), "base_seq");
    this.st.setMeta.run(row.hash, "base_hash");
    return true;
  }
}

function prepare(db: Database.Database) {
  return {
    last: db.prepare("SELECT MAX(seq) AS seq FROM checkpoints"),
    insert: db.prepare("INSERT OR IGNORE INTO checkpoints (seq, hash, signature, at) VALUES (?, ?, ?, ?)"),
    list: db.prepare("SELECT seq, hash, signature, at FROM checkpoints WHERE seq > ? ORDER BY seq"),
    setMeta: db.prepare("UPDATE meta SET value = ? WHERE key = ?"),
    prune: db.prepare("DELETE FROM records WHERE seq <= ?"),
    hashAt: db.prepare("SELECT hash FROM records WHERE seq = ?"),
  };
}
