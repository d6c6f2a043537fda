import { createPublicKey, type KeyObject, randomBytes } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type { TLSSocket } from "node:tls";
import WebSocket from "ws";
import { Codes, ForgeError } from "../errors.js";
import type { Checkpoint } from "../protocol/checkpoint.js";
import {
  FIRST_USE_ALERT,
  firstUsePinMessage,
  isLoopbackHost,
  isPinnedKey,
  keyFingerprint,
  SIGNED_TYPES,
  verifyCollectorMessage,
  verifyRotation,
} from "../protocol/collector-auth.js";
import {
  CloseCodes,
  DecisionsAckSchema,
  decisionDigest,
  decisionSigningInput,
  helloSigningInput,
  ingestUrl,
  type WireDecision,
} from "../protocol/messages.js";
import { type EncodedBatch, encodeObjectBatch, encodeTextBatch } from "../protocol/text-batch.js";
import { type LinkError, type LinkEvent, linkError } from "./link-error.js";
import type { EvidenceStore, PendingAction } from "./store.js";

/** The logging surface the shipper uses (pino's shape). */
export interface ShipperLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ShipperOptions {
  store: EvidenceStore;
  /** The collector's ingest URL, ws://HOST:PORT/v1/ws; without a path (ws://HOST:PORT) it means /v1/ws. */
  url: string;
  logger?: ShipperLogger;
  /** Records per `records` message (default 1024). */
  batchSize?: number;
  /** Batches sent and not yet acked (default 8). */
  maxInFlight?: number;
  /** Reconnect delay: exponential from initialMs to maxMs, with jitter (default 200 ms … 15 s). */
  backoff?: { initialMs: number; maxMs: number };
  /** A batch is split until its JSON is at most this many bytes (default 4 MiB; the collector's limit is 8). */
  maxBatchBytes?: number;
  /**
   * Acks are persisted (store.markAcked: a signed checkpoint, a prune and a sync, on the writer
   * thread) at most once per this many ms and one at a time, for the highest ack seen (default 20). A crash in between only re-sends records
   * the collector deduplicates.
   */
  ackFlushMs?: number;
  /** The pinned collector key (default: pinned in memory on first use, loudly). */
  trust?: CollectorTrust;
  /** Called once per distinct problem with the collector's identity (the daemon writes an alert record). */
  onAlert?: (code: string, message: string) => void;
}

/**
 * Where the agent keeps the collector key it trusts (issue 20): configured, or pinned on first use.
 * The shipper acts only on acks and reviews this key signed.
 */
export interface CollectorTrust {
  /** The pinned key, or null before first use. */
  pinned(): KeyObject | null;
  /** Pins `key` seen first (in the TLS handshake, or in the challenge on loopback ws://); false: first use is not allowed. */
  pinFirstUse(key: KeyObject): boolean;
  /** Moves the pin to `key`, which a rotation signed by the pinned key named (`tls rotate`). */
  repin(key: KeyObject): void;
}

/** A trust held in memory: `key` pinned already, or the first key seen. */
export function memoryTrust(key: KeyObject | null = null, firstUse = true): CollectorTrust {
  let pinned = key;
  return {
    pinned: () => pinned,
    pinFirstUse(k) {
      if (!firstUse) return false;
      pinned = k;
      return true;
    },
    repin(k) {
      pinned = k;
    },
  };
}

/** What one connection has established about the collector at the other end. */
interface Peer {
  /** The collector key this connection proved (TLS handshake, then the challenge), checked against the pin. */
  key: KeyObject | null;
  /** A TLS key other than the pinned one, judged when the challenge arrives (it may announce a rotation). */
  tlsKey: KeyObject | null;
  /** This connection's nonce, sent in hello: the collector's signatures cover it. */
  nonce: string;
  /** Refused as untrusted: nothing more it sends is read. */
  refused: boolean;
}

export interface ShipperStatus {
  /** A WebSocket is open and the collector accepted hello. */
  connected: boolean;
  lastAckedSeq: number;
  /** Committed records the collector has not acked yet. */
  backlog: number;
  /** Connections opened after the first one. */
  reconnects: number;
  /** Decisions sent (or waiting to be) whose current version the collector has not acked (protocol ≥ 5). */
  decisionsUnacked: number;
  lastClose: { code: number; reason: string; at: string } | null;
  /** Why the agent is not connected now, with the fix; null while connected (and before the first failure). */
  error: LinkError | null;
  /** The latest such error, kept after a later connect succeeds (the heartbeat carries it). */
  lastError: LinkError | null;
}

type Handler = (msg: Record<string, unknown>) => void;

/** Close codes after which retrying soon cannot help (operator action needed): retry at the slowest pace. */
const SLOW_RETRY = new Set<number>([
  CloseCodes.UNAUTHENTICATED,
  CloseCodes.REVOKED,
  CloseCodes.UNREGISTERED,
  CloseCodes.CHAIN_GAP,
  CloseCodes.CHAIN_FORK,
  CloseCodes.EPOCH_CHANGED,
  CloseCodes.BAD_CHECKPOINT,
  CloseCodes.COLLECTOR_UNTRUSTED,
]);

/** The collector key a challenge names, or null when there is none or it does not parse. */
function challengeKey(pem: unknown): KeyObject | null {
  if (typeof pem !== "string") return null;
  try {
    return createPublicKey(pem);
  } catch {
    return null;
  }
}

const silent: ShipperLogger = { info() {}, warn() {}, error() {} };

/**
 * The client frame mask (RFC 6455 5.3) is all zeros, so ws writes the frame's bytes as they are and
 * the collector's ws skips the unmask (each side XORs every byte in JS otherwise). The mask exists
 * so that script in a browser cannot put chosen bytes on the wire, to poison a proxy's cache that
 * reads the cleartext; here no script chooses the frame (the shipper writes it) and the bytes go
 * over TLS (wss://) or loopback only (plain ws:// elsewhere is refused in the constructor), where
 * no intermediary reads them. Integrity and authenticity do not come from the mask: the ack and
 * the records are signed, and TLS carries them.
 */
const zeroMask = (mask: Buffer): void => {
  mask.fill(0);
};

/** Decisions kept for re-sending until acked; beyond this the oldest are dropped (logged): a collector that never acks. */
const MAX_UNACKED_DECISIONS = 65_536;

/**
 * Streams the store's records to the collector: hello (proving possession of the host key), then
 * records from the collector's high-water mark, at most `maxInFlight` batches unacked, pruning
 * only what the collector acked. Reconnects forever with exponential backoff and jitter.
 */
export class Shipper {
  private readonly store: EvidenceStore;
  private readonly url: string;
  private readonly log: ShipperLogger;
  private readonly batchSize: number;
  private readonly maxInFlight: number;
  private readonly backoff: { initialMs: number; maxMs: number };
  private readonly maxBatchBytes: number;
  private readonly ackFlushMs: number;
  private readonly handlers = new Map<string, Handler[]>();
  private readonly trust: CollectorTrust;
  private readonly onAlert: (code: string, message: string) => void;
  private readonly secure: boolean;
  /** Problems already alerted on (code and key), so a fake collector cannot flood the evidence with alerts. */
  private readonly alerted = new Set<string>();

  private running = false;
  private ws: WebSocket | null = null;
  private authenticated = false;
  /** Highest seq sent on this connection. */
  private sentSeq = 0;
  /** The collector's protocol version from its challenge: 2 takes canonical body texts, 4 the bodies as JSON, 5 also acks decisions. */
  private protocol = 1;
  /** Highest checkpoint seq the collector holds or was sent on this connection. */
  private cpSentSeq = 0;
  /** Last seq of each unacked batch, ascending. */
  private inFlight: number[] = [];
  private attempt = 0;
  private connects = 0;
  private lastClose: ShipperStatus["lastClose"] = null;
  private linkErr: LinkError | null = null;
  private lastLinkErr: LinkError | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** Highest seq the collector acked; persisted to the store by flushAck. */
  private collectorAcked = 0;
  private ackTimer: NodeJS.Timeout | null = null;
  /** The ack being persisted (store.markAcked), settled either way; null when none is. */
  private acking: Promise<void> | null = null;
  private pumpScheduled = false;
  private unsubscribe: (() => void) | null = null;
  /**
   * Decisions not acked at their current version, by action id (insertion order: oldest first),
   * with the digest the collector's decisions_ack names. Re-sent on every connect, including those
   * whose pending row became final meanwhile (docs/evidence.md).
   */
  private readonly unackedDecisions = new Map<string, { wire: WireDecision; digest: string }>();
  private closedWaiters: Array<() => void> = [];

  constructor(opts: ShipperOptions) {
    this.store = opts.store;
    this.url = ingestUrl(opts.url);
    this.log = opts.logger ?? silent;
    this.batchSize = opts.batchSize ?? 1024;
    this.maxInFlight = opts.maxInFlight ?? 8;
    this.backoff = opts.backoff ?? { initialMs: 200, maxMs: 15_000 };
    this.maxBatchBytes = opts.maxBatchBytes ?? 4 * 1024 * 1024;
    this.ackFlushMs = opts.ackFlushMs ?? 20;
    this.trust = opts.trust ?? memoryTrust();
    this.onAlert = opts.onAlert ?? (() => {});
    const u = new URL(opts.url);
    this.secure = u.protocol === "wss:";
    if (!this.secure && !isLoopbackHost(u.hostname)) {
      throw new ForgeError(
        Codes.CONFIG_INVALID,
        `collector_url ${opts.url}: plain ws:// is allowed to loopback only; use wss:// (forge-collector tls init) so the collector's key is pinned`,
      );
    }
  }

  /** Starts connecting (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const offAppend = this.store.onAppend(() => this.schedulePump());
    const offPending = this.store.onPending((p) => this.sendDecisions(this.track([p])));
    this.unsubscribe = () => {
      offAppend();
      offPending();
    };
    this.connect();
  }

  /** Stops: no reconnect, the socket closed. Unacked records stay in the store for next time. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    // The highest ack is persisted before stop returns (after the one in progress, if any).
    while (this.acking !== null) await this.acking;
    this.flushAck();
    if (this.acking !== null) await this.acking;
    const ws = this.ws;
    if (ws === null || ws.readyState === WebSocket.CLOSED) return;
    const closed = new Promise<void>((r) => this.closedWaiters.push(r));
    ws.close(CloseCodes.NORMAL, "agent stopping");
    const t = setTimeout(() => ws.terminate(), 2000);
    await closed;
    clearTimeout(t);
  }

  /** Sends a message (heartbeat, review answer…) if connected; false when it was not sent. Not queued. */
  send(msg: { type: string } & Record<string, unknown>): boolean {
    if (!this.authenticated || this.ws?.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(msg));
    return true;
  }

  /** Subscribes to a collector→agent message type (policy, review, …); returns the unsubscribe. */
  on(type: string, handler: Handler): () => void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler);
    this.handlers.set(type, list);
    return () => {
      const l = this.handlers.get(type);
      if (l) l.splice(l.indexOf(handler) >>> 0, 1);
    };
  }

  status(): ShipperStatus {
    const acked = Math.max(this.collectorAcked, this.store.ackedSeq());
    return {
      connected: this.authenticated,
      lastAckedSeq: acked,
      backlog: Math.max(0, this.store.lastSeq() - acked),
      reconnects: Math.max(0, this.connects - 1),
      decisionsUnacked: this.unackedDecisions.size,
      lastClose: this.lastClose,
      error: this.linkErr,
      lastError: this.lastLinkErr,
    };
  }

  /** Notes why the link failed; logs it (with its fix) when it differs from the last one, not on every retry. */
  private noteLink(event: LinkEvent): void {
    const e = linkError(event, this.url);
    if (e === null) return;
    const repeat = this.linkErr !== null && this.linkErr.reason === e.reason;
    this.linkErr = e;
    this.lastLinkErr = e;
    if (!repeat)
      this.log.error(
        { url: this.url, code: e.code, reason: e.reason, fix: e.fix },
        `collector: ${e.message}`,
      );
  }

  private connect(): void {
    if (!this.running) return;
    this.connects++;
    // The CA system is not what makes a collector trusted here: the pinned key is (checked on
    // upgrade, before any message is read), so a self-signed certificate is fine.
    const ws = new WebSocket(this.url, {
      maxPayload: 64 * 1024 * 1024,
      handshakeTimeout: 10_000,
      rejectUnauthorized: false,
      generateMask: zeroMask,
    });
    this.ws = ws;
    const peer: Peer = {
      key: null,
      tlsKey: null,
      nonce: randomBytes(24).toString("base64url"),
      refused: false,
    };
    ws.on("upgrade", (res: IncomingMessage) => {
      if (!this.secure) return;
      const cert = (res.socket as TLSSocket).getPeerX509Certificate?.();
      if (cert === undefined)
        return this.untrusted(
          ws,
          peer,
          "collector-no-certificate",
          "the collector presented no TLS certificate",
        );
      const pinned = this.trust.pinned();
      // Another key than the pinned one: refused at the challenge unless it announces a rotation
      // the pinned key signed. Nothing is sent to this collector before that.
      if (pinned !== null && !isPinnedKey(pinned, cert.publicKey)) peer.tlsKey = cert.publicKey;
      else this.checkKey(ws, peer, cert.publicKey, "TLS certificate");
    });
    ws.on("message", (data, isBinary) => {
      if (this.ws !== ws || isBinary || peer.refused) return;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(data.toString("utf8"));
      } catch {
        this.log.warn({}, "collector sent a frame that is not JSON; reconnecting");
        ws.close(CloseCodes.BAD_FRAME, "bad frame");
        return;
      }
      try {
        this.onMessage(ws, peer, msg);
      } catch (err) {
        this.log.error({ err: String(err) }, "shipper failed handling a collector message; reconnecting");
        ws.close(CloseCodes.INTERNAL_ERROR, "agent error");
      }
    });
    ws.on("error", (err) => this.noteLink({ kind: "error", error: err }));
    ws.on("close", (code, reason) => {
      if (this.ws === ws) {
        this.ws = null;
        this.authenticated = false;
        this.inFlight = [];
        this.lastClose = { code, reason: reason.toString(), at: new Date().toISOString() };
        if (code >= 4000 && !peer.refused) this.noteLink({ kind: "close", code, reason: reason.toString() });
        this.scheduleReconnect(peer.refused ? CloseCodes.COLLECTOR_UNTRUSTED : code);
      }
      for (const w of this.closedWaiters.splice(0)) w();
    });
  }

  private scheduleReconnect(code: number): void {
    if (!this.running) return;
    if (SLOW_RETRY.has(code)) this.attempt = Math.max(this.attempt, 30);
    const { initialMs, maxMs } = this.backoff;
    const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(this.attempt, 30));
    // Equal jitter: half fixed, half random, so a fleet does not reconnect in step.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    this.attempt++;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  /**
   * Compares the key a connection proved with the pinned one; pins it on first use (loudly).
   * Returns false when the connection was refused.
   */
  private checkKey(ws: WebSocket, peer: Peer, key: KeyObject, seenIn: string): boolean {
    const fp = keyFingerprint(key);
    let pinned = this.trust.pinned();
    if (pinned === null) {
      if (!this.trust.pinFirstUse(key)) {
        this.untrusted(
          ws,
          peer,
          "collector-not-pinned",
          `no collector key is pinned and first-use pinning is off; the collector's key is ${fp}`,
        );
        return false;
      }
      // An agent's read may have pinned first (src/agent/collector-http.ts): the pin decides.
      pinned = this.trust.pinned() ?? key;
      if (isPinnedKey(pinned, key)) {
        const message = firstUsePinMessage(fp, seenIn);
        this.log.error({ url: this.url, fingerprint: fp }, message);
        this.alertOnce(FIRST_USE_ALERT, fp, message);
      }
    }
    if (!isPinnedKey(pinned, key)) {
      this.untrusted(
        ws,
        peer,
        "collector-key-mismatch",
        `the collector at ${this.url} proved key ${fp} in its ${seenIn}, not the pinned ${keyFingerprint(pinned)}: refused (a fake collector, or its key changed)`,
        fp,
      );
      return false;
    }
    if (peer.key !== null && !isPinnedKey(peer.key, key)) {
      this.untrusted(
        ws,
        peer,
        "collector-key-mismatch",
        `the collector's ${seenIn} names key ${fp}, not the key of its TLS certificate`,
      );
      return false;
    }
    peer.key = key;
    return true;
  }

  /**
   * A collector whose key is not the pinned one may announce a rotation (`forge-collector tls
   * rotate`): the new key signed by the pinned one. A valid one, naming the key of the challenge
   * (and of the TLS certificate under wss), moves the pin, loudly (error log and an alert record);
   * a rotation not signed by the pinned key is refused (4012, alert `collector-rotation-invalid`).
   * Without a rotation, the key check that follows refuses the mismatch as before.
   */
  private followRotation(ws: WebSocket, peer: Peer, key: KeyObject, rotation: unknown): boolean {
    const pinned = this.trust.pinned();
    if (pinned !== null && !isPinnedKey(pinned, key) && rotation !== undefined) {
      const next = verifyRotation(pinned, rotation);
      const fp = keyFingerprint(key);
      if (
        next === null ||
        !isPinnedKey(next, key) ||
        (peer.tlsKey !== null && !isPinnedKey(next, peer.tlsKey))
      ) {
        this.untrusted(
          ws,
          peer,
          "collector-rotation-invalid",
          `the collector at ${this.url} announced a key rotation to ${fp} that the pinned key ${keyFingerprint(pinned)} did not sign (or that names another key): refused`,
          fp,
        );
        return false;
      }
      this.trust.repin(next);
      const message = `RE-PINNED the collector's key: ${keyFingerprint(pinned)} -> ${fp}, a rotation signed by the pinned key`;
      this.log.error({ url: this.url, previous: keyFingerprint(pinned), fingerprint: fp }, message);
      this.alertOnce("collector-key-rotated", fp, message);
    }
    if (peer.tlsKey !== null) {
      const now = this.trust.pinned();
      if (now === null || !isPinnedKey(now, peer.tlsKey)) {
        this.untrusted(
          ws,
          peer,
          "collector-key-mismatch",
          `the collector at ${this.url} proved key ${keyFingerprint(peer.tlsKey)} in its TLS certificate, not the pinned ${now === null ? "(none)" : keyFingerprint(now)}: refused (a fake collector, or its key changed without a signed rotation)`,
          keyFingerprint(peer.tlsKey),
        );
        return false;
      }
      peer.key = peer.tlsKey;
    }
    return true;
  }

  /** Refuses the connection: nothing more it sends is read, nothing is pruned; one alert per problem and key. */
  private untrusted(
    ws: WebSocket,
    peer: Peer,
    code: string,
    message: string,
    fp = peer.key === null ? "" : keyFingerprint(peer.key),
  ): void {
    peer.refused = true;
    this.log.error({ url: this.url, alert: code, fingerprint: fp }, message);
    this.noteLink({ kind: "untrusted", alert: code, message });
    this.alertOnce(code, fp, message);
    if (ws.readyState === WebSocket.OPEN) ws.close(CloseCodes.COLLECTOR_UNTRUSTED, code);
    else ws.terminate();
  }

  private alertOnce(code: string, key: string, message: string): void {
    const k = `${code} ${key}`;
    if (this.alerted.has(k)) return;
    this.alerted.add(k);
    try {
      this.onAlert(code, message);
    } catch (err) {
      this.log.error({ err: String(err) }, "could not record a collector alert");
    }
  }

  /** True when `msg` is signed by the key this connection proved; otherwise the connection is refused. */
  private signed(ws: WebSocket, peer: Peer, msg: Record<string, unknown>): boolean {
    if (peer.key !== null && verifyCollectorMessage(peer.key, peer.nonce, msg)) return true;
    this.untrusted(
      ws,
      peer,
      `collector-unsigned-${String(msg.type)}`,
      `the collector sent a '${String(msg.type)}' without a valid signature of the pinned collector key: ignored${msg.type === "ack" ? ", nothing pruned" : ", not applied"}`,
    );
    return false;
  }

  private onMessage(ws: WebSocket, peer: Peer, msg: Record<string, unknown>): void {
    if (SIGNED_TYPES.has(String(msg.type)) && !this.signed(ws, peer, msg)) return;
    switch (msg.type) {
      case "challenge": {
        const key = challengeKey(msg.public_key_pem);
        if (key === null) {
          this.untrusted(
            ws,
            peer,
            "collector-no-key",
            "the collector's challenge names no SPKI PEM key: it cannot sign acks or reviews (an old or a fake collector); refused",
          );
          return;
        }
        if (!this.followRotation(ws, peer, key, msg.rotation)) return;
        if (!this.checkKey(ws, peer, key, "challenge")) return;
        const nonce = String(msg.nonce ?? "");
        this.protocol = typeof msg.protocol === "number" ? msg.protocol : 1;
        // A collector before protocol 5 never acks decisions: nothing to hold for it.
        if (this.protocol < 5) this.unackedDecisions.clear();
        const s = this.store;
        const signature = s.sign(helloSigningInput(nonce, s.hostId, s.epoch)).toString("base64");
        ws.send(
          JSON.stringify({
            type: "hello",
            host_id: s.hostId,
            epoch: s.epoch,
            last_seq: s.lastSeq(),
            head_hash: s.lastHash(),
            public_key_pem: s.publicKeyPem,
            signature,
            agent_nonce: peer.nonce,
          }),
        );
        return;
      }
      case "ack": {
        const seq = msg.seq;
        if (typeof seq !== "number" || !Number.isInteger(seq) || seq < 0 || seq > this.store.lastSeq()) {
          this.log.error({ seq }, "collector acked a seq this host never wrote; reconnecting");
          ws.close(CloseCodes.BAD_FRAME, "bad ack");
          return;
        }
        if (!this.authenticated) {
          // The answer to hello: the collector's durable high-water mark.
          this.authenticated = true;
          this.attempt = 0;
          this.linkErr = null;
          this.sentSeq = seq;
          this.cpSentSeq = typeof msg.checkpoint_seq === "number" ? msg.checkpoint_seq : 0;
          this.log.info({ url: this.url, collector_seq: seq }, "connected to collector");
          // Every pending decision goes again (the collector stores each once), and so does every
          // decision not acked yet whose row became final meanwhile.
          const pendingNow = this.track(this.store.listPending());
          const ids = new Set(pendingNow.map((d) => d.action_id));
          const resolved = [...this.unackedDecisions.values()]
            .map((u) => u.wire)
            .filter((d) => !ids.has(d.action_id));
          this.sendDecisions(resolved.concat(pendingNow));
        }
        while (this.inFlight.length > 0 && this.inFlight[0]! <= seq) this.inFlight.shift();
        if (seq > this.collectorAcked) this.collectorAcked = seq;
        if (this.ackTimer === null && this.collectorAcked > this.store.ackedSeq()) {
          this.ackTimer = setTimeout(() => this.flushAck(), this.ackFlushMs);
        }
        this.pump();
        return;
      }
      case "decisions_ack": {
        const p = DecisionsAckSchema.safeParse(msg);
        if (!p.success) {
          this.log.error({}, "collector sent a decisions_ack that does not match its schema; reconnecting");
          ws.close(CloseCodes.BAD_FRAME, "bad decisions_ack");
          return;
        }
        // Only the version acked is done: a decision changed since is still owed.
        for (const a of p.data.decisions)
          if (this.unackedDecisions.get(a.action_id)?.digest === a.digest)
            this.unackedDecisions.delete(a.action_id);
        return;
      }
      default: {
        for (const h of this.handlers.get(String(msg.type)) ?? []) {
          try {
            h(msg);
          } catch (err) {
            this.log.error({ type: msg.type, err: String(err) }, "collector message handler failed");
          }
        }
      }
    }
  }

  /**
   * The wire form of pending decisions, host-signed, each entered (at its current version) in the
   * unacked set a decisions_ack clears.
   */
  private track(list: PendingAction[]): WireDecision[] {
    const hostId = this.store.hostId;
    return list.map((p) => {
      const d: WireDecision = {
        action_id: p.action_id,
        session_id: p.session_id,
        state: p.state,
        created_ms: p.created_ms,
        deadline_ms: p.deadline_ms,
        record: p.record as WireDecision["record"],
      };
      d.host_sig = this.store.sign(decisionSigningInput(hostId, d)).toString("base64");
      const digest = decisionDigest(hostId, d);
      if (this.protocol >= 5 || !this.authenticated)
        if (this.unackedDecisions.get(d.action_id)?.digest !== digest) {
          this.unackedDecisions.delete(d.action_id);
          this.unackedDecisions.set(d.action_id, { wire: d, digest });
        }
      return d;
    });
  }

  /**
   * Sends decisions (protocol ≥ 3 collectors), at most 1024 a message. Not queued on the socket
   * when disconnected: the unacked set holds them for the next connect.
   */
  private sendDecisions(list: WireDecision[]): void {
    while (this.unackedDecisions.size > MAX_UNACKED_DECISIONS) {
      const oldest = this.unackedDecisions.keys().next().value!;
      this.unackedDecisions.delete(oldest);
      this.log.warn(
        { action_id: oldest, max: MAX_UNACKED_DECISIONS },
        "dropped an unacked decision from the resend set (the collector does not ack decisions)",
      );
    }
    if (this.protocol < 3) return;
    for (let i = 0; i < list.length; i += 1024)
      this.send({ type: "decisions", decisions: list.slice(i, i + 1024) });
  }

  /**
   * Persists the highest ack (the store prunes up to it and signs a checkpoint there, on its writer
   * thread), then ships checkpoints. One at a time: an ack that came meanwhile goes once it settled.
   */
  private flushAck(): void {
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    const seq = this.collectorAcked;
    if (this.acking !== null || seq <= this.store.ackedSeq()) return;
    this.acking = this.store.markAcked(seq).then(
      () => {
        this.acking = null;
        const ws = this.ws;
        if (ws !== null && this.authenticated && ws.readyState === WebSocket.OPEN) {
          try {
            this.shipCheckpoints(ws, seq);
          } catch (err) {
            this.log.error({ seq, err: String(err) }, "could not read the checkpoints to ship");
          }
        }
        // Acks that came while this one was persisted (a failed one waits for the next ack, as before).
        if (this.running && this.ackTimer === null && this.collectorAcked > this.store.ackedSeq())
          this.ackTimer = setTimeout(() => this.flushAck(), this.ackFlushMs);
      },
      (err: unknown) => {
        this.acking = null;
        this.log.error(
          { seq, err: String(err) },
          "could not persist the collector's ack; records stay until the next ack",
        );
      },
    );
  }

  /** Sends the signed checkpoints the collector does not hold yet, up to the acked seq. */
  private shipCheckpoints(ws: WebSocket, ackedSeq: number): void {
    if (ackedSeq <= this.cpSentSeq) return;
    const cps: Checkpoint[] = this.store.checkpoints(this.cpSentSeq).filter((c) => c.seq <= ackedSeq);
    if (cps.length === 0) return;
    ws.send(
      JSON.stringify({ type: "checkpoints", checkpoints: cps.map(({ public_key_pem: _k, ...c }) => c) }),
    );
    this.cpSentSeq = cps[cps.length - 1]!.seq;
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  /** Fills the window: sends batches after sentSeq until maxInFlight are unacked or nothing is left. */
  private pump(): void {
    const ws = this.ws;
    if (ws === null) return;
    while (
      this.authenticated &&
      ws.readyState === WebSocket.OPEN &&
      this.inFlight.length < this.maxInFlight
    ) {
      const batch = this.protocol >= 2 ? this.textBatch() : this.objectBatch();
      if (batch === null) return;
      ws.send(batch.frame);
      this.inFlight.push(batch.last);
      this.sentSeq = batch.last;
    }
  }

  /** Rows after sentSeq, or null when none, or when a partial batch should wait. */
  private nextRows<T>(read: (after: number, limit: number) => T[]): T[] | null {
    const rows = read(this.sentSeq, this.batchSize);
    if (rows.length === 0) return null;
    // A partial batch waits while another batch is in flight: under load, batches fill up
    // (fewer commits at the collector); when idle, a record still leaves at once.
    if (rows.length < this.batchSize && this.inFlight.length > 0) return null;
    return rows;
  }

  /** Protocol 2 and 4: the rows' canonical body texts as stored (text-batch.ts). */
  private textBatch(): EncodedBatch | null {
    const rows = this.nextRows((a, l) => this.store.unshippedRaw(a, l));
    if (rows === null) return null;
    return encodeTextBatch(rows, this.maxBatchBytes, this.protocol >= 4 ? "bodies" : "texts");
  }

  /** Protocol 1: parsed StoredRecords, halved until the frame fits maxBatchBytes. */
  private objectBatch(): EncodedBatch | null {
    const recs = this.nextRows((a, l) => this.store.unshipped(a, l));
    return recs === null ? null : encodeObjectBatch(recs, this.maxBatchBytes);
  }
}
