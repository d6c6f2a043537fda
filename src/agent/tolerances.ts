/**
 * Tolerances: "are the known indicators inside their bounds?". Pure evaluation with breach and
 * recovery transitions (shared by the agent, from its own heartbeat, and the collector, from every
 * host's heartbeats), plus the optional webhook with retries. No process.env, no timers here.
 */
import { z } from "zod";

/** The indicators a heartbeat yields (docs/fleet.md lists their sources). */
export const INDICATORS = [
  "gate_p99_ms",
  "deny_rate",
  "review_queue_age_ms",
  "evidence_backlog",
  "tokens_per_second",
  "temperature_c",
  "ane_watts",
  "gpu_watts",
] as const;
export type Indicator = (typeof INDICATORS)[number];

const Bound = z
  .strictObject({ min: z.number().optional(), max: z.number().optional() })
  .refine((b) => b.min !== undefined || b.max !== undefined, "a bound needs 'min' or 'max'");

/** Config: `{gate_p99_ms: {max: 5}, tokens_per_second: {min: 10}, …}`; absent indicators are not checked. */
export const TolerancesSchema = z.strictObject(
  Object.fromEntries(INDICATORS.map((k) => [k, Bound.optional()])) as Record<
    Indicator,
    z.ZodOptional<typeof Bound>
  >,
);
export type Tolerances = z.infer<typeof TolerancesSchema>;

export const WebhookSchema = z.strictObject({
  url: z.string().regex(/^https?:\/\//, "must be an http:// or https:// URL"),
  /** Attempts after the first one. */
  retries: z.number().int().min(0).max(10).default(3),
  timeout_ms: z.number().int().positive().default(5_000),
  /** First retry delay; doubles each attempt. */
  backoff_ms: z.number().int().positive().default(500),
});
export type Webhook = z.infer<typeof WebhookSchema>;

export interface Transition {
  indicator: Indicator;
  state: "breach" | "recovery";
  value: number;
  bound: { min?: number; max?: number };
  message: string;
}

export type IndicatorValues = Partial<Record<Indicator, number | null>>;

/** Which side of the bound `value` is on; null when it is inside. */
function outside(value: number, b: { min?: number; max?: number }): string | null {
  if (b.max !== undefined && value > b.max) return `above the ceiling ${b.max}`;
  if (b.min !== undefined && value < b.min) return `below the floor ${b.min}`;
  return null;
}

/**
 * Tracks breach state per indicator: `evaluate` returns only transitions (inside → breach,
 * breach → recovery). A missing or null value changes nothing: an unknown reading is neither a
 * breach nor a recovery.
 */
export class ToleranceTracker {
  private readonly breached = new Set<Indicator>();
  constructor(private readonly bounds: Tolerances) {}

  evaluate(values: IndicatorValues): Transition[] {
    const out: Transition[] = [];
    for (const k of INDICATORS) {
      const b = this.bounds[k];
      const v = values[k];
      if (b === undefined || v === undefined || v === null || !Number.isFinite(v)) continue;
      const why = outside(v, b);
      if (why !== null && !this.breached.has(k)) {
        this.breached.add(k);
        out.push({
          indicator: k,
          state: "breach",
          value: v,
          bound: b,
          message: `${k} = ${round(v)} is ${why}`,
        });
      } else if (why === null && this.breached.has(k)) {
        this.breached.delete(k);
        out.push({
          indicator: k,
          state: "recovery",
          value: v,
          bound: b,
          message: `${k} = ${round(v)} is back inside`,
        });
      }
    }
    return out;
  }

  /** Indicators currently in breach. */
  active(): Indicator[] {
    return [...this.breached];
  }
}

const round = (v: number) => Math.round(v * 1000) / 1000;

/** What a heartbeat (src/agent/heartbeat.ts HeartbeatPayload) says about each indicator. */
export function indicatorsOf(hb: unknown): IndicatorValues {
  const h = (hb ?? {}) as {
    gate?: { p99_ms?: number | null; deny_rate?: number | null };
    review_queue?: { oldest_age_ms?: number | null };
    evidence?: { backlog?: number | null };
    inference?: { tokens_per_second?: number | null };
    reading?: { temperature_c?: number | null; watts?: Record<string, number> } | null;
  };
  const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : null);
  return {
    gate_p99_ms: num(h.gate?.p99_ms),
    deny_rate: num(h.gate?.deny_rate),
    review_queue_age_ms: num(h.review_queue?.oldest_age_ms),
    evidence_backlog: num(h.evidence?.backlog),
    tokens_per_second: num(h.inference?.tokens_per_second),
    temperature_c: num(h.reading?.temperature_c),
    ane_watts: num(h.reading?.watts?.ane),
    gpu_watts: num(h.reading?.watts?.gpu),
  };
}

export interface WebhookLogger {
  warn(obj: object, msg?: string): void;
}

/**
 * POSTs `body` as JSON; retries on a network error, a timeout or a non-2xx status with doubling
 * delays. Resolves true when some attempt got a 2xx, false after the last failure; never throws.
 */
export async function callWebhook(
  hook: Webhook,
  body: unknown,
  log?: WebhookLogger,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<boolean> {
  const text = JSON.stringify(body);
  for (let attempt = 0; attempt <= hook.retries; attempt++) {
    if (attempt > 0) await sleep(hook.backoff_ms * 2 ** (attempt - 1));
    try {
      const res = await fetch(hook.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: text,
        signal: AbortSignal.timeout(hook.timeout_ms),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return true;
      log?.warn({ url: hook.url, status: res.status, attempt }, "alert webhook answered non-2xx");
    } catch (err) {
      log?.warn({ url: hook.url, err: String(err), attempt }, "alert webhook failed");
    }
  }
  return false;
}
