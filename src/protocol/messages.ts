import { createHash } from "node:crypto";
import { z } from "zod";
import { canonicalJson } from "./canonical.js";
import { CheckpointSchema } from "./checkpoint.js";
import { StoredRecordSchema } from "./record.js";

/**
 * The agent ↔ collector WebSocket protocol (docs/protocol.md is the prose version): the messages,
 * the close codes and the signed hello. Both sides import this; neither imports the other.
 * Every message is one JSON text frame `{"type": "...", ...}`.
 */

/** WebSocket path the collector serves ingest on. */
export const INGEST_PATH = "/v1/ws";

/** The ingest URL a configured collector URL means: one without a path (`ws://host:port`) means INGEST_PATH. */
export function ingestUrl(url: string): string {
  const u = new URL(url);
  if (u.pathname === "/" || u.pathname === "") u.pathname = INGEST_PATH;
  return u.toString();
}

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
  /**
   * Sent by the agent: the collector is not the pinned one (TLS key or challenge key differs), or an
   * ack or review lacks a valid signature of the pinned collector key (collector-auth.ts).
   */
  COLLECTOR_UNTRUSTED: 4012,
  /** The agent is stopping. */
  NORMAL: 1000,
  /** The agent failed handling a collector message; it reconnects. */
  INTERNAL_ERROR: 1011,
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
  /** A fresh random nonce per connection: the collector signs acks and reviews over it (collector-auth.ts). */
  agent_nonce: z.string().min(16).max(256).optional(),
});

/** collector → agent, on connect: the nonce hello signs and the protocol version the collector speaks. */
export const ChallengeSchema = z.object({
  type: z.literal("challenge"),
  nonce: z.string().min(1),
  protocol: z.number().int().positive(),
  /** The collector's signing key (SPKI PEM): the TLS key under wss://; agents pin it. */
  public_key_pem: z.string().min(1).max(4096).optional(),
  /** After a key rotation: the new key signed by the previous one (collector-auth.ts KeyRotation). */
  rotation: z
    .object({
      public_key_pem: z.string().max(4096),
      previous_fingerprint: z.string().max(128),
      sig: z.string().max(1024),
    })
    .optional(),
});

/**
 * collector → agent: the host's highest contiguous committed seq. The answer to hello also carries
 * that record's hash and the highest checkpoint seq the collector holds.
 */
export const AckSchema = z.object({
  type: z.literal("ack"),
  seq: z.number().int().nonnegative(),
  hash: z.string().optional(),
  checkpoint_seq: z.number().int().nonnegative().optional(),
  /** The collector's signature over this ack for this connection (collector-auth.ts); agents prune only on a valid one. */
  sig: z.string().optional(),
});

/** agent → collector, protocol 1: parsed StoredRecords (protocol 2's `texts` form: text-batch.ts). */
export const RecordsSchema = z.object({
  type: z.literal("records"),
  from_seq: z.number().int().positive(),
  records: z.array(StoredRecordSchema).min(1),
});

/** One protocol-2 record: the canonical body text its hash covers (text-batch.ts decodes it). */
export const RecordTextSchema = z.object({
  prev_hash: z.string(),
  hash: z.string(),
  body: z.string(),
});

/** agent → collector, protocol 2. */
export const RecordTextsSchema = z.object({
  type: z.literal("records"),
  from_seq: z.number().int().positive(),
  texts: z.array(RecordTextSchema).min(1),
});

export const CheckpointsSchema = z.object({
  type: z.literal("checkpoints"),
  checkpoints: z.array(CheckpointSchema).min(1),
});

/**
 * agent → collector (protocol ≥ 3): decisions made and not final yet (an ALLOW waiting for its
 * result, an ESCALATE waiting for review), sent the moment they are durable and again on every
 * connect while they stay pending, so the collector sees a decision within the shipping latency
 * even if the host is lost before its final record (issue 20). The final record still ships as
 * one chained record; the collector keeps the decision, keyed (host_id, action_id), beside it.
 */
export const DecisionSchema = z.object({
  action_id: z.string().min(1).max(256),
  session_id: z.string().min(1).max(256),
  state: z.enum(["allowed", "escalated"]),
  created_ms: z.number().int().nonnegative(),
  deadline_ms: z.number().int().nonnegative().nullable(),
  /** The draft record (execution_result holds the plan). */
  record: z.looseObject({ evaluation: z.string().nullable(), timestamp: z.string() }),
  /**
   * Protocol 5: the host key's ed25519 signature (base64) over decisionSigningInput, so the
   * collector's copy of a decision is the host's word, verifiable later like a checkpoint.
   */
  host_sig: z.string().min(1).max(1024).optional(),
});
export type WireDecision = z.infer<typeof DecisionSchema>;

export const DecisionsSchema = z.object({
  type: z.literal("decisions"),
  decisions: z.array(DecisionSchema).min(1).max(1024),
});

/** What the host signs for one decision: its host id and the decision's canonical JSON without `host_sig`. */
export function decisionSigningInput(hostId: string, d: WireDecision): Buffer {
  const { host_sig: _s, ...rest } = d;
  return Buffer.from(`forge-agent decision v1\n${hostId}\n${canonicalJson(rest)}`, "utf8");
}

/**
 * Names one version of a decision in `decisions_ack`: the SHA-256 (hex) of its signing input. The
 * agent stops re-sending a decision once the collector acked the version it holds now.
 */
export function decisionDigest(hostId: string, d: WireDecision): string {
  return createHash("sha256").update(decisionSigningInput(hostId, d)).digest("hex");
}

/**
 * collector → agent (protocol ≥ 5): the decisions of one `decisions` message are committed. Signed
 * like `ack` (collector-auth.ts): the agent drops a decision from its resend outbox only on a valid one.
 */
export const DecisionsAckSchema = z.object({
  type: z.literal("decisions_ack"),
  decisions: z
    .array(z.object({ action_id: z.string().min(1).max(256), digest: z.string().regex(/^[0-9a-f]{64}$/) }))
    .max(1024),
  sig: z.string().optional(),
});

/** agent → collector: the health payload (heartbeat.ts HeartbeatPayload), stored as it comes. */
export const HeartbeatSchema = z.looseObject({ type: z.literal("heartbeat") });

/** collector → agent: a signed policy bundle (policy-bundle.ts verifies it). */
export const PolicySchema = z.object({
  type: z.literal("policy"),
  bundle: z.unknown(),
  signature: z.string(),
  key_id: z.string().optional(),
});

/** agent → collector: whether the pushed bundle was installed. */
export const PolicyResultSchema = z.looseObject({
  type: z.literal("policy_result"),
  ok: z.boolean(),
  version: z.number().optional(),
  reason: z.string().optional(),
});

/** collector → agent: an operator's answer to an escalation. */
export const ReviewSchema = z.object({
  type: z.literal("review"),
  action_id: z.string(),
  decision: z.enum(["approve", "deny"]),
  reason: z.string().nullable().optional(),
  reviewer: z.string(),
  /** The collector's signature (collector-auth.ts); agents never act on a review without a valid one. */
  sig: z.string().optional(),
});

/** agent → collector: what the review did. */
export const ReviewResultSchema = z.looseObject({
  type: z.literal("review_result"),
  action_id: z.string(),
  ok: z.boolean(),
  state: z.string().optional(),
  evaluation: z.string().nullable().optional(),
  error: z.string().optional(),
});

/** Every message type, by `type`: the collector's handlers and the agent's subscriptions use these names. */
export const MessageSchemas = {
  challenge: ChallengeSchema,
  hello: HelloSchema,
  ack: AckSchema,
  records: z.union([RecordsSchema, RecordTextsSchema]),
  checkpoints: CheckpointsSchema,
  decisions: DecisionsSchema,
  decisions_ack: DecisionsAckSchema,
  heartbeat: HeartbeatSchema,
  policy: PolicySchema,
  policy_result: PolicyResultSchema,
  review: ReviewSchema,
  review_result: ReviewResultSchema,
} as const;
export type MessageType = keyof typeof MessageSchemas;

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
