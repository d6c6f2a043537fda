import { verify } from "node:crypto";
import { hostPublicKey, verifyCheckpoint } from "../protocol/checkpoint.js";
import {
  CheckpointsSchema,
  CloseCodes,
  DecisionsSchema,
  decisionDigest,
  decisionSigningInput,
  type WireDecision,
} from "../protocol/messages.js";
import { type ChainRecord, type Decoded, decodeRecordsMessage } from "../protocol/text-batch.js";
import { COALESCED, type CollectorContext, type Connection, DECODED, type Message } from "./context.js";
import { checkHeartbeat } from "./heartbeat.js";

/** Registers the ingest message handlers: records, checkpoints, heartbeat. */
export function registerIngest(ctx: CollectorContext): void {
  ctx.messages.set("records", (conn, msg) => records(ctx, conn, msg));
  ctx.messages.set("checkpoints", (conn, msg) => checkpoints(ctx, conn, msg));
  ctx.messages.set("decisions", (conn, msg) => decisions(ctx, conn, msg));
  ctx.messages.set("heartbeat", async (conn, msg) => {
    const payload = await acceptHeartbeat(ctx, conn, msg);
    if (payload !== null) await ctx.storage.setHeartbeat(conn.host!.host_id, payload, Date.now());
  });
}

/** True when `d.host_sig` is the host key's signature of the decision. Never throws. */
export function hostSigned(hostId: string, publicKeyPem: string, d: WireDecision): boolean {
  if (d.host_sig === undefined) return false;
  try {
    const key = hostPublicKey(publicKeyPem);
    return verify(null, decisionSigningInput(hostId, d), key, Buffer.from(d.host_sig, "base64"));
  } catch {
    return false;
  }
}

/**
 * Pending decisions: stored the moment they arrive, keyed (host_id, action_id), so a decision a
 * host acted on is central within the shipping latency even if the host is lost before its final
 * record. Protocol 5: every decision carries the host key's signature (checked here, kept with the
 * row) and the message is acked (signed, once committed) by digest; the agent re-sends a decision
 * until the version it holds is acked (docs/evidence.md).
 */
async function decisions(ctx: CollectorContext, conn: Connection, msg: Message): Promise<void> {
  const p = DecisionsSchema.safeParse(msg);
  if (!p.success) return conn.refuse(CloseCodes.BAD_FRAME, "decisions does not match its schema");
  const { host_id, public_key_pem } = conn.host!;
  const bad = p.data.decisions.find((d) => !hostSigned(host_id, public_key_pem!, d));
  if (bad !== undefined) {
    const message = `decision ${bad.action_id}: ${bad.host_sig === undefined ? "no host signature" : "host signature does not verify"}; nothing of the message stored`;
    await ctx.alert({ host_id, code: "decision-bad-signature", seq: null, message });
    return conn.refuse(CloseCodes.BAD_FRAME, message);
  }
  const now = Date.now();
  await ctx.storage.putDecisions(
    p.data.decisions.map((d) => ({ ...d, host_id, received_ms: now, host_sig: d.host_sig! })),
  );
  // Committed first, acked second, as for records.
  conn.send({
    type: "decisions_ack",
    decisions: p.data.decisions.map((d) => ({ action_id: d.action_id, digest: decisionDigest(host_id, d) })),
  });
}

/** The heartbeat's payload, or null after refusing the connection (4000) with an alert. */
export async function acceptHeartbeat(
  ctx: CollectorContext,
  conn: Connection,
  msg: Message,
): Promise<Record<string, unknown> | null> {
  const r = checkHeartbeat(msg);
  if (r.ok) return r.payload;
  await ctx.alert({ host_id: conn.host!.host_id, code: "heartbeat-invalid", seq: null, message: r.reason });
  conn.refuse(CloseCodes.BAD_FRAME, r.reason);
  return null;
}

/**
 * Verify the batch against the stored chain, commit the valid prefix, then ack; refuse on a break.
 * `msg` may be several records messages the connection coalesced (msg[COALESCED]): each is decoded
 * on its own, the records of those up to the first malformed one are ingested in one transaction
 * and acked once, then the malformed one is refused. A part the connection decoded as it arrived
 * (part[DECODED]) is not decoded again.
 */
async function records(ctx: CollectorContext, conn: Connection, msg: Message): Promise<void> {
  const parts = (msg as { [COALESCED]?: Message[] })[COALESCED] ?? [msg];
  let records: ChainRecord[] = [];
  let badFrame: string | null = null;
  for (const part of parts) {
    const d = (part as { [DECODED]?: Decoded })[DECODED] ?? decodeRecordsMessage(part);
    if (!d.ok) {
      badFrame = d.reason;
      break;
    }
    records = records.length === 0 ? d.records : records.concat(d.records);
  }
  if (records.length === 0) return conn.refuse(CloseCodes.BAD_FRAME, badFrame!);
  const hostId = conn.host!.host_id;
  const end = ctx.metrics.ingestSeconds.startTimer();
  const check = await ctx.storage.ingest(hostId, records);
  end();
  ctx.metrics.batches.inc();
  ctx.metrics.recordsIngested.inc(check.fresh.length);
  const seen =
    check.problem === null ? records.length : records.findIndex((r) => r.seq === check.problem!.seq);
  ctx.metrics.duplicates.inc(Math.max(0, seen - check.fresh.length));
  // Committed first, acked second: the head is durable now.
  conn.send({ type: "ack", seq: check.head.seq });
  if (check.fresh.length > 0) for (const listener of ctx.committed) listener(conn, check.fresh);
  if (check.problem !== null) {
    await ctx.alert({
      host_id: hostId,
      code: check.problem.code,
      seq: check.problem.seq,
      message: check.problem.message,
    });
    conn.refuse(check.problem.closeCode, check.problem.message);
  } else if (badFrame !== null) {
    conn.refuse(CloseCodes.BAD_FRAME, badFrame);
  }
}

/** Checkpoints must be signed by the host's pinned key and name a hash the collector holds. */
async function checkpoints(ctx: CollectorContext, conn: Connection, msg: Message): Promise<void> {
  const p = CheckpointsSchema.safeParse(msg);
  if (!p.success) return conn.refuse(CloseCodes.BAD_FRAME, "checkpoints message does not match its schema");
  const host = conn.host!;
  // The stored hashes in one read (one round trip on PostgreSQL), then each checkpoint in order.
  const hashes = await ctx.storage.recordHashes(
    host.host_id,
    p.data.checkpoints.map((cp) => cp.seq),
  );
  for (const cp of p.data.checkpoints) {
    let problem: string | null = null;
    if (cp.host_id !== host.host_id) problem = `checkpoint ${cp.seq} names host '${cp.host_id}'`;
    else if (!verifyCheckpoint(cp, host.public_key_pem!))
      problem = `checkpoint ${cp.seq}: signature does not verify`;
    else {
      const stored = hashes.get(cp.seq);
      if (stored === undefined) problem = `checkpoint ${cp.seq}: no stored record with that seq`;
      else if (stored !== cp.hash) problem = `checkpoint ${cp.seq}: hash differs from the stored record's`;
    }
    if (problem !== null) {
      await ctx.alert({ host_id: host.host_id, code: "bad-checkpoint", seq: cp.seq, message: problem });
      return conn.refuse(CloseCodes.BAD_CHECKPOINT, problem);
    }
  }
  await ctx.storage.addCheckpoints(host.host_id, p.data.checkpoints, Date.now());
}
