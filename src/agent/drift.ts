/**
 * The agent's reconnaissance: a DriftMonitor fed with every record the host's evidence store
 * commits (handed over by the store's commit listener as committed: nothing is read back, and
 * nothing can be pruned before drift saw it) and with
 * each heartbeat; each drift event becomes an `alert` record (proposed_action.kind "drift"), a
 * log line and a webhook call; the state is served on GET /v1/drift and as Prometheus gauges.
 */
import { Gauge, type Registry } from "prom-client";
import {
  type DriftConfigInput,
  type DriftEvent,
  DriftMonitor,
  driftMessage,
  driftRecord,
  jsonSafe,
  webhookBody,
} from "../drift/index.js";
import { notifyWebhook } from "../platform/tolerances.js";
import type { RecordInput, StoredRecord } from "../protocol/record.js";

export interface AgentDriftSources {
  hostId: string;
  /** The drift config as given (validated by the monitor: FORGE_CONFIG_INVALID at start). */
  config: unknown;
  /** The sha256 of the policy bundle in force now (a later policy record with another resets). */
  policySha: () => string;
  /** Each commit's records, ascending, as the store committed them (the store's onCommit()). */
  onCommit: (listener: (records: readonly StoredRecord[]) => void) => () => void;
  append: (rec: RecordInput) => Promise<unknown>;
  logger: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
}

/** Events kept for `--since` queries: the newest 256 (older ones are in the evidence). */
const EVENT_HISTORY = 256;
/** Records read but not yet tested, at most (a burst beyond it drops the oldest, counted). */
const QUEUE_CAP = 20_000;

export class AgentDrift {
  readonly monitor: DriftMonitor;
  private readonly events: (DriftEvent & { seq_at: number })[] = [];
  private unsubscribe: (() => void) | null = null;
  private readonly pending = new Set<Promise<unknown>>();
  private webhooks: Promise<unknown> = Promise.resolve();
  private readonly queue: StoredRecord[] = [];
  private draining = false;
  private droppedRecords = 0;
  private readonly idle: (() => void)[] = [];

  constructor(private readonly s: AgentDriftSources) {
    this.monitor = new DriftMonitor((s.config ?? {}) as DriftConfigInput);
    // Only records committed from now on: a restart re-learns its reference (docs/drift.md).
    this.monitor.policyBaseline(s.policySha());
  }

  start(): void {
    if (!this.monitor.config.enabled || this.unsubscribe !== null) return;
    this.unsubscribe = this.s.onCommit((records) => {
      // Runs inside the store's commit: drift must never break it.
      try {
        this.enqueue(records);
      } catch (err) {
        this.s.logger.warn({ err: String(err) }, "drift could not take the committed records; skipping them");
      }
    });
  }

  /** Feeds a heartbeat payload (host and review-queue signals). */
  heartbeat(payload: unknown, atMs: number): void {
    if (this.monitor.config.enabled) this.monitor.observeHeartbeat(payload, atMs);
  }

  /** The state for GET /v1/drift: signals (optionally one), recent events (optionally since T). */
  view(q: { signal?: string; sinceMs?: number } = {}) {
    const st = this.monitor.state({ signal: q.signal });
    const events = this.events.filter(
      (e) =>
        (q.sinceMs === undefined || e.at_ms >= q.sinceMs) &&
        (q.signal === undefined ||
          (e.event === "reset" ? e.signals.some((s) => matches(s, q.signal!)) : matches(e.signal, q.signal))),
    );
    return jsonSafe({
      host_id: this.s.hostId,
      enabled: this.monitor.config.enabled,
      ...st,
      events,
    }) as Record<string, unknown>;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = null;
    await this.settled();
    await Promise.allSettled([...this.pending]);
  }

  registerMetrics(registry: Registry): void {
    const mon = this.monitor;
    new Gauge({
      name: "forge_drift_detected",
      help: "1 while a drift finding on the signal is open, 0 once tested without one",
      labelNames: ["signal"],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of mon.state().signals)
          if (s.status !== "learning") this.set({ signal: s.signal }, s.status === "drift" ? 1 : 0);
      },
    });
    new Gauge({
      name: "forge_drift_statistic",
      help: "The signal's drift statistic in the latest round (p-value tests: the p-value)",
      labelNames: ["signal", "method"],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of mon.state().signals) {
          const l = s.last;
          if (l === null) continue;
          const v = l.pvalue ?? l.statistic;
          if (Number.isFinite(v)) this.set({ signal: s.signal, method: l.method }, v);
        }
      },
    });
  }

  /**
   * In the store's commit listener: queues the commit's records (bounded); the tests run on a
   * later turn, off the path of the verdicts waiting on this commit. Past QUEUE_CAP unprocessed
   * records the oldest are dropped and counted.
   */
  private enqueue(records: readonly StoredRecord[]): void {
    // Drift's own alerts (and tolerance alerts) are not part of what it watches.
    for (const rec of records) if (rec.kind !== "alert") this.queue.push(rec);
    if (this.queue.length > QUEUE_CAP) {
      this.droppedRecords += this.queue.length - QUEUE_CAP;
      this.queue.splice(0, this.queue.length - QUEUE_CAP);
    }
    if (!this.draining && this.queue.length > 0) {
      this.draining = true;
      setImmediate(() => this.drain());
    }
  }

  /** Feeds the queued records (at most 500 a turn, so a backlog does not hold the event loop). */
  private drain(): void {
    const batch = this.queue.splice(0, 500);
    for (const rec of batch) {
      try {
        for (const e of this.monitor.observe(rec)) this.emit(e, rec.seq);
      } catch (err) {
        this.s.logger.warn({ err: String(err), seq: rec.seq }, "drift could not process a record; skipped");
      }
    }
    if (this.queue.length > 0) setImmediate(() => this.drain());
    else {
      this.draining = false;
      for (const w of this.idle.splice(0)) w();
    }
  }

  /** Resolves once every record committed so far has been fed to the monitor. */
  settled(): Promise<void> {
    if (!this.draining) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  private emit(e: DriftEvent, seq: number): void {
    this.events.push({ ...e, seq_at: seq });
    if (this.events.length > EVENT_HISTORY) this.events.splice(0, this.events.length - EVENT_HISTORY);
    const message = driftMessage(e);
    this.s.logger[e.event === "finding" ? "warn" : "info"]({ drift: { event: e.event, seq } }, message);
    this.track(
      this.s
        .append(driftRecord(this.s.hostId, e))
        .catch((err) => this.s.logger.warn({ err: String(err) }, "could not record a drift event")),
    );
    const hook = this.monitor.config.webhook;
    if (hook !== undefined) {
      const payload = { host_id: this.s.hostId, source: "agent", kind: "drift", message, ...webhookBody(e) };
      this.webhooks = this.webhooks
        .then(() => notifyWebhook(hook.url, payload, { retries: hook.retries, backoffMs: hook.backoff_ms }))
        .catch((err) => this.s.logger.warn({ err: (err as Error).message }, "drift webhook gave up"));
      this.track(this.webhooks);
    }
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    p.finally(() => this.pending.delete(p));
  }
}

const matches = (signal: string, q: string) => signal === q || signal.startsWith(`${q}{`);
