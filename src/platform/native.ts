/**
 * The one boundary to the native addon (native/ → native/build/Release/forge_native.node).
 * Every export is typed here and nothing else loads the .node file. Errors the addon throws carry
 * a stable `code` (FORGE_NATIVE_*); here they become ForgeErrors with the same code.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Codes, ForgeError, isForgeCode } from "../errors.js";

/** The process at the other end of a Unix socket. */
export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** Cumulative CPU time in ticks (`NativeSample.ticksPerSecond` a second). */
export interface CpuTicks {
  busy: number;
  idle: number;
}

/** cpu/gpu/ane/dram as docs/design.md names them; "system" is Linux RAPL psys (the whole platform). */
export type Rail = "cpu" | "gpu" | "ane" | "dram" | "system";

/** Energy units the sources use: RAPL is "uJ"; IOReport labels its channels "mJ", "uJ" or "nJ". */
export type EnergyUnit = "mJ" | "uJ" | "nJ";

/** A cumulative energy counter. */
export interface EnergyCounter {
  rail: Rail;
  /** The source's own name: RAPL zone name ("package-0") or IOReport channel ("CPU Energy"). */
  name: string;
  /** Stable id of the source ("intel-rapl:0", "Energy Model/CPU Energy"). */
  zone: string;
  /** Zone id of the enclosing counter ("" if none): RAPL "core" sits inside "package". */
  parent: string;
  /** Unit label as the source gives it; normally an EnergyUnit. */
  unit: string;
  value: number;
  /** Value at which the counter wraps to 0 (RAPL max_energy_range_uj); null if it does not wrap. */
  max: number | null;
}

/** Cumulative residency of each state of one IOReport state channel (macOS "CPU Stats"/"GPU Stats"). */
export interface StateResidency {
  group: string;
  subgroup: string;
  channel: string;
  states: Array<{ name: string; residency: number }>;
}

export interface TemperatureZone {
  zone: string;
  type: string;
  celsius: number;
}

export interface MemoryCounters {
  totalBytes: number;
  availableBytes: number;
  usedBytes: number;
  /** Linux PSI /proc/pressure/memory: cumulative stall µs and the kernel's 10 s averages (%). */
  pressure: { someTotalUs: number; fullTotalUs: number; someAvg10: number; fullAvg10: number } | null;
  /** macOS kern.memorystatus_vm_pressure_level. */
  pressureLevel: "normal" | "warn" | "critical" | null;
}

/** One sample of cumulative counters; `metrics.ts` turns two of them into a Reading. */
export interface NativeSample {
  platform: "linux" | "darwin";
  /** CLOCK_MONOTONIC when taken, in ms (fractional). */
  monotonicMs: number;
  ticksPerSecond: number;
  cpu: { total: CpuTicks; cores: CpuTicks[] };
  memory: MemoryCounters;
  temperatures: TemperatureZone[];
  energy: EnergyCounter[];
  residencies: StateResidency[];
  /** Optional sources that could not be read, and why ("…/energy_uj: EACCES"). */
  notes: string[];
}

export type MlxMemory =
  | { available: true; active: number; peak: number; cache: number }
  | { available: false; reason: string };

/** The addon's exports, exactly. */
export interface NativeAddon {
  abi: number;
  peerCredentials(fd: number): PeerCredentials;
  /** `root` (absolute, Linux only) prefixes /proc and /sys; tests point it at a directory tree. */
  sampleMetrics(root?: string): NativeSample;
  mlxMemory(): MlxMemory;
}

/** The ABI this file types; native/src/addon.cc sets the same number. */
export const NATIVE_ABI = 2;
const ADDON_RELATIVE = join("native", "build", "Release", "forge_native.node");

/** Finds the built addon by walking up from this file (src/platform or dist/src/platform). */
export function defaultAddonPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, ADDON_RELATIVE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), "..", "..", ADDON_RELATIVE);
}

/** Loads an addon file and checks its ABI; FORGE_NATIVE_UNAVAILABLE if it is missing or stale. */
export function loadAddon(file: string): NativeAddon {
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (err) {
    throw new ForgeError(
      Codes.NATIVE_UNAVAILABLE,
      `the native addon could not be loaded from ${file} (${(err as Error).message}): run npm install to build it`,
      { cause: err },
    );
  }
  if (addon.abi !== NATIVE_ABI) {
    throw new ForgeError(
      Codes.NATIVE_UNAVAILABLE,
      `the native addon at ${file} has ABI ${String(addon.abi)}, this code needs ${NATIVE_ABI}: run npm install to rebuild it`,
    );
  }
  return addon;
}

let cached: NativeAddon | undefined;

/** The addon, loaded once. Throws FORGE_NATIVE_UNAVAILABLE ("run npm install") if it is not built. */
export function native(): NativeAddon {
  cached ??= loadAddon(defaultAddonPath());
  return cached;
}

/** Re-raises a native error as a ForgeError with the same code (and errno/syscall in details). */
function rethrow(err: unknown): never {
  const e = err as Error & { code?: unknown; errno?: unknown; syscall?: unknown };
  if (e instanceof Error && isForgeCode(e.code)) {
    const details = e.errno === undefined ? undefined : { errno: e.errno, syscall: e.syscall };
    throw new ForgeError(e.code, e.message, { cause: err, details });
  }
  throw err;
}

/** pid/uid/gid of the process at the other end of the connected Unix socket `fd`. */
export function peerCredentials(fd: number): PeerCredentials {
  try {
    return native().peerCredentials(fd);
  } catch (err) {
    rethrow(err);
  }
}

/** One sample of cumulative counters (CPU ticks, memory, temperatures, energy, residencies). */
export function sampleMetrics(root?: string): NativeSample {
  try {
    return root === undefined ? native().sampleMetrics() : native().sampleMetrics(root);
  } catch (err) {
    rethrow(err);
  }
}

/** MLX allocator bytes (active/peak/cache) when the addon was built with MLX; else why not. */
export function mlxMemory(): MlxMemory {
  try {
    return native().mlxMemory();
  } catch (err) {
    rethrow(err);
  }
}

// ---------------------------------------------------------------- shell parsing (the gate's)
// Built from native/src/shell/ when native/shell.cmake found the tree-sitter sources; an addon
// built without them lacks these two exports, and nativeShell() says so.

/** The bash grammar's symbol table, indexed by symbol id (as web-tree-sitter's `Language.types`). */
export interface ShellGrammar {
  /** Name of each visible symbol; null for hidden/auxiliary ones. */
  names: (string | null)[];
  /** Whether each symbol is a named node type. */
  named: boolean[];
  abiVersion: number;
  /** Words per node record in parseShellFlat's output, and words before the first record. */
  stride: number;
  header: number;
}

/**
 * One parse, flat: `[flags, count, …records]`, flags bit 0 = the tree has an error; each record is
 * `symbol, start, end, size, parent` in preorder (start/end in UTF-16 code units of `source`; size =
 * records in the subtree, itself included; parent = record index, 0xFFFFFFFF for the root).
 * With `out`, the words are written into it from `offset` instead, and the result is the offset
 * after them, or minus the number of words needed when they do not fit (nothing is written then).
 */
export interface ParseShellFlat {
  (source: string): Uint32Array;
  (source: string, out: Uint32Array, offset: number): number;
}

export interface NativeShell {
  grammar: ShellGrammar;
  parseShellFlat: ParseShellFlat;
}

/** The addon's shell parser, or FORGE_NATIVE_UNAVAILABLE (not built, or built without it). */
export function nativeShell(): NativeShell {
  const addon = native() as NativeAddon & {
    parseShellFlat?: ParseShellFlat;
    shellGrammar?: () => ShellGrammar;
  };
  const { parseShellFlat, shellGrammar } = addon;
  if (typeof parseShellFlat !== "function" || typeof shellGrammar !== "function") {
    throw new ForgeError(
      Codes.NATIVE_UNAVAILABLE,
      "the native addon was built without the shell parser (tree-sitter sources missing): run npm install",
    );
  }
  let grammar: ShellGrammar;
  try {
    grammar = shellGrammar();
  } catch (err) {
    rethrow(err);
  }
  // Errors keep their FORGE_NATIVE_* code (bad argument, internal).
  const parse = ((source: string, out?: Uint32Array, offset?: number) => {
    try {
      return out === undefined ? parseShellFlat(source) : parseShellFlat(source, out, offset!);
    } catch (err) {
      rethrow(err);
    }
  }) as ParseShellFlat;
  return { grammar, parseShellFlat: parse };
}
