/**
 * Turns two native samples of cumulative counters into one Reading: CPU %, watts per rail,
 * memory, temperature, and (macOS) state residencies as active %. Everything but readMetrics()
 * is pure arithmetic on recorded values, so the macOS maths is tested on any host.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Codes, ForgeError } from "../errors.js";
import {
  type CpuTicks,
  type EnergyCounter,
  type NativeSample,
  type Rail,
  type StateResidency,
  sampleMetrics,
  type TemperatureZone,
} from "./native.js";

/** One platform reading over a measured interval. JSON-serialisable (the heartbeat carries it). */
export interface Reading {
  platform: NativeSample["platform"];
  /** Measured time between the two samples, ms. */
  elapsedMs: number;
  /** Busy share of CPU time, 0–100, total and per core; null when no tick elapsed. */
  cpu: { percent: number | null; cores: Array<number | null> };
  /** Watts per rail. A rail this host has no counter for is absent, never 0. */
  watts: Partial<Record<Rail, number>>;
  /** Watts per counter the rails were summed from (RAPL zones, IOReport channels). */
  energy: Array<{ rail: Rail; name: string; zone: string; watts: number }>;
  memory: {
    totalBytes: number;
    usedBytes: number;
    availableBytes: number;
    usedPercent: number;
    /** Linux PSI over the interval: % of time some / all tasks stalled on memory; kernel 10 s averages. */
    pressure: { somePercent: number; fullPercent: number; someAvg10: number; fullAvg10: number } | null;
    /** macOS memory pressure level. */
    pressureLevel: "normal" | "warn" | "critical" | null;
  };
  temperature: { maxCelsius: number | null; zones: TemperatureZone[] };
  /** macOS IOReport state channels ("CPU Stats"/"GPU Stats") as active % over the interval. */
  residency: Array<{ group: string; subgroup: string; channel: string; activePercent: number }>;
  /** GPU active % (macOS "GPU Stats" GPUPH); null where the host does not report it. */
  gpu: { activePercent: number } | null;
  /** Why something is missing or was dropped (unreadable files, counter resets, unknown units). */
  notes: string[];
}

/** Busy % of CPU time between two cumulative tick samples; null if no tick elapsed. */
export function cpuPercent(a: CpuTicks, b: CpuTicks): number | null {
  const busy = b.busy - a.busy;
  const total = busy + (b.idle - a.idle);
  if (total <= 0 || busy < 0) return null;
  return clampPercent((100 * busy) / total);
}

/**
 * Increase of a cumulative counter. A counter that went down wrapped at `max` (RAPL's
 * max_energy_range_uj) when it has one; without one it was reset, and the delta is unknown (null).
 */
export function counterDelta(prev: number, cur: number, max: number | null): number | null {
  if (cur >= prev) return cur - prev;
  if (max !== null && max > 0 && prev <= max) return max - prev + cur;
  return null;
}

const JOULES_PER_UNIT: Record<string, number> = { mJ: 1e-3, uJ: 1e-6, µJ: 1e-6, nJ: 1e-9 };

/** Joules in one `unit` ("mJ", "uJ", "nJ"); null for a label this code does not know. */
export function joulesPerUnit(unit: string): number | null {
  return JOULES_PER_UNIT[unit.trim()] ?? null;
}

/** Average watts for `delta` energy in `unit` over `seconds`. Throws FORGE_METRICS_INVALID on an unknown unit. */
export function energyToWatts(delta: number, unit: string, seconds: number): number {
  const j = joulesPerUnit(unit);
  if (j === null)
    throw new ForgeError(Codes.METRICS_INVALID, `unknown energy unit '${unit}' (expected mJ, uJ or nJ)`);
  if (!(seconds > 0))
    throw new ForgeError(Codes.METRICS_INVALID, `elapsed time must be > 0 s, got ${seconds}`);
  return (delta * j) / seconds;
}

/** Residency state names that mean "not running" (CPU: IDLE, DOWN on some chips; GPU: OFF). */
export const IDLE_STATES: ReadonlySet<string> = new Set(["IDLE", "OFF", "DOWN"]);

/**
 * Active % of one state channel between two cumulative residency samples: time in states other
 * than IDLE/OFF/DOWN over time in all states. Null if nothing elapsed or a state went backwards.
 */
export function residencyActivePercent(
  prev: StateResidency["states"],
  cur: StateResidency["states"],
): number | null {
  const before = new Map(prev.map((s) => [s.name, s.residency]));
  let total = 0;
  let active = 0;
  for (const s of cur) {
    const d = s.residency - (before.get(s.name) ?? 0);
    if (d < 0) return null;
    total += d;
    if (!IDLE_STATES.has(s.name.trim().toUpperCase())) active += d;
  }
  return total > 0 ? clampPercent((100 * active) / total) : null;
}

/**
 * Watts per rail from per-counter watts. A counter nested in another counter of the same rail
 * (RAPL "core" inside "package") is already inside its parent's figure and is not added again.
 */
export function railWatts(
  counters: Array<{ rail: Rail; zone: string; parent: string; watts: number }>,
): Partial<Record<Rail, number>> {
  const railOfZone = new Map(counters.map((c) => [c.zone, c.rail]));
  const out: Partial<Record<Rail, number>> = {};
  for (const c of counters) {
    if (c.parent !== "" && railOfZone.get(c.parent) === c.rail) continue;
    out[c.rail] = (out[c.rail] ?? 0) + c.watts;
  }
  return out;
}

function clampPercent(p: number): number {
  return Math.min(100, Math.max(0, p));
}

function energyWatts(a: NativeSample, b: NativeSample, seconds: number, notes: string[]) {
  const before = new Map<string, EnergyCounter>(a.energy.map((c) => [c.zone, c]));
  const counters: Array<{ rail: Rail; name: string; zone: string; parent: string; watts: number }> = [];
  for (const c of b.energy) {
    const p = before.get(c.zone);
    if (p === undefined) continue; // appeared between the samples: no delta yet
    const delta = counterDelta(p.value, c.value, c.max);
    if (delta === null) {
      notes.push(`${c.zone}: energy counter went backwards without a wrap range; dropped`);
      continue;
    }
    if (joulesPerUnit(c.unit) === null) {
      notes.push(`${c.zone}: unknown energy unit '${c.unit}'; dropped`);
      continue;
    }
    counters.push({
      rail: c.rail,
      name: c.name,
      zone: c.zone,
      parent: c.parent,
      watts: energyToWatts(delta, c.unit, seconds),
    });
  }
  return counters;
}

/** The reading between two samples `a` (earlier) and `b` (later) of the same host. */
export function computeReading(a: NativeSample, b: NativeSample): Reading {
  const elapsedMs = b.monotonicMs - a.monotonicMs;
  if (!(elapsedMs > 0)) {
    throw new ForgeError(Codes.METRICS_INVALID, `samples must be in time order (elapsed ${elapsedMs} ms)`);
  }
  const seconds = elapsedMs / 1000;
  const notes = [...b.notes];

  if (a.cpu.cores.length !== b.cpu.cores.length) notes.push("CPU core count changed between samples");
  const cores = b.cpu.cores.map((c, i) =>
    a.cpu.cores[i] === undefined ? null : cpuPercent(a.cpu.cores[i]!, c),
  );

  const counters = energyWatts(a, b, seconds, notes);

  const m = b.memory;
  const pa = a.memory.pressure;
  const pb = m.pressure;
  const pressure =
    pa && pb
      ? {
          somePercent: clampPercent((100 * (pb.someTotalUs - pa.someTotalUs)) / (elapsedMs * 1000)),
          fullPercent: clampPercent((100 * (pb.fullTotalUs - pa.fullTotalUs)) / (elapsedMs * 1000)),
          someAvg10: pb.someAvg10,
          fullAvg10: pb.fullAvg10,
        }
      : null;

  const residency: Reading["residency"] = [];
  const earlier = new Map(a.residencies.map((r) => [`${r.group}/${r.subgroup}/${r.channel}`, r]));
  for (const r of b.residencies) {
    const p = earlier.get(`${r.group}/${r.subgroup}/${r.channel}`);
    const active = p === undefined ? null : residencyActivePercent(p.states, r.states);
    if (active !== null) {
      residency.push({ group: r.group, subgroup: r.subgroup, channel: r.channel, activePercent: active });
    }
  }
  const gpu = residency.find((r) => r.group === "GPU Stats" && r.channel === "GPUPH");

  const temps = b.temperatures;
  return {
    platform: b.platform,
    elapsedMs,
    cpu: { percent: cpuPercent(a.cpu.total, b.cpu.total), cores },
    watts: railWatts(counters),
    energy: counters.map(({ rail, name, zone, watts }) => ({ rail, name, zone, watts })),
    memory: {
      totalBytes: m.totalBytes,
      usedBytes: m.usedBytes,
      availableBytes: m.availableBytes,
      usedPercent: m.totalBytes > 0 ? (100 * m.usedBytes) / m.totalBytes : 0,
      pressure,
      pressureLevel: m.pressureLevel,
    },
    temperature: { maxCelsius: temps.length ? Math.max(...temps.map((t) => t.celsius)) : null, zones: temps },
    residency,
    gpu: gpu ? { activePercent: gpu.activePercent } : null,
    notes,
  };
}

export const MIN_INTERVAL_MS = 50;
export const MAX_INTERVAL_MS = 600_000;

/**
 * Samples twice, `intervalMs` apart (default 1000, 50–600000), and returns the reading between.
 * `root` is passed to the addon (Linux /proc and /sys prefix, for tests).
 */
export async function readMetrics(
  intervalMs = 1000,
  opts: { root?: string; signal?: AbortSignal } = {},
): Promise<Reading> {
  if (!Number.isInteger(intervalMs) || intervalMs < MIN_INTERVAL_MS || intervalMs > MAX_INTERVAL_MS) {
    throw new ForgeError(
      Codes.METRICS_INVALID,
      `interval must be a whole number of ms from ${MIN_INTERVAL_MS} to ${MAX_INTERVAL_MS}, got ${intervalMs}`,
    );
  }
  const a = sampleMetrics(opts.root);
  await sleep(intervalMs, undefined, { signal: opts.signal });
  const b = sampleMetrics(opts.root);
  return computeReading(a, b);
}
