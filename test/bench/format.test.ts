// The bench table a person reads: within 120 columns whatever the names, verdicts in words
// ("24% under the limit"), and a ratio where higher is better says so.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatSuite, judge, type Metric, TABLE_WIDTH, verdict } from "../../bench/harness.js";
import { formatReport, runBench } from "../../bench/run.js";
import { testMachine } from "./helpers.js";

const stats = (median: number) => ({ n: 100, median, p99: median * 1.5, min: median * 0.8, max: median * 2 });

const latency: Metric = judge(
  {
    name: "gate evaluate (default pack, everyday corpus, p99 over 200k decisions)",
    unit: "us",
    stats: stats(7.6),
    baseline: { name: "cedar-wasm is_authorized on the same corpus", stats: stats(152) },
    ratio: 0.05,
    ratio_of: "our median / cedar median",
    spread: { runs: 3, of: "p99", values: [11, 11.4, 12], min: 11, max: 12, relative: 0.09 },
  },
  { text: "p99 <= 15 us", stat: "p99", op: "<=", value: 15 },
);
const throughput: Metric = judge(
  { name: "decode tokens/s via the facade", unit: "tok/s", stats: stats(96), ratio: 0.98 },
  { text: "ratio >= 0.97", stat: "ratio", op: ">=", value: 0.97 },
);
const missed: Metric = judge(
  { name: "socket round trip", unit: "ms", stats: stats(2) },
  { text: "median <= 1.5 ms", stat: "median", op: "<=", value: 1.5 },
);

describe("the bench table", () => {
  it("fits 120 columns, wrapping a long name and the baseline/spread line by design", () => {
    const text = formatSuite({ suite: "gate", metrics: [latency, throughput, missed] });
    const lines = text.split("\n");
    for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(TABLE_WIDTH);
    // Nothing is lost to the width: the name, the baseline and the spread are all there.
    expect(lines).toContain(latency.name);
    expect(text).toContain("baseline cedar-wasm is_authorized on the same corpus: median 152.0 us");
    expect(text).toContain("3 runs: p99 11.0..12.0 (9% apart)");
  });

  it("says how a figure stands against its target in words, and which ratios read higher-better", () => {
    // p99 11.4 against a limit of 15: 24% under it.
    expect(verdict(latency)).toBe("yes: 24% under the limit");
    expect(verdict(throughput)).toBe("yes: 1% over the minimum");
    expect(verdict(missed)).toBe("NO: 33% over the limit");
    const text = formatSuite({ suite: "x", metrics: [latency, throughput] });
    expect(text).toContain("0.98 (higher is better)");
    expect(text).not.toMatch(/0\.05 \(higher/);
    expect(text).not.toMatch(/of the target/);
    // A suite may define its ratio as higher-better ("times faster") even for a latency unit.
    const faster: Metric = {
      name: "vs systeminformation",
      unit: "us",
      stats: stats(38),
      ratio: 804,
      ratio_of: "median currentLoad / median sampleMetrics (times faster)",
    };
    expect(formatSuite({ suite: "m", metrics: [faster] })).toContain("804.0 (higher is better)");
  });
});

describe("the whole report as text", () => {
  it("stays within 120 columns: a long header or target line wraps, nothing is cut", async () => {
    const long =
      "tiny smoke-test model (generated, random weights) at /a/rather/long/path/to/models/forge-tiny-smoke-test.gguf";
    const machine = testMachine(long);
    const tmp = mkdtempSync(join(tmpdir(), "forge-bench-format-"));
    try {
      const report = await runBench({
        suites: ["gate"],
        durationS: 0.1,
        backend: "llama",
        model: long,
        signal: new AbortController().signal,
        load: async () => async () => ({ suite: "gate", metrics: [latency, throughput, missed] }),
        machine: async () => machine,
        tmpRoot: tmp,
      });
      const text = formatReport(report);
      for (const l of text.split("\n")) expect(l.length, l).toBeLessThanOrEqual(TABLE_WIDTH);
      expect(text.replace(/\n +/g, " ")).toContain(long);
      expect(text).toContain("gate: socket round trip: median <= 1.5 ms: MISSED: 33% over the limit");
      expect(text).toContain("met: 24% under the limit");
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
