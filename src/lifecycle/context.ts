/**
 * What the lifecycle needs from its host, in one object: registry clients, the gate, the
 * evidence store's reader and writer, the signing key and the trust root. The CLI builds it from
 * the agent config (src/cli/lifecycle-context.ts); the daemon from its own parts.
 */
import type { DeepReadonly } from "../config.js";
import type { Gate } from "../gate/index.js";
import type { RecordInput, StoredRecord } from "../protocol/record.js";
import type { RegistryClient } from "../registry/index.js";
import type { LifecycleConfig } from "./config.js";
import type { LocalSigner } from "./dsse.js";
import type { TrustRoot } from "./keys.js";

export interface RecordQuery {
  kind?: string;
  session_id?: string;
  action_id?: string;
  after_seq?: number;
  limit?: number;
}

export interface LifecycleContext {
  hostId: string;
  client: (registry: string) => RegistryClient;
  gate: () => Gate;
  append: (rec: RecordInput) => Promise<StoredRecord>;
  records: (q: RecordQuery) => StoredRecord[];
  /** The record at `seq` on this host (undefined when pruned or absent). */
  record: (seq: number) => StoredRecord | undefined;
  /** This host's records the collector acked and the store pruned (the collector's copy); absent without one. */
  archive?: () => Promise<StoredRecord[]>;
  signer: LocalSigner;
  trust: TrustRoot;
  config: DeepReadonly<LifecycleConfig>;
  principal: string;
  now: () => number;
}
