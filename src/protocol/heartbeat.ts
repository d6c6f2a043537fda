import type { RecordInput } from "./record.js";

/**
 * The `heartbeat` message's payload: what the agent reports about its host every interval and the
 * collector stores as the host's latest health (docs/fleet.md lists the fields).
 */

type Evaluation = NonNullable<RecordInput["evaluation"]>;

/** Host facts, gathered once (systeminformation is slow: tens of ms per call). */
export interface HostFacts {
  model: string | null;
  chip: string | null;
  cores: number | null;
  memory_bytes: number | null;
  os: string | null;
  arch: string;
  node: string;
  version: string | null;
}

/** The reading as the heartbeat carries it (a summary of platform/metrics.ts Reading). */
export interface HeartbeatReading {
  cpu_percent: number | null;
  /** Watts per rail (cpu/gpu/ane/dram/system); a rail the host has no counter for is absent. */
  watts: Record<string, number>;
  temperature_c: number | null;
  memory_used_percent: number;
  /** Linux PSI "some" % over the interval; null elsewhere. */
  memory_pressure_percent: number | null;
  /** macOS pressure level; null elsewhere. */
  memory_pressure_level: string | null;
  interval_ms: number;
}

export interface HeartbeatPayload {
  at_ms: number;
  facts: HostFacts | null;
  reading: HeartbeatReading | null;
  reading_error: string | null;
  gate: { counts: Record<Evaluation, number>; p99_ms: number | null; deny_rate: number | null };
  evidence: { backlog: number; last_seq: number };
  policy: { id: string; version: number; sha256: string; source: string };
  /** Each served model; `admission` once its backend is open (what serving admission decided). */
  models: Array<{ backend: string; model: string | null; admission?: ServedAdmission }>;
  inference: { tokens_per_second: number | null };
  review_queue: { pending: number; oldest_age_ms: number | null };
  tolerances: { breached: string[] };
}

/** What serving admission decided for a served model, as the heartbeat reports it. */
export interface ServedAdmission {
  digest: string | null;
  stage: string | null;
  exempt: boolean;
  /** Served without a verified promotion (`isUnpromoted`): the `unpromoted_models` tolerance counts these. */
  unpromoted: boolean;
}

/** One rule for "unpromoted", shared by the heartbeat and the fleet's models view (lifecycle/lineage.ts). */
export function isUnpromoted(a: { exempt: boolean; stage: string | null }): boolean {
  return !a.exempt && a.stage === null;
}
