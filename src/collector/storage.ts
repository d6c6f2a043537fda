import { Codes, ForgeError } from "../errors.js";
import type { WireCheckpoint } from "../protocol/checkpoint.js";
import type { StoredRecord } from "../protocol/record.js";
import type { ChainRecord } from "../protocol/text-batch.js";
import type { BatchCheck } from "./chain.js";

/**
 * The collector's storage, one interface with two implementations (SQLite: sqlite-storage.ts,
 * PostgreSQL: pg-storage.ts). Chain checks run inside `ingest`'s transaction so that several
 * collectors over one database can neither double-store nor lose a record.
 */

export type HostStatus = "registered" | "pinned" | "revoked";

export interface HostRow {
  host_id: string;
  public_key_pem: string | null;
  status: HostStatus;
  /** The agent store's epoch the collector holds the chain of; null until the first hello. */
  epoch: string | null;
  head_seq: number;
  head_hash: string;
  checkpoint_seq: number;
  first_seen_ms: number;
  last_seen_ms: number | null;
  last_heartbeat_ms: number | null;
  heartbeat: unknown;
}

export interface AlertRow {
  id: number;
  host_id: string | null;
  code: string;
  seq: number | null;
  message: string;
  first_ms: number;
  last_ms: number;
  count: number;
}

export interface AlertInput {
  host_id: string | null;
  code: string;
  seq: number | null;
  message: string;
}

export interface RecordQuery {
  host_id?: string;
  session_id?: string;
  after_seq?: number;
  /** Epoch ms bounds on the record's timestamp, inclusive. */
  since_ms?: number;
  until_ms?: number;
  limit: number;
}

/** A decision a host made and had not made final when it sent it (protocol ≥ 3, messages.ts DecisionsSchema). */
export interface DecisionRow {
  host_id: string;
  action_id: string;
  session_id: string;
  state: "allowed" | "escalated";
  created_ms: number;
  deadline_ms: number | null;
  /** The draft record as the agent sent it. */
  record: Record<string, unknown>;
  received_ms: number;
  /** The host key's signature over the decision (messages.ts decisionSigningInput); null before protocol 5. */
  host_sig: string | null;
}

/** The upsert both storages run for a decision sent again (SQLite and PostgreSQL share the syntax). */
export const DECISION_UPDATE =
  "state = excluded.state, deadline_ms = excluded.deadline_ms, body = excluded.body, host_sig = excluded.host_sig";

/** A search over the sessions the collector holds records of (GET /v1/sessions). */
export interface SessionQuery {
  /** Case-insensitive substring of the session id or of any of its records' text. */
  text?: string;
  host_id?: string;
  /** Epoch ms bounds on the records' timestamps, inclusive: a session counts the records inside. */
  since_ms?: number;
  until_ms?: number;
  limit: number;
}

/** One session, as the records in the query's range show it; newest (last record) first. */
export interface SessionRow {
  session_id: string;
  hosts: string[];
  records: number;
  first_ms: number;
  last_ms: number;
}

/** One stored chart point of a host (fleet.ts SeriesPoint): `t` epoch ms, the rest as the fleet made it. */
export interface SeriesRow {
  t: number;
}

/**
 * A review an operator decided through this collector (the dashboard's "Decided here"): the
 * relayed answer plus what was decided and why. Keyed by (host_id, action_id).
 */
export interface ReviewedRow {
  host_id: string;
  action_id: string;
  /** When the agent's answer came back, epoch ms. */
  at_ms: number;
  [key: string]: unknown;
}

/** Chart points older than this are dropped when new ones are stored (7 days). */
export const SERIES_RETENTION_MS = 7 * 24 * 3600 * 1000;

/** `text` as a LIKE pattern (ESCAPE '\\'): a substring match, its own % and _ literal. */
export function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface CheckpointRow extends WireCheckpoint {
  received_ms: number;
}

export interface CollectorStorage {
  readonly kind: "sqlite" | "postgres";
  getHost(hostId: string): Promise<HostRow | undefined>;
  hosts(): Promise<HostRow[]>;
  /** Inserts the host as pinned if it is unknown; returns the stored row (the first writer wins). */
  pinHost(hostId: string, publicKeyPem: string, epoch: string): Promise<HostRow>;
  /** Registers (or re-registers) a host's key; clears a revocation. */
  registerHost(hostId: string, publicKeyPem: string): Promise<void>;
  revokeHost(hostId: string): Promise<void>;
  /** Sets the epoch; only allowed while the collector holds no records of the host. */
  setEpoch(hostId: string, epoch: string): Promise<void>;
  touchHost(hostId: string, atMs: number): Promise<void>;
  /**
   * Verifies `records` against the stored chain and commits the valid prefix, in one transaction;
   * each record is stored as storedText(record) (chain.ts), its body text never re-serialised.
   */
  ingest(hostId: string, records: ChainRecord[]): Promise<BatchCheck>;
  /** Stored hashes of the records with these seqs, by seq (a seq not stored has no entry). */
  recordHashes(hostId: string, seqs: readonly number[]): Promise<Map<number, string>>;
  addCheckpoints(hostId: string, cps: WireCheckpoint[], atMs: number): Promise<void>;
  checkpoints(hostId: string, limit: number): Promise<CheckpointRow[]>;
  addAlert(a: AlertInput, atMs: number): Promise<void>;
  alerts(q: { host_id?: string; limit: number }): Promise<AlertRow[]>;
  records(q: RecordQuery): Promise<StoredRecord[]>;
  /**
   * Stores decisions by (host_id, action_id). A resend replaces state, deadline and draft record (an
   * escalation approved is now allowed, executing); received_ms stays the first arrival's.
   */
  putDecisions(rows: DecisionRow[]): Promise<void>;
  /** Decisions, newest first. */
  decisions(q: { host_id?: string; session_id?: string; limit: number }): Promise<DecisionRow[]>;
  setHeartbeat(hostId: string, payload: unknown, atMs: number): Promise<void>;
  /** Appends a host's chart points (and drops its points older than SERIES_RETENTION_MS). */
  addSeries(hostId: string, points: readonly SeriesRow[]): Promise<void>;
  /** A host's chart points in [since, until], oldest first: the newest `limit` of them. */
  series(hostId: string, q: { since_ms?: number; until_ms?: number; limit: number }): Promise<SeriesRow[]>;
  /** Stores one review decided through this collector (a second one of the action replaces it). */
  addReviewed(row: ReviewedRow): Promise<void>;
  /** The newest `limit` reviews decided through the collectors over this storage, newest first. */
  reviewed(limit: number): Promise<ReviewedRow[]>;
  /** Sessions with records matching the query, the most recently active first. */
  sessions(q: SessionQuery): Promise<SessionRow[]>;
  close(): Promise<void>;
}

/** Opens `sqlite:PATH` or `postgres://…` / `postgresql://…`. */
export async function openStorage(database: string, opts: { synchronous?: "FULL" | "NORMAL" } = {}) {
  if (database.startsWith("sqlite:")) {
    const path = database.slice("sqlite:".length);
    if (path === "")
      throw new ForgeError(Codes.CONFIG_INVALID, "database 'sqlite:' needs a path: sqlite:PATH");
    const { SqliteStorage } = await import("./sqlite-storage.js");
    return SqliteStorage.open(path, opts) as CollectorStorage;
  }
  if (/^postgres(ql)?:\/\//.test(database)) {
    const { PgStorage } = await import("./pg-storage.js");
    return (await PgStorage.open(database)) as CollectorStorage;
  }
  throw new ForgeError(
    Codes.CONFIG_INVALID,
    `unsupported database '${database}': use sqlite:PATH or postgres://USER:PASS@HOST:PORT/DB`,
  );
}

/** The record's timestamp as epoch ms (for time-range queries). */
export function timestampMs(r: { timestamp: string }): number {
  const t = Date.parse(r.timestamp);
  return Number.isFinite(t) ? t : 0;
}
