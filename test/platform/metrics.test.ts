import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { Codes } from "../../src/errors.js";
import {
  computeReading,
  counterDelta,
  cpuPercent,
  energyToWatts,
  joulesPerUnit,
  railWatts,
  readMetrics,
  residencyActivePercent,
} from "../../src/platform/metrics.js";
import { defaultAddonPath, type NativeSample, sampleMetrics } from "../../src/platform/native.js";
import { until } from "../support/wait.js";

const fixture = JSON.parse(
  readFileSync(new URL("./fixtures/ioreport-m-series.json", import.meta.url), "utf8"),
) as { a: NativeSample; b: NativeSample };

function relClose(actual: number | undefined, expected: number): void {
  expect(actual).toBeDefined();
  expect(Math.abs(actual! - expected) / Math.abs(expected)).toBeLessThan(1e-9);
}

describe("pure arithmetic", () => {
  it("cpuPercent is busy ticks over all ticks; null when no tick elapsed", () => {
    expect(cpuPercent({ busy: 100, idle: 900 }, { busy: 130, idle: 970 })).toBe(30);
    expect(cpuPercent({ busy: 100, idle: 900 }, { busy: 100, idle: 900 })).toBeNull();
  });

  it("counterDelta handles increase, wraparound at max, and reset without max", () => {
    expect(counterDelta(10, 25, null)).toBe(15);
    expect(counterDelta(990, 5, 1000)).toBe(15);
    expect(counterDelta(990, 5, null)).toBeNull();
    expect(counterDelta(2000, 5, 1000)).toBeNull(); // prev beyond the range: not a wrap
  });

  it("energyToWatts converts by IOReport's unit label", () => {
    expect(energyToWatts(2500, "mJ", 0.5)).toBe(5);
    expect(energyToWatts(3_000_000, "uJ", 2)).toBe(1.5);
    relClose(energyToWatts(600_000_000, "nJ", 0.5), 1.2);
    expect(energyToWatts(1000, "mJ ", 1)).toBe(1); // IOReport pads its labels
    expect(joulesPerUnit("kJ")).toBeNull();
  });

  it("energyToWatts refuses an unknown unit and a non-positive interval", () => {
    expect(() => energyToWatts(1, "W", 1)).toThrow(expect.objectContaining({ code: Codes.METRICS_INVALID }));
    expect(() => energyToWatts(1, "mJ", 0)).toThrow(expect.objectContaining({ code: Codes.METRICS_INVALID }));
  });

  it("residencyActivePercent counts every state but IDLE/OFF/DOWN as active", () => {
    const prev = [
      { name: "IDLE", residency: 100 },
      { name: "V0P5", residency: 10 },
    ];
    const cur = [
      { name: "IDLE", residency: 160 },
      { name: "V0P5", residency: 50 },
    ];
    expect(residencyActivePercent(prev, cur)).toBe(40);
    expect(residencyActivePercent(cur, cur)).toBeNull();
    expect(residencyActivePercent(cur, prev)).toBeNull(); // went backwards
  });

  it("railWatts skips a counter nested in a counter of the same rail", () => {
    const w = railWatts([
      { rail: "cpu", zone: "intel-rapl:0", parent: "", watts: 10 },
      { rail: "cpu", zone: "intel-rapl:0:0", parent: "intel-rapl:0", watts: 7 },
      { rail: "gpu", zone: "intel-rapl:0:1", parent: "intel-rapl:0", watts: 1 },
      { rail: "cpu", zone: "intel-rapl:1", parent: "", watts: 5 },
    ]);
    expect(w).toEqual({ cpu: 15, gpu: 1 });
  });
});

describe("macOS readings from IOReport-shaped samples", () => {
  const r = computeReading(fixture.a, fixture.b);

  it("watts per rail by each channel's unit label over the measured 0.5 s", () => {
    expect(r.elapsedMs).toBe(500);
    expect(r.watts.cpu).toBe(5); // 2500 mJ / 0.5 s
    relClose(r.watts.gpu, 1.2); // 6e8 nJ / 0.5 s
    expect(r.watts.ane).toBe(0); // present and idle: 0, not absent
    relClose(r.watts.dram, 0.6); // 300000 uJ / 0.5 s
    expect("system" in r.watts).toBe(false);
  });

  it("state residencies become active %", () => {
    const byChannel = Object.fromEntries(r.residency.map((x) => [x.channel, x.activePercent]));
    expect(byChannel).toEqual({ ECPU0: 40, PCPU0: 10, GPUPH: 75 });
    expect(r.gpu).toEqual({ activePercent: 75 });
  });

  it("CPU %, memory and the missing temperature", () => {
    expect(r.cpu).toEqual({ percent: 50, cores: [80, 20] });
    expect(r.memory.usedPercent).toBe(75);
    expect(r.memory.pressureLevel).toBe("warn");
    expect(r.memory.pressure).toBeNull();
    expect(r.temperature).toEqual({ maxCelsius: null, zones: [] });
    expect(r.notes.some((n) => n.includes("temperature"))).toBe(true);
  });

  it("a rail the host lacks is absent, and samples out of order are refused", () => {
    const a = { ...fixture.a, energy: fixture.a.energy.filter((e) => e.rail !== "ane") };
    const b = { ...fixture.b, energy: fixture.b.energy.filter((e) => e.rail !== "ane") };
    expect("ane" in computeReading(a, b).watts).toBe(false);
    expect(() => computeReading(fixture.b, fixture.a)).toThrow(
      expect.objectContaining({ code: Codes.METRICS_INVALID }),
    );
  });

  it("an unknown unit label drops that counter with a note instead of guessing", () => {
    const odd = (s: NativeSample) => ({
      ...s,
      energy: s.energy.map((e) => (e.rail === "gpu" ? { ...e, unit: "kWh" } : e)),
    });
    const x = computeReading(odd(fixture.a), odd(fixture.b));
    expect("gpu" in x.watts).toBe(false);
    expect(x.notes.some((n) => n.includes("unknown energy unit 'kWh'"))).toBe(true);
  });
});

describe("Linux counters parsed by the addon from a /proc + /sys tree", () => {
  let root: string;
  const put = (rel: string, text: string) => {
    const p = join(root, rel);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, text);
  };
  const MAX = 262143328850;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "forge-metrics-root-"));
    put(
      "proc/stat",
      "cpu  100 10 50 1000 40 5 5 0 0 0\ncpu0 60 5 25 500 20 3 2 0 0 0\ncpu1 40 5 25 500 20 2 3 0 0 0\nintr 1\n",
    );
    put(
      "proc/meminfo",
      "MemTotal:       16000000 kB\nMemFree:            1000 kB\nMemAvailable:   12000000 kB\n",
    );
    put(
      "proc/pressure/memory",
      "some avg10=1.50 avg60=0.00 avg300=0.00 total=1000\nfull avg10=0.50 avg60=0.00 avg300=0.00 total=400\n",
    );
    put("sys/class/thermal/thermal_zone0/temp", "45000\n");
    put("sys/class/thermal/thermal_zone0/type", "x86_pkg_temp\n");
    put("sys/class/thermal/thermal_zone1/type", "acpitz\n"); // no temp: skipped with a note
    put("sys/class/thermal/thermal_zone2/temp", "30000\n");
    put("sys/class/thermal/thermal_zone2/type", "iwlwifi_1\n");
    put("sys/class/thermal/thermal_zone10/temp", "-5000\n");
    put("sys/class/thermal/thermal_zone10/type", "outside\n");
    const zone = (id: string, name: string, uj: number, max: number | null) => {
      put(`sys/class/powercap/${id}/name`, `${name}\n`);
      put(`sys/class/powercap/${id}/energy_uj`, `${uj}\n`);
      if (max !== null) put(`sys/class/powercap/${id}/max_energy_range_uj`, `${max}\n`);
    };
    zone("intel-rapl:0", "package-0", MAX - 1_000_000, MAX);
    zone("intel-rapl:0:0", "core", 1000, MAX);
    zone("intel-rapl:0:1", "uncore", 0, MAX);
    zone("intel-rapl:0:2", "dram", 5_000_000, null);
    zone("intel-rapl:1", "psys", 0, MAX);
    zone("intel-rapl-mmio:0", "package-0", 77, MAX); // mirrors package-0: must not be counted
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("parses /proc/stat, meminfo, PSI, thermal zones and RAPL zones", () => {
    const s = sampleMetrics(root);
    expect(s.cpu.total).toEqual({ busy: 170, idle: 1040 });
    expect(s.cpu.cores).toEqual([
      { busy: 95, idle: 520 },
      { busy: 75, idle: 520 },
    ]);
    expect(s.memory.totalBytes).toBe(16_000_000 * 1024);
    expect(s.memory.availableBytes).toBe(12_000_000 * 1024);
    expect(s.memory.usedBytes).toBe(4_000_000 * 1024);
    expect(s.memory.pressure).toEqual({
      someTotalUs: 1000,
      fullTotalUs: 400,
      someAvg10: 1.5,
      fullAvg10: 0.5,
    });
    expect(s.temperatures).toEqual([
      { zone: "thermal_zone0", type: "x86_pkg_temp", celsius: 45 },
      { zone: "thermal_zone2", type: "iwlwifi_1", celsius: 30 },
      { zone: "thermal_zone10", type: "outside", celsius: -5 },
    ]);
    expect(s.notes.some((n) => n.includes("thermal_zone1/temp: ENOENT"))).toBe(true);
    expect(s.energy.map((e) => [e.zone, e.rail, e.parent, e.unit, e.max])).toEqual([
      ["intel-rapl:0", "cpu", "", "uJ", MAX],
      ["intel-rapl:1", "system", "", "uJ", MAX],
      ["intel-rapl:0:0", "cpu", "intel-rapl:0", "uJ", MAX],
      ["intel-rapl:0:1", "gpu", "intel-rapl:0", "uJ", MAX],
      ["intel-rapl:0:2", "dram", "intel-rapl:0", "uJ", null],
    ]);
  });

  it("turns two samples into watts: wraparound, nesting, reset, and absent rails", () => {
    const a = sampleMetrics(root);
    put(
      "proc/stat",
      "cpu  200 10 100 1100 40 5 5 0 0 0\ncpu0 110 5 50 550 20 3 2 0 0 0\ncpu1 90 5 50 550 20 2 3 0 0 0\n",
    );
    put(
      "proc/pressure/memory",
      "some avg10=2.00 avg60=0.00 avg300=0.00 total=51000\nfull avg10=1.00 avg60=0.00 avg300=0.00 total=10400\n",
    );
    put("sys/class/powercap/intel-rapl:0/energy_uj", "500000\n"); // wrapped: +1.5 J
    put("sys/class/powercap/intel-rapl:0:0/energy_uj", "801000\n"); // +0.8 J, inside package
    put("sys/class/powercap/intel-rapl:0:1/energy_uj", "250000\n"); // +0.25 J
    put("sys/class/powercap/intel-rapl:0:2/energy_uj", "1000\n"); // went down, no range: reset
    put("sys/class/powercap/intel-rapl:1/energy_uj", "9000000\n"); // +9 J
    const b = sampleMetrics(root);
    expect(b.monotonicMs).toBeGreaterThan(a.monotonicMs);
    // The files changed instantly; pretend the samples were 1 s apart to get round figures.
    const r = computeReading(a, { ...b, monotonicMs: a.monotonicMs + 1000 });
    expect(r.cpu.percent).toBe(60); // 150 busy of 250 ticks
    expect(r.cpu.cores).toEqual([(100 * 75) / 125, (100 * 75) / 125]);
    relClose(r.watts.cpu, 1.5);
    relClose(r.watts.gpu, 0.25);
    relClose(r.watts.system, 9);
    expect("dram" in r.watts).toBe(false);
    expect("ane" in r.watts).toBe(false);
    expect(r.energy.find((e) => e.name === "core")?.watts).toBeCloseTo(0.8, 9);
    expect(r.notes.some((n) => n.includes("intel-rapl:0:2") && n.includes("backwards"))).toBe(true);
    expect(r.memory.pressure).toEqual({ somePercent: 5, fullPercent: 1, someAvg10: 2, fullAvg10: 1 });
    expect(r.temperature.maxCelsius).toBe(45);
  });

  it("an energy file this user may not read (0400, as on current kernels) leaves the rail absent", () => {
    const energy = join(root, "sys/class/powercap/intel-rapl:0:1/energy_uj");
    chmodSync(energy, 0o400);
    let s: NativeSample;
    if (process.getuid!() === 0) {
      // Root reads anything: sample from a child running as nobody, through the same addon.
      for (const d of [
        "",
        "proc",
        "proc/pressure",
        "sys",
        "sys/class",
        "sys/class/thermal",
        "sys/class/powercap",
      ]) {
        chmodSync(join(root, d), 0o755);
      }
      const script =
        "process.stdout.write(JSON.stringify(require(process.argv[1]).sampleMetrics(process.argv[2])))";
      const r = spawnSync(process.execPath, ["-e", script, defaultAddonPath(), root], {
        uid: 65534,
        gid: 65534,
        encoding: "utf8",
      });
      expect(r.stderr).toBe("");
      s = JSON.parse(r.stdout) as NativeSample;
    } else {
      s = sampleMetrics(root);
    }
    chmodSync(energy, 0o644);
    expect(s.energy.some((e) => e.rail === "gpu")).toBe(false);
    expect(s.energy.some((e) => e.rail === "cpu")).toBe(true);
    expect(s.notes.some((n) => n.includes("intel-rapl:0:1/energy_uj: EACCES"))).toBe(true);
  });

  it("unreadable energy files leave the rail absent with a note", () => {
    unlinkSync(join(root, "sys/class/powercap/intel-rapl:1/energy_uj"));
    const s = sampleMetrics(root);
    expect(s.energy.some((e) => e.rail === "system")).toBe(false);
    expect(s.notes.some((n) => n.includes("intel-rapl:1/energy_uj: ENOENT"))).toBe(true);
  });
});

/** /proc/stat's aggregate line, parsed here independently of the addon. */
function procCpu(): { busy: number; idle: number } {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1, 9)
    .map(Number);
  return { busy: user! + nice! + system! + irq! + softirq! + (steal ?? 0), idle: idle! + iowait! };
}

describe("a real reading on this host", () => {
  let busy: ChildProcess | undefined;
  afterEach(() => {
    busy?.kill("SIGKILL");
    busy = undefined;
  });

  it("during a busy loop, CPU % is within 10 points of /proc/stat over the same window", async () => {
    busy = spawn(process.execPath, ["-e", "const end = Date.now() + 30000; while (Date.now() < end) {}"], {
      stdio: "ignore",
    });
    // The loop is going once the child has run on a CPU for 10 clock ticks (/proc/PID/stat utime).
    const utime = () =>
      Number(readFileSync(`/proc/${busy!.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[11]);
    await until(() => utime() >= 10, "the busy loop to run");
    const before = procCpu();
    const reading = await readMetrics(1000);
    const after = procCpu();
    const reference =
      (100 * (after.busy - before.busy)) / (after.busy - before.busy + after.idle - before.idle);

    expect(reading.elapsedMs).toBeGreaterThanOrEqual(999);
    expect(reading.cpu.cores).toHaveLength(cpus().length);
    expect(reading.cpu.percent).not.toBeNull();
    // One of the cores is spinning the whole time.
    expect(reading.cpu.percent!).toBeGreaterThan(100 / cpus().length - 15);
    expect(Math.abs(reading.cpu.percent! - reference)).toBeLessThanOrEqual(10);
    expect(reading.memory.totalBytes).toBeGreaterThan(0);
  });

  it("readMetrics refuses an interval outside 50..600000 ms", async () => {
    for (const bad of [0, 10, 1.5, Number.NaN, 600_001]) {
      await expect(readMetrics(bad)).rejects.toMatchObject({ code: Codes.METRICS_INVALID });
    }
  });
});
