/**
 * The governed training loop. It owns every decision — budgets before each step, anomalies after
 * the forward loss and before any gradient, checkpoints — and moves only through the declared
 * transition table (machine.ts). The trainer only executes the step protocol (trainer.ts).
 */
import { Codes, type ForgeCode, hasForgeCode } from "../errors.js";
import type { TrainingRunAction } from "../gate/actions.js";
import type { PrincipalReview } from "../protocol/record.js";
import { type Anomaly, AnomalyDetector } from "./anomaly.js";
import { admit, type Consumed, memoryAgainst, peakRssMb, type Refusal, rssMb } from "./budgets.js";
import {
  type CheckpointInfo,
  type LoopState,
  lossCurve,
  type StepLog,
  writeCheckpoint,
} from "./checkpoint.js";
import { batchFor } from "./dataset.js";
import { Machine, type State, TERMINAL } from "./machine.js";
import type { JobSpec } from "./spec.js";
import type { Trainer } from "./trainer.js";

/** Where the loop's records go (records.ts writes them to the evidence store). */
export interface Recorder {
  record(
    event: "start" | "resume" | "checkpoint" | "anomaly" | "halt" | "end",
    result: Record<string, unknown>,
    review?: PrincipalReview | null,
  ): Promise<void>;
}

/** Who answers an `escalate` anomaly: approve = continue, deny or no answer by the deadline = halt. */
export interface Reviewer {
  /** `action` is the job's `training.run` as the gate judged it at start (runJob passes it). */
  review(
    anomaly: Anomaly & { step: number },
    deadlineSeconds: number,
    action?: TrainingRunAction,
  ): Promise<PrincipalReview>;
}

export interface LoopDeps {
  trainer: Trainer;
  data: Uint8Array;
  checkpointDir: string;
  recorder: Recorder;
  reviewer: Reviewer;
  /** Monotonic milliseconds (performance.now by default). */
  now?: () => number;
  /**
   * Resident memory now, MB (the process's RSS by default). BUDGET_CHECK reads the default only
   * when the process's peak RSS is over max_memory_mb (budgets.ts memoryAgainst); an injected
   * reader is read at every BUDGET_CHECK.
   */
  memoryMb?: () => number;
  /** Joules consumed since the loop started, or null without power rails. */
  energyJoules?: () => number | null;
  /** Resume from this state (the checkpoint's). */
  resume?: { state: LoopState; checkpoint: CheckpointInfo };
  sessionId: string;
  /** Called on every transition (tests and the bench observe it). */
  onTransition?: (from: State, to: State) => void;
}

export interface AnomalyReport {
  step: number;
  rule: Anomaly["rule"];
  loss: number;
  action: Anomaly["action"];
  /** What happened: skipped, halted, approved (continued), denied, expired. */
  outcome: "skipped" | "halted" | "approved" | "denied" | "expired";
}

export interface LoopResult {
  state: "DONE" | "HALTED" | "FAILED";
  steps: number;
  updates: number;
  tokens: number;
  transitions: Partial<Record<State, number>>;
  anomalies: AnomalyReport[];
  checkpoints: CheckpointInfo[];
  budgets: Consumed;
  loss: { first: number | null; last: number | null; min: number | null; mean_last_10: number | null };
  halted_by: { budget: string; limit: number; value: number } | { anomaly: string } | null;
  error: { code: ForgeCode; message: string } | null;
  final_weights_sha256: string | null;
  /** The loss curve of the steps after the last checkpoint (a halt or failure between checkpoints). */
  loss_curve_tail: ReturnType<typeof lossCurve>;
}

/** The learning rate at `step` (1-based) for the job's schedule, after linear warm-up. */
export function learningRate(h: JobSpec["hyperparameters"], step: number): number {
  const base = h.learning_rate;
  if (step <= h.warmup_steps) return (base * step) / Math.max(1, h.warmup_steps);
  const p = (step - h.warmup_steps) / Math.max(1, h.steps - h.warmup_steps);
  if (h.schedule === "cosine") return base * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, p)));
  if (h.schedule === "linear") return base * Math.max(0, 1 - p);
  return base;
}

/** Runs the job to DONE, HALTED or FAILED. Never throws for a training failure: FAILED says why. */
export async function runLoop(spec: JobSpec, deps: LoopDeps): Promise<LoopResult> {
  const { trainer, recorder } = deps;
  const now = deps.now ?? (() => performance.now());
  const memoryMb = deps.memoryMb ?? rssMb;
  const peakMb = deps.memoryMb ? null : peakRssMb;
  const energy = deps.energyJoules ?? (() => null);
  const h = spec.hyperparameters;
  const machine = new Machine(deps.onTransition);
  const detector = new AnomalyDetector(spec.anomaly);
  const injects = new Map(spec.inject.map((i) => [i.step, i]));
  const r = deps.resume?.state;
  let step = r?.step ?? 0;
  let updates = r?.updates ?? 0;
  let tokens = r?.tokens ?? 0;
  const wallBase = r?.wall_seconds ?? 0;
  const energyBase = r?.energy_joules ?? 0;
  if (r) detector.importState(r.detector);
  const t0 = now();
  let lossFirst = r?.loss_first ?? null;
  let lossLast = r?.loss_last ?? null;
  let lossMin: number | null = null;
  const recent: number[] = [];
  const anomalies: AnomalyReport[] = [];
  const checkpoints: CheckpointInfo[] = deps.resume ? [deps.resume.checkpoint] : [];
  let log: StepLog[] = [];
  let haltedBy: LoopResult["halted_by"] = null;
  let error: LoopResult["error"] = null;

  /** A sidecar's memory (trainer.memoryMb), counted with this process's in every memory figure. */
  const sidecarMb = trainer.memoryMb === undefined ? () => 0 : () => trainer.memoryMb!();
  /** What the job has used; `memory` is BUDGET_CHECK's figure there, the memory now in records. */
  const consumed = (memory = () => memoryMb() + sidecarMb()): Consumed => {
    const e = energy();
    return {
      steps: step,
      tokens,
      wall_seconds: wallBase + (now() - t0) / 1000,
      memory_mb: memory(),
      energy_joules: e === null ? null : energyBase + e,
    };
  };
  const loopState = (): LoopState => {
    const c = consumed();
    return {
      session_id: deps.sessionId,
      step,
      tokens,
      updates,
      wall_seconds: c.wall_seconds,
      energy_joules: c.energy_joules,
      detector: detector.exportState(),
      loss_first: lossFirst,
      loss_last: lossLast,
    };
  };
  const budgetMemory = () => {
    const aside = sidecarMb();
    const limit = spec.budgets.max_memory_mb;
    return aside + memoryAgainst(limit === undefined ? undefined : limit - aside, memoryMb, peakMb);
  };
  const halt = async (why: Record<string, unknown>) => {
    machine.go("HALTED");
    await recorder.record("halt", { step, tokens, ...why, budgets_consumed: consumed() });
  };

  try {
    for (;;) {
      machine.go("BUDGET_CHECK");
      if (step >= h.steps) {
        machine.go("DONE");
        break;
      }
      const batch = batchFor(deps.data, step + 1, h.batch, h.sequence, h.seed);
      const need = h.batch * h.sequence;
      const refusal: Refusal | null = admit(spec, consumed(budgetMemory), need);
      if (refusal) {
        haltedBy = { budget: refusal.budget, limit: refusal.limit, value: refusal.value };
        await halt({
          reason: "budget",
          budget: refusal.budget,
          limit: refusal.limit,
          value: refusal.value,
          message: refusal.message,
        });
        break;
      }
      const drill = injects.get(step + 1);
      if (drill) batch.poison = drill.kind === "nan" ? Number.NaN : drill.factor;
      machine.go("FORWARD");
      const ts = now();
      let anomaly: Anomaly | null = null;
      const loss = await trainer.forward(batch, (l) => {
        machine.go("LOSS_CHECK");
        anomaly = detector.check(l);
        if (anomaly) {
          machine.go("ANOMALY");
          return "hold";
        }
        machine.go("BACKWARD");
        return "backward";
      });
      step++;
      tokens += need;
      const a = anomaly as Anomaly | null;
      if (a) {
        const base = { step, rule: a.rule, loss: a.loss, action: a.action };
        const rec = { ...base, loss: jsonNumber(a.loss), detail: jsonNumbers(a.detail) };
        if (a.action === "skip") {
          await trainer.reject();
          anomalies.push({ ...base, outcome: "skipped" });
          log.push({ step, loss, grad_norm: null, tokens: need, ms: now() - ts, outcome: "skipped" });
          await recorder.record("anomaly", { ...rec, outcome: "skipped", parameters_changed: false });
          continue; // ANOMALY → BUDGET_CHECK
        }
        if (a.action === "halt") {
          await trainer.reject();
          anomalies.push({ ...base, outcome: "halted" });
          await recorder.record("anomaly", { ...rec, outcome: "halted", parameters_changed: false });
          haltedBy = { anomaly: a.rule };
          await halt({ reason: "anomaly", rule: a.rule, loss: jsonNumber(a.loss) });
          break;
        }
        const review = await deps.reviewer.review({ ...a, step }, spec.anomaly.review_deadline_seconds);
        const outcome =
          review.decision === "approve" ? "approved" : review.decision === "expired" ? "expired" : "denied";
        anomalies.push({ ...base, outcome });
        await recorder.record("anomaly", { ...rec, outcome }, review);
        if (outcome !== "approved") {
          await trainer.reject();
          haltedBy = { anomaly: a.rule };
          await halt({ reason: "anomaly", rule: a.rule, review: outcome });
          break;
        }
        machine.go("BACKWARD"); // approved: the gradient is computed only now
      }
      machine.go("STEP");
      const stats = await trainer.commit(learningRate(h, step));
      updates++;
      detector.accept(loss);
      lossFirst ??= loss;
      lossLast = loss;
      lossMin = lossMin === null ? loss : Math.min(lossMin, loss);
      recent.push(loss);
      if (recent.length > 10) recent.shift();
      log.push({ step, loss, grad_norm: stats.grad_norm, tokens: need, ms: now() - ts, outcome: "trained" });
      if (step % spec.checkpoints.every === 0 || step === h.steps) {
        machine.go("CHECKPOINT");
        // The record is durable before the checkpoint is published (writeCheckpoint's declare):
        // whatever a resume starts from is in the chain.
        const info = await writeCheckpoint(deps.checkpointDir, trainer, loopState(), log, (c) =>
          recorder.record("checkpoint", {
            step,
            tokens,
            checkpoint: c,
            loss: jsonNumber(loss),
            // The per-step log's curve rides in the record (bounded); the log itself is in the checkpoint.
            loss_curve: lossCurve(log),
            budgets_consumed: consumed(),
          }),
        );
        checkpoints.push(info);
        log = [];
        if (step >= h.steps) {
          machine.go("DONE");
          break;
        }
      }
    }
  } catch (err) {
    error = {
      code: hasForgeCode(err) ? err.code : Codes.TRAINING_FAILED,
      message: (err as Error).message,
    };
    if (!TERMINAL.has(machine.state)) machine.go("FAILED");
  }
  const mean = recent.length ? recent.reduce((x, y) => x + y, 0) / recent.length : null;
  const state = machine.state as LoopResult["state"];
  return {
    state,
    steps: step,
    updates,
    tokens,
    transitions: machine.counts(),
    anomalies,
    checkpoints,
    budgets: consumed(),
    loss: { first: lossFirst, last: lossLast, min: lossMin, mean_last_10: mean },
    halted_by: haltedBy,
    error,
    final_weights_sha256: state === "FAILED" ? null : await trainer.weightsDigest().catch(() => null),
    loss_curve_tail: lossCurve(log),
  };
}

function jsonNumbers(o: Record<string, number>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(o)) out[k] = jsonNumber(v);
  return out;
}

/** JSON has no NaN or Infinity: they are written as strings. */
export function jsonNumber(v: number): number | string {
  return Number.isFinite(v) ? v : String(v);
}
