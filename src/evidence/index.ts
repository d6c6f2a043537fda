/** The evidence component's public surface: the store, the host key and the chain verifier (the record format is src/protocol/). */
export { loadOrCreateHostKey, PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, readPublicKeyPem } from "./keys.js";
export {
  EvidenceStore,
  type PendingAction,
  PendingActionSchema,
  type StoreOptions,
  type StoreStats,
  storeError,
} from "./store.js";
export { VerifyCodes, type VerifyProblem, type VerifyReport, verifyRecords, verifyStore } from "./verify.js";
