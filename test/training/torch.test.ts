// The torch trainer for real: Debian's python3-torch in a child process speaking the step
// protocol as JSON lines. The same job spec on `embedded` and `torch` visits the same states for
// the same injected anomalies; a skip computes no gradient and leaves the weights byte-identical;
// a checkpoint round-trips; a sidecar killed with SIGKILL fails the step (FORGE_TRAINING_FAILED).
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { batchFor, GENERATED_CORPUS_REF, generatedCorpus } from "../../src/training/dataset.js";
import { runLoop } from "../../src/training/loop.js";
import type { State } from "../../src/training/machine.js";
import { JobSchema, type JobSpec } from "../../src/training/spec.js";
import { TorchTrainer } from "../../src/training/torch.js";
import type { Trainer } from "../../src/training/trainer.js";
import { makeTrainer } from "../../src/training/trainers.js";
import { missing } from "../support/tools.js";

const dir = mkdtempSync(join(tmpdir(), "forge-torch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const data = generatedCorpus();

const spec = (trainer: "embedded" | "torch"): JobSpec =>
  JobSchema.parse({
    job: "same",
    model: { shape: { layers: 1, width: 16, heads: 2, context: 16 }, seed: 1 },
    dataset: { ref: GENERATED_CORPUS_REF, sha256: "0".repeat(64) },
    hyperparameters: { learning_rate: 0.01, batch: 2, sequence: 8, steps: 10, seed: 1 },
    budgets: { max_tokens: 100000 },
    anomaly: {
      non_finite: { action: "skip" },
      spike: { factor: 10, window: 20, warmup: 3, action: "halt" },
    },
    checkpoints: { every: 4 },
    trainer,
    inject: [
      { step: 3, kind: "nan" },
      { step: 7, kind: "spike", factor: 1000 },
    ],
  });

async function run(trainer: Trainer, s: JobSpec) {
  const path: string[] = [];
  const ck = join(dir, `ck-${trainer.name}`);
  mkdirSync(ck, { recursive: true });
  const r = await runLoop(s, {
    trainer,
    data,
    checkpointDir: ck,
    sessionId: "t",
    recorder: { record: async () => {} },
    reviewer: {
      review: async () => {
        throw new Error("no escalation in this job");
      },
    },
    onTransition: (_f: State, to: State) => path.push(to),
  });
  return { r, path };
}

describe.skipIf(missing("python3-torch"))(
  "torch trainer (python3-torch sidecar, JSON lines over stdio)",
  () => {
    it("the same job spec on embedded and torch visits the same states for the same drills", async () => {
      const out: Record<string, Awaited<ReturnType<typeof run>>> = {};
      for (const name of ["embedded", "torch"] as const) {
        const s = spec(name);
        const t = await makeTrainer(s);
        try {
          expect(t.name).toBe(name);
          out[name] = await run(t, s);
        } finally {
          await t.close();
        }
      }
      const e = out.embedded!;
      const t = out.torch!;
      expect(t.r.state).toBe("HALTED");
      expect(t.r.anomalies.map((a) => [a.step, a.rule, a.outcome])).toEqual([
        [3, "non_finite", "skipped"],
        [7, "spike", "halted"],
      ]);
      expect(t.path).toEqual(e.path);
      expect(t.r.transitions).toEqual(e.r.transitions);
      expect(t.r.checkpoints.map((c) => c.step)).toEqual(e.r.checkpoints.map((c) => c.step));
      // Same shape, same parameter count; the torch loss is a real cross-entropy near ln(259) at start.
      expect(t.r.loss.first).toBeGreaterThan(4);
      expect(t.r.loss.first).toBeLessThan(8);
    });

    it("max_memory_mb counts the sidecar's memory: a job within it on this process alone halts", async () => {
      const s = spec("torch");
      // This process's peak now plus 150 MB: node alone stays within it (the run is tiny); the
      // sidecar with torch loaded holds ~225 MB of its own, so the two together cross it.
      const limit = Math.ceil((process.resourceUsage().maxRSS * 1024) / 1e6) + 150;
      const job = { ...s, budgets: { ...s.budgets, max_memory_mb: limit }, inject: [] };
      const t = await makeTrainer(job);
      try {
        const { r } = await run(t, job);
        expect(t.memoryMb!()).toBeGreaterThan(150);
        expect(r.state).toBe("HALTED");
        expect(r.halted_by).toMatchObject({ budget: "max_memory_mb", limit });
        expect((r.halted_by as { value: number }).value).toBeGreaterThan(limit);
        // Halted structurally before step 2: step 1's forward is the first to report the sidecar.
        expect(r.steps).toBe(1);
      } finally {
        await t.close();
      }
    });

    it("a held forward computes no gradient: reject leaves the weights byte-identical", async () => {
      const t = await TorchTrainer.start({ layers: 1, width: 16, heads: 2, context: 16, vocab: 259 }, 2);
      try {
        const b = (step: number) => batchFor(data, step, 2, 8, 1);
        await t.forward(b(1), () => "backward");
        await t.commit(0.01);
        const before = await t.weightsDigest();
        const gradsBefore = t.gradients;
        const loss = await t.forward({ ...b(2), poison: Number.NaN }, () => "hold");
        expect(loss).toBeNaN();
        await t.reject();
        expect(await t.weightsDigest()).toBe(before);
        expect(t.gradients).toBe(gradsBefore);
        // commit() after reject() has nothing to commit: it refuses, nothing changes.
        await expect(t.commit(0.01)).rejects.toMatchObject({ code: "FORGE_TRAINING_FAILED" });
        expect(await t.weightsDigest()).toBe(before);
        // A trained step does change them.
        await t.forward(b(3), () => "backward");
        const stats = await t.commit(0.01);
        expect(stats.grad_norm).toBeGreaterThan(0);
        expect(await t.weightsDigest()).not.toBe(before);
      } finally {
        await t.close();
      }
    });

    it("save then load into a fresh sidecar restores the weights and the optimizer exactly", async () => {
      const shape = { layers: 1, width: 16, heads: 2, context: 16, vocab: 259 as const };
      const a = await TorchTrainer.start(shape, 3);
      const b = await TorchTrainer.start(shape, 4);
      const ck = join(dir, "roundtrip");
      mkdirSync(ck, { recursive: true });
      try {
        for (let s = 1; s <= 2; s++) {
          await a.forward(batchFor(data, s, 2, 8, 1), () => "backward");
          await a.commit(0.01);
        }
        await a.save(ck);
        expect(await b.weightsDigest()).not.toBe(await a.weightsDigest());
        await b.load(ck);
        expect(await b.weightsDigest()).toBe(await a.weightsDigest());
        // The optimizer state came too: the next identical step lands on identical weights.
        for (const t of [a, b]) {
          await t.forward(batchFor(data, 3, 2, 8, 1), () => "backward");
          await t.commit(0.01);
        }
        expect(await b.weightsDigest()).toBe(await a.weightsDigest());
      } finally {
        await a.close();
        await b.close();
      }
    });

    it("a sidecar killed with SIGKILL fails the next call with FORGE_TRAINING_FAILED", async () => {
      const t = await TorchTrainer.start({ layers: 1, width: 16, heads: 2, context: 16, vocab: 259 }, 5);
      const child = (t as unknown as { child: import("node:child_process").ChildProcess }).child;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGKILL");
      await exited;
      await expect(t.forward(batchFor(data, 1, 2, 8, 1), () => "backward")).rejects.toMatchObject({
        code: "FORGE_TRAINING_FAILED",
        message: expect.stringMatching(/exited \(SIGKILL\)/),
      });
      await t.close();
    });
  },
);
