/** The evidence component's public surface: records, the store, the chain and checkpoint checks. */
export { canonicalJson, sha256Hex } from "./canonical.js";
export {
  type Checkpoint,
  checkpointMessage,
  loadOrCreateHostKey,
  PRIVATE_KEY_FILE,
  PUBLIC_KEY_FILE,
  readPublicKeyPem,
  verifyCheckpoint,
} from "./keys.js";
export {
  GENESIS_HASH,
  nowRfc3339,
  promptHash,
  RECORD_KINDS,
  RecordInput,
  type RecordKind,
  recordBodyJson,
  recordHash,
  type StoredRecord,
  StoredRecordSchema,
} from "./record.js";
export {
  EvidenceStore,
  type PendingAction,
  PendingActionSchema,
  type StoreOptions,
  type StoreStats,
  storeError,
} from "./store.js";
export { VerifyCodes, type VerifyProblem, type VerifyReport, verifyRecords, verifyStore } from "./verify.js";
