/**
 * The drift detector's evaluation (docs/drift.md): on synthetic streams with shifts of known size
 * (bench/drift-streams.ts), the detection delay in records for each shift and each mode; on
 * stationary streams, the false-alarm rate per window against its declared bound (alpha = 0.05
 * family-wise, Holm); the cost: CPU per 10,000 records (baseline in the same run: JSON.parse of
 * the same records, the floor any reader of the evidence pays), the CPU drift adds to each of the
 * agent's commits (bench/drift-feed.ts) and memory per tracked signal.
 */
import { DriftMonitor } from "../src/drift/index.js";
import { Rng } from "../src/drift/random.js";
import { commitCost } from "./drift-feed.js";
import {
  actionRecord,
  BASE,
  detectionDelay,
  falseAlarmRate,
  inferenceRecord,
  perWindow,
  SCENARIOS,
} from "./drift-streams.js";
import { judge, type Metric, runStandalone, type Suite, stats } from "./harness.js";

const MODES = [
  { name: "evidently, reference 1000 (KS / chi-square / z)", cfg: {}, warm: 1500 },
  {
    name: "evidently, reference 2000 (Wasserstein / Jensen-Shannon)",
    cfg: { reference: { kind: "first" as const, n: 2000 } },
    warm: 2500,
  },
  { name: "chunked, 100-value chunks (mean + 3σ)", cfg: { mode: "chunked" as const }, warm: 1100 },
];

export const suite: Suite = async (ctx) => {
  const metrics: Metric[] = [];
  const seeds = Math.max(3, Math.min(10, Math.round(ctx.durationS * 2)));
  const steps = MODES.length * SCENARIOS.length + 4;
  let done = 0;
  const tick = (label: string) => ctx.progress(done++ / steps, label);

  for (const mode of MODES) {
    for (const sc of SCENARIOS) {
      if (ctx.signal.aborted) return { suite: "drift", metrics, partial: true };
      tick(`${sc.name}: ${mode.name}`);
      const delays: number[] = [];
      let missed = 0;
      for (let seed = 1; seed <= seeds; seed++) {
        const d = detectionDelay(sc, mode.cfg, seed, mode.warm, 5000);
        if (d === null) missed++;
        else delays.push(d);
      }
      metrics.push({
        name: `detection delay: ${sc.name} (${sc.size}), ${mode.name}`,
        unit: "records",
        stats: stats(delays),
        notes: `${seeds} seeds; ${missed} not found within 5000 records; rounds every 100 records`,
      });
    }
  }

  // False alarms: one round per independent reference (seed), non-overlapping windows.
  tick("false alarms (Holm, none, BH)");
  const rounds = Math.max(40, seeds * 10);
  for (const correction of ["holm", "bh", "none"] as const) {
    let any = 0;
    let perTest = 0;
    let signals = 0;
    for (let seed = 1; seed <= rounds; seed++) {
      const r = falseAlarmRate(perWindow({ correction }), seed, 1);
      any += r.any;
      perTest += r.alarms;
      signals = Math.max(signals, r.signals);
    }
    const m: Metric = {
      name: `false alarms per window, stationary, ${correction === "none" ? "no correction" : correction} (${signals} signals a round)`,
      unit: "share of windows",
      stats: stats([any / rounds]),
      notes: `${rounds} independent rounds (one reference each); per single test ${(perTest / rounds).toFixed(4)}`,
    };
    metrics.push(
      correction === "holm"
        ? judge(m, { text: "<= 0.05 (alpha, family-wise)", stat: "value", op: "<=", value: 0.05 })
        : m,
    );
  }
  {
    let any = 0;
    let perTest = 0;
    for (let seed = 1; seed <= rounds; seed++) {
      const r = falseAlarmRate(perWindow({ mode: "chunked" }), seed, 1);
      any += r.any;
      perTest += r.alarms;
    }
    metrics.push({
      name: "false alarms per window, stationary, chunked (mean + 3σ, no p-values)",
      unit: "share of windows",
      stats: stats([any / rounds]),
      notes: `per single test ${(perTest / rounds).toFixed(4)} (3σ of a normal: 0.0013)`,
    });
  }

  // Cost: CPU per 10,000 records (rounds included), against JSON.parse of the same records.
  tick("CPU per 10,000 records");
  const rng = new Rng(11);
  const recs = Array.from({ length: 10_000 }, (_, i) =>
    i % 2 === 0 ? actionRecord(rng, i, BASE) : inferenceRecord(rng, i, BASE),
  );
  const texts = recs.map((r) => JSON.stringify(r));
  const cpuMs = (f: () => void) => {
    const t = process.cpuUsage();
    f();
    const d = process.cpuUsage(t);
    return (d.user + d.system) / 1000;
  };
  const ours: number[] = [];
  const floor: number[] = [];
  const reps = Math.max(3, Math.min(9, Math.round(ctx.durationS * 2)));
  for (let k = 0; k < reps && !ctx.signal.aborted; k++) {
    // A warm monitor (reference learned), so the 10,000 records are all tested ones.
    const mon = new DriftMonitor({});
    for (const r of recs.slice(0, 4000)) mon.observe(r);
    ours.push(
      cpuMs(() => {
        for (const r of recs) mon.observe(r);
      }),
    );
    floor.push(
      cpuMs(() => {
        for (const t of texts) JSON.parse(t);
      }),
    );
  }
  const o = stats(ours);
  const b = stats(floor);
  metrics.push({
    name: "CPU per 10,000 records (observe + rounds every 100)",
    unit: "ms",
    stats: o,
    baseline: { name: "JSON.parse of the same 10,000 records", stats: b },
    ratio: o.median / b.median,
    ratio_of: "median drift / median JSON.parse",
  });

  // The agent's feed: what a commit costs with drift attached, fed each way (bench/drift-feed.ts).
  tick("CPU per commit, drift fed from the commit vs re-read");
  metrics.push(...(await commitCost({ seconds: ctx.durationS, signal: ctx.signal })));

  tick("memory per signal");
  const mon = new DriftMonitor({});
  for (const r of recs) mon.observe(r);
  const st = mon.state().stats;
  metrics.push({
    name: "memory per tracked signal (declared caps: reservoir 2000, window 500, 32 categories)",
    unit: "KiB",
    stats: stats([st.memory_bytes / st.signals / 1024]),
    notes: `${st.signals} signals, ${(st.memory_bytes / 1024).toFixed(0)} KiB in all; fixed at the caps, whatever the stream length`,
  });
  ctx.progress(1, "done");
  return { suite: "drift", metrics, info: { seeds, rounds, signals: st.signals } };
};

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone("drift", suite);
