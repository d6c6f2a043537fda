import type Database from "better-sqlite3";
import { z } from "zod";
import { Codes, ForgeError } from "../errors.js";
import { RecordInput } from "../protocol/record.js";

/**
 * Pending actions: an allowed action waiting for its execution result, or an escalated one
 * waiting for review, kept durably beside the chain (table `pending`) until its final record is
 * chained. The store writes them through group commit; this module owns their shape and SQL.
 */

export const PendingActionSchema = z.strictObject({
  action_id: z.string().min(1).max(256),
  session_id: z.string().min(1).max(256),
  state: z.enum(["allowed", "escalated"]),
  record: RecordInput,
  deadline_ms: z.number().int().nonnegative().nullable(),
  created_ms: z.number().int().nonnegative(),
});

export const PendingPatchSchema = PendingActionSchema.pick({ state: true, deadline_ms: true, record: true })
  .partial()
  .strict();

export interface PendingAction {
  action_id: string;
  session_id: string;
  /** allowed: waiting for its execution result; escalated: waiting for review. */
  state: "allowed" | "escalated";
  /** The draft record (execution_result / principal_review still null). */
  record: RecordInput;
  /** Epoch ms; null = none. */
  deadline_ms: number | null;
  created_ms: number;
}

const PENDING_KEYS = new Set(Object.keys(PendingActionSchema.shape));

/** 1 to 256 UTF-16 units: certainly 1 to 256 code points, which is what zod counts. */
const isId = (v: unknown): v is string => typeof v === "string" && v.length >= 1 && v.length <= 256;
const isMs = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

/**
 * True when zod would certainly accept `p`'s own fields (all but its draft record, which the
 * store checks with encodeRecord) as they stand and strip nothing; false whenever in doubt, and
 * the caller then parses with PendingActionSchema.
 */
export function plainPending(p: unknown): p is PendingAction {
  if (typeof p !== "object" || p === null || Array.isArray(p)) return false;
  for (const k in p) if (!PENDING_KEYS.has(k)) return false;
  const o = p as Record<string, unknown>;
  return (
    isId(o.action_id) &&
    isId(o.session_id) &&
    (o.state === "allowed" || o.state === "escalated") &&
    (o.deadline_ms === null || isMs(o.deadline_ms)) &&
    isMs(o.created_ms) &&
    o.record !== undefined
  );
}

export type PendingPatch = Partial<Pick<PendingAction, "state" | "deadline_ms" | "record">>;

/** A pending row as stored: the draft record as JSON text. */
export interface PendingRow {
  action_id: string;
  session_id: string;
  state: "allowed" | "escalated";
  record: string;
  deadline_ms: number | null;
  created_ms: number;
}

/** The pending table's statements. Writes run inside the caller's (group-commit) transaction. */
export class PendingTable {
  private readonly st: ReturnType<typeof prepare>;

  constructor(db: Database.Database) {
    this.st = prepare(db);
  }

  get(action_id: string): PendingAction | undefined {
    const row = this.st.get.get(action_id) as PendingRow | undefined;
    return row && fromRow(row);
  }

  list(): PendingAction[] {
    return (this.st.list.all() as PendingRow[]).map(fromRow);
  }

  count(): number {
    return (this.st.count.get() as { n: number }).n;
  }

  /** Stores (or replaces) `p`, its draft record as the JSON text `recordText`. */
  put(p: Omit<PendingRow, "record">, recordText: string): void {
    this.st.put.run(p.action_id, p.session_id, p.state, recordText, p.deadline_ms, p.created_ms);
  }

  /**
   * The write that applies `patch` to `action_id` (`recordText`: the patched draft's JSON, if any),
   * made after the row is read and before anything is written, so an unknown id throws
   * FORGE_NOT_FOUND having written nothing.
   */
  patcher(
    action_id: string,
    patch: Pick<PendingPatch, "state" | "deadline_ms">,
    recordText: string | undefined,
  ): () => void {
    const row = this.st.get.get(action_id) as PendingRow | undefined;
    if (!row) throw notPending(action_id);
    const state = patch.state ?? row.state;
    const deadline = patch.deadline_ms !== undefined ? patch.deadline_ms : row.deadline_ms;
    return () => this.st.update.run(state, recordText ?? row.record, deadline, action_id);
  }

  /** Throws FORGE_NOT_FOUND unless `action_id` is pending. */
  require(action_id: string): void {
    if (!this.st.get.get(action_id)) throw notPending(action_id);
  }

  delete(action_id: string): void {
    this.st.delete.run(action_id);
  }
}

function prepare(db: Database.Database) {
  return {
    put: db.prepare(
      "INSERT OR REPLACE INTO pending (action_id, session_id, state, record, deadline_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    get: db.prepare("SELECT * FROM pending WHERE action_id = ?"),
    list: db.prepare("SELECT * FROM pending ORDER BY created_ms, action_id"),
    count: db.prepare("SELECT COUNT(*) AS n FROM pending"),
    update: db.prepare("UPDATE pending SET state = ?, record = ?, deadline_ms = ? WHERE action_id = ?"),
    delete: db.prepare("DELETE FROM pending WHERE action_id = ?"),
  };
}

function notPending(id: string): ForgeError {
  return new ForgeError(Codes.NOT_FOUND, `action '${id}' is not pending`);
}

function fromRow(row: PendingRow): PendingAction {
  return {
    action_id: row.action_id,
    session_id: row.session_id,
    state: row.state,
    record: JSON.parse(row.record) as RecordInput,
    deadline_ms: row.deadline_ms,
    created_ms: row.created_ms,
  };
}
