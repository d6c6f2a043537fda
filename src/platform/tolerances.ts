/**
 * Tolerances: "are the known indicators inside their bounds?" Pure evaluation over snapshots
 * (agent heartbeats or the collector's view of a host), reporting transitions only: a breach
 * once when it starts, a recovery once when it ends, so the caller writes one `alert` record per
 * transition. Hysteresis and a minimum duration keep a value hovering at its bound from flapping.
 * Plus `notifyWebhook`, the optional outbound notification with retries.
 */
import { z } from "zod";
import { Codes, ForgeError } from "../errors.js";

/** The indicators, named as in heartbeats. `deny_rate` is computed here from cumulative counts. */
export const INDICATORS = [
  "gate_p99_ms",
  "deny_rate",
  "escalation_queue_age_s",
  "evidence_backlog",
  "inference_tokens_per_s",
  "temperature_c",
  "power_cpu_w",
  "power_gpu_w",
  "power_ane_w",
  "unpromoted_models",
] as const;
export type Indicator = (typeof INDICATORS)[number];

/** Which side of the bound is bad: a ceiling (max) or a floor (min). */
const DIRECTION: Record<Indicator, "max" | "min"> = {
  gate_p99_ms: "max",
  deny_rate: "max",
  escalation_queue_age_s: "max",
  evidence_backlog: "max",
  inference_tokens_per_s: "min",
  temperature_c: "max",
  power_cpu_w: "max",
  power_gpu_w: "max",
  power_ane_w: "max",
  unpromoted_models: "max",
};

const Timing = {
  /** Fraction of the bound the value must come back inside before a breach recovers (0.1 = 10%). */
  hysteresis: z.number().min(0).max(1).optional(),
  /** The condition must hold this long (ms) before a breach (or its recovery) is reported. */
  for_ms: z.number().int().min(0).optional(),
};
const Max = z.strictObject({ max: z.number().finite(), ...Timing });
const Min = z.strictObject({ min: z.number().finite(), ...Timing });

/** An outbound alert webhook (tolerances, drift): POSTed JSON, retried with backoff by notifyWebhook. */
export const WebhookConfig = z.strictObject({
  url: z.url(),
  retries: z.number().int().min(0).max(10).default(3),
  backoff_ms: z.number().int().min(1).default(500),
});

export const TolerancesConfig = z.strictObject({
  /** Defaults for every indicator that does not set its own. */
  hysteresis: z.number().min(0).max(1).default(0.05),
  for_ms: z.number().int().min(0).default(0),
  indicators: z
    .strictObject({
      gate_p99_ms: Max.optional(),
      deny_rate: z
        .strictObject({
          max: z.number().min(0).max(1),
          /** The rate is over this trailing window of decisions, in seconds. */
          window_s: z.number().positive().default(300),
          /** Below this many decisions in the window the rate is not judged (1 deny of 1 is not 100%). */
          min_decisions: z.number().int().min(1).default(20),
          ...Timing,
        })
        .optional(),
      escalation_queue_age_s: Max.optional(),
      evidence_backlog: Max.optional(),
      inference_tokens_per_s: Min.optional(),
      temperature_c: Max.optional(),
      power_cpu_w: Max.optional(),
      power_gpu_w: Max.optional(),
      power_ane_w: Max.optional(),
      /** Models served without a verified promotion (`{max: 0}`: serve only promoted or exempt models). */
      unpromoted_models: Max.optional(),
    })
    .default({}),
  webhook: WebhookConfig.optional(),
});
export type TolerancesConfig = z.infer<typeof TolerancesConfig>;
export type TolerancesConfigInput = z.input<typeof TolerancesConfig>;

/** One reading. Absent fields are unknown and leave that indicator's state as it is. */
export interface Snapshot {
  gate_p99_ms?: number;
  /** Cumulative decision counts since the agent started (a drop means a restart). */
  gate_counts?: { allow: number; deny: number; escalate: number };
  escalation_queue_age_s?: number;
  evidence_backlog?: number;
  inference_tokens_per_s?: number;
  temperature_c?: number;
  power_w?: { cpu?: number; gpu?: number; ane?: number };
  /** Models the host serves without a verified promotion (heartbeat `models[].admission.unpromoted`). */
  unpromoted_models?: number;
}

export interface Transition {
  kind: "breach" | "recovery";
  indicator: Indicator;
  /** The value that completed the transition. */
  value: number;
  bound: { op: "max" | "min"; limit: number };
  /** When the condition first held (ms, the caller's clock). */
  since_ms: number;
  at_ms: number;
  /** For a recovery: how long the breach lasted (ms, from its report to the recovery's). */
  breach_ms?: number;
}

export type IndicatorStatus = "ok" | "pending-breach" | "breached" | "pending-recovery";

export interface IndicatorState {
  status: IndicatorStatus;
  /** The last value seen, or null if none yet. */
  value: number | null;
  /** When the current pending condition began, or when the breach was reported. */
  since_ms: number | null;
  breached_at_ms: number | null;
}

export interface Evaluation {
  breaches: Transition[];
  recoveries: Transition[];
  /** Every configured indicator's state after this snapshot. */
  state: Partial<Record<Indicator, IndicatorState>>;
}

export interface Tolerances {
  /** Feeds one snapshot taken at `nowMs` (monotonic non-decreasing); returns the transitions it caused. */
  evaluate(snapshot: Snapshot, nowMs: number): Evaluation;
  /** The current state, without feeding anything. */
  state(): Partial<Record<Indicator, IndicatorState>>;
  readonly config: TolerancesConfig;
}

function read(s: Snapshot, ind: Exclude<Indicator, "deny_rate">): number | undefined {
  switch (ind) {
    case "power_cpu_w":
      return s.power_w?.cpu;
    case "power_gpu_w":
      return s.power_w?.gpu;
    case "power_ane_w":
      return s.power_w?.ane;
    default:
      return s[ind];
  }
}

/**
 * Builds an evaluator from config (validated here: FORGE_CONFIG_INVALID names the bad field).
 * Only configured indicators are judged.
 */
export function createTolerances(input: TolerancesConfigInput): Tolerances {
  const parsed = TolerancesConfig.safeParse(input);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new ForgeError(Codes.CONFIG_INVALID, `tolerances.${i.path.join(".")}: ${i.message}`);
  }
  const config = Object.freeze(parsed.data);
  const configured = INDICATORS.filter((k) => config.indicators[k] !== undefined);
  const states = new Map<Indicator, IndicatorState>(
    configured.map((k) => [k, { status: "ok", value: null, since_ms: null, breached_at_ms: null }]),
  );
  // deny_rate: cumulative counts over time, trimmed to the window.
  const counts: { t: number; deny: number; total: number }[] = [];

  function denyRate(s: Snapshot, now: number): number | undefined {
    const c = s.gate_counts;
    const cfg = config.indicators.deny_rate;
    if (c === undefined || cfg === undefined) return undefined;
    const total = c.allow + c.deny + c.escalate;
    const last = counts[counts.length - 1];
    if (last !== undefined && (total < last.total || c.deny < last.deny)) counts.length = 0; // agent restarted
    counts.push({ t: now, deny: c.deny, total });
    const from = now - cfg.window_s * 1000;
    // Keep the newest sample at or before the window's start as the baseline.
    while (counts.length > 1 && counts[1]!.t <= from) counts.shift();
    const base = counts[0]!;
    const decisions = total - base.total;
    if (decisions < cfg.min_decisions) return undefined;
    return (c.deny - base.deny) / decisions;
  }

  function step(ind: Indicator, value: number, now: number, out: Evaluation): void {
    const cfg = config.indicators[ind]!;
    const op = DIRECTION[ind];
    const limit = op === "max" ? (cfg as { max: number }).max : (cfg as { min: number }).min;
    const hysteresis = cfg.hysteresis ?? config.hysteresis;
    const forMs = cfg.for_ms ?? config.for_ms;
    const outside = op === "max" ? value > limit : value < limit;
    // Recovery needs the value back inside by the hysteresis margin, not just at the bound.
    const recovered =
      op === "max"
        ? value <= limit - Math.abs(limit) * hysteresis
        : value >= limit + Math.abs(limit) * hysteresis;
    const st = states.get(ind)!;
    st.value = value;
    const t = (kind: Transition["kind"], since: number): Transition => ({
      kind,
      indicator: ind,
      value,
      bound: { op, limit },
      since_ms: since,
      at_ms: now,
    });
    switch (st.status) {
      case "ok":
      case "pending-breach":
        if (!outside) {
          st.status = "ok";
          st.since_ms = null;
          return;
        }
        if (st.status === "ok") {
          st.status = "pending-breach";
          st.since_ms = now;
        }
        if (now - st.since_ms! >= forMs) {
          out.breaches.push(t("breach", st.since_ms!));
          st.status = "breached";
          st.breached_at_ms = now;
        }
        return;
      case "breached":
      case "pending-recovery":
        if (!recovered) {
          st.status = "breached";
          return;
        }
        if (st.status === "breached") {
          st.status = "pending-recovery";
          st.since_ms = now;
        }
        if (now - st.since_ms! >= forMs) {
          out.recoveries.push({ ...t("recovery", st.since_ms!), breach_ms: now - st.breached_at_ms! });
          st.status = "ok";
          st.since_ms = null;
          st.breached_at_ms = null;
        }
        return;
    }
  }

  const snapshotState = () =>
    Object.fromEntries([...states].map(([k, v]) => [k, { ...v }])) as Partial<
      Record<Indicator, IndicatorState>
    >;

  return {
    config,
    state: snapshotState,
    evaluate(snapshot, nowMs) {
      const out: Evaluation = { breaches: [], recoveries: [], state: {} };
      for (const ind of configured) {
        const v = ind === "deny_rate" ? denyRate(snapshot, nowMs) : read(snapshot, ind);
        // A missing or non-finite reading is unknown: it neither breaches nor recovers.
        if (v === undefined || !Number.isFinite(v)) continue;
        step(ind, v, nowMs, out);
      }
      out.state = snapshotState();
      return out;
    },
  };
}

export interface WebhookOptions {
  /** Attempts after the first (default 3). */
  retries?: number;
  /** Delay before the first retry, doubled each time (default 500 ms). */
  backoffMs?: number;
  /** Per-attempt timeout (default 5000 ms). */
  timeoutMs?: number;
  fetchImpl?: typeof fetch;
  /** Injected for tests that want to see the schedule; defaults to setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

export interface WebhookResult {
  attempts: number;
  status: number;
}

const RETRYABLE = (status: number) => status >= 500 || status === 408 || status === 429;

/**
 * POSTs `payload` as JSON to `url`. Retries network errors, timeouts, 5xx, 408 and 429 with
 * exponential backoff (backoffMs, 2×, 4×, …); other 4xx are final. Throws FORGE_WEBHOOK_FAILED
 * with the attempts made when it gives up.
 */
export async function notifyWebhook(
  url: string,
  payload: unknown,
  opts: WebhookOptions = {},
): Promise<WebhookResult> {
  const retries = opts.retries ?? 3;
  const backoff = opts.backoffMs ?? 500;
  const doFetch = opts.fetchImpl ?? fetch;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const body = JSON.stringify(payload);
  let last = "";
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    if (attempt > 1) await sleep(backoff * 2 ** (attempt - 2));
    let status: number;
    try {
      const res = await doFetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(opts.timeoutMs ?? 5000),
      });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined); // drain, so the connection can be reused
    } catch (err) {
      last = (err as Error).message;
      continue;
    }
    if (status >= 200 && status < 300) return { attempts: attempt, status };
    last = `HTTP ${status}`;
    if (!RETRYABLE(status)) {
      throw new ForgeError(Codes.WEBHOOK_FAILED, `webhook ${url} refused the alert: ${last} (not retried)`, {
        details: { attempts: attempt, status },
      });
    }
  }
  throw new ForgeError(Codes.WEBHOOK_FAILED, `webhook ${url} failed after ${retries + 1} attempts: ${last}`, {
    details: { attempts: retries + 1 },
  });
}

/** The heartbeat fields the tolerances read (protocol/heartbeat.ts HeartbeatPayload; any may be missing). */
interface HeartbeatFigures {
  gate?: { counts?: Partial<Record<"ALLOW" | "DENY" | "ESCALATE", number>>; p99_ms?: unknown };
  reading?: { watts?: Record<string, unknown>; temperature_c?: unknown } | null;
  review_queue?: { pending?: unknown; oldest_age_ms?: unknown };
  evidence?: { backlog?: unknown };
  inference?: { tokens_per_second?: unknown };
  models?: unknown;
}

/** The tolerance snapshot a heartbeat yields (agent: its own; collector: each host's, untrusted). */
export function snapshotOf(hb: unknown): Snapshot {
  const h = (hb ?? {}) as HeartbeatFigures;
  const n = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
  const c = h.gate?.counts;
  const w = h.reading?.watts ?? {};
  const age = n(h.review_queue?.oldest_age_ms);
  return {
    gate_p99_ms: n(h.gate?.p99_ms),
    gate_counts: c ? { allow: c.ALLOW ?? 0, deny: c.DENY ?? 0, escalate: c.ESCALATE ?? 0 } : undefined,
    escalation_queue_age_s: age === undefined ? (h.review_queue?.pending === 0 ? 0 : undefined) : age / 1000,
    evidence_backlog: n(h.evidence?.backlog),
    inference_tokens_per_s: n(h.inference?.tokens_per_second),
    temperature_c: n(h.reading?.temperature_c),
    power_w: { cpu: n(w.cpu), gpu: n(w.gpu), ane: n(w.ane) },
    unpromoted_models: unpromotedOf(h.models),
  };
}

/**
 * How many served models carry an admission that says unpromoted; unknown (undefined) until some
 * model reports its admission (a backend not opened yet serves nothing it could judge).
 */
function unpromotedOf(models: unknown): number | undefined {
  if (!Array.isArray(models)) return undefined;
  const judged = models
    .map((m) => (m as { admission?: { unpromoted?: unknown } } | null)?.admission?.unpromoted)
    .filter((u): u is boolean => typeof u === "boolean");
  return judged.length === 0 ? undefined : judged.filter((u) => u).length;
}

/** Indicators in breach (reported and not yet recovered). */
export function breachedOf(state: ReturnType<Tolerances["state"]>): string[] {
  return Object.entries(state)
    .filter(([, st]) => st?.status === "breached" || st?.status === "pending-recovery")
    .map(([k]) => k);
}

/** One line for logs, alert rows and records. */
export function transitionMessage(t: Transition): string {
  const side = t.bound.op === "max" ? "ceiling" : "floor";
  return t.kind === "breach"
    ? `${t.indicator} = ${Math.round(t.value * 1000) / 1000} breaches its ${side} ${t.bound.limit}`
    : `${t.indicator} = ${Math.round(t.value * 1000) / 1000} is back inside its ${side} ${t.bound.limit}`;
}
