/**
 * The cost of one platform sample: `sampleMetrics()` (native: /proc/stat, meminfo, PSI, thermal,
 * RAPL → one JS object) beside baselines measured in the same run: reading /proc/stat and
 * /proc/meminfo with fs.readFileSync (the I/O floor, no parsing), os.cpus(), and
 * systeminformation's currentLoad() (what a Node agent would use without an addon).
 * No target was set; report only.
 */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import si from "systeminformation";
import { computeReading } from "../src/platform/metrics.js";
import { sampleMetrics } from "../src/platform/native.js";
import { type Metric, nowNs, runStandalone, type Suite, sampleSync, stats } from "./harness.js";

export const suite: Suite = async (ctx) => {
  if (process.platform !== "linux" && process.platform !== "darwin") {
    return { suite: "metrics", skipped: `no native sampler on ${process.platform}`, metrics: [] };
  }
  const seconds = Math.max(0.5, ctx.durationS / 3);
  const metrics: Metric[] = [];
  const opts = { seconds, warmup: 50, maxSamples: 200_000, signal: ctx.signal };

  ctx.progress(0, "sampleMetrics()");
  const native = stats(sampleSync(() => sampleMetrics(), opts));

  if (process.platform === "linux") {
    ctx.progress(0.3, "readFileSync /proc/stat + /proc/meminfo");
    const floor = stats(
      sampleSync(() => {
        readFileSync("/proc/stat", "latin1");
        readFileSync("/proc/meminfo", "latin1");
      }, opts),
    );
    metrics.push({
      name: "sampleMetrics() call",
      unit: "us",
      stats: native,
      baseline: { name: "readFileSync /proc/stat + /proc/meminfo, unparsed", stats: floor },
      ratio: native.median / floor.median,
      ratio_of: "median sampleMetrics / median baseline",
    });
  }

  ctx.progress(0.5, "os.cpus()");
  const osCpus = stats(sampleSync(() => cpus(), opts));
  metrics.push({
    name: "sampleMetrics() call vs os.cpus()",
    unit: "us",
    stats: native,
    baseline: { name: "os.cpus() (libuv: per-core ticks only)", stats: osCpus },
    ratio: native.median / osCpus.median,
    ratio_of: "median sampleMetrics / median os.cpus()",
  });

  // currentLoad() answers from a cache unless 200 ms passed since its last fresh read, so each
  // timed call waits that long first; few samples, so its p99 is close to its max.
  ctx.progress(0.6, "systeminformation currentLoad() (fresh reads, 200 ms apart)");
  const fresh: number[] = [];
  const freshCalls = Math.max(5, Math.floor(seconds * 4));
  await si.currentLoad();
  for (let i = 0; i < freshCalls && !ctx.signal.aborted; i++) {
    await sleep(205);
    const t0 = nowNs();
    await si.currentLoad();
    fresh.push((nowNs() - t0) / 1e3);
  }
  const siLoad = stats(fresh);
  metrics.push({
    name: "sampleMetrics() call vs systeminformation",
    unit: "us",
    stats: native,
    baseline: { name: "systeminformation currentLoad(), fresh read", stats: siLoad },
    // Inverted (times faster), since ours/baseline would print as 0.00.
    ratio: siLoad.median / native.median,
    ratio_of: "median currentLoad / median sampleMetrics (times faster)",
    notes: "currentLoad() gives CPU load only; sampleMetrics() also reads memory, PSI, thermal and energy",
  });

  ctx.progress(0.9, "computeReading()");
  const a = sampleMetrics();
  const b = sampleMetrics();
  const pure = stats(sampleSync(() => computeReading(a, b), { ...opts, seconds: seconds / 2 }));
  const clone = stats(sampleSync(() => structuredClone(b), { ...opts, seconds: seconds / 2 }));
  metrics.push({
    name: "computeReading() of two samples",
    unit: "us",
    stats: pure,
    baseline: { name: "structuredClone(sample)", stats: clone },
    ratio: pure.median / clone.median,
    ratio_of: "median computeReading / median structuredClone",
  });
  ctx.progress(1, "done");

  return {
    suite: "metrics",
    metrics,
    info: {
      platform: process.platform,
      cores: a.cpu.cores.length,
      energyCounters: a.energy.length,
      thermalZones: a.temperatures.length,
    },
  };
};

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone("metrics", suite);
