import { randomBytes, verify } from "node:crypto";
import type { WebSocket } from "ws";
import { SIGNED_TYPES, signCollectorMessage } from "../protocol/collector-auth.js";
import { CloseCodes, HelloSchema, helloSigningInput, parseEnvelope } from "../protocol/messages.js";
import { decodeRecordsMessage } from "../protocol/text-batch.js";
import type { CollectorContext, Connection, Message } from "./context.js";
import { COALESCED, DECODED } from "./context.js";

/** Messages a connection may have queued before the collector stops reading from its socket. */
const HIGH_WATER = 16;
/**
 * Queued records messages are ingested as one batch up to about this many records: enough to share
 * one sync among thousands of records; larger batches cost more CPU per record (measured on
 * PostgreSQL when the bodies went as a text[]: bigger parameter arrays, more GC).
 */
const COALESCE_RECORDS = 4096;

/** Records a (not yet validated) records message claims to carry, for sizing a batch. */
const claimed = (m: Message): number => {
  const items = m.bodies ?? m.texts ?? m.records;
  return Array.isArray(items) ? items.length : 1;
};

let nextId = 1;

/**
 * Runs one agent connection: challenge → hello (proof of possession of the host key, then the
 * registered/pinned/revoked check) → messages dispatched through ctx.messages, one at a time.
 */
export function handleConnection(
  ctx: CollectorContext,
  ws: WebSocket,
  opts: { authTimeoutMs: number },
): {
  conn: Connection;
  drained: () => Promise<void>;
} {
  const nonce = randomBytes(24).toString("base64url");
  /** Parsed messages waiting for their turn (this connection's messages are handled in order). */
  const pending: Message[] = [];
  let running: Promise<void> | null = null;
  let closed = false;
  const conn: Connection = {
    id: nextId++,
    ws,
    host: null,
    agentNonce: null,
    send(msg) {
      if (closed || ws.readyState !== ws.OPEN) return;
      const out =
        SIGNED_TYPES.has(msg.type) && conn.agentNonce !== null
          ? signCollectorMessage(ctx.identity.privateKey, conn.agentNonce, msg)
          : msg;
      ws.send(JSON.stringify(out));
    },
    refuse(code, reason) {
      if (closed) return;
      closed = true;
      ctx.metrics.refusals.inc({ reason: String(code) });
      ctx.logger.warn(
        { conn: conn.id, host_id: conn.host?.host_id ?? null, code, reason },
        "closing agent connection",
      );
      ws.close(code, reason.slice(0, 120));
    },
  };
  ctx.metrics.connections.inc();
  const authTimer = setTimeout(
    () => conn.refuse(CloseCodes.UNAUTHENTICATED, "no hello in time"),
    opts.authTimeoutMs,
  );

  /** Handles queued messages one at a time until the queue is empty. */
  const run = async () => {
    while (pending.length > 0) {
      let msg = pending.shift()!;
      // Records messages queued back to back (they queue while the previous batch commits) are
      // ingested as one batch: one transaction (one sync) and one ack for all of them. On
      // PostgreSQL too since the batch goes as joined texts (pg-storage.ts): measured, larger
      // batches there no longer cost more CPU per record (bodies as a text[] did).
      if (msg.type === "records" && conn.host !== null && pending[0]?.type === "records") {
        const parts = [msg];
        let n = claimed(msg);
        while (pending[0]?.type === "records" && n + claimed(pending[0]) <= COALESCE_RECORDS) {
          n += claimed(pending[0]);
          parts.push(pending.shift()!);
        }
        msg = { type: "records", [COALESCED]: parts };
      }
      try {
        if (!closed) await dispatch(ctx, conn, msg, nonce, authTimer);
      } catch (err) {
        ctx.logger.error({ conn: conn.id, err: String(err) }, "message handler failed");
        conn.refuse(CloseCodes.STORAGE_ERROR, "collector could not process the message; retry later");
      }
      if (pending.length < HIGH_WATER && !closed) ws.resume();
    }
  };
  const pump = () => {
    if (running !== null) return;
    // Start on the next turn of the event loop, so that every frame already read from the socket
    // is queued first and can join the batch.
    running = new Promise<void>((r) => setImmediate(r)).then(run).finally(() => {
      running = null;
      if (pending.length > 0) pump();
    });
  };

  ws.on("message", (data, isBinary) => {
    if (closed) return;
    if (isBinary) return conn.refuse(CloseCodes.BAD_FRAME, "binary frames are not part of the protocol");
    const msg = parseEnvelope(data.toString("utf8"));
    if (msg === null) return conn.refuse(CloseCodes.BAD_FRAME, "not a JSON object with a string 'type'");
    // Decoded now (pure: schema, canonical form), so that it overlaps the commit of the batch before.
    if (msg.type === "records" && conn.host !== null)
      (msg as { [DECODED]?: unknown })[DECODED] = decodeRecordsMessage(msg);
    pending.push(msg);
    if (pending.length >= HIGH_WATER) ws.pause();
    pump();
  });
  ws.on("error", (err) => ctx.logger.warn({ conn: conn.id, err: String(err) }, "agent connection error"));
  ws.on("close", () => {
    closed = true;
    clearTimeout(authTimer);
    ctx.metrics.connections.dec();
    const h = conn.host?.host_id;
    if (h !== undefined && ctx.hosts.get(h) === conn) ctx.hosts.delete(h);
  });
  // protocol 2: `records` may carry canonical body texts (record-text.ts); protocol 1 agents still send objects.
  // protocol 3: agents send `decisions` (pending decisions, the moment they are made).
  // protocol 4: `records` may carry the bodies as JSON (`bodies`): parsed once, with the frame.
  // protocol 5: each decision is host-signed and the collector answers with a signed `decisions_ack`.
  // The collector's key rides along so an agent on plain loopback ws:// can pin it; under wss:// it is the TLS key.
  ws.send(
    JSON.stringify({
      type: "challenge",
      nonce,
      protocol: 5,
      public_key_pem: ctx.identity.publicKeyPem,
      // After `tls rotate`: the new key, signed by the previous one, so agents that pinned it re-pin.
      ...(ctx.identity.rotation !== undefined ? { rotation: ctx.identity.rotation } : {}),
    }),
  );
  return { conn, drained: async () => running ?? undefined };
}

async function dispatch(
  ctx: CollectorContext,
  conn: Connection,
  msg: Message,
  nonce: string,
  authTimer: NodeJS.Timeout,
): Promise<void> {
  if (conn.host === null) {
    if (msg.type !== "hello") return conn.refuse(CloseCodes.UNAUTHENTICATED, `'${msg.type}' before hello`);
    clearTimeout(authTimer);
    return hello(ctx, conn, msg, nonce);
  }
  if (msg.type === "hello") return conn.refuse(CloseCodes.BAD_FRAME, "second hello on one connection");
  const handler = ctx.messages.get(msg.type);
  if (handler === undefined)
    return conn.refuse(CloseCodes.UNKNOWN_TYPE, `unknown message type '${msg.type}'`);
  await handler(conn, msg);
}

const samePem = (a: string | null, b: string) => a !== null && a.trim() === b.trim();

async function hello(ctx: CollectorContext, conn: Connection, msg: Message, nonce: string): Promise<void> {
  const p = HelloSchema.safeParse(msg);
  if (!p.success) return conn.refuse(CloseCodes.BAD_FRAME, "hello does not match its schema");
  const h = p.data;
  let sigOk = false;
  try {
    sigOk = verify(
      null,
      helloSigningInput(nonce, h.host_id, h.epoch),
      h.public_key_pem,
      Buffer.from(h.signature, "base64"),
    );
  } catch {
    sigOk = false;
  }
  if (!sigOk) return conn.refuse(CloseCodes.UNAUTHENTICATED, "hello signature does not verify");

  let host = await ctx.storage.getHost(h.host_id);
  if (host?.status === "revoked") return conn.refuse(CloseCodes.REVOKED, `host '${h.host_id}' is revoked`);
  if (host === undefined) {
    if (ctx.requireRegistered) {
      return conn.refuse(
        CloseCodes.UNREGISTERED,
        `host '${h.host_id}' is not registered (--require-registered)`,
      );
    }
    const pinned = (await ctx.storage.hosts()).filter((x) => x.status === "pinned").length;
    if (pinned >= ctx.maxPinnedHosts) {
      await ctx.alert({
        host_id: h.host_id,
        code: "pin-cap-reached",
        seq: null,
        message: `refused a new host: ${pinned} hosts are already pinned on first use (the cap); register hosts or raise --max-pinned-hosts`,
      });
      return conn.refuse(
        CloseCodes.UNREGISTERED,
        "too many hosts pinned on first use: this host must be registered",
      );
    }
    host = await ctx.storage.pinHost(h.host_id, h.public_key_pem, h.epoch);
    if (samePem(host.public_key_pem, h.public_key_pem)) {
      ctx.logger.info({ host_id: h.host_id }, "pinned a new host's key on first use");
    }
  }
  if (!samePem(host.public_key_pem, h.public_key_pem)) {
    await ctx.alert({
      host_id: h.host_id,
      code: "key-mismatch",
      seq: null,
      message: "a connection proved a key other than the host's registered/pinned key",
    });
    return conn.refuse(CloseCodes.UNAUTHENTICATED, "key differs from the host's registered key");
  }
  if (host.epoch !== h.epoch) {
    if (host.epoch === null || host.head_seq === 0) {
      await ctx.storage.setEpoch(h.host_id, h.epoch);
      host = (await ctx.storage.getHost(h.host_id))!;
    }
    if (host.epoch !== h.epoch) {
      await ctx.alert({
        host_id: h.host_id,
        code: "epoch-changed",
        seq: host.head_seq,
        message: `the host's evidence store was recreated (epoch ${host.epoch} -> ${h.epoch}); its old chain ends at seq ${host.head_seq}`,
      });
      return conn.refuse(CloseCodes.EPOCH_CHANGED, "store epoch differs from the chain the collector holds");
    }
  }
  if (h.last_seq < host.head_seq) {
    await ctx.alert({
      host_id: h.host_id,
      code: "agent-behind",
      seq: host.head_seq,
      message: `agent says last_seq ${h.last_seq} but the collector holds up to ${host.head_seq} (store rolled back?)`,
    });
    return conn.refuse(CloseCodes.CHAIN_FORK, "agent's chain is behind the collector's");
  }
  // History the collector acked can never change unnoticed: an agent at the collector's head must
  // hold the same head (an agent ahead is checked when its next record must link to that head).
  if (h.head_hash !== undefined && h.last_seq === host.head_seq && h.head_hash !== host.head_hash) {
    await ctx.alert({
      host_id: h.host_id,
      code: "acked-history-changed",
      seq: host.head_seq,
      message: `the agent's record at seq ${host.head_seq} differs from the one the collector acked: its chain was rewritten`,
    });
    return conn.refuse(CloseCodes.CHAIN_FORK, "agent's chain differs from the history the collector acked");
  }
  const prev = ctx.hosts.get(h.host_id);
  if (prev !== undefined && prev !== conn)
    prev.refuse(CloseCodes.REPLACED, "a newer connection of this host arrived");
  conn.host = host;
  conn.agentNonce = h.agent_nonce ?? null;
  ctx.hosts.set(h.host_id, conn);
  await ctx.storage.touchHost(h.host_id, Date.now());
  conn.send({ type: "ack", seq: host.head_seq, hash: host.head_hash, checkpoint_seq: host.checkpoint_seq });
  for (const listener of ctx.authenticated) listener(conn);
}
