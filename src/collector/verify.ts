// The one place the collector uses the evidence store's shared checks.
import { type Checkpoint, verifyCheckpoint } from "../evidence/keys.js";
import type { WireCheckpoint } from "./protocol.js";

/** True when the checkpoint's ed25519 signature verifies under the host's pinned key. Never throws. */
export function checkpointSignatureOk(cp: WireCheckpoint, publicKeyPem: string): boolean {
  return verifyCheckpoint(cp as Checkpoint, publicKeyPem);
}
