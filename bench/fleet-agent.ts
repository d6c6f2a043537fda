/**
 * A simulated agent for the fleet benchmark and tests: a real WebSocket connection that
 * authenticates as the protocol requires (its own ed25519 key, the signed hello), then sends
 * heartbeats and a valid hash chain of records. No store, no gate: one process holds hundreds.
 */
import { generateKeyPairSync, type KeyObject, randomUUID, sign } from "node:crypto";
import WebSocket from "ws";
import { helloSigningInput } from "../src/protocol/messages.js";
import { GENESIS_HASH, type RecordInput, recordHash, type StoredRecord } from "../src/protocol/record.js";

export class SimAgent {
  readonly epoch = randomUUID();
  private readonly key: KeyObject;
  private readonly pem: string;
  private ws: WebSocket | null = null;
  private seq = 0;
  private prev = GENESIS_HASH;
  /** Highest seq the collector acked. */
  acked = 0;
  /** Collector→agent messages other than challenge/ack (policy, review…). */
  readonly received: Array<Record<string, unknown>> = [];

  constructor(
    readonly hostId: string,
    private readonly url: string,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    this.key = privateKey;
    this.pem = publicKey.export({ type: "spki", format: "pem" }) as string;
  }

  /** Connects and resolves once the collector acked the hello. */
  connect(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, { perMessageDeflate: false });
      this.ws = ws;
      let authed = false;
      const timer = setTimeout(
        () => reject(new Error(`${this.hostId}: no ack within ${timeoutMs} ms`)),
        timeoutMs,
      );
      ws.on("message", (data) => {
        const msg = JSON.parse(data.toString()) as Record<string, unknown>;
        if (msg.type === "challenge") {
          const signature = sign(
            null,
            helloSigningInput(String(msg.nonce), this.hostId, this.epoch),
            this.key,
          );
          ws.send(
            JSON.stringify({
              type: "hello",
              host_id: this.hostId,
              epoch: this.epoch,
              last_seq: this.seq,
              public_key_pem: this.pem,
              signature: signature.toString("base64"),
            }),
          );
        } else if (msg.type === "ack") {
          this.acked = Math.max(this.acked, Number(msg.seq));
          if (!authed) {
            authed = true;
            clearTimeout(timer);
            resolve();
          }
        } else this.received.push(msg);
      });
      ws.on("error", (err) => {
        clearTimeout(timer);
        if (!authed) reject(err);
      });
      ws.on("close", (code, reason) => {
        clearTimeout(timer);
        if (!authed) reject(new Error(`${this.hostId}: closed ${code} ${reason.toString()}`));
      });
    });
  }

  get open(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(msg: Record<string, unknown>): void {
    this.ws?.send(JSON.stringify(msg));
  }

  heartbeat(payload: Record<string, unknown>): void {
    this.send({ type: "heartbeat", ...payload });
  }

  /** Sends `n` new records of the host's chain in one `records` message. */
  records(n: number): void {
    const recs: StoredRecord[] = [];
    for (let i = 0; i < n; i++) {
      const body = { ...input(this.seq + 1), host_id: this.hostId, seq: this.seq + 1 };
      const hash = recordHash(this.prev, body);
      recs.push({ ...body, prev_hash: this.prev, hash });
      this.prev = hash;
      this.seq++;
    }
    this.send({ type: "records", from_seq: recs[0]!.seq, records: recs });
  }

  close(): Promise<void> {
    const ws = this.ws;
    if (ws === null || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((r) => {
      ws.once("close", () => r());
      ws.close(1000, "done");
    });
  }
}

function input(i: number): RecordInput {
  return {
    kind: "action",
    session_id: `sim-${i % 8}`,
    action_id: randomUUID(),
    timestamp: new Date().toISOString(),
    prompt_hash: null,
    proposed_action: { kind: "shell", command: `ls -la /tmp/${i}` },
    evaluation: "ALLOW",
    policy_matched: { bundle: { id: "default", version: 3, sha256: "ab".repeat(32) }, rules: [] },
    composition_state: { labels: [], counters: { actions: i } },
    execution_result: { exit_code: 0 },
    principal_review: null,
    latency_ms: 0.02,
  };
}

/** A heartbeat shaped like the real agent's (src/agent/heartbeat.ts), with figures that vary. */
export function simHeartbeat(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    at_ms: Date.now(),
    facts: {
      model: "Mac15,8",
      chip: "Apple M3 Max",
      cores: 16,
      memory_bytes: 64 * 2 ** 30,
      os: "macOS 15.1",
      arch: "arm64",
    },
    reading: {
      cpu_percent: 10 + (i % 50),
      watts: { cpu: 3 + (i % 7), gpu: 1 + (i % 3), ane: 0.1 * (i % 5), dram: 0.8 },
      temperature_c: 45 + (i % 20),
      memory_used_percent: 40,
      memory_pressure_percent: null,
      memory_pressure_level: "normal",
      interval_ms: 2000,
    },
    gate: { counts: { ALLOW: 10 * i, DENY: i, ESCALATE: 0 }, p99_ms: 0.02, deny_rate: 0.09 },
    evidence: { backlog: 0, last_seq: i },
    policy: { id: "default", version: 3, sha256: "ab".repeat(32), source: "file" },
    models: [{ backend: "llama", model: null }],
    inference: { tokens_per_second: 250 },
    review_queue: { pending: 0, oldest_age_ms: null },
    reviews: [],
    tolerances: { breached: [] },
    ...extra,
  };
}
