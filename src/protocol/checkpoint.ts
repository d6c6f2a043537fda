import { createPublicKey, verify as cryptoVerify, type KeyObject } from "node:crypto";
import { z } from "zod";
import { canonicalJson } from "./canonical.js";

/** A signed statement "host H's chain had hash X at seq N". */
export interface Checkpoint {
  host_id: string;
  seq: number;
  hash: string;
  /** ed25519 signature over checkpointMessage(), base64. */
  signature: string;
  public_key_pem?: string;
  /** RFC 3339 UTC; informational, not signed. */
  at: string;
}

/** A checkpoint as the `checkpoints` message carries it. */
export const CheckpointSchema = z.object({
  host_id: z.string().min(1),
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  signature: z.string().min(1),
  public_key_pem: z.string().optional().nullable(),
  at: z.union([z.string(), z.number()]).optional(),
});
export type WireCheckpoint = z.infer<typeof CheckpointSchema>;

/**
 * The bytes a checkpoint signature covers. The prefix separates checkpoint signatures from any
 * other use of the host key (the shipper signs its own, differently prefixed, challenges).
 */
export function checkpointMessage(cp: Pick<Checkpoint, "host_id" | "seq" | "hash">): Buffer {
  return Buffer.from(
    `forge-checkpoint-v1\n${canonicalJson({ host_id: cp.host_id, seq: cp.seq, hash: cp.hash })}`,
  );
}

const HOST_KEYS_KEPT = 4096;
const hostKeys = new Map<string, KeyObject>();

/**
 * The KeyObject of a host's PEM public key, parsed once: parsing the PEM on every verify was half
 * the cost of checking a host's signature (bench/signing.ts). A bounded cache (oldest out first);
 * throws like createPublicKey for a PEM that does not parse.
 */
export function hostPublicKey(pem: string): KeyObject {
  let key = hostKeys.get(pem);
  if (key === undefined) {
    key = createPublicKey(pem);
    if (hostKeys.size >= HOST_KEYS_KEPT) hostKeys.delete(hostKeys.keys().next().value!);
    hostKeys.set(pem, key);
  }
  return key;
}

/** True when `cp.signature` is a valid ed25519 signature by `publicKeyPem` over the checkpoint. Never throws. */
export function verifyCheckpoint(
  cp: Pick<Checkpoint, "host_id" | "seq" | "hash" | "signature">,
  publicKeyPem: string,
): boolean {
  try {
    return cryptoVerify(
      null,
      checkpointMessage(cp),
      hostPublicKey(publicKeyPem),
      Buffer.from(cp.signature, "base64"),
    );
  } catch {
    return false;
  }
}
