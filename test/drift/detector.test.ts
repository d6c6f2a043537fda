// The drift monitor on synthetic streams with shifts of known size (bench/drift-streams.ts),
// stationary streams against the declared false-alarm bound, resets, recoveries, bounded memory,
// and its records in a real evidence store. Seeded: every figure is the same on every run.
import { afterEach, describe, expect, it } from "vitest";
import {
  actionRecord,
  BASE,
  detectionDelay,
  falseAlarmRate,
  inferenceRecord,
  perWindow,
  SCENARIOS,
} from "../../bench/drift-streams.js";
import { type DriftEvent, DriftMonitor, driftRecord } from "../../src/drift/index.js";
import { Rng } from "../../src/drift/random.js";
import type { RecordLike } from "../../src/drift/signals.js";
import { chiSquareHomogeneity, zTestProportions } from "../../src/drift/stats.js";
import { openStore, tempHome } from "../evidence/helpers.js";

const feed = (mon: DriftMonitor, recs: RecordLike[]) => recs.flatMap((r) => mon.observe(r));
const actions = (rng: Rng, from: number, n: number, shape = BASE) =>
  Array.from({ length: n }, (_, k) => actionRecord(rng, from + k, shape));
const inferences = (rng: Rng, from: number, n: number, shape = BASE) =>
  Array.from({ length: n }, (_, k) => inferenceRecord(rng, from + k, shape));

describe("detection of shifts of known size", () => {
  for (const sc of SCENARIOS) {
    it(`${sc.name} (${sc.size}) is found within two windows`, () => {
      // Reference 1000 values, a 500-value window, rounds every 100 records.
      for (const seed of [1, 2, 3]) {
        const delay = detectionDelay(sc, {}, seed, 1500, 3000);
        expect(delay, `seed ${seed}`).not.toBeNull();
        expect(delay!).toBeLessThanOrEqual(1000);
      }
    });
  }

  it("finds nothing on the same stream without the shift", () => {
    const mon = new DriftMonitor({ seed: 4 });
    const rng = new Rng(4);
    const events = feed(mon, inferences(rng, 0, 3000));
    expect(events.filter((e) => e.event === "finding")).toEqual([]);
    expect(mon.state({ signal: "inference.ttft_ms" }).signals[0]!.status).toBe("ok");
  });
});

describe("false alarms on stationary streams", () => {
  const small = { reference: { kind: "first" as const, n: 400 }, window: 200 };

  it("Holm keeps the per-window family-wise rate under alpha; without a correction it is far above", () => {
    let holm = 0;
    let none = 0;
    const seeds = 40;
    for (let seed = 1; seed <= seeds; seed++) {
      holm += falseAlarmRate(perWindow({ ...small, correction: "holm" }), seed, 1).any;
      none += falseAlarmRate(perWindow({ ...small, correction: "none" }), seed, 1).any;
    }
    // 40 independent rounds of ~24 signals: the bound is 0.05 (binomial 95% upper limit at 0.05: 0.125).
    expect(holm / seeds).toBeLessThanOrEqual(0.125);
    expect(none / seeds).toBeGreaterThan(holm / seeds);
    expect(none / seeds).toBeGreaterThan(0.1);
  });

  it("the homogeneity chi-square holds alpha per test where Evidently's goodness-of-fit form does not", () => {
    const rate = (chi: "homogeneity" | "evidently") => {
      let tests = 0;
      let alarms = 0;
      for (let seed = 1; seed <= 150; seed++) {
        const mon = new DriftMonitor({ ...small, correction: "none", every: 100_000, chi_square: chi, seed });
        const rng = new Rng(seed * 31);
        feed(mon, actions(rng, 0, 600));
        mon.evaluate();
        const r = mon.lastRound().find((t) => t.signal === "action.kind")!;
        expect(r.method).toBe("chisquare");
        tests++;
        if (r.drifted) alarms++;
      }
      return alarms / tests;
    };
    // Goodness of fit ignores the reference's own noise: with window/reference = 1/2 its
    // statistic is ~1.5 χ²(3), so P(alarm) ≈ P(χ²(3) > 7.81/1.5) ≈ 0.16 at alpha 0.05.
    expect(rate("homogeneity")).toBeLessThanOrEqual(0.09);
    expect(rate("evidently")).toBeGreaterThan(0.1);
  });
});

describe("methods as Evidently chooses them", () => {
  it("p-value tests at ≤ 1000 reference rows, distances above", () => {
    const methods = (n: number) => {
      const mon = new DriftMonitor({ reference: { kind: "first", n }, window: 200, every: 100_000 });
      const rng = new Rng(9);
      feed(mon, actions(rng, 0, n + 300));
      feed(mon, inferences(rng, 0, n + 300));
      mon.evaluate();
      return Object.fromEntries(mon.lastRound().map((r) => [r.signal, r.method]));
    };
    const small = methods(1000);
    expect(small["action.kind"]).toBe("chisquare");
    expect(small["gate.deny"]).toBe("z");
    expect(small["gate.latency_ms"]).toBe("ks");
    expect(small["inference.ttft_ms{model=tiny}"]).toBe("ks");
    // tool_calls is 0 or 1: five or fewer values are categorical.
    expect(small["inference.tool_calls{model=tiny}"]).toBe("z");
    const large = methods(1500);
    expect(large["action.kind"]).toBe("jensenshannon");
    expect(large["gate.deny"]).toBe("jensenshannon");
    expect(large["gate.latency_ms"]).toBe("wasserstein");
  });

  it("a numerical signal of five values or fewer is tested on each value's count in both windows", () => {
    // Reference 300 latencies (1, 2, 3: 100 each), then a 200-value window of 1, 1, 3, 4 (100, 0, 50, 50);
    // The counts the round tests are those, value by value, in ascending order.
    const run = (ref: (k: number) => number, cur: (k: number) => number) => {
      const mon = new DriftMonitor({ reference: { kind: "first", n: 300 }, window: 200, every: 100_000 });
      const rng = new Rng(5);
      feed(
        mon,
        Array.from({ length: 500 }, (_, k) => ({
          ...actionRecord(rng, k, BASE),
          latency_ms: k < 300 ? ref(k) : cur(k - 300),
        })),
      );
      mon.evaluate();
      return mon.lastRound().find((t) => t.signal === "gate.latency_ms")!;
    };
    const four = run(
      (k) => [1, 2, 3][k % 3]!,
      (k) => [1, 1, 3, 4][k % 4]!,
    );
    expect(four.method).toBe("chisquare");
    expect(four.statistic).toBe(chiSquareHomogeneity([100, 100, 100, 0], [100, 0, 50, 50]).statistic);
    expect(four.drifted).toBe(true);
    expect(four.distribution).toEqual({
      labels: ["1", "2", "3", "4"],
      reference: [100, 100, 100, 0],
      current: [100, 0, 50, 50],
    });
    // Two values (0 and -0 count as one): the z-test on the first value's share.
    const two = run(
      (k) => [0, 5][k % 2]!,
      (k) => [-0, 5, 5, 5][k % 4]!,
    );
    expect(two.method).toBe("z");
    expect(two.statistic).toBe(zTestProportions(150, 300, 50, 200).statistic);
    // Six values between the two windows: KS.
    expect(
      run(
        (k) => k % 3,
        (k) => 3 + (k % 3),
      ).method,
    ).toBe("ks");
  });

  it("chunked mode: threshold is mean + 3σ of the reference chunks, and a mean shift crosses it", () => {
    const mon = new DriftMonitor({ mode: "chunked", chunk_size: 100, reference: { kind: "first", n: 1000 } });
    const rng = new Rng(5);
    feed(mon, inferences(rng, 0, 1200));
    const ok = mon.lastRound().find((r) => r.signal === "inference.ttft_ms{model=tiny}")!;
    expect(ok.method).toBe("chunked-wasserstein");
    expect(ok.drifted).toBe(false);
    const shifted = { ...BASE, ttftMean: BASE.ttftMean + BASE.ttftSd };
    const events = feed(mon, inferences(rng, 1200, 300, shifted));
    const f = events.find((e) => e.event === "finding" && e.signal === "inference.ttft_ms{model=tiny}");
    expect(f).toBeDefined();
    if (f?.event !== "finding") throw new Error("no finding");
    expect(f.statistic).toBeGreaterThan(f.threshold);
    expect(f.threshold).toBeGreaterThan(0);
  });
});

describe("findings, recoveries and resets", () => {
  it("a finding carries windows, distribution, top categories and example sessions; it clears with a recovery", () => {
    const mon = new DriftMonitor({ seed: 3 });
    const rng = new Rng(3);
    feed(mon, actions(rng, 0, 1500));
    const shifted = { ...BASE, kinds: [...BASE.kinds, "email.send"], weights: [0.3, 0.2, 0.1, 0.05, 0.35] };
    const found = feed(mon, actions(rng, 1500, 600, shifted)).filter(
      (e): e is Extract<DriftEvent, { event: "finding" }> =>
        e.event === "finding" && e.signal === "action.kind",
    );
    expect(found).toHaveLength(1);
    const f = found[0]!;
    expect(f.method).toBe("chisquare");
    expect(f.pvalue).toBeLessThan(f.threshold);
    expect(f.top[0]!.category).toBe("email.send");
    expect(f.top[0]!.reference_share).toBe(0);
    expect(f.distribution.labels).toContain("email.send");
    expect(f.reference.n).toBe(1000);
    expect(f.current.n).toBe(500);
    expect(f.examples.length).toBeGreaterThan(0);
    expect(f.examples[0]).toMatch(/^claude-code:s\d+$/);
    // Back to the reference's mix: the window refills, three clean rounds, one recovery.
    const back = feed(mon, actions(rng, 2100, 1200));
    const rec = back.filter((e) => e.event === "recovery" && e.signal === "action.kind");
    expect(rec).toHaveLength(1);
    expect(mon.state({ signal: "action.kind" }).signals.find((s) => s.signal === "action.kind")!.status).toBe(
      "ok",
    );
  });

  it("a policy change resets the gate signals (and says which findings it closed); a promotion the model's", () => {
    const mon = new DriftMonitor({ reference: { kind: "first", n: 200 }, window: 100, every: 50 });
    const rng = new Rng(8);
    const policy = (sha: string, seq: number): RecordLike => ({
      kind: "policy",
      session_id: "agent:h",
      timestamp: new Date(Date.parse("2026-12-01T00:00:00Z") + seq).toISOString(),
      proposed_action: { kind: "policy.load" },
      evaluation: null,
      policy_matched: { bundle: { id: "p", version: seq, sha256: sha }, rules: [] },
      execution_result: null,
      principal_review: null,
      latency_ms: 0,
      seq,
    });
    expect(mon.observe(policy("a".repeat(64), 1))).toEqual([]); // the first policy is the baseline
    feed(mon, actions(rng, 0, 300));
    feed(mon, inferences(rng, 0, 300));
    feed(mon, actions(rng, 300, 150, { ...BASE, weights: [0.05, 0.05, 0.85, 0.05] }));
    expect(mon.state({ signal: "action.kind" }).signals[0]!.status).toBe("drift");
    const [reset] = mon.observe(policy("b".repeat(64), 2));
    expect(reset?.event).toBe("reset");
    if (reset?.event !== "reset") throw new Error("no reset");
    expect(reset.trigger).toBe("policy");
    expect(reset.closed).toContain("action.kind");
    expect(reset.signals).toContain("gate.latency_ms");
    expect(reset.signals.some((s) => s.startsWith("inference."))).toBe(false);
    const st = mon.state({ signal: "action.kind" }).signals[0]!;
    expect(st.status).toBe("learning");
    expect(st.reference_n).toBe(0);
    const promo = mon.observe({
      ...policy("c".repeat(64), 3),
      kind: "promotion",
      proposed_action: { model: "tiny" },
    });
    expect(promo[0]!.event === "reset" && promo[0]!.signals.every((s) => s.endsWith("{model=tiny}"))).toBe(
      true,
    );
  });

  it("range and eval references", () => {
    const range = new DriftMonitor({
      reference: { kind: "range", since: "2026-12-01T00:00:00Z", until: "2026-12-01T00:10:00Z" },
      window: 100,
      every: 100_000,
    });
    const rng = new Rng(6);
    feed(range, inferences(rng, 0, 900)); // one a second: 600 in range, 300 after
    const s = range.state({ signal: "inference.ttft_ms" }).signals[0]!;
    expect(s.reference_n).toBe(600);
    expect(s.current_n).toBe(100);

    const ev = new DriftMonitor({
      reference: { kind: "eval", session_prefix: "eval:" },
      window: 100,
      every: 100,
    });
    feed(
      ev,
      inferences(rng, 0, 300).map((r) => ({ ...r, session_id: "eval:run-1" })),
    );
    feed(ev, inferences(rng, 300, 200));
    const t = ev.state({ signal: "inference.ttft_ms" }).signals[0]!;
    expect(t.reference_n).toBe(300);
    expect(t.status).toBe("ok");
  });
});

describe("bounded memory", () => {
  it("memory per signal stops growing at its caps; new signals past max_signals are dropped and counted", () => {
    const mon = new DriftMonitor({ max_signals: 20 });
    const rng = new Rng(2);
    feed(mon, inferences(rng, 0, 3000));
    feed(mon, actions(rng, 0, 3000));
    const a = mon.state().stats;
    feed(mon, inferences(rng, 3000, 8000));
    feed(mon, actions(rng, 3000, 8000));
    const b = mon.state().stats;
    expect(b.memory_bytes).toBe(a.memory_bytes);
    expect(b.signals).toBe(20);
    expect(b.dropped_signals).toBeGreaterThan(0);
    expect(b.memory_bytes / b.signals).toBeLessThan(64 * 1024);
  });
});

describe("drift records", () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it("a finding is an alert record with proposed_action.kind drift that the evidence store accepts", async () => {
    const mon = new DriftMonitor({ seed: 3, chi_square: "evidently" });
    const rng = new Rng(3);
    feed(mon, actions(rng, 0, 1500));
    const shifted = { ...BASE, kinds: [...BASE.kinds, "email.send"], weights: [0.3, 0.2, 0.1, 0.05, 0.35] };
    const f = feed(mon, actions(rng, 1500, 600, shifted)).find((e) => e.event === "finding")!;
    // Evidently's form: a category the reference never saw is an infinite statistic.
    expect(f.event === "finding" && f.statistic).toBe(Number.POSITIVE_INFINITY);
    const home = tempHome();
    cleanup = home.cleanup;
    const store = openStore(home);
    const stored = await store.append(driftRecord("host-a", f));
    await store.close();
    const pa = stored.proposed_action as Record<string, unknown>;
    expect(stored.kind).toBe("alert");
    expect(pa.kind).toBe("drift");
    expect(pa.event).toBe("finding");
    expect(pa.statistic).toBe("inf");
    expect(pa.signal).toBe("action.kind");
    for (const k of ["method", "threshold", "pvalue", "reference", "current", "top", "distribution"])
      expect(pa).toHaveProperty(k);
  });
});
