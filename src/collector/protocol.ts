import { z } from "zod";
import { StoredRecordSchema } from "../evidence/record.js";

/**
 * The agent ↔ collector WebSocket protocol (docs/protocol.md is the prose version).
 * Every message is one JSON text frame `{"type": "...", ...}`.
 */

/** WebSocket path the collector serves ingest on. */
export const INGEST_PATH = "/v1/ws";

/** Default ws maxPayload (bytes): a frame larger than this is closed with 1009 by ws itself. */
export const DEFAULT_MAX_PAYLOAD = 8 * 1024 * 1024;

/**
 * Stable application close codes. 1009 (message too big) and 1007/1002 (invalid frame) are sent by
 * ws itself before a frame is buffered; the codes below are ours.
 */
export const CloseCodes = {
  /** Not JSON, not an object, or a message that does not match its schema. */
  BAD_FRAME: 4000,
  /** No valid hello in time, a bad signature, a key that differs from the registered/pinned one, or a message before hello. */
  UNAUTHENTICATED: 4001,
  /** A message type the collector has no handler for. */
  UNKNOWN_TYPE: 4002,
  /** The host's key is revoked. */
  REVOKED: 4003,
  /** --require-registered and the host is not registered. */
  UNREGISTERED: 4004,
  /** A record's seq is not the next one the collector expects (missing records). */
  CHAIN_GAP: 4005,
  /** prev_hash or the recomputed hash disagrees with the stored chain, or a seq was re-sent with other content. */
  CHAIN_FORK: 4006,
  /** The host's store was recreated (new epoch) while the collector holds the old chain. */
  EPOCH_CHANGED: 4007,
  /** A checkpoint whose signature or hash does not verify. */
  BAD_CHECKPOINT: 4008,
  /** Another connection of the same host took over (the newest connection wins). */
  REPLACED: 4010,
  /** The collector could not commit (storage error); the agent retries later. */
  STORAGE_ERROR: 4011,
  /** The collector is shutting down. */
  GOING_AWAY: 1001,
  /** ws: frame larger than maxPayload. */
  TOO_LARGE: 1009,
} as const;

/** What the agent signs in hello: binds the collector's nonce to the host and its store. */
export function helloSigningInput(nonce: string, hostId: string, epoch: string): Buffer {
  return Buffer.from(`forge-agent hello v1\n${nonce}\n${hostId}\n${epoch}`, "utf8");
}

const Envelope = z.object({ type: z.string().min(1) });

export const CheckpointSchema = z.object({
  host_id: z.string().min(1),
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  signature: z.string().min(1),
  public_key_pem: z.string().optional().nullable(),
  at: z.union([z.string(), z.number()]).optional(),
});
export type WireCheckpoint = z.infer<typeof CheckpointSchema>;

export const HelloSchema = z.object({
  type: z.literal("hello"),
  host_id: z.string().min(1).max(256),
  epoch: z.string().min(1).max(256),
  last_seq: z.number().int().nonnegative(),
  public_key_pem: z.string().min(1).max(4096),
  /** base64 ed25519 signature over helloSigningInput(nonce, host_id, epoch). */
  signature: z.string().min(1).max(1024),
  /** Hash of the agent's record at last_seq: the collector compares it with the chain it acked. */
  head_hash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

export const RecordsSchema = z.object({
  type: z.literal("records"),
  from_seq: z.number().int().positive(),
  records: z.array(StoredRecordSchema).min(1),
});

export const CheckpointsSchema = z.object({
  type: z.literal("checkpoints"),
  checkpoints: z.array(CheckpointSchema).min(1),
});

export const HeartbeatSchema = z.looseObject({ type: z.literal("heartbeat") });

/** Parses a frame's envelope; returns null when it is not a JSON object with a string `type`. */
export function parseEnvelope(text: string): ({ type: string } & Record<string, unknown>) | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  const r = Envelope.safeParse(v);
  return r.success ? (v as { type: string } & Record<string, unknown>) : null;
}
