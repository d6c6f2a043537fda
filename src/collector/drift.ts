/**
 * Reconnaissance at the collector: one DriftMonitor per host and one for the whole fleet (every
 * host's records in one stream), fed each committed `records` batch as it was stored, and
 * each heartbeat. Findings become alert rows (code `drift-finding:SIGNAL`, `drift-recovery:…`,
 * `drift-reset:…`), webhook calls and gauges; GET /v1/drift serves the host and fleet views.
 *
 * A plugin of its own (startCollector's `plugins`), registered after the fleet plugin: it follows
 * the committed records batches (ctx.committed), wraps the `heartbeat` handler already installed,
 * and adds its route and gauges.
 */
import { Gauge } from "prom-client";
import {
  type DriftConfigInput,
  type DriftEvent,
  DriftMonitor,
  driftMessage,
  jsonSafe,
  parseDriftConfig,
  webhookBody,
} from "../drift/index.js";
import { Codes, ForgeError } from "../errors.js";
import { notifyWebhook } from "../platform/tolerances.js";
import type { StoredRecord } from "../protocol/record.js";
import type { ChainRecord } from "../protocol/text-batch.js";
import type { CollectorContext } from "./context.js";

export interface DriftPluginOptions {
  /** Drift config (docs/drift.md), the same shape as the agent's `drift:` key. */
  config?: DriftConfigInput;
  /** Records read from storage per query while catching up (default 1000). */
  batch?: number;
}

interface HostDrift {
  monitor: DriftMonitor;
  /** Highest seq fed; records at or below were either fed or held before this collector started. */
  cursor: number;
  /** Catch-ups of one host run one after another. */
  chain: Promise<void>;
  events: (DriftEvent & { host_id: string })[];
}

const EVENT_HISTORY = 256;
export const FLEET = "(fleet)";

export class CollectorDrift {
  private readonly hosts = new Map<string, HostDrift>();
  private readonly fleet: HostDrift;
  private readonly config: ReturnType<typeof parseDriftConfig>;
  private webhooks: Promise<unknown> = Promise.resolve();
  private ctx: CollectorContext | null = null;

  constructor(private readonly opts: DriftPluginOptions = {}) {
    this.config = parseDriftConfig(opts.config ?? {}, "drift"); // a bad config fails at start
    this.fleet = this.entry(0);
  }

  /** The plugin: wraps the records/heartbeat handlers, adds GET /v1/drift and the gauges. */
  readonly plugin = (ctx: CollectorContext): void => {
    this.ctx = ctx;
    if (!this.config.enabled) return;
    const heartbeat = ctx.messages.get("heartbeat");
    if (ctx.messages.get("records") === undefined)
      throw new ForgeError(
        Codes.INTERNAL,
        "drift plugin: no records handler to follow (install it after the fleet plugin)",
      );
    // Committed (and acked) by now; drift reads what storage holds, never the wire: the batch's
    // records as stored (their fields decoded once, with the frame), or storage itself when the
    // batch does not follow what this host's monitor was fed (another collector stored the gap).
    ctx.committed.push((conn, stored) => {
      const host = conn.host;
      if (host === null) return;
      const h = this.hosts.get(host.host_id) ?? this.entry(host.head_seq);
      this.hosts.set(host.host_id, h);
      // From the next turn of the event loop: the connection's next batch goes to storage first,
      // so its commit overlaps this feed (settled() still waits for it).
      h.chain = h.chain
        .then(nextTurn)
        .then(() => this.follow(host.host_id, h, stored))
        .catch((err) =>
          ctx.logger.warn({ err: String(err), host_id: host.host_id }, "drift could not read records"),
        );
    });
    if (heartbeat !== undefined) {
      ctx.messages.set("heartbeat", async (conn, msg) => {
        await heartbeat(conn, msg);
        const id = conn.host?.host_id;
        if (id === undefined) return;
        const now = Date.now();
        this.hosts.get(id)?.monitor.observeHeartbeat(msg, now);
        this.fleet.monitor.observeHeartbeat(msg, now);
      });
    }
    ctx.routes.add("GET", "/v1/drift", async (req) => {
      const q = req.query;
      const since = q.get("since");
      let sinceMs: number | undefined;
      if (since !== null && since !== "") {
        sinceMs = /^\d+$/.test(since) ? Number(since) : Date.parse(since);
        if (!Number.isFinite(sinceMs))
          throw new ForgeError(Codes.BAD_REQUEST, "'since' must be RFC 3339 or epoch milliseconds");
      }
      const hostId = q.get("host_id") || undefined;
      await this.settled();
      return { json: this.view({ hostId, signal: q.get("signal") || undefined, sinceMs }) };
    });
    this.registerMetrics(ctx);
  };

  /** Waits for the catch-ups in flight (the view then reflects every committed batch). */
  async settled(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.chain));
  }

  /** The fleet view and every host's (or one host's), each with its signals and recent events. */
  view(q: { hostId?: string; signal?: string; sinceMs?: number }) {
    const one = (id: string, h: HostDrift) => {
      const st = h.monitor.state({ signal: q.signal });
      return {
        host_id: id,
        stats: st.stats,
        signals: st.signals,
        events: h.events.filter(
          (e) =>
            (q.sinceMs === undefined || e.at_ms >= q.sinceMs) &&
            (q.signal === undefined ||
              e.event === "reset" ||
              e.signal === q.signal ||
              e.signal.startsWith(`${q.signal}{`)),
        ),
      };
    };
    if (q.hostId !== undefined && !this.hosts.has(q.hostId))
      throw new ForgeError(
        Codes.NOT_FOUND,
        `no drift state for host '${q.hostId}' (no records since the collector started)`,
      );
    const hosts = [...this.hosts.entries()]
      .filter(([id]) => q.hostId === undefined || id === q.hostId)
      .map(([id, h]) => one(id, h));
    return jsonSafe({
      enabled: this.config.enabled,
      config: this.config,
      fleet: q.hostId === undefined ? one(FLEET, this.fleet) : null,
      hosts,
    });
  }

  private entry(cursor: number): HostDrift {
    return { monitor: new DriftMonitor(this.config), cursor, chain: Promise.resolve(), events: [] };
  }

  /** Feeds a committed batch: from its decoded fields when it follows the cursor, else from storage. */
  private async follow(hostId: string, h: HostDrift, stored: readonly ChainRecord[]): Promise<void> {
    const last = stored[stored.length - 1]!;
    if (last.seq <= h.cursor) return;
    if (stored[0]!.seq !== h.cursor + 1 || stored.some((r) => r.fields === undefined))
      return this.catchUp(hostId, h);
    await this.feed(
      hostId,
      h,
      stored.map((r) => r.fields as StoredRecord),
    );
  }

  /** Feeds every stored record of the host after the cursor, read from storage in pages. */
  private async catchUp(hostId: string, h: HostDrift): Promise<void> {
    const ctx = this.ctx!;
    const limit = this.opts.batch ?? 1000;
    for (;;) {
      const recs: StoredRecord[] = await ctx.storage.records({ host_id: hostId, after_seq: h.cursor, limit });
      if (recs.length === 0) return;
      await this.feed(hostId, h, recs);
      if (recs.length < limit) return;
    }
  }

  /** Feeds records in seq order to the host's monitor and the fleet's, moving the cursor. */
  private async feed(hostId: string, h: HostDrift, recs: readonly StoredRecord[]): Promise<void> {
    for (const r of recs) {
      h.cursor = r.seq;
      if (r.kind === "alert") continue;
      for (const e of h.monitor.observe(r)) await this.emit(hostId, h, e, r.seq);
      for (const e of this.fleet.monitor.observe(r)) await this.emit(FLEET, this.fleet, e, r.seq, hostId);
    }
  }

  private async emit(id: string, h: HostDrift, e: DriftEvent, seq: number, via?: string): Promise<void> {
    const ctx = this.ctx!;
    h.events.push({ ...e, host_id: id });
    if (h.events.length > EVENT_HISTORY) h.events.splice(0, h.events.length - EVENT_HISTORY);
    const message = `${id === FLEET ? "fleet: " : ""}${driftMessage(e)}`;
    const what = e.event === "reset" ? e.trigger : e.signal;
    // Fleet findings have no host (host_id null); seq is the record that completed the round.
    await ctx.alert({ host_id: id === FLEET ? null : id, code: `drift-${e.event}:${what}`, seq, message });
    const hook = this.config.webhook;
    if (hook !== undefined) {
      const payload = {
        host_id: id === FLEET ? null : id,
        scope: id === FLEET ? "fleet" : "host",
        via: via ?? null,
        source: "collector",
        kind: "drift",
        message,
        ...webhookBody(e),
      };
      this.webhooks = this.webhooks
        .then(() => notifyWebhook(hook.url, payload, { retries: hook.retries, backoffMs: hook.backoff_ms }))
        .catch((err) => ctx.logger.warn({ err: (err as Error).message }, "drift webhook gave up"));
    }
  }

  private registerMetrics(ctx: CollectorContext): void {
    const registry = ctx.metrics.registry;
    const all = () => [[FLEET, this.fleet] as const, ...this.hosts.entries()];
    new Gauge({
      name: "forge_drift_detected",
      help: '1 while a drift finding on the signal is open (host_id "(fleet)": fleet-wide)',
      labelNames: ["host_id", "signal"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [id, h] of all())
          for (const s of h.monitor.state().signals)
            if (s.status !== "learning")
              this.set({ host_id: id, signal: s.signal }, s.status === "drift" ? 1 : 0);
      },
    });
    new Gauge({
      name: "forge_drift_signals",
      help: "Signals tracked by drift detection, by scope",
      labelNames: ["host_id"],
      registers: [registry],
      collect() {
        this.reset();
        for (const [id, h] of all()) this.set({ host_id: id }, h.monitor.state().stats.signals);
      },
    });
  }
}

/** Builds the collector's drift plugin; throws FORGE_CONFIG_INVALID on a bad config. */
export function driftPlugin(opts: DriftPluginOptions = {}): CollectorDrift {
  return new CollectorDrift(opts);
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
