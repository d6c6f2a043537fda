/**
 * The governed training loop against the same trainer driven bare, in the same run: rounds of K
 * steps alternate (bare, governed, bare, …) on one embedded trainer. Governed = runLoop with
 * budgets, anomaly rules, the declared transitions, a checkpoint per round and its `training`
 * record in a real SQLite evidence store. Bare = forward + commit in a for loop.
 * Target: governed throughput ÷ bare ≥ 0.98. Also steps/s and tokens/s of the embedded trainer.
 * Joules per step: reported only where the host has power rails (none on this Linux VM).
 */
import { join } from "node:path";
import { EvidenceStore } from "../src/evidence/index.js";
import { batchFor, generatedCorpus } from "../src/training/dataset.js";
import { createEmbeddedTrainer } from "../src/training/embedded.js";
import { runLoop } from "../src/training/loop.js";
import { JobSchema } from "../src/training/spec.js";
import { judge, type Metric, nowNs, runStandalone, type Suite, stats } from "./harness.js";

const SHAPE = { layers: 2, width: 32, heads: 4, context: 64, vocab: 259 as const };
const BATCH = 4;
const SEQ = 32;

export const suite: Suite = async (ctx) => {
  const K = 8;
  const rounds = Math.max(3, Math.min(12, Math.round(ctx.durationS)));
  const data = new Uint8Array(generatedCorpus());
  const trainer = await createEmbeddedTrainer(SHAPE, 1);
  const store = EvidenceStore.open({
    path: join(ctx.tmpDir, "evidence.db"),
    hostId: "bench",
    keyDir: join(ctx.tmpDir, "keys"),
  });
  const bare: number[] = [];
  const governed: number[] = [];
  let step = 0;
  try {
    // Warm-up: wasm compilation and the first allocations are neither side's cost.
    for (let i = 0; i < 3; i++) {
      await trainer.forward(batchFor(data, ++step, BATCH, SEQ, 1), () => "backward");
      await trainer.commit(0.01);
    }
    for (let r = 0; r < rounds && !ctx.signal.aborted; r++) {
      ctx.progress(r / rounds, `round ${r + 1}/${rounds}`);
      let t = nowNs();
      for (let i = 0; i < K; i++) {
        await trainer.forward(batchFor(data, ++step, BATCH, SEQ, 1), () => "backward");
        await trainer.commit(0.01);
      }
      bare.push((nowNs() - t) / 1e6 / K);
      const spec = JobSchema.parse({
        job: `bench-${r}`,
        model: { shape: SHAPE },
        dataset: { ref: "generated:corpus-v1", sha256: "0".repeat(64) },
        hyperparameters: { learning_rate: 0.01, batch: BATCH, sequence: SEQ, steps: K, seed: 1 + r },
        budgets: { max_tokens: 1e9, max_steps: K, max_wall_seconds: 3600, max_memory_mb: 65536 },
        anomaly: {
          non_finite: { action: "skip" },
          spike: { factor: 10, window: 100, warmup: 4, action: "halt" },
          zscore: { sigma: 6, window: 128, min_samples: 4, action: "halt" },
        },
        checkpoints: { every: K },
      });
      t = nowNs();
      const res = await runLoop(spec, {
        trainer,
        data,
        checkpointDir: join(ctx.tmpDir, `ck-${r}`),
        sessionId: `bench-training-${r}`,
        reviewer: {
          review: async () => ({
            decision: "deny",
            reviewer: "system",
            at: new Date().toISOString(),
            reason: "bench",
          }),
        },
        recorder: {
          record: async (event, result) => {
            await store.append({
              kind: "training",
              session_id: `bench-training-${r}`,
              action_id: `bench-${r}-${event}-${String(result.step)}`,
              timestamp: new Date().toISOString(),
              prompt_hash: null,
              proposed_action: { kind: "training.run", job: spec.job },
              evaluation: "ALLOW",
              policy_matched: { bundle: null, rules: [] },
              composition_state: null,
              execution_result: { event, ...result },
              principal_review: null,
              latency_ms: 0,
            });
          },
        },
      });
      governed.push((nowNs() - t) / 1e6 / K);
      if (res.state !== "DONE")
        throw new Error(
          `governed round ${r} ended ${res.state}: ${JSON.stringify(res.halted_by ?? res.error)}`,
        );
    }
  } finally {
    await trainer.close();
    await store.close();
  }
  const g = stats(governed);
  const b = stats(bare);
  const metrics: Metric[] = [
    judge(
      {
        name: "governed step (budgets, anomaly rules, transitions, checkpoint + record per round)",
        unit: "ms",
        stats: g,
        baseline: { name: "the same trainer driven bare (forward + commit)", stats: b },
        ratio: b.median / g.median,
        ratio_of: "governed throughput ÷ bare throughput (bare ms ÷ governed ms)",
      },
      { text: "throughput ratio >= 0.98", stat: "ratio", op: ">=", value: 0.98 },
    ),
    {
      name: "embedded trainer steps/s (bare)",
      unit: "steps/s",
      stats: stats(bare.map((ms) => 1000 / ms)),
    },
    {
      name: `embedded trainer tokens/s (bare, ${BATCH}×${SEQ} a step)`,
      unit: "tokens/s",
      stats: stats(bare.map((ms) => (1000 / ms) * BATCH * SEQ)),
      notes: `shape layers ${SHAPE.layers}, width ${SHAPE.width}, heads ${SHAPE.heads}; ${trainer.parameters} parameters; ${rounds} rounds of ${K} steps each side. torch: not built. Joules/step: no power rails on this host.`,
    },
  ];
  return { suite: "training", metrics, partial: ctx.signal.aborted, info: { rounds, steps_per_round: K } };
};

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone("training", suite, 6);
