import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { combineRuns, judge, type Metric, repeated, type SuiteResult, stats } from "../../bench/harness.js";
import { MetricSchema } from "../../bench/report.js";

const metric = (ours: number, base: number): Metric =>
  judge(
    {
      name: "rate",
      unit: "records/s",
      stats: stats([ours]),
      baseline: { name: "raw", stats: stats([base]) },
      ratio: ours / base,
    },
    { text: "ratio >= 0.5", stat: "ratio", op: ">=", value: 0.5 },
  );
const run = (...ms: Metric[]): SuiteResult => ({ suite: "s", metrics: ms });

describe("combineRuns", () => {
  it("keeps the median run's figures, baseline and verdict together, with every run's figure as the spread", () => {
    // Run 2 is the median by ratio (0.6), though its own median rate is the largest.
    const r = combineRuns([run(metric(40, 100)), run(metric(90, 150)), run(metric(70, 100))]);
    const m = r.metrics[0]!;
    expect(m.ratio).toBeCloseTo(0.6);
    expect(m.stats.median).toBe(90);
    expect(m.baseline!.stats.median).toBe(150);
    expect(m.met).toBe(true);
    expect(m.spread).toMatchObject({ runs: 3, of: "ratio", min: 0.4, max: 0.7 });
    expect(m.spread!.values).toHaveLength(3);
    expect(m.spread!.relative).toBeCloseTo(0.3 / 0.6);
    expect(r.info).toMatchObject({ repeats: 3 });
  });

  it("uses the target's statistic, else the median; one run is returned as it is", () => {
    const p99: Metric = judge(
      { name: "lat", unit: "ms", stats: stats([1, 2, 3]) },
      { text: "p99 <= 5 ms", stat: "p99", op: "<=", value: 5 },
    );
    const slower: Metric = { ...p99, stats: stats([1, 2, 9]) };
    expect(combineRuns([run(p99), run(slower), run(slower)]).metrics[0]!.spread!.of).toBe("p99");
    const one = run(p99);
    expect(combineRuns([one])).toBe(one);
  });
});

describe("repeated", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("runs the suite n times in their own scratch directories and the report schema takes the spread", async () => {
    dir = mkdtempSync(join(tmpdir(), "forge-repeat-"));
    const dirs: string[] = [];
    let i = 0;
    const suite = repeated(async (ctx) => {
      dirs.push(ctx.tmpDir);
      i++;
      return run(metric(50 + i, 100));
    }, 3);
    const r = await suite({
      durationS: 1,
      signal: new AbortController().signal,
      progress: () => {},
      tmpDir: dir,
    });
    expect(new Set(dirs).size).toBe(3);
    expect(r.metrics[0]!.spread!.runs).toBe(3);
    expect(MetricSchema.parse(r.metrics[0])).toMatchObject({ spread: { runs: 3 } });
  });

  it("stops after a skipped run", async () => {
    dir = mkdtempSync(join(tmpdir(), "forge-repeat-"));
    let calls = 0;
    const suite = repeated(async () => {
      calls++;
      return { suite: "s", skipped: "no tool", metrics: [] };
    }, 3);
    await suite({ durationS: 1, signal: new AbortController().signal, progress: () => {}, tmpDir: dir });
    expect(calls).toBe(1);
  });
});
