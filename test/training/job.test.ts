import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EvidenceStore } from "../../src/evidence/index.js";
import { verifyStore } from "../../src/evidence/index.js";
import type { Gate } from "../../src/gate/index.js";
import {
  CURVE_POINTS,
  type LoopState,
  latestCheckpoint,
  lossCurve,
  type StepLog,
  writeCheckpoint,
} from "../../src/training/checkpoint.js";
import { GENERATED_CORPUS_REF, generatedCorpus } from "../../src/training/dataset.js";
import type { EmbeddedTrainer } from "../../src/training/embedded.js";
import { type JobOptions, runJob } from "../../src/training/job.js";
import { runLoop } from "../../src/training/loop.js";
import type { State } from "../../src/training/machine.js";
import { type Job, JobSchema } from "../../src/training/spec.js";
import { makeTrainer } from "../../src/training/trainers.js";
import { openStore, tempHome } from "../evidence/helpers.js";
import { governed, review } from "./helpers.js";

const CORPUS_SHA = createHash("sha256").update(generatedCorpus()).digest("hex");

function job(dir: string, over: Record<string, unknown> = {}, name = "t"): Job {
  const spec = JobSchema.parse({
    job: name,
    model: { shape: { layers: 1, width: 16, heads: 2, context: 16 }, seed: 1 },
    dataset: { ref: GENERATED_CORPUS_REF, sha256: CORPUS_SHA },
    hyperparameters: { learning_rate: 0.01, batch: 2, sequence: 8, steps: 8, seed: 1 },
    budgets: {
      max_parameters: 100000,
      max_tokens: 100000,
      max_steps: 100,
      max_wall_seconds: 3600,
      max_memory_mb: 8192,
    },
    anomaly: { non_finite: { action: "skip" } },
    checkpoints: { every: 4, dir: `ck-${name}` },
    ...over,
  });
  return { spec, file: join(dir, `${name}.yaml`), dir, sha256: "0".repeat(64) };
}

describe("governed training job (real store, real gate, embedded trainer)", () => {
  const home = tempHome();
  let store: EvidenceStore;
  let gate: Gate;
  const trainers: EmbeddedTrainer[] = [];
  beforeAll(async () => {
    ({ gate, store } = await governed(home));
  });
  afterAll(async () => {
    await store.close();
    home.cleanup();
  });

  const run = (j: Job, over: Partial<JobOptions> = {}) => {
    const transitions: [State, State][] = [];
    const reviews: string[] = [];
    const p = runJob({
      job: j,
      resume: false,
      store,
      gate,
      reviewer: {
        review: async (a) => {
          reviews.push(`${a.rule}@${a.step}`);
          return review("approve");
        },
        reviewStart: async () => review("deny"),
      },
      makeTrainer: async (spec) => {
        const t = (await makeTrainer(spec)) as EmbeddedTrainer;
        trainers.push(t);
        return t;
      },
      onTransition: (f, t) => transitions.push([f, t]),
      ...over,
    });
    return p.then((r) => ({ r, transitions, reviews }));
  };
  const records = (session: string) => store.records({ session_id: session });

  it("runs to DONE with start, checkpoint and end records; the step log's sha256 is in the checkpoint record", async () => {
    const { r } = await run(job(home.dir, {}, "done"));
    expect(r.state).toBe("DONE");
    expect(r.steps).toBe(8);
    expect(r.tokens).toBe(8 * 16);
    expect(r.checkpoints.map((c) => c.step)).toEqual([4, 8]);
    const recs = records(r.session_id);
    expect(recs.map((x) => (x.execution_result as { event: string }).event)).toEqual([
      "start",
      "checkpoint",
      "checkpoint",
      "end",
    ]);
    expect(recs.every((x) => x.kind === "training" && x.evaluation === "ALLOW")).toBe(true);
    const ck = (recs[1]!.execution_result as { checkpoint: { path: string; steps_log_sha256: string } })
      .checkpoint;
    const log = readFileSync(join(ck.path, "steps.jsonl"));
    expect(createHash("sha256").update(log).digest("hex")).toBe(ck.steps_log_sha256);
    const lines = log
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.step)).toEqual([1, 2, 3, 4]);
    expect(lines[0]).toMatchObject({ tokens: 16, outcome: "trained" });
    expect(lines[0].grad_norm).toBeGreaterThan(0);
    // The record's loss curve is the log's, one point a step (four steps fit CURVE_POINTS).
    expect((recs[1]!.execution_result as { loss_curve: unknown }).loss_curve).toEqual({
      every: 1,
      points: lines.map((l) => [l.step, l.loss]),
    });
    const end = recs[3]!.execution_result as Record<string, unknown>;
    // DONE at a checkpoint: no steps after it.
    expect(end.loss_curve).toEqual({ every: 1, points: [] });
    expect(end).toMatchObject({
      state: "DONE",
      steps: 8,
      tokens: 128,
      final_weights_sha256: r.final_weights_sha256,
    });
    expect(end.checkpoint_digest).toBe(r.checkpoints[1]!.digest);
    // verify wants the checkpoint the store signs at close (an open file's tail is unsigned).
    await store.close();
    expect(verifyStore(home.db, { keyDir: home.keys }).ok).toBe(true);
    store = openStore(home);
  });

  it("each budget halts structurally: the step that would cross it never starts", async () => {
    const data = new Uint8Array(generatedCorpus());
    const cases: [string, Record<string, number>, Partial<Parameters<typeof runLoop>[1]>, number][] = [
      // 5 steps of 16 tokens fit in 90; the 6th would reach 96.
      ["max_tokens", { max_tokens: 90 }, {}, 5],
      ["max_steps", { max_steps: 3 }, {}, 3],
      // Each forward takes 3 s on this clock: after 3 steps (9 s) the 4th would reach 12 s > 10.
      ["max_wall_seconds", { max_wall_seconds: 10 }, { now: () => clock }, 3],
      ["max_memory_mb", { max_memory_mb: 100 }, { memoryMb: () => 101 }, 0],
      // The process's own memory (no reader injected): its RSS is over 1 MB before the first step.
      ["max_memory_mb", { max_memory_mb: 1 }, {}, 0],
      // 2 W on the same clock: 6 J a step; after 4 steps (24 J) the 5th would reach 30 J > 25.
      ["max_energy_joules", { max_energy_joules: 25 }, { energyJoules: () => (clock / 1000) * 2 }, 4],
    ];
    let clock = 0;
    for (const [budget, budgets, deps, steps] of cases) {
      clock = 0;
      const j = job(home.dir, { budgets }, `b-${budget.replaceAll("_", "-")}`);
      const trainer = await makeTrainer(j.spec);
      const forwards: number[] = [];
      const r = await runLoop(j.spec, {
        trainer,
        data,
        checkpointDir: mkdtempSync(join(home.dir, "ck-")),
        recorder: { record: async () => {} },
        reviewer: { review: async () => review("deny") },
        sessionId: "s",
        onTransition: (_f, to) => {
          if (to === "FORWARD") {
            forwards.push(1);
            clock += 3000;
          }
        },
        ...deps,
      });
      expect(r.state, budget).toBe("HALTED");
      expect(r.halted_by, budget).toMatchObject({ budget });
      expect(r.steps, budget).toBe(steps);
      expect(forwards.length, budget).toBe(steps);
      expect(trainer.gradients, budget).toBe(steps);
      await trainer.close();
    }
  });

  it("a job whose declared budgets cannot be met is refused before it starts, and recorded", async () => {
    const { r, transitions } = await run(
      job(
        home.dir,
        {
          budgets: {
            max_tokens: 50,
            max_wall_seconds: 3600,
            max_parameters: 100000,
            max_steps: 100,
            max_memory_mb: 8192,
          },
        },
        "pre",
      ),
    );
    expect(r.state).toBe("HALTED");
    expect(r.halted_by).toMatchObject({ preflight: [expect.stringMatching(/max_tokens 50 < 128/)] });
    expect(transitions).toEqual([]);
    const recs = records(r.session_id);
    expect(recs).toHaveLength(1);
    expect(recs[0]!.execution_result).toMatchObject({ event: "refused", reason: "budgets" });
  });

  it("the gate denies an unpinned dataset source and escalates over-limit budgets (review denied → HALTED)", async () => {
    const untrusted = job(
      home.dir,
      { dataset: { ref: `oci://evil.example/data@sha256:${CORPUS_SHA}`, sha256: CORPUS_SHA } },
      "evil",
    );
    const { r } = await run(untrusted);
    expect(r).toMatchObject({
      state: "HALTED",
      evaluation: "DENY",
      halted_by: { policy: ["training-dataset-untrusted"] },
    });
    const big = job(home.dir, { budgets: { max_tokens: 100000 } }, "big"); // no wall budget: unbounded
    const { r: r2 } = await run(big);
    expect(r2).toMatchObject({ state: "HALTED", evaluation: "ESCALATE", halted_by: { review: "deny" } });
    const rec = records(r2.session_id)[0]!;
    expect(rec.principal_review).toMatchObject({ decision: "deny", reviewer: "uid:501" });
    expect(rec.policy_matched.rules.map((x) => x.rule_id)).toContain("training-budget-over");
  });

  it("NaN under skip: the batch is dropped, no gradient is computed, the weights are byte-identical", async () => {
    const j = job(
      home.dir,
      { inject: [{ step: 3, kind: "nan" }], checkpoints: { every: 2, dir: "ck-nan" } },
      "nan",
    );
    // The weights when the NaN batch reaches ANOMALY, and when the next batch starts.
    const digests: string[] = [];
    const { r } = await run(j, {
      onTransition: (f, to) => {
        const t = trainers[trainers.length - 1]!;
        if (to === "ANOMALY" || (f === "ANOMALY" && to === "BUDGET_CHECK"))
          void t.weightsDigest().then((d) => digests.push(d));
      },
    });
    expect(r.state).toBe("DONE");
    expect(r.anomalies).toEqual([
      { step: 3, rule: "non_finite", loss: "NaN", action: "skip", outcome: "skipped" },
    ]);
    const t = trainers[trainers.length - 1]!;
    expect(t.gradients).toBe(7); // 8 batches, one skipped
    expect(r.transitions).toMatchObject({ ANOMALY: 1, BACKWARD: 7, STEP: 7 });
    expect(digests).toHaveLength(2);
    expect(digests[1]).toBe(digests[0]);
    const recs = records(r.session_id);
    const a = recs.find((x) => (x.execution_result as { event: string }).event === "anomaly")!;
    expect(a.execution_result).toMatchObject({
      rule: "non_finite",
      outcome: "skipped",
      parameters_changed: false,
      loss: "NaN",
    });
  });

  it("spike under halt stops the job at the spike; z-score under escalate asks the reviewer", async () => {
    const spike = job(
      home.dir,
      {
        anomaly: { spike: { factor: 5, window: 4, warmup: 3, action: "halt" } },
        inject: [{ step: 5, kind: "spike", factor: 100 }],
      },
      "spike",
    );
    const { r } = await run(spike);
    expect(r).toMatchObject({ state: "HALTED", steps: 5, halted_by: { anomaly: "spike" } });
    expect(r.anomalies[0]).toMatchObject({ step: 5, rule: "spike", outcome: "halted" });
    const z = job(
      home.dir,
      {
        anomaly: { zscore: { sigma: 3, window: 8, min_samples: 4, action: "escalate" } },
        inject: [{ step: 6, kind: "spike", factor: 3 }],
      },
      "z",
    );
    const { r: r2, reviews } = await run(z);
    expect(reviews).toEqual(["zscore@6"]);
    expect(r2.state).toBe("DONE");
    expect(r2.anomalies[0]).toMatchObject({ rule: "zscore", outcome: "approved" });
    // Approved: the held batch was trained after all (8 gradients for 8 batches).
    expect(trainers[trainers.length - 1]!.gradients).toBe(8);
  });

  it("escalate: deny and deadline halt, each recorded with its principal_review", async () => {
    for (const decision of ["deny", "expired"] as const) {
      const j = job(
        home.dir,
        { anomaly: { non_finite: { action: "escalate" } }, inject: [{ step: 2, kind: "nan" }] },
        `esc-${decision}`,
      );
      const { r } = await run(j, {
        reviewer: { review: async () => review(decision), reviewStart: async () => review("deny") },
      });
      expect(r).toMatchObject({ state: "HALTED", halted_by: { anomaly: "non_finite" } });
      expect(r.anomalies[0]!.outcome).toBe(decision === "deny" ? "denied" : "expired");
      const recs = records(r.session_id);
      const a = recs.find((x) => (x.execution_result as { event: string }).event === "anomaly")!;
      expect(a.principal_review).toMatchObject({ decision });
      expect(recs.map((x) => (x.execution_result as { event: string }).event)).toEqual([
        "start",
        "anomaly",
        "halt",
        "end",
      ]);
    }
  });
});

describe("lossCurve: a record's bounded loss curve from the per-step log", () => {
  const line = (step: number, loss: number, outcome = "trained"): StepLog => ({
    step,
    loss,
    grad_norm: outcome === "trained" ? 1 : null,
    tokens: 16,
    ms: 1,
    outcome,
  });

  it("one point a trained step; dropped batches and non-finite losses are left out", () => {
    const log = [line(1, 5), line(2, Number.NaN, "skipped"), line(3, 4), line(4, 3.5)];
    expect(lossCurve(log)).toEqual({
      every: 1,
      points: [
        [1, 5],
        [3, 4],
        [4, 3.5],
      ],
    });
  });

  it("beyond CURVE_POINTS, each point is the mean of an equal run of steps at its last step", () => {
    const log = Array.from({ length: 1000 }, (_, i) => line(i + 1, i + 1));
    const c = lossCurve(log);
    expect(c.every).toBe(Math.ceil(1000 / CURVE_POINTS));
    expect(c.points.length).toBeLessThanOrEqual(CURVE_POINTS);
    expect(c.points[0]).toEqual([16, 8.5]); // steps 1..16
    expect(c.points.at(-1)).toEqual([1000, (993 + 1000) / 2]); // the last, shorter run: 993..1000
  });
});

describe("a checkpoint is published only after its record", () => {
  const state = (step: number): LoopState => ({
    session_id: "s",
    step,
    tokens: 0,
    updates: step,
    wall_seconds: 0,
    energy_joules: null,
    detector: { accepted: 0, spike: [], zscore: [] },
    loss_first: null,
    loss_last: null,
  });

  it("while declare (the loop's record) runs, a resume cannot see the checkpoint; a declare that throws publishes nothing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fa-ck-"));
    const trainer = await makeTrainer(job(dir).spec);
    try {
      await writeCheckpoint(dir, trainer, state(4), []);
      let seenWhileDeclaring: number | undefined;
      const info = await writeCheckpoint(dir, trainer, state(8), [], async (c) => {
        expect(c.step).toBe(8);
        seenWhileDeclaring = latestCheckpoint(dir)?.info.step;
      });
      expect(seenWhileDeclaring).toBe(4); // a SIGKILL here resumes from step 4, whose record exists
      expect(latestCheckpoint(dir)?.info.digest).toBe(info.digest);
      const refused = new Error("evidence store unavailable");
      await expect(
        writeCheckpoint(dir, trainer, state(12), [], async () => {
          throw refused;
        }),
      ).rejects.toBe(refused);
      expect(latestCheckpoint(dir)?.info.step).toBe(8);
      expect(readdirSync(dir).sort()).toEqual(["step-00000004", "step-00000008"]);
    } finally {
      await trainer.close();
    }
  });
});
