/**
 * One governed training job end to end: the gate judges the `training.run` action, the budgets
 * are checked before launch, the loop runs, and every milestone is a `training` record in the
 * evidence chain (start/resume, each checkpoint, each anomaly and its outcome, each halt, the end).
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { Codes, type ForgeCode, ForgeError, hasForgeCode } from "../errors.js";
import type { EvidenceStore } from "../evidence/index.js";
import type { TrainingRunAction } from "../gate/actions.js";
import type { Gate } from "../gate/index.js";
import { toPolicyMatched } from "../gate/index.js";
import type { PrincipalReview } from "../protocol/record.js";
import { type BaseModel, type BaseResolver, loadBase, localBase } from "./base.js";
import { preflight } from "./budgets.js";
import { latestCheckpoint } from "./checkpoint.js";
import { type DatasetResolver, type DatasetSource, loadDataset, localResolver } from "./dataset.js";
import { jsonNumber, type LoopResult, type Recorder, type Reviewer, runLoop } from "./loop.js";
import type { State } from "./machine.js";
import { type Job, type JobSpec, parameterCount } from "./spec.js";
import type { Trainer } from "./trainer.js";

export interface JobOptions {
  job: Job;
  resume: boolean;
  store: EvidenceStore;
  gate: Gate;
  /** Reviews an ESCALATE at start and `escalate` anomalies. */
  reviewer: StartReviewer & Reviewer;
  makeTrainer: (spec: JobSpec) => Promise<Trainer>;
  resolver?: DatasetResolver;
  /** Where `model.base` comes from (a GGUF path by default; the CLI adds the registry). */
  baseResolver?: BaseResolver;
  hasPowerRails?: boolean;
  principal?: string;
  energyJoules?: () => number | null;
  onTransition?: (from: State, to: State) => void;
  /** After the loop: export (GGUF) hook; returns the path written. */
  exportModel?: (trainer: Trainer, spec: JobSpec, dir: string) => Promise<string | null>;
}

export interface StartReviewer {
  reviewStart(action: TrainingRunAction, deadlineSeconds: number): Promise<PrincipalReview>;
}

/** The `--json` document of `forge-agent train`. */
export interface JobReport {
  job_id: string;
  session_id: string;
  state: "DONE" | "HALTED" | "FAILED";
  steps: number;
  tokens: number;
  budgets_consumed: LoopResult["budgets"] | null;
  transitions: Partial<Record<State, number>>;
  anomalies: LoopResult["anomalies"];
  checkpoints: { step: number; digest: string; path: string; steps_log_sha256: string }[];
  final_weights_sha256: string | null;
  gguf: string | null;
  evaluation: "ALLOW" | "DENY" | "ESCALATE";
  halted_by:
    | LoopResult["halted_by"]
    | { policy: string[] }
    | { review: string }
    | { preflight: string[] }
    | null;
  loss: LoopResult["loss"] | null;
  resumed_from: { step: number; digest: string } | null;
  error: { code: ForgeCode; message: string } | null;
}

/** The action the gate judges for a job. */
export function trainingAction(spec: JobSpec, parameters: number): TrainingRunAction {
  const b = spec.budgets;
  return {
    kind: "training.run",
    job: spec.job,
    trainer: spec.trainer,
    model: { base: spec.model.base ?? null, parameters },
    dataset: { ref: spec.dataset.ref, sha256: spec.dataset.sha256 },
    budgets: {
      max_parameters: b.max_parameters ?? null,
      max_tokens: b.max_tokens ?? null,
      max_steps: b.max_steps ?? null,
      max_wall_seconds: b.max_wall_seconds ?? null,
      max_memory_mb: b.max_memory_mb ?? null,
      max_energy_joules: b.max_energy_joules ?? null,
    },
  };
}

/** Where a job's checkpoints go: `checkpoints.dir` (relative to the job file) or ./checkpoints/JOB. */
export function checkpointDir(job: Job): string {
  const d = job.spec.checkpoints.dir ?? join("checkpoints", job.spec.job);
  return isAbsolute(d) ? d : join(job.dir, d);
}

const now3339 = () => new Date().toISOString();

/** Runs a job; never throws for a refusal or a training failure (the report says why). */
export async function runJob(o: JobOptions): Promise<JobReport> {
  const { job, store, gate } = o;
  const spec = job.spec;
  const ckDir = checkpointDir(job);
  const runFile = join(ckDir, "run.json");
  const last = o.resume ? latestCheckpoint(ckDir) : null;
  if (o.resume && !existsSync(runFile))
    throw new ForgeError(
      Codes.TRAINING_REFUSED,
      `--resume: no earlier run of '${spec.job}' in ${ckDir}: run it without --resume`,
    );
  if (!o.resume && existsSync(runFile))
    throw new ForgeError(
      Codes.TRAINING_REFUSED,
      `an earlier run of '${spec.job}' left checkpoints in ${ckDir}: pass --resume to continue it, or remove the directory to start over`,
    );
  const sessionId = o.resume
    ? (JSON.parse(readFileSync(runFile, "utf8")) as { session_id: string }).session_id
    : `train-${spec.job}-${randomBytes(4).toString("hex")}`;
  // A fine-tune's shape and starting weights come from its base (read before the gate: the
  // parameter count is one of the facts it judges; a registry base is its own judged model.pull).
  let base: BaseModel | null = null;
  let baseError: ForgeError | null = null;
  if (spec.model.base !== undefined) {
    try {
      base = await loadBase(spec.model.base, job.dir, o.baseResolver ?? localBase);
    } catch (err) {
      baseError = err as ForgeError;
    }
  }
  const shape = spec.model.shape ?? base?.shape ?? null;
  // What the loop, the trainer and the export run with: the shape filled in from the base.
  const run: JobSpec = shape ? { ...spec, model: { ...spec.model, shape } } : spec;
  const parameters = shape ? parameterCount(shape) : 0;
  const action = trainingAction(spec, parameters);
  const decision = gate.evaluate({ session_id: sessionId, principal: o.principal ?? null, action });
  const policy_matched = toPolicyMatched(decision);
  let seqNo = 0;
  // Per process: a resumed run's records never reuse an earlier process's action ids.
  const runNonce = randomBytes(3).toString("hex");
  let authorityReview: PrincipalReview | null = null;
  const record = async (
    event: string,
    result: Record<string, unknown>,
    review: PrincipalReview | null = null,
  ) => {
    seqNo++;
    await store.append({
      kind: "training",
      session_id: sessionId,
      action_id: `${sessionId}:${runNonce}.${seqNo}:${event}`,
      timestamp: now3339(),
      prompt_hash: null,
      proposed_action: { ...action, job_sha256: job.sha256, spec },
      evaluation: decision.evaluation,
      policy_matched,
      composition_state: decision.composition_state,
      execution_result: { event, ...result },
      principal_review: review ?? authorityReview,
      latency_ms: decision.latency_ms,
      principal: o.principal ?? null,
    });
  };
  const report = (state: JobReport["state"], over: Partial<JobReport>): JobReport => ({
    job_id: spec.job,
    session_id: sessionId,
    state,
    steps: 0,
    tokens: 0,
    budgets_consumed: null,
    transitions: { INIT: 1, [state]: 1 },
    anomalies: [],
    checkpoints: [],
    final_weights_sha256: null,
    gguf: null,
    evaluation: decision.evaluation,
    halted_by: null,
    loss: null,
    resumed_from: null,
    error: null,
    ...over,
  });

  if (decision.evaluation === "DENY") {
    await record("refused", { reason: "policy", reasons: decision.reasons });
    return report("HALTED", {
      halted_by: { policy: decision.policy_matched.filter((m) => m.effect === "deny").map((m) => m.rule_id) },
    });
  }
  if (decision.evaluation === "ESCALATE") {
    authorityReview = await o.reviewer.reviewStart(action, spec.anomaly.review_deadline_seconds);
    if (authorityReview.decision !== "approve") {
      await record("refused", { reason: "review", reasons: decision.reasons });
      return report("HALTED", { halted_by: { review: authorityReview.decision } });
    }
  }
  // Weights + gradients + Adam's two moments: four F32 copies of the parameters.
  const refusals = preflight(spec, {
    parameters,
    model_memory_mb: (parameters * 4 * 4) / 1e6,
    hasPowerRails: o.hasPowerRails ?? false,
  });
  if (refusals.length > 0) {
    await record("refused", { reason: "budgets", refusals });
    return report("HALTED", { halted_by: { preflight: refusals.map((r) => r.message) } });
  }

  let data: Uint8Array;
  let source: DatasetSource | null;
  let trainer: Trainer;
  try {
    if (baseError) throw baseError;
    ({ data, source } = await loadDataset(
      spec.dataset.ref,
      spec.dataset.sha256,
      job.dir,
      o.resolver ?? localResolver,
    ));
    trainer = await o.makeTrainer(run);
  } catch (err) {
    const error = {
      code: hasForgeCode(err) ? err.code : Codes.TRAINING_FAILED,
      message: (err as Error).message,
    };
    await record("end", { state: "FAILED", error });
    return report("FAILED", { error });
  }
  try {
    mkdirSync(ckDir, { recursive: true });
    if (last) await trainer.load(last.info.path);
    else if (base) await loadWeights(trainer, base.weights);
    if (!o.resume) writeFileSync(runFile, JSON.stringify({ session_id: sessionId, job_sha256: job.sha256 }));
    await record(o.resume ? "resume" : "start", {
      trainer: trainer.name,
      parameters,
      checkpoint_dir: ckDir,
      dataset: { ref: spec.dataset.ref, sha256: spec.dataset.sha256, source },
      ...(base ? { base: { ...base.source, shape: base.shape } } : {}),
      ...(last ? { from_checkpoint: { step: last.info.step, digest: last.info.digest } } : {}),
    });
    const recorder: Recorder = { record: (event, result, review) => record(event, result, review ?? null) };
    const result = await runLoop(run, {
      trainer,
      data,
      checkpointDir: ckDir,
      recorder,
      reviewer: { review: (a, deadline) => o.reviewer.review(a, deadline, action) },
      sessionId,
      ...(last ? { resume: { state: last.state, checkpoint: last.info } } : {}),
      ...(o.energyJoules ? { energyJoules: o.energyJoules } : {}),
      ...(o.onTransition ? { onTransition: o.onTransition } : {}),
    });
    let gguf: string | null = null;
    if (result.state === "DONE" && o.exportModel) gguf = await o.exportModel(trainer, run, job.dir);
    const lastCk = result.checkpoints[result.checkpoints.length - 1];
    await record("end", {
      state: result.state,
      steps: result.steps,
      updates: result.updates,
      tokens: result.tokens,
      loss: mapNumbers(result.loss),
      // Steps after the last checkpoint (none on DONE): the curve's end, where no checkpoint holds it.
      loss_curve: result.loss_curve_tail,
      budgets_consumed: result.budgets,
      transitions: result.transitions,
      anomalies: result.anomalies.map((a) => ({
        ...a,
        loss: Number.isFinite(a.loss) ? a.loss : String(a.loss),
      })),
      checkpoint_digest: lastCk?.digest ?? null,
      final_weights_sha256: result.final_weights_sha256,
      gguf,
      // The exported file's digest: what a registry's weight layer names (lineage, src/lifecycle).
      gguf_sha256: gguf === null ? null : createHash("sha256").update(readFileSync(gguf)).digest("hex"),
      halted_by: result.halted_by,
      error: result.error,
    });
    return report(result.state, {
      steps: result.steps,
      tokens: result.tokens,
      budgets_consumed: result.budgets,
      transitions: result.transitions,
      anomalies: result.anomalies.map((a) => ({ ...a, loss: jsonNumber(a.loss) as number })),
      checkpoints: result.checkpoints.map((c) => ({
        step: c.step,
        digest: c.digest,
        path: c.path,
        steps_log_sha256: c.steps_log_sha256,
      })),
      final_weights_sha256: result.final_weights_sha256,
      gguf,
      halted_by: result.halted_by,
      loss: result.loss,
      resumed_from: last ? { step: last.info.step, digest: last.info.digest } : null,
      error: result.error,
    });
  } finally {
    await trainer.close();
  }
}

function mapNumbers(o: Record<string, number | null>): Record<string, number | string | null> {
  const out: Record<string, number | string | null> = {};
  for (const [k, v] of Object.entries(o)) out[k] = v === null || Number.isFinite(v) ? v : String(v);
  return out;
}

/** Starts a fine-tune: the base weights and a fresh optimizer (t = 0, zero moments), via load(). */
async function loadWeights(trainer: Trainer, weights: Float32Array): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "forge-base-"));
  try {
    writeFileSync(join(dir, "weights.bin"), weights);
    writeFileSync(join(dir, "optimizer.bin"), new Float32Array(1 + 2 * weights.length));
    await trainer.load(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
