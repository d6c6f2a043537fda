/**
 * Fleet state: every host's latest heartbeat and a short time series, kept in memory and
 * persisted (throttled) to storage; status online/stale/offline with the reasons; tolerances
 * evaluated from each heartbeat; the JSON API (GET /v1/fleet, GET /v1/hosts/:host_id) and the
 * per-host Prometheus gauges under the agent's own metric names, labelled by host_id.
 */
import { Gauge } from "prom-client";

import { Codes, ForgeError } from "../errors.js";
import {
  breachedOf,
  createTolerances,
  notifyWebhook,
  snapshotOf,
  type Tolerances,
  type TolerancesConfigInput,
  transitionMessage,
} from "../platform/tolerances.js";
import type { CollectorContext, Connection, Message } from "./context.js";
import { acceptHeartbeat } from "./ingest.js";
import { onlyParams, rangeParams } from "./query.js";
import type { HostRow } from "./storage.js";

export type FleetStatus = "online" | "stale" | "offline";

export interface FleetOptions {
  /** A connected host whose last heartbeat is older than this is stale (default 30 s). */
  staleAfterMs?: number;
  /** Older than this, or disconnected for longer than staleAfterMs: offline (default 120 s). */
  offlineAfterMs?: number;
  /** Points kept per host for the charts (default 300). */
  historyPoints?: number;
  /** A host's heartbeat is written to storage at most this often (default 10 s); memory is always current. */
  persistEveryMs?: number;
  /** Tolerances evaluated from each host's heartbeats (src/platform/tolerances.ts config, webhook included). */
  tolerances?: TolerancesConfigInput;
  now?: () => number;
}

/** One chart point. */
export interface SeriesPoint {
  t: number;
  cpu_percent: number | null;
  watts: Record<string, number>;
  gate_p99_ms: number | null;
  backlog: number | null;
  temperature_c: number | null;
}

interface HostState {
  heartbeat: Record<string, unknown>;
  atMs: number;
  persistedMs: number;
  series: SeriesPoint[];
  tolerances: Tolerances;
  /** Webhook deliveries of this host, chained. */
  webhooks: Promise<unknown>;
  /** When this collector last saw the host's connection close. */
  disconnectedMs: number | null;
}

type Hb = {
  reading?: {
    cpu_percent?: number | null;
    watts?: Record<string, number>;
    temperature_c?: number | null;
    memory_used_percent?: number;
  } | null;
  gate?: { counts?: Record<string, number>; p99_ms?: number | null; deny_rate?: number | null };
  evidence?: { backlog?: number };
  policy?: { id?: string; version?: number; sha256?: string };
  inference?: { tokens_per_second?: number | null };
  review_queue?: { pending?: number };
  reviews?: unknown[];
  tolerances?: { breached?: string[] };
};

/** Points a host view reads from storage at most (7 days of heartbeats every 10 s is 60480). */
const SERIES_MAX_POINTS = 100_000;
/** Points a host view answers at most: a chart is 600 px wide. */
const SERIES_ANSWER_POINTS = 600;

/** At most `n` points spread evenly over `points` (the last one always kept). */
function downsample<T>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const step = points.length / max;
  return Array.from(
    { length: max },
    (_, i) => points[Math.min(points.length - 1, Math.floor((i + 1) * step) - 1)]!,
  );
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The numeric rails of a heartbeat, at most 8: the series keeps 300 points per host, whatever an agent sends. */
function rails(w: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (w === null || typeof w !== "object") return out;
  for (const [k, v] of Object.entries(w).slice(0, 8))
    if (num(v) !== null && k.length <= 32) out[k] = v as number;
  return out;
}

export class Fleet {
  private readonly hosts = new Map<string, HostState>();
  private readonly seen = new WeakSet<Connection>();
  private readonly staleMs: number;
  private readonly offlineMs: number;
  private readonly points: number;
  private readonly persistMs: number;
  private readonly now: () => number;

  constructor(
    private readonly ctx: CollectorContext,
    private readonly opts: FleetOptions = {},
  ) {
    this.staleMs = opts.staleAfterMs ?? 30_000;
    this.offlineMs = opts.offlineAfterMs ?? 120_000;
    this.points = opts.historyPoints ?? 300;
    this.persistMs = opts.persistEveryMs ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Installs the heartbeat handler, the fleet routes and the per-host gauges. */
  register(): void {
    const { ctx } = this;
    ctx.messages.set("heartbeat", (conn, msg) => this.onHeartbeat(conn, msg));
    ctx.routes.add("GET", "/v1/fleet", async () => ({ json: await this.fleet() }));
    ctx.routes.add("GET", "/v1/hosts/:host_id", async (req) => {
      onlyParams(req.query, ["since", "until"]);
      return { json: await this.host(req.params.host_id!, rangeParams(req.query)) };
    });
    this.registerMetrics();
  }

  /** The latest heartbeat of a host this collector heard from (memory only). */
  latest(hostId: string): Record<string, unknown> | undefined {
    return this.hosts.get(hostId)?.heartbeat;
  }

  /** Host ids with a heartbeat in memory. */
  hostIds(): string[] {
    return [...this.hosts.keys()];
  }

  /** Drops an action from a host's cached review list (it was decided; the next heartbeat agrees). */
  forgetReview(hostId: string, actionId: string): void {
    const hb = this.hosts.get(hostId)?.heartbeat as { reviews?: Array<{ action_id?: string }> } | undefined;
    if (hb?.reviews) hb.reviews = hb.reviews.filter((r) => r.action_id !== actionId);
  }

  /** Marks a host's connection as closed now (status changes at once instead of after a timeout). */
  disconnected(hostId: string): void {
    const s = this.hosts.get(hostId);
    if (s !== undefined) s.disconnectedMs = this.now();
  }

  async onHeartbeat(conn: Connection, msg: Message): Promise<void> {
    const hostId = conn.host!.host_id;
    const checked = await acceptHeartbeat(this.ctx, conn, msg);
    if (checked === null) return;
    const payload = checked;
    const now = this.now();
    let s = this.hosts.get(hostId);
    if (s === undefined) {
      s = {
        heartbeat: payload,
        atMs: now,
        persistedMs: 0,
        series: [],
        tolerances: createTolerances(this.opts.tolerances ?? {}),
        disconnectedMs: null,
        webhooks: Promise.resolve(),
      };
      this.hosts.set(hostId, s);
      // This collector's first heartbeat of the host: the stored history joins the memory series
      // (before any point another connection of the host pushed meanwhile).
      const state = s;
      const stored = (await this.ctx.storage.series(hostId, { limit: this.points })) as SeriesPoint[];
      const first = state.series[0]?.t ?? Number.POSITIVE_INFINITY;
      state.series = [...stored.filter((p) => p.t < first), ...state.series].slice(-this.points);
    }
    if (!this.seen.has(conn)) {
      this.seen.add(conn);
      conn.ws.once("close", () => {
        if (this.ctx.hosts.get(hostId) === undefined) this.disconnected(hostId);
      });
    }
    s.heartbeat = payload;
    s.atMs = now;
    s.disconnectedMs = null;
    const hb = payload as Hb;
    const point: SeriesPoint = {
      // One point per millisecond and host (the stored key): a heartbeat handled in the same ms as the last moves 1 ms on.
      t: Math.max(now, (s.series[s.series.length - 1]?.t ?? 0) + 1),
      cpu_percent: num(hb.reading?.cpu_percent),
      watts: rails(hb.reading?.watts),
      gate_p99_ms: num(hb.gate?.p99_ms),
      backlog: num(hb.evidence?.backlog),
      temperature_c: num(hb.reading?.temperature_c),
    };
    s.series.push(point);
    if (s.series.length > this.points) s.series.splice(0, s.series.length - this.points);
    // Every point is stored (a few hundred bytes, in the same group commit as the host's other
    // writes): the charts survive a collector restart, a crash included.
    await this.ctx.storage.addSeries(hostId, [point]);
    const ev = s.tolerances.evaluate(snapshotOf(payload), now);
    for (const t of [...ev.breaches, ...ev.recoveries]) {
      const message = transitionMessage(t);
      // Each transition is its own alert row (seq = when it happened), so breach and recovery both show.
      await this.ctx.alert({
        host_id: hostId,
        code: `tolerance-${t.kind}:${t.indicator}`,
        seq: t.at_ms,
        message,
      });
      const hook = s.tolerances.config.webhook;
      if (hook !== undefined) {
        // One host's deliveries go in order: a retried breach must not arrive after its recovery.
        const payload = { host_id: hostId, source: "collector", message, ...t };
        const opts = { retries: hook.retries, backoffMs: hook.backoff_ms };
        s.webhooks = s.webhooks
          .then(() => notifyWebhook(hook.url, payload, opts))
          .catch((err) => this.ctx.logger.warn({ err: (err as Error).message }, "alert webhook gave up"));
      }
    }
    if (now - s.persistedMs >= this.persistMs) {
      s.persistedMs = now;
      await this.ctx.storage.setHeartbeat(hostId, payload, now);
    }
  }

  /** Status and reasons of one host. */
  status(row: HostRow): { status: FleetStatus; reasons: string[] } {
    const now = this.now();
    const mem = this.hosts.get(row.host_id);
    const lastHb = mem?.atMs ?? row.last_heartbeat_ms;
    const connected = this.ctx.hosts.has(row.host_id);
    const age = lastHb === null || lastHb === undefined ? null : now - lastHb;
    const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
    if (row.status === "revoked") return { status: "offline", reasons: ["host key revoked"] };
    if (!connected) {
      const since = mem?.disconnectedMs ?? row.last_seen_ms;
      const why =
        since == null ? "never connected to this collector" : `disconnected ${secs(now - since)} ago`;
      if (age !== null && age <= this.staleMs) return { status: "stale", reasons: [why] };
      return {
        status: "offline",
        reasons: age === null ? [why, "no heartbeat ever"] : [why, `last heartbeat ${secs(age)} ago`],
      };
    }
    if (age === null) return { status: "stale", reasons: ["connected, no heartbeat yet"] };
    if (age > this.offlineMs)
      return { status: "offline", reasons: [`connected, but no heartbeat for ${secs(age)}`] };
    if (age > this.staleMs) return { status: "stale", reasons: [`last heartbeat ${secs(age)} ago`] };
    const breached = (mem?.heartbeat as Hb | undefined)?.tolerances?.breached ?? [];
    const collectorBreached = mem === undefined ? [] : breachedOf(mem.tolerances.state());
    const all = [...new Set([...breached, ...collectorBreached])];
    return { status: "online", reasons: all.length ? all.map((b) => `tolerance breached: ${b}`) : [] };
  }

  private view(row: HostRow) {
    const mem = this.hosts.get(row.host_id);
    const { status, reasons } = this.status(row);
    return {
      host_id: row.host_id,
      status,
      reasons,
      connected: this.ctx.hosts.has(row.host_id),
      key_status: row.status,
      epoch: row.epoch,
      last_seq: row.head_seq,
      last_hash: row.head_hash,
      checkpoint_seq: row.checkpoint_seq,
      first_seen_ms: row.first_seen_ms,
      last_seen_ms: row.last_seen_ms,
      last_heartbeat_ms: mem?.atMs ?? row.last_heartbeat_ms,
      heartbeat: mem?.heartbeat ?? row.heartbeat,
      public_key_pem: row.public_key_pem,
    };
  }

  async fleet() {
    const rows = await this.ctx.storage.hosts();
    const hosts = rows.map((r) => this.view(r));
    const counts: Record<FleetStatus, number> = { online: 0, stale: 0, offline: 0 };
    for (const h of hosts) counts[h.status]++;
    return { at_ms: this.now(), counts, hosts };
  }

  /**
   * A host's view with its chart points: the newest historyPoints (from memory, which holds the
   * stored history once the host sent a heartbeat here; else from storage), or those in
   * [since, until] from storage, then what is in memory and not stored yet.
   */
  async host(hostId: string, range: { since_ms?: number; until_ms?: number } = {}) {
    const row = await this.ctx.storage.getHost(hostId);
    if (row === undefined) throw new ForgeError(Codes.NOT_FOUND, `no host '${hostId}'`);
    const inRange = (p: SeriesPoint) =>
      (range.since_ms === undefined || p.t >= range.since_ms) &&
      (range.until_ms === undefined || p.t <= range.until_ms);
    const mem = this.hosts.get(hostId)?.series;
    let series: SeriesPoint[];
    if (range.since_ms === undefined && range.until_ms === undefined) {
      // The hot path (every 2 s per open host view, and bench/fleet.ts's pollers): no storage read.
      series = mem ?? ((await this.ctx.storage.series(hostId, { limit: this.points })) as SeriesPoint[]);
    } else {
      const stored = (await this.ctx.storage.series(hostId, {
        ...range,
        limit: SERIES_MAX_POINTS,
      })) as SeriesPoint[];
      const newest = stored[stored.length - 1]?.t ?? Number.NEGATIVE_INFINITY;
      const fresh = (mem ?? []).filter((p) => p.t > newest && inRange(p));
      series = downsample([...stored, ...fresh], SERIES_ANSWER_POINTS);
    }
    return {
      ...this.view(row),
      series,
      checkpoints: await this.ctx.storage.checkpoints(hostId, 5),
      alerts: await this.ctx.storage.alerts({ host_id: hostId, limit: 20 }),
    };
  }

  private registerMetrics(): void {
    const registry = this.ctx.metrics.registry;
    const each = (fill: (id: string, hb: Hb) => void) => {
      for (const [id, s] of this.hosts) fill(id, s.heartbeat as Hb);
    };
    const g = (name: string, help: string, labels: string[], fill: (g: Gauge<string>) => void) =>
      new Gauge({
        name,
        help,
        labelNames: ["host_id", ...labels],
        registers: [registry],
        collect() {
          this.reset();
          fill(this);
        },
      });
    const set = (gg: Gauge<string>, labels: Record<string, string>, v: unknown) => {
      const n = num(v);
      if (n !== null) gg.set(labels, n);
    };
    g("forge_cpu_percent", "Busy share of CPU time over the host's last heartbeat interval", [], (gg) =>
      each((host_id, hb) => set(gg, { host_id }, hb.reading?.cpu_percent)),
    );
    g("forge_power_watts", "Average power per rail over the host's last heartbeat interval", ["rail"], (gg) =>
      each((host_id, hb) => {
        for (const [rail, w] of Object.entries(hb.reading?.watts ?? {})) set(gg, { host_id, rail }, w);
      }),
    );
    g("forge_temperature_celsius", "Hottest thermal zone", [], (gg) =>
      each((host_id, hb) => set(gg, { host_id }, hb.reading?.temperature_c)),
    );
    g("forge_memory_used_percent", "Memory in use", [], (gg) =>
      each((host_id, hb) => set(gg, { host_id }, hb.reading?.memory_used_percent)),
    );
    g("forge_gate_latency_p99_seconds", "p99 gate latency over the host's last 2048 decisions", [], (gg) =>
      each((host_id, hb) => {
        const v = num(hb.gate?.p99_ms);
        if (v !== null) gg.set({ host_id }, v / 1000);
      }),
    );
    g("forge_deny_rate", "DENY share of the host's last 2048 decisions", [], (gg) =>
      each((host_id, hb) => set(gg, { host_id }, hb.gate?.deny_rate)),
    );
    g(
      "forge_decisions_total",
      "Gate decisions by evaluation (the agent's counter, as last reported)",
      ["evaluation"],
      (gg) =>
        each((host_id, hb) => {
          for (const [evaluation, n] of Object.entries(hb.gate?.counts ?? {}))
            set(gg, { host_id, evaluation }, n);
        }),
    );
    g("forge_evidence_backlog", "Chained records not yet acked by the collector", [], (gg) =>
      each((host_id, hb) => set(gg, { host_id }, hb.evidence?.backlog)),
    );
    g("forge_pending_reviews", "Escalations waiting for a principal", [], (gg) =>
      each((host_id, hb) => set(gg, { host_id }, hb.review_queue?.pending ?? hb.reviews?.length)),
    );
    g("forge_inference_tokens_per_second", "Generation speed of the last inference", [], (gg) =>
      each((host_id, hb) => set(gg, { host_id }, hb.inference?.tokens_per_second)),
    );
    g("forge_policy_version", "Version of the active policy bundle", [], (gg) =>
      each((host_id, hb) => set(gg, { host_id }, hb.policy?.version)),
    );
    g(
      "forge_tolerance_breached",
      "1 while an indicator is outside its tolerance (as the agent reports)",
      ["indicator"],
      (gg) =>
        each((host_id, hb) => {
          for (const indicator of hb.tolerances?.breached ?? []) gg.set({ host_id, indicator }, 1);
        }),
    );
    new Gauge({
      name: "forge_fleet_hosts",
      help: "Hosts by fleet status",
      labelNames: ["status"],
      registers: [registry],
      collect: async () => {
        // Status needs the stored rows (hosts this collector never heard from count too).
        const gauge = registry.getSingleMetric("forge_fleet_hosts") as Gauge<string>;
        const counts = (await this.fleet()).counts;
        for (const [status, n] of Object.entries(counts)) gauge.set({ status }, n);
      },
    });
  }
}
