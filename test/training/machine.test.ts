import { describe, expect, it } from "vitest";
import { AnomalyDetector } from "../../src/training/anomaly.js";
import { admit, memoryAgainst, peakRssMb, preflight, rssMb } from "../../src/training/budgets.js";
import { Machine, STATES, TRANSITIONS } from "../../src/training/machine.js";
import { JobSchema } from "../../src/training/spec.js";

const spec = (over: Record<string, unknown> = {}) =>
  JobSchema.parse({
    job: "t",
    model: { shape: { layers: 1, width: 16, heads: 2, context: 16 } },
    dataset: { ref: "generated:corpus-v1", sha256: "a".repeat(64) },
    hyperparameters: { learning_rate: 0.01, batch: 2, sequence: 8, steps: 10 },
    checkpoints: { every: 5 },
    ...over,
  });

describe("transition table", () => {
  it("every undeclared pair throws FORGE_TRAINING_TRANSITION and leaves the state unchanged", () => {
    let undeclared = 0;
    for (const from of STATES)
      for (const to of STATES) {
        if (TRANSITIONS[from].includes(to)) continue;
        undeclared++;
        const m = new Machine();
        // Walk to `from` along declared edges (breadth-first).
        const path = pathTo(from);
        for (const s of path) m.go(s);
        expect(m.state).toBe(from);
        expect(() => m.go(to)).toThrow(expect.objectContaining({ code: "FORGE_TRAINING_TRANSITION" }));
        expect(m.state).toBe(from);
      }
    expect(undeclared).toBeGreaterThan(90);
  });

  it("terminal states go nowhere; counts are per state", () => {
    const m = new Machine();
    for (const s of [
      "BUDGET_CHECK",
      "FORWARD",
      "LOSS_CHECK",
      "BACKWARD",
      "STEP",
      "BUDGET_CHECK",
      "DONE",
    ] as const)
      m.go(s);
    expect(m.counts()).toEqual({
      INIT: 1,
      BUDGET_CHECK: 2,
      FORWARD: 1,
      LOSS_CHECK: 1,
      BACKWARD: 1,
      STEP: 1,
      DONE: 1,
    });
    expect(() => m.go("BUDGET_CHECK")).toThrow(/terminal/);
  });
});

function pathTo(target: string): (typeof STATES)[number][] {
  const prev = new Map<string, string>([["INIT", ""]]);
  const q = ["INIT"];
  while (q.length) {
    const s = q.shift()!;
    for (const n of TRANSITIONS[s as (typeof STATES)[number]])
      if (!prev.has(n)) {
        prev.set(n, s);
        q.push(n);
      }
  }
  const out: (typeof STATES)[number][] = [];
  for (let s = target; s !== "INIT"; s = prev.get(s)!) out.unshift(s as (typeof STATES)[number]);
  return out;
}

describe("anomaly rules", () => {
  it("non-finite losses are anomalies and never enter the windows", () => {
    const d = new AnomalyDetector(
      spec({
        anomaly: {
          non_finite: { action: "skip" },
          zscore: { sigma: 3, window: 8, min_samples: 4, action: "halt" },
        },
      }).anomaly,
    );
    for (const l of [2, 2.1, 1.9, 2]) d.accept(l);
    expect(d.check(Number.NaN)).toMatchObject({ rule: "non_finite", action: "skip" });
    d.accept(Number.NaN);
    d.accept(Number.POSITIVE_INFINITY);
    expect(d.exportState().zscore).toEqual([2, 2.1, 1.9, 2]);
    // The window still judges the next ordinary loss as ordinary (no poisoned mean/σ).
    expect(d.check(2.05)).toBeNull();
  });

  it("a NaN halts when no non_finite rule is declared", () => {
    expect(new AnomalyDetector(spec().anomaly).check(Number.NaN)).toMatchObject({ action: "halt" });
  });

  it("spike: over factor × rolling max, only after warm-up", () => {
    const d = new AnomalyDetector(
      spec({ anomaly: { spike: { factor: 10, window: 4, warmup: 3, action: "halt" } } }).anomaly,
    );
    d.accept(1);
    d.accept(1.2);
    expect(d.check(100)).toBeNull(); // 2 samples < warm-up 3
    d.accept(1.1);
    expect(d.check(11)).toBeNull(); // 11 < 10 × 1.2
    expect(d.check(13)).toMatchObject({ rule: "spike", detail: { rolling_max: 1.2, factor: 10 } });
  });

  it("z-score: inactive until min_samples, then over sigma against the window", () => {
    const d = new AnomalyDetector(
      spec({ anomaly: { zscore: { sigma: 4, window: 16, min_samples: 8, action: "escalate" } } }).anomaly,
    );
    const base = [3, 3.1, 2.9, 3.05, 2.95, 3.02, 2.98, 3];
    for (const l of base.slice(0, 7)) d.accept(l);
    expect(d.check(5)).toBeNull(); // 7 samples
    d.accept(base[7]!);
    expect(d.check(3.1)).toBeNull();
    expect(d.check(5)).toMatchObject({ rule: "zscore", action: "escalate" });
  });
});

describe("budgets", () => {
  it("preflight refuses a job whose declared budgets cannot be met, naming each", () => {
    const s = spec({ budgets: { max_tokens: 100, max_steps: 5, max_parameters: 10, max_energy_joules: 5 } });
    const r = preflight(s, { parameters: 9000, model_memory_mb: 1, hasPowerRails: false });
    expect(r.map((x) => x.budget).sort()).toEqual([
      "max_energy_joules",
      "max_parameters",
      "max_steps",
      "max_tokens",
    ]);
    expect(r.find((x) => x.budget === "max_tokens")!.message).toMatch(
      /steps × batch × sequence = 10 × 2 × 8/,
    );
    expect(preflight(spec(), { parameters: 9000, model_memory_mb: 1, hasPowerRails: false })).toEqual([]);
  });

  it("admit counts the next batch's tokens before its forward", () => {
    const s = spec({ budgets: { max_tokens: 48 } });
    const used = { steps: 2, tokens: 32, wall_seconds: 1, memory_mb: 1, energy_joules: null };
    expect(admit(s, used, 16)).toBeNull(); // 48 ≤ 48
    expect(admit(s, { ...used, steps: 3, tokens: 48 }, 16)).toMatchObject({
      budget: "max_tokens",
      value: 64,
    });
  });

  it("admit projects wall time and energy by the mean step, so the crossing step never starts", () => {
    const s = spec({ budgets: { max_wall_seconds: 10, max_energy_joules: 100 } });
    expect(
      admit(s, { steps: 4, tokens: 0, wall_seconds: 9, memory_mb: 1, energy_joules: 10 }, 1),
    ).toMatchObject({ budget: "max_wall_seconds" });
    expect(
      admit(s, { steps: 4, tokens: 0, wall_seconds: 1, memory_mb: 1, energy_joules: 90 }, 1),
    ).toMatchObject({ budget: "max_energy_joules" });
  });

  it("the memory budget reads the memory now only once the peak is over the limit", () => {
    let reads = 0;
    const nowMb = () => {
      reads++;
      return 120;
    };
    // Peak within the limit: the memory now cannot exceed it either, so it is not read.
    expect(memoryAgainst(200, nowMb, () => 150)).toBe(150);
    expect(reads).toBe(0);
    // Peak over: the memory now decides (here within the limit: a past peak refuses nothing).
    expect(memoryAgainst(130, nowMb, () => 150)).toBe(120);
    expect(memoryAgainst(100, nowMb, () => 150)).toBe(120);
    expect(reads).toBe(2);
    // An unknown peak (NaN) is never taken as within the limit; an injected reader is always read.
    expect(memoryAgainst(100, nowMb, () => Number.NaN)).toBe(120);
    expect(memoryAgainst(1e9, nowMb, null)).toBe(120);
    expect(reads).toBe(4);
  });

  it("the process's peak RSS is never below its RSS now", () => {
    const keep: Float64Array[] = [];
    for (let i = 0; i < 20; i++) {
      keep.push(new Float64Array(1 << 17).fill(i));
      const now = rssMb();
      expect(peakRssMb()).toBeGreaterThanOrEqual(now);
    }
    expect(keep.length).toBe(20);
  });
});
