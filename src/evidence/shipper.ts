import WebSocket from "ws";
import type { Checkpoint } from "../protocol/checkpoint.js";
import { CloseCodes, helloSigningInput } from "../protocol/messages.js";
import { type EncodedBatch, encodeObjectBatch, encodeTextBatch } from "../protocol/text-batch.js";
import type { EvidenceStore } from "./store.js";

/** The logging surface the shipper uses (pino's shape). */
export interface ShipperLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ShipperOptions {
  store: EvidenceStore;
  /** The collector's ingest URL, ws://HOST:PORT/v1/ws. */
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
   * Acks are persisted (store.markAcked: a signed checkpoint, a prune and a sync) at most once per
   * this many ms, for the highest ack seen (default 20). A crash in between only re-sends records
   * the collector deduplicates.
   */
  ackFlushMs?: number;
}

export interface ShipperStatus {
  /** A WebSocket is open and the collector accepted hello. */
  connected: boolean;
  lastAckedSeq: number;
  /** Committed records the collector has not acked yet. */
  backlog: number;
  /** Connections opened after the first one. */
  reconnects: number;
  lastClose: { code: number; reason: string; at: string } | null;
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
]);

const silent: ShipperLogger = { info() {}, warn() {}, error() {} };

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

  private running = false;
  private ws: WebSocket | null = null;
  private authenticated = false;
  /** Highest seq sent on this connection. */
  private sentSeq = 0;
  /** The collector's protocol version from its challenge: 2 takes canonical body texts. */
  private protocol = 1;
  /** Highest checkpoint seq the collector holds or was sent on this connection. */
  private cpSentSeq = 0;
  /** Last seq of each unacked batch, ascending. */
  private inFlight: number[] = [];
  private attempt = 0;
  private connects = 0;
  private lastClose: ShipperStatus["lastClose"] = null;
  private timer: NodeJS.Timeout | null = null;
  /** Highest seq the collector acked; persisted to the store by flushAck. */
  private collectorAcked = 0;
  private ackTimer: NodeJS.Timeout | null = null;
  private pumpScheduled = false;
  private unsubscribe: (() => void) | null = null;
  private closedWaiters: Array<() => void> = [];

  constructor(opts: ShipperOptions) {
    this.store = opts.store;
    this.url = opts.url;
    this.log = opts.logger ?? silent;
    this.batchSize = opts.batchSize ?? 1024;
    this.maxInFlight = opts.maxInFlight ?? 8;
    this.backoff = opts.backoff ?? { initialMs: 200, maxMs: 15_000 };
    this.maxBatchBytes = opts.maxBatchBytes ?? 4 * 1024 * 1024;
    this.ackFlushMs = opts.ackFlushMs ?? 20;
  }

  /** Starts connecting (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.store.onAppend(() => this.schedulePump());
    this.connect();
  }

  /** Stops: no reconnect, the socket closed. Unacked records stay in the store for next time. */
  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.flushAck();
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
      lastClose: this.lastClose,
    };
  }

  private connect(): void {
    if (!this.running) return;
    this.connects++;
    const ws = new WebSocket(this.url, { maxPayload: 64 * 1024 * 1024, handshakeTimeout: 10_000 });
    this.ws = ws;
    ws.on("message", (data, isBinary) => {
      if (this.ws !== ws || isBinary) return;
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(data.toString("utf8"));
      } catch {
        this.log.warn({}, "collector sent a frame that is not JSON; reconnecting");
        ws.close(CloseCodes.BAD_FRAME, "bad frame");
        return;
      }
      try {
        this.onMessage(ws, msg);
      } catch (err) {
        this.log.error({ err: String(err) }, "shipper failed handling a collector message; reconnecting");
        ws.close(CloseCodes.INTERNAL_ERROR, "agent error");
      }
    });
    ws.on("error", (err) => this.log.warn({ err: String(err), url: this.url }, "collector connection error"));
    ws.on("close", (code, reason) => {
      if (this.ws === ws) {
        this.ws = null;
        this.authenticated = false;
        this.inFlight = [];
        this.lastClose = { code, reason: reason.toString(), at: new Date().toISOString() };
        if (code >= 4000)
          this.log.error({ code, reason: reason.toString() }, "collector refused the connection");
        this.scheduleReconnect(code);
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

  private onMessage(ws: WebSocket, msg: Record<string, unknown>): void {
    switch (msg.type) {
      case "challenge": {
        const nonce = String(msg.nonce ?? "");
        this.protocol = typeof msg.protocol === "number" ? msg.protocol : 1;
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
          this.sentSeq = seq;
          this.cpSentSeq = typeof msg.checkpoint_seq === "number" ? msg.checkpoint_seq : 0;
          this.log.info({ url: this.url, collector_seq: seq }, "connected to collector");
        }
        while (this.inFlight.length > 0 && this.inFlight[0]! <= seq) this.inFlight.shift();
        if (seq > this.collectorAcked) this.collectorAcked = seq;
        if (this.ackTimer === null && this.collectorAcked > this.store.ackedSeq()) {
          this.ackTimer = setTimeout(() => this.flushAck(), this.ackFlushMs);
        }
        this.pump();
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

  /** Persists the highest ack (store prunes up to it and signs a checkpoint there), then ships checkpoints. */
  private flushAck(): void {
    if (this.ackTimer !== null) clearTimeout(this.ackTimer);
    this.ackTimer = null;
    const seq = this.collectorAcked;
    if (seq <= this.store.ackedSeq()) return;
    try {
      this.store.markAcked(seq);
    } catch (err) {
      this.log.error(
        { seq, err: String(err) },
        "could not persist the collector's ack; records stay until the next ack",
      );
      return;
    }
    const ws = this.ws;
    if (ws !== null && this.authenticated && ws.readyState === WebSocket.OPEN) this.shipCheckpoints(ws, seq);
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

  /** Protocol 2: the rows' canonical body texts as stored (text-batch.ts). */
  private textBatch(): EncodedBatch | null {
    const rows = this.nextRows((a, l) => this.store.unshippedRaw(a, l));
    return rows === null ? null : encodeTextBatch(rows, this.maxBatchBytes);
  }

  /** Protocol 1: parsed StoredRecords, halved until the frame fits maxBatchBytes. */
  private objectBatch(): EncodedBatch | null {
    const recs = this.nextRows((a, l) => this.store.unshipped(a, l));
    return recs === null ? null : encodeObjectBatch(recs, this.maxBatchBytes);
  }
}
