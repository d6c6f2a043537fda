import type { EvidenceStore } from "../evidence/store.js";
import type { Gate } from "../gate/gate.js";

export type { PendingAction } from "../evidence/store.js";

/**
 * The parts of the gate and the evidence store the action lifecycle uses: narrow views of the
 * real classes, so actions.ts depends on what it calls and nothing more. daemon.ts is the one
 * place that constructs the real ones.
 */
export type GatePort = Pick<
  Gate,
  "evaluate" | "preview" | "deniesOutright" | "bundle" | "sandboxFor" | "sessionWorkspaces"
>;

export type StorePort = Pick<
  EvidenceStore,
  | "append"
  | "putPending"
  | "updatePending"
  | "resolvePending"
  | "getPending"
  | "listPending"
  | "records"
  | "lastSeq"
  | "ackedSeq"
  | "stats"
>;
