/**
 * The agent's heartbeat: host facts, the platform reading since the previous heartbeat, gate
 * counts and p99 latency, evidence backlog, policy version, models, last inference rate and the
 * review queue. Each tick also evaluates the tolerances from these same figures, writes an
 * `alert` record on every breach and recovery, and calls the webhook. The same figures are
 * exposed on the agent's /metrics under the names the collector uses (labelled there by host_id).
 */
import { Gauge, type Registry } from "prom-client";
import type { Evaluation } from "../gate/decision.js";
import { computeReading, type Reading } from "../platform/metrics.js";
import type { NativeSample } from "../platform/native.js";
import {
  breachedOf,
  createTolerances,
  notifyWebhook,
  snapshotOf,
  type Tolerances,
  type TolerancesConfigInput,
  type Transition,
  transitionMessage,
} from "../platform/tolerances.js";
import type { HeartbeatPayload, HeartbeatReading, HostFacts } from "../protocol/heartbeat.js";
import { alertRecord, type RecordInput } from "../protocol/record.js";

/** Gate counts since start and latency/deny rate over the last `window` decisions. */
export class GateStats {
  readonly counts: Record<Evaluation, number> = { ALLOW: 0, DENY: 0, ESCALATE: 0 };
  private readonly lat: Float64Array;
  private readonly deny: Uint8Array;
  private n = 0;

  constructor(private readonly window = 2048) {
    this.lat = new Float64Array(window);
    this.deny = new Uint8Array(window);
  }

  record(evaluation: Evaluation, gateMs: number): void {
    this.counts[evaluation] = (this.counts[evaluation] ?? 0) + 1;
    const i = this.n % this.window;
    this.lat[i] = gateMs;
    this.deny[i] = evaluation === "DENY" ? 1 : 0;
    this.n++;
  }

  /** Nearest-rank p99 of the window, ms; null before the first decision. */
  p99(): number | null {
    const k = Math.min(this.n, this.window);
    if (k === 0) return null;
    const s = this.lat.slice(0, k).sort();
    return s[Math.min(k - 1, Math.ceil(0.99 * k) - 1)]!;
  }

  /** DENY share of the window, 0..1; null before the first decision. */
  denyRate(): number | null {
    const k = Math.min(this.n, this.window);
    if (k === 0) return null;
    let d = 0;
    for (let i = 0; i < k; i++) d += this.deny[i]!;
    return d / k;
  }
}

/** Gathers HostFacts with systeminformation; a failing call leaves its fields null. */
export async function gatherFacts(version: string | null): Promise<HostFacts> {
  const si = await import("systeminformation");
  const [sys, cpu, mem, os] = await Promise.all([
    si.system().catch(() => null),
    si.cpu().catch(() => null),
    si.mem().catch(() => null),
    si.osInfo().catch(() => null),
  ]);
  const join = (...p: Array<string | undefined | null>) => p.filter((x) => x && x !== "").join(" ") || null;
  return {
    model: join(sys?.manufacturer, sys?.model),
    chip: join(cpu?.manufacturer, cpu?.brand),
    cores: cpu?.cores ?? null,
    memory_bytes: mem?.total ?? null,
    os: join(os?.distro, os?.release),
    arch: process.arch,
    node: process.version,
    version,
  };
}

export function summarize(r: Reading): HeartbeatReading {
  const watts: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.watts)) if (typeof v === "number") watts[k] = v;
  return {
    cpu_percent: r.cpu.percent,
    watts,
    temperature_c: r.temperature.maxCelsius,
    memory_used_percent: r.memory.usedPercent,
    memory_pressure_percent: r.memory.pressure?.somePercent ?? null,
    memory_pressure_level: r.memory.pressureLevel,
    interval_ms: r.elapsedMs,
  };
}

export interface HeartbeatSources {
  hostId: string;
  gate: GateStats;
  /** NativeSample source (platform/native.ts sampleMetrics); throws are reported, not fatal. */
  sample: () => NativeSample;
  facts: () => Promise<HostFacts>;
  evidence: () => { backlog: number; lastSeq: number };
  policy: () => { id: string; version: number; sha256: string; source: string };
  models: () => HeartbeatPayload["models"];
  /** Escalations waiting, each with its RFC 3339 timestamp. */
  reviews: () => Array<{ timestamp?: string }>;
  /** Appends a record (the evidence store); used for `alert` records. */
  append: (rec: RecordInput) => Promise<unknown>;
  /** Tolerance config (src/platform/tolerances.ts), with its optional webhook. */
  tolerances?: TolerancesConfigInput;
  logger: { warn(obj: object, msg?: string): void; info(obj: object, msg?: string): void };
  now?: () => number;
}

/** Builds heartbeats and evaluates tolerances on each one. */
export class Heartbeat {
  private prev: NativeSample | null = null;
  private facts: HostFacts | null = null;
  private tps: number | null = null;
  private last: HeartbeatPayload | null = null;
  private readonly tolerances: Tolerances;
  private timer: NodeJS.Timeout | null = null;
  private readonly pending = new Set<Promise<unknown>>();
  private webhooks: Promise<unknown> = Promise.resolve();
  private readonly tickListeners: ((p: HeartbeatPayload) => void)[] = [];

  constructor(private readonly s: HeartbeatSources) {
    this.tolerances = createTolerances(s.tolerances ?? {});
    try {
      this.prev = s.sample();
    } catch {
      this.prev = null;
    }
    s.facts().then(
      (f) => {
        this.facts = f;
      },
      (err) => s.logger.warn({ err: String(err) }, "could not gather host facts"),
    );
  }

  /** Generation speed of the last inference. */
  observeTokensPerSecond(tps: number): void {
    this.tps = tps;
  }

  /** Samples, builds the payload, evaluates tolerances (alert records + webhook). */
  tick(): HeartbeatPayload {
    const s = this.s;
    const now = (s.now ?? Date.now)();
    let reading: HeartbeatReading | null = null;
    let readingError: string | null = null;
    try {
      const cur = s.sample();
      if (this.prev !== null && cur.monotonicMs > this.prev.monotonicMs)
        reading = summarize(computeReading(this.prev, cur));
      this.prev = cur;
    } catch (err) {
      readingError = (err as Error).message;
    }
    const ev = s.evidence();
    let oldest: number | null = null;
    const reviews = s.reviews();
    for (const r of reviews) {
      const t = r.timestamp === undefined ? Number.NaN : Date.parse(r.timestamp);
      if (Number.isFinite(t)) oldest = Math.max(oldest ?? 0, now - t);
    }
    const payload: HeartbeatPayload = {
      at_ms: now,
      facts: this.facts,
      reading,
      reading_error: readingError,
      gate: { counts: { ...s.gate.counts }, p99_ms: s.gate.p99(), deny_rate: s.gate.denyRate() },
      evidence: { backlog: ev.backlog, last_seq: ev.lastSeq },
      policy: s.policy(),
      models: s.models(),
      inference: { tokens_per_second: this.tps },
      review_queue: { pending: reviews.length, oldest_age_ms: oldest },
      tolerances: { breached: [] },
    };
    const judged = this.tolerances.evaluate(snapshotOf(payload), now);
    for (const t of [...judged.breaches, ...judged.recoveries]) this.alert(t);
    payload.tolerances.breached = breachedOf(judged.state);
    this.last = payload;
    for (const l of this.tickListeners) l(payload);
    return payload;
  }

  /** Calls `listener` with each payload (drift reads the host signals from it). */
  onTick(listener: (p: HeartbeatPayload) => void): void {
    this.tickListeners.push(listener);
  }

  /** The last payload (null before the first tick). */
  latest(): HeartbeatPayload | null {
    return this.last;
  }

  /** Ticks every `ms` on its own (when no shipper drives the ticks). */
  start(ms: number): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.tick(), ms);
    this.timer.unref();
  }

  /** Stops the timer and waits for alert records and webhooks in flight. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.pending]);
  }

  /** Gauges on the agent's registry; the collector exposes the same names labelled by host_id. */
  registerMetrics(registry: Registry): void {
    const hb = () => this.last;
    gauge(
      registry,
      "forge_cpu_percent",
      "Busy share of CPU time over the last heartbeat interval",
      [],
      (g) => {
        const v = hb()?.reading?.cpu_percent;
        if (v != null) g.set(v);
      },
    );
    gauge(
      registry,
      "forge_power_watts",
      "Average power per rail over the last heartbeat interval",
      ["rail"],
      (g) => {
        for (const [rail, w] of Object.entries(hb()?.reading?.watts ?? {})) g.set({ rail }, w);
      },
    );
    gauge(registry, "forge_temperature_celsius", "Hottest thermal zone", [], (g) => {
      const v = hb()?.reading?.temperature_c;
      if (v != null) g.set(v);
    });
    gauge(registry, "forge_memory_used_percent", "Memory in use", [], (g) => {
      const v = hb()?.reading?.memory_used_percent;
      if (v != null) g.set(v);
    });
    gauge(
      registry,
      "forge_gate_latency_p99_seconds",
      "p99 gate latency over the last 2048 decisions",
      [],
      (g) => {
        const v = this.s.gate.p99();
        if (v !== null) g.set(v / 1000);
      },
    );
    gauge(registry, "forge_deny_rate", "DENY share of the last 2048 decisions", [], (g) => {
      const v = this.s.gate.denyRate();
      if (v !== null) g.set(v);
    });
    gauge(registry, "forge_policy_version", "Version of the active policy bundle", [], (g) => {
      g.set(this.s.policy().version);
    });
    gauge(
      registry,
      "forge_tolerance_breached",
      "1 while an indicator is outside its tolerance",
      ["indicator"],
      (g) => {
        const state = this.tolerances.state();
        const breached = new Set(breachedOf(state));
        for (const k of Object.keys(state)) g.set({ indicator: k }, breached.has(k) ? 1 : 0);
      },
    );
  }

  private alert(t: Transition): void {
    const s = this.s;
    const message = transitionMessage(t);
    s.logger[t.kind === "breach" ? "warn" : "info"]({ tolerance: t }, message);
    const rec = alertRecord(`agent:${s.hostId}`, { ...t, kind: `tolerance.${t.kind}` }, message);
    this.track(
      s.append(rec).catch((err) => s.logger.warn({ err: String(err) }, "could not record a tolerance alert")),
    );
    const hook = this.tolerances.config.webhook;
    if (hook !== undefined) {
      const payload = { host_id: s.hostId, source: "agent", message, ...t };
      // Deliveries go in order: a retried breach must not arrive after its recovery.
      this.webhooks = this.webhooks
        .then(() => notifyWebhook(hook.url, payload, { retries: hook.retries, backoffMs: hook.backoff_ms }))
        .catch((err) => s.logger.warn({ err: (err as Error).message }, "alert webhook gave up"));
      this.track(this.webhooks);
    }
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    p.finally(() => this.pending.delete(p));
  }
}

function gauge(
  registry: Registry,
  name: string,
  help: string,
  labelNames: string[],
  fill: (g: Gauge<string>) => void,
): void {
  new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      fill(this);
    },
  });
}
