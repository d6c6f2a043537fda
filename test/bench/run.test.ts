/**
 * The runner's own logic, in process: statuses (ok, skipped, error, partial, not_run), the
 * report schema, and the power figures. The suites here are small stand-ins written for these
 * cases; the real suites run in cli.test.ts. Energy counters do not exist on this host, so the
 * power arithmetic is fed recorded samples through the runner's `sampler` seam.
 */
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Metric, type Suite, stats } from "../../bench/harness.js";
import { jsonSafe, type Machine, parseReport, REPORT_FORMAT } from "../../bench/report.js";
import { formatReport, GenerationPower, type RunOptions, runBench } from "../../bench/run.js";
import { Codes, ForgeError } from "../../src/errors.js";
import type { EnergyCounter, NativeSample } from "../../src/platform/native.js";
import { testMachine } from "./helpers.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "forge-bench-run-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const machine: Machine = testMachine();

const timed: Metric = {
  name: "op",
  unit: "us",
  stats: stats([1, 2, 3, 4]),
  baseline: { name: "floor", stats: stats([1, 1, 1]) },
  ratio: 2.5,
  target: { text: "p99 <= 10 us", stat: "p99", op: "<=", value: 10 },
  met: true,
  margin: 0.6,
};

function options(suites: Record<string, Suite>, over: Partial<RunOptions> = {}): RunOptions {
  return {
    suites: Object.keys(suites),
    durationS: 0.1,
    backend: "llama",
    model: "/models/m.gguf",
    signal: new AbortController().signal,
    load: async (name) => suites[name]!,
    machine: async () => machine,
    tmpRoot: dir,
    ...over,
  };
}

describe("runBench", () => {
  it("keeps each suite's status and validates the report", async () => {
    const seen: string[] = [];
    const report = await runBench(
      options(
        {
          good: async (ctx) => {
            ctx.progress(0.5, "half");
            return { suite: "good", metrics: [timed], info: { k: 1 } };
          },
          absent: async () => ({ suite: "absent", skipped: "no frobnicator here", metrics: [] }),
          addon: async () => {
            throw new ForgeError(
              Codes.NATIVE_UNAVAILABLE,
              "the native addon could not be loaded: run npm install",
            );
          },
          cedar: async () => {
            throw Object.assign(new Error("Cannot find package '@cedar-policy/cedar-wasm' imported from x"), {
              code: "ERR_MODULE_NOT_FOUND",
            });
          },
          broken: async () => {
            throw new ForgeError(Codes.GATE_ERROR, "boom");
          },
          nan: async () => ({
            suite: "nan",
            metrics: [{ name: "empty", unit: "us", stats: stats([]), ratio: Number.NaN }],
          }),
        },
        {
          events: {
            suiteStart: (n) => seen.push(`start ${n}`),
            progress: (n, f, l) => seen.push(`${n} ${f} ${l}`),
            suiteEnd: (r) => seen.push(`end ${r.suite} ${r.status}`),
          },
        },
      ),
    );
    expect(parseReport(JSON.parse(JSON.stringify(report)))).toEqual(report);
    expect(report.format).toBe(REPORT_FORMAT);
    expect(report.suites.map((s) => [s.suite, s.status])).toEqual([
      ["good", "ok"],
      ["absent", "skipped"],
      ["addon", "skipped"],
      ["cedar", "skipped"],
      ["broken", "error"],
      ["nan", "ok"],
    ]);
    expect(report.suites[1]!.skipped).toBe("no frobnicator here");
    expect(report.suites[3]!.skipped).toMatch(/package @cedar-policy\/cedar-wasm is not installed/);
    expect(report.suites[4]!.error).toEqual({ code: Codes.GATE_ERROR, message: "boom" });
    // A figure that could not be computed is null, never 0.
    expect(report.suites[5]!.metrics[0]!.stats.median).toBeNull();
    expect(report.suites[5]!.metrics[0]!.ratio).toBeNull();
    expect(report.summary).toEqual({
      targets: 1,
      met: 1,
      missed: 0,
      skipped: ["absent", "addon", "cedar"],
      errors: ["broken"],
    });
    expect(report.partial).toBe(false);
    expect(report.intent).toEqual({
      suites: ["good", "absent", "addon", "cedar", "broken", "nan"],
      duration_s: 0.1,
      backend: "llama",
      model: "/models/m.gguf",
    });
    expect(seen.slice(0, 3)).toEqual(["start good", "good 0.5 half", "end good ok"]);
    const text = formatReport(report);
    expect(text).toContain("absent: skipped: no frobnicator here");
    expect(text).toContain("broken: ERROR FORGE_GATE_ERROR: boom");
    expect(text).toContain("targets: 1 of 1 met");
  });

  it("gives each suite a scratch directory and removes the run's scratch afterwards", async () => {
    let seenDir = "";
    await runBench(
      options({
        s: async (ctx) => {
          seenDir = ctx.tmpDir;
          expect(ctx.model).toBe("/models/m.gguf");
          expect(ctx.backend).toBe("llama");
          return { suite: "s", metrics: [] };
        },
      }),
    );
    expect(seenDir.startsWith(dir)).toBe(true);
    expect(await readdir(dir)).toEqual([]);
  });

  it("on abort: the running suite is partial and unjudged, later suites are not_run", async () => {
    const ac = new AbortController();
    const report = await runBench(
      options(
        {
          first: async (ctx) => {
            ac.abort(); // as SIGINT would, mid-measurement
            expect(ctx.signal.aborted).toBe(true);
            return { suite: "first", metrics: [timed] };
          },
          second: async () => {
            throw new Error("must not run");
          },
        },
        { signal: ac.signal },
      ),
    );
    expect(report.partial).toBe(true);
    expect(report.suites[0]).toMatchObject({ suite: "first", status: "partial", partial: true });
    const m = report.suites[0]!.metrics[0]!;
    expect(m.stats.median).toBe(2);
    expect(m.target?.text).toBe("p99 <= 10 us");
    expect(m.met).toBeUndefined();
    expect(m.notes).toMatch(/not judged: interrupted/);
    expect(report.suites[1]).toMatchObject({ suite: "second", status: "not_run", metrics: [] });
    expect(report.summary.targets).toBe(0);
    expect(formatReport(report)).toContain("PARTIAL: interrupted");
  });

  it("a suite that throws because it was aborted is partial, not an error", async () => {
    const ac = new AbortController();
    const report = await runBench(
      options(
        {
          s: async () => {
            ac.abort();
            throw new DOMException("The operation was aborted", "AbortError");
          },
        },
        { signal: ac.signal },
      ),
    );
    expect(report.suites[0]).toMatchObject({ status: "partial", metrics: [] });
    expect(report.summary.errors).toEqual([]);
  });

  it("skips inference with 'no Ollama server' when nothing answers at the host", async () => {
    let ran = false;
    const report = await runBench(
      options(
        {
          inference: async () => {
            ran = true;
            return { suite: "inference", metrics: [] };
          },
        },
        { backend: "ollama", model: "llama3.2", inferenceHost: "http://127.0.0.1:9" },
      ),
    );
    expect(ran).toBe(false);
    expect(report.suites[0]!.status).toBe("skipped");
    expect(report.suites[0]!.skipped).toMatch(/^no Ollama server at http:\/\/127\.0\.0\.1:9 /);
  });

  it("adds the power part to inference: skipped with why when the host has no energy counters", async () => {
    const report = await runBench(
      options(
        {
          inference: async (ctx) => {
            for (let i = 0; i < 3; i++) ctx.progress(i / 3, "inference rounds");
            return { suite: "inference", metrics: [], info: { tokens: 8 } };
          },
        },
        { sampler: () => sample(0, []) },
      ),
    );
    const parts = report.suites[0]!.skipped_parts;
    expect(parts.find((p) => p.part === "power")?.why).toMatch(/^skipped: no power rails on this host/);
  });

  it("rejects a report that breaks the schema", () => {
    const bad = jsonSafe({ format: REPORT_FORMAT, suites: [] });
    expect(() => parseReport(bad)).toThrow();
  });
});

function counter(zone: string, rail: EnergyCounter["rail"], value: number, parent = ""): EnergyCounter {
  return { rail, name: zone, zone, parent, unit: "uJ", value, max: 2 ** 32 };
}

function sample(ms: number, energy: EnergyCounter[]): NativeSample {
  return {
    platform: "linux",
    monotonicMs: ms,
    ticksPerSecond: 100,
    cpu: { total: { busy: ms, idle: ms }, cores: [] },
    memory: { totalBytes: 1, availableBytes: 1, usedBytes: 0, pressure: null, pressureLevel: null },
    temperatures: [],
    energy,
    residencies: [],
    notes: [],
  };
}

describe("GenerationPower", () => {
  it("averages watts per rail over the rounds and divides tokens by joules", () => {
    // 2 s window: package 20 J (10 W) with core 16 J inside it, dram 4 J (2 W).
    const samples = [
      sample(1000, [counter("pkg", "cpu", 0), counter("core", "cpu", 0, "pkg"), counter("dram", "dram", 0)]),
      sample(2000, [
        counter("pkg", "cpu", 10e6),
        counter("core", "cpu", 8e6, "pkg"),
        counter("dram", "dram", 2e6),
      ]),
      sample(3000, [
        counter("pkg", "cpu", 20e6),
        counter("core", "cpu", 16e6, "pkg"),
        counter("dram", "dram", 4e6),
      ]),
    ];
    let i = 0;
    const p = new GenerationPower(() => samples[i++]!);
    p.observe("loading"); // not a round: no sample
    for (let k = 0; k < 3; k++) p.observe("inference rounds");
    const r = p.result(2 * 100);
    if ("skipped" in r) throw new Error(r.skipped);
    const by = Object.fromEntries(r.metrics.map((m) => [m.name, m.stats.median]));
    expect(by["power, cpu rail, during generation"]).toBeCloseTo(10);
    expect(by["power, dram rail, during generation"]).toBeCloseTo(2);
    // 2 rounds x 200 tokens over 24 J.
    expect(by["tokens per joule (generation)"]).toBeCloseTo(400 / 24);
  });

  it("uses the system rail alone when there is one (it already contains the others)", () => {
    const samples = [
      sample(0, [counter("psys", "system", 0), counter("pkg", "cpu", 0)]),
      sample(1000, [counter("psys", "system", 30e6), counter("pkg", "cpu", 20e6)]),
    ];
    let i = 0;
    const p = new GenerationPower(() => samples[i++]!);
    p.observe("inference rounds");
    p.observe("inference rounds");
    const r = p.result(60);
    if ("skipped" in r) throw new Error(r.skipped);
    expect(r.metrics.find((m) => m.unit === "tok/J")!.stats.median).toBeCloseTo(2);
  });

  it("says why when there is no window or no sampler", () => {
    const one = new GenerationPower(() => sample(0, [counter("pkg", "cpu", 0)]));
    one.observe("inference rounds");
    expect(one.result(10)).toEqual({
      skipped: expect.stringMatching(/fewer than two measured generation rounds/),
    });
    const none = new GenerationPower(() => {
      throw new ForgeError(Codes.NATIVE_UNAVAILABLE, "addon missing");
    });
    none.observe("inference rounds");
    expect(none.result(10)).toEqual({ skipped: "no platform sampler: addon missing" });
  });
});
