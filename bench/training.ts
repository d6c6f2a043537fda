/**
 * The `training` suite: what the governed loop (src/training/loop.ts: the declared transition
 * table, BUDGET_CHECK before every step, LOSS_CHECK before every gradient, the per-step log) costs
 * over the same trainer driven bare (forward → backward → optimizer step, nothing else), in the
 * same run, on the same trainer object, the same batches, alternating order round by round so
 * drift in machine load falls on both sides alike.
 *
 * A governed round is timed from runLoop's call to its STEP → CHECKPOINT transition on the last
 * step: the final checkpoint write (weights, optimizer, digests, fsync) is reported on its own
 * line, not in the ratio, since the bare trainer writes nothing. Each trainer present is measured
 * in turn: `embedded` always, `torch` where python3-torch is installed (mlx is not built).
 *
 * The bare side is a plain training loop that logs its loss: it calls the same `forward`, which
 * reads the loss back from the trainer (the embedded trainer's dataSync, torch's reply line), and
 * the same `commit`, which reads the gradient norm for clipping. Those reads belong to training,
 * not to governance, so both sides pay them. What only the governed side pays: the transition
 * table, BUDGET_CHECK (tokens counted, wall time projected, the peak RSS read), LOSS_CHECK's rolling
 * windows, the per-step log, the learning-rate schedule.
 *
 * The judged ratio is the median over rounds of governed ÷ bare steps/s, each governed round
 * against the bare round beside it (paired), so a change in machine load falls on both halves of a
 * pair. The loop's own cost is also measured without a model, on a trainer that computes nothing:
 * what the loop adds per step in µs, a figure that does not depend on how loaded the machine is.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { batchFor, GENERATED_CORPUS_REF, generatedCorpus } from "../src/training/dataset.js";
import { createEmbeddedTrainer } from "../src/training/embedded.js";
import { runLoop } from "../src/training/loop.js";
import { JobSchema, type JobSpec } from "../src/training/spec.js";
import { TorchTrainer } from "../src/training/torch.js";
import type { Trainer } from "../src/training/trainer.js";
import { judge, type Metric, runStandalone, type Suite, stats } from "./harness.js";

/** Steps per round; a round is one sample of throughput on each side. */
const STEPS = 8;
/** Pairs at least: fewer leave the median of paired ratios at the mercy of one noisy round. */
const MIN_ROUNDS = 9;
/** Steps per round for the loop's own cost (a trainer that computes nothing). */
const NULL_STEPS = 2000;

function benchSpec(steps = STEPS): JobSpec {
  return JobSchema.parse({
    job: "bench",
    model: { shape: { layers: 1, width: 32, heads: 2, context: 32 } },
    dataset: { ref: GENERATED_CORPUS_REF, sha256: "0".repeat(64) },
    hyperparameters: { learning_rate: 0.001, batch: 4, sequence: 32, steps, seed: 7 },
    // Every budget and every anomaly rule declared, so each check runs on every step.
    budgets: {
      max_parameters: 1e9,
      max_tokens: 1e12,
      max_steps: 1e9,
      max_wall_seconds: 1e9,
      max_memory_mb: 1e9,
    },
    anomaly: {
      non_finite: { action: "halt" },
      spike: { factor: 1e6, window: 4, warmup: 2, action: "halt" },
      zscore: { sigma: 1e6, window: 8, min_samples: 2, action: "halt" },
    },
    checkpoints: { every: steps },
  });
}

/** The bare trainer: the same batches as the loop's, forward then commit, nothing decided. */
async function bareRound(trainer: Trainer, data: Uint8Array, spec: JobSpec): Promise<number> {
  const h = spec.hyperparameters;
  const t0 = performance.now();
  for (let step = 1; step <= h.steps; step++) {
    await trainer.forward(batchFor(data, step, h.batch, h.sequence, h.seed), () => "backward");
    await trainer.commit(h.learning_rate);
  }
  return (performance.now() - t0) / 1000;
}

/** One governed run of STEPS steps; returns [seconds to the last STEP → CHECKPOINT, checkpoint ms]. */
async function governedRound(
  trainer: Trainer,
  data: Uint8Array,
  spec: JobSpec,
  dir: string,
): Promise<[number, number]> {
  let tCk = Number.NaN;
  let tAfter = Number.NaN;
  const t0 = performance.now();
  const r = await runLoop(spec, {
    trainer,
    data,
    checkpointDir: dir,
    sessionId: "bench",
    recorder: {
      record: async (event) => {
        if (event === "checkpoint") tAfter = performance.now();
      },
    },
    reviewer: {
      review: async () => {
        throw new Error("bench: no anomaly may escalate");
      },
    },
    onTransition: (_from, to) => {
      if (to === "CHECKPOINT") tCk = performance.now();
    },
  });
  if (r.state !== "DONE" || r.steps !== spec.hyperparameters.steps)
    throw new Error(
      `bench: the governed round ended ${r.state} at step ${r.steps}: ${r.error?.message ?? ""}`,
    );
  return [(tCk - t0) / 1000, tAfter - tCk];
}

/** Governed and bare rounds, alternating, on one trainer; its metrics. */
async function measure(
  ctx: Parameters<Suite>[0],
  trainer: Trainer,
  spec: JobSpec,
  data: Uint8Array,
  share: number,
  offset: number,
  loopUs: number,
): Promise<Metric[]> {
  const h = spec.hyperparameters;
  const bare: number[] = [];
  const governed: number[] = [];
  const checkpointMs: number[] = [];
  // Warm-up: the first steps compile kernels and allocate, the first governed round compiles the
  // loop and the checkpoint writer; neither side should pay it in a measured round.
  await bareRound(trainer, data, spec);
  const warm = join(ctx.tmpDir, `${trainer.name}-warm-up`);
  mkdirSync(warm, { recursive: true });
  await governedRound(trainer, data, spec, warm);
  const span = ctx.durationS * 2000 * share;
  const end = performance.now() + span;
  for (let round = 0; ; round++) {
    if (ctx.signal.aborted) break;
    if (round >= MIN_ROUNDS && performance.now() > end) break;
    const dir = join(ctx.tmpDir, `${trainer.name}-round-${round}`);
    mkdirSync(dir, { recursive: true });
    let g = Number.NaN;
    let b = Number.NaN;
    const gov = async () => {
      const [s, ck] = await governedRound(trainer, data, spec, dir);
      g = h.steps / s;
      checkpointMs.push(ck);
    };
    const plain = async () => {
      b = h.steps / (await bareRound(trainer, data, spec));
    };
    if (round % 2 === 0) {
      await plain();
      await gov();
    } else {
      await gov();
      await plain();
    }
    // Only whole pairs: an abort between the halves leaves the round out of both sides.
    if (Number.isNaN(g) || Number.isNaN(b)) break;
    governed.push(g);
    bare.push(b);
    ctx.progress(
      Math.min(0.99, offset + share * Math.min(1, (performance.now() - end + span) / span)),
      `${trainer.name} round ${round + 1}`,
    );
  }
  const g = stats(governed);
  const b = stats(bare);
  const paired = stats(governed.map((x, i) => x / bare[i]!));
  const tokensPerStep = h.batch * h.sequence;
  const name = trainer.name;
  return [
    judge(
      {
        name: `governed loop ÷ bare trainer (${name})`,
        unit: "steps/s",
        stats: g,
        baseline: { name: `bare trainer (${name})`, stats: b },
        ratio: paired.median,
        ratio_of:
          "median over rounds of governed ÷ bare steps/s, each governed round against the bare round beside it; same trainer, same batches, same run",
        notes: `${h.steps} steps a round, ${governed.length} pairs, order alternating; paired ratios ${fmt3(paired.min)}..${fmt3(paired.max)}, ratio of the medians ${fmt3(g.median / b.median)}; trainer ${trainer.parameters} parameters, batch ${h.batch}×${h.sequence}; both sides read the loss and the gradient norm every step; the loop's own cost alone (${loopUs.toFixed(0)} µs a step) would give ${fmt3(1 / (1 + (loopUs / 1e6) * b.median))}`,
      },
      { text: "ratio >= 0.98", stat: "ratio", op: ">=", value: 0.98 },
    ),
    {
      name: `tokens/s, governed (${name})`,
      unit: "tokens/s",
      stats: stats(governed.map((x) => x * tokensPerStep)),
    },
    { name: `tokens/s, bare (${name})`, unit: "tokens/s", stats: stats(bare.map((x) => x * tokensPerStep)) },
    { name: `checkpoint write (${name}, not in the ratio)`, unit: "ms", stats: stats(checkpointMs) },
  ];
}

const fmt3 = (v: number) => v.toFixed(3);

/**
 * A trainer that computes nothing: a constant finite loss, no gradient, empty weight files. With it
 * the governed round's time is the loop's own (transitions, budgets, anomaly windows, the log).
 */
function nullTrainer(): Trainer {
  return {
    name: "embedded",
    parameters: 0,
    gradients: 0,
    forward: async (_batch, check) => {
      check(1);
      return 1;
    },
    commit: async () => ({ grad_norm: 0 }),
    reject: async () => {},
    save: async (dir) => {
      writeFileSync(join(dir, "weights.bin"), "");
      writeFileSync(join(dir, "optimizer.bin"), "");
    },
    load: async () => {},
    weightsDigest: async () => "",
    exportTensors: async () => [],
    close: async () => {},
  };
}

/** What the governed loop adds per step, µs, and what that alone would make of each trainer's ratio. */
async function loopCost(ctx: Parameters<Suite>[0], data: Uint8Array): Promise<number[]> {
  const spec = benchSpec(NULL_STEPS);
  const trainer = nullTrainer();
  await bareRound(trainer, data, spec);
  const warm = join(ctx.tmpDir, "null-warm-up");
  mkdirSync(warm, { recursive: true });
  await governedRound(trainer, data, spec, warm);
  const added: number[] = [];
  for (let round = 0; round < MIN_ROUNDS && !ctx.signal.aborted; round++) {
    const dir = join(ctx.tmpDir, `null-round-${round}`);
    mkdirSync(dir, { recursive: true });
    const b = await bareRound(trainer, data, spec);
    const [g] = await governedRound(trainer, data, spec, dir);
    added.push(((g - b) / NULL_STEPS) * 1e6);
  }
  return added;
}

export const suite: Suite = async (ctx) => {
  const spec = benchSpec();
  const data = generatedCorpus();
  const shape = { ...spec.model.shape!, vocab: 259 as const };
  const trainers: Record<string, string> = { mlx: "not built (needs Apple Silicon)" };
  const cost = stats(await loopCost(ctx, data));
  const metrics: Metric[] = [
    {
      name: "governed loop's own cost per step (a trainer that computes nothing)",
      unit: "µs",
      stats: cost,
      notes: `governed minus bare, ${NULL_STEPS} steps a round, ${cost.n} rounds; every budget and anomaly rule declared`,
    },
  ];
  const embedded = await createEmbeddedTrainer(shape, 1);
  try {
    metrics.push(...(await measure(ctx, embedded, spec, data, 0.5, 0, cost.median)));
    trainers.embedded = "measured";
  } finally {
    await embedded.close();
  }
  let torch: Trainer | null = null;
  try {
    torch = await TorchTrainer.start(shape, 1);
  } catch (err) {
    trainers.torch = `not measured: ${(err as Error).message}`;
  }
  if (torch) {
    try {
      metrics.push(
        ...(await measure(ctx, torch, { ...spec, trainer: "torch" }, data, 0.5, 0.5, cost.median)),
      );
      trainers.torch = "measured";
    } finally {
      await torch.close();
    }
  }
  return {
    suite: "training",
    metrics,
    ...(ctx.signal.aborted ? { partial: true } : {}),
    info: {
      trainers,
      energy: "joules per step not measured: no power rails are read by this suite yet",
    },
  };
};

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone("training", suite, 3);
