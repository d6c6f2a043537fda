/**
 * Budgets as structural gates. `preflight` refuses a job whose declared budgets cannot be met
 * before it starts; `admit` runs in BUDGET_CHECK before every step with the next batch's tokens
 * counted, so a step that would cross a budget never starts.
 */
import type { JobSpec } from "./spec.js";

export type BudgetName =
  | "max_parameters"
  | "max_tokens"
  | "max_steps"
  | "max_wall_seconds"
  | "max_memory_mb"
  | "max_energy_joules";

/** What the job has consumed so far. */
export interface Consumed {
  steps: number;
  tokens: number;
  wall_seconds: number;
  memory_mb: number;
  energy_joules: number | null;
}

export interface Refusal {
  budget: BudgetName;
  limit: number;
  /** The figure that crosses it (needed, or would be reached). */
  value: number;
  message: string;
}

export interface PreflightInput {
  parameters: number;
  /** Bytes the model's weights + optimizer state take, MB (3 copies of F32 params for Adam). */
  model_memory_mb: number;
  hasPowerRails: boolean;
}

/** Reasons the declared budgets cannot be met by this job; empty when they can. */
export function preflight(spec: JobSpec, input: PreflightInput): Refusal[] {
  const b = spec.budgets;
  const h = spec.hyperparameters;
  const out: Refusal[] = [];
  const tokensPerStep = h.batch * h.sequence;
  const need = (budget: BudgetName, limit: number | undefined, value: number, why: string) => {
    if (limit !== undefined && value > limit)
      out.push({ budget, limit, value, message: `${budget} ${limit} < ${value}: ${why}` });
  };
  need(
    "max_parameters",
    b.max_parameters,
    input.parameters,
    "the model has more parameters than the budget allows; shrink the shape or raise the budget",
  );
  need(
    "max_steps",
    b.max_steps,
    h.steps,
    "the job declares more steps than the budget allows; lower hyperparameters.steps or raise max_steps",
  );
  need(
    "max_tokens",
    b.max_tokens,
    h.steps * tokensPerStep,
    `steps × batch × sequence = ${h.steps} × ${h.batch} × ${h.sequence}; lower one or raise max_tokens`,
  );
  need(
    "max_memory_mb",
    b.max_memory_mb,
    input.model_memory_mb,
    "weights + optimizer state alone exceed it; shrink the shape or raise max_memory_mb",
  );
  if (b.max_energy_joules !== undefined && !input.hasPowerRails)
    out.push({
      budget: "max_energy_joules",
      limit: b.max_energy_joules,
      value: Number.NaN,
      message:
        "max_energy_joules needs power rails and this host has none: remove the budget or run on a host with rails",
    });
  if (spec.checkpoints.every > h.steps)
    out.push({
      budget: "max_steps",
      limit: h.steps,
      value: spec.checkpoints.every,
      message: `checkpoints.every (${spec.checkpoints.every}) is more than the job's ${h.steps} steps: no checkpoint would be written`,
    });
  return out;
}

/**
 * Whether the next step may start: its tokens are counted before its forward pass. Wall time and
 * energy are projected by the mean cost of the steps so far, so the step that would cross never runs.
 */
export function admit(spec: JobSpec, used: Consumed, nextTokens: number): Refusal | null {
  const b = spec.budgets;
  const check = (
    budget: BudgetName,
    limit: number | undefined,
    value: number,
    what: string,
  ): Refusal | null =>
    limit !== undefined && value > limit
      ? {
          budget,
          limit,
          value,
          message: `${budget}: the next step would reach ${what} ${round(value)} > ${limit}`,
        }
      : null;
  const perStep = used.steps > 0 ? used.wall_seconds / used.steps : 0;
  const perStepJ = used.energy_joules !== null && used.steps > 0 ? used.energy_joules / used.steps : 0;
  return (
    check("max_steps", b.max_steps, used.steps + 1, "step") ??
    check("max_tokens", b.max_tokens, used.tokens + nextTokens, "tokens") ??
    check("max_wall_seconds", b.max_wall_seconds, used.wall_seconds + perStep, "seconds") ??
    check("max_memory_mb", b.max_memory_mb, used.memory_mb, "MB") ??
    (used.energy_joules === null
      ? null
      : check("max_energy_joules", b.max_energy_joules, used.energy_joules + perStepJ, "J"))
  );
}

function round(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** The process's resident memory now, MB (process.memoryUsage.rss(): /proc/self/stat, three syscalls). */
export const rssMb = (): number => process.memoryUsage.rss() / 1e6;

/** The process's peak resident memory, MB (one getrusage; ru_maxrss in KiB), never below rssMb(). */
export const peakRssMb = (): number => (process.resourceUsage().maxRSS * 1024) / 1e6;

/**
 * The memory figure BUDGET_CHECK compares with max_memory_mb: over `limit` exactly when the memory
 * now is. The peak cannot be below the memory now, so while the peak is within the limit it stands
 * in for it (one getrusage, ~5 µs a step after a wait on a sidecar, where /proc/self/stat took
 * ~20 µs); once the peak is over, the memory now is read and decides. Without a `peak` reader (an
 * injected `now`), `now` is read every time.
 */
export function memoryAgainst(
  limit: number | undefined,
  now: () => number,
  peak: (() => number) | null,
): number {
  if (peak === null) return now();
  const p = peak();
  // NaN compares false both ways: only a peak known to be within the limit skips the reading.
  return limit === undefined || p <= limit ? p : now();
}
