import type { RecordInput, StoredRecord } from "../evidence/record.js";
import type { Action } from "../gate/actions.js";
import type { BundleRef, Decision } from "../gate/decision.js";

/**
 * The parts of the gate and the evidence store the daemon uses, as narrow structural types.
 * The real classes (src/gate/index.ts Gate, src/evidence/store.ts EvidenceStore) satisfy them;
 * daemon.ts is the one place that constructs those.
 */

export interface GatePort {
  evaluate(input: { session_id: string; principal?: string; action: Action; action_id?: string }): Decision;
  readonly bundle: BundleRef;
}

export interface PendingAction {
  action_id: string;
  session_id: string;
  state: "allowed" | "escalated";
  record: RecordInput;
  deadline_ms: number | null;
  created_ms: number;
}

export interface StorePort {
  append(rec: RecordInput): Promise<StoredRecord>;
  putPending(p: PendingAction): Promise<void>;
  updatePending(
    action_id: string,
    patch: Partial<Pick<PendingAction, "state" | "deadline_ms" | "record">>,
  ): Promise<void>;
  resolvePending(action_id: string, final: RecordInput): Promise<StoredRecord>;
  getPending(action_id: string): PendingAction | undefined;
  listPending(): PendingAction[];
  records(q: {
    after_seq?: number;
    session_id?: string;
    action_id?: string;
    kind?: string;
    limit?: number;
  }): StoredRecord[];
  lastSeq(): number;
  ackedSeq(): number;
  stats(): { lastSeq: number; ackedSeq: number; backlog: number; pending: number; dbBytes: number };
}
