/**
 * The runner behind `forge-agent bench`: runs the chosen suites one after another in this process,
 * each in its own scratch directory, passes them an AbortSignal, turns absent dependencies into
 * "skipped: why", adds power and MLX figures to the inference suite, and assembles the report
 * (bench/report.ts). Printing, flags and the evidence record belong to src/cli/bench.ts.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Codes, hasForgeCode } from "../src/errors.js";
import { computeReading } from "../src/platform/metrics.js";
import { mlxMemory, type NativeSample, type Rail, sampleMetrics } from "../src/platform/native.js";
import {
  formatSuite,
  type Metric,
  repeated,
  type Suite,
  type SuiteResult,
  stats,
  verdict,
  wrapLine,
} from "./harness.js";
import { describeMachine } from "./machine.js";
import {
  type Intent,
  jsonSafe,
  type Machine,
  REPORT_FORMAT,
  type Report,
  ReportSchema,
  type SuiteReport,
} from "./report.js";

/** What `forge-agent bench` runs when --suite is not given, in this order. */
export const DEFAULT_SUITES = ["gate", "socket", "evidence", "inference", "metrics"] as const;
/** Every suite --suite accepts (shipping, fleet, registry and executor need more time, processes or tools; drift is the detector's evaluation; opt in). */
export const KNOWN_SUITES: readonly string[] = [
  ...DEFAULT_SUITES,
  "shipping",
  "fleet",
  "registry",
  "drift",
  "executor",
  "training",
  "mcp",
  "openai-facade",
  "signing",
];

export type Backend = "llama" | "ollama" | "openai";

const DEFAULT_HOSTS: Record<Exclude<Backend, "llama">, string> = {
  ollama: "http://127.0.0.1:11434",
  openai: "http://127.0.0.1:8080",
};

/** Progress callbacks; all optional. `index` counts from 0. */
export interface RunEvents {
  suiteStart?(name: string, index: number, count: number): void;
  progress?(name: string, fraction: number, label: string): void;
  suiteEnd?(report: SuiteReport, index: number, count: number): void;
}

export interface RunOptions {
  suites: readonly string[];
  /** Seconds of measurement per metric, roughly (each suite decides its floor). */
  durationS: number;
  backend: Backend;
  /** The model as the user named it (GGUF path for llama, a model name otherwise); undefined: tiny model. */
  model?: string;
  /** ollama/openai base URL; default the backend's usual port on 127.0.0.1. */
  inferenceHost?: string;
  signal: AbortSignal;
  events?: RunEvents;
  /** Loads a suite by name; default: loadSuite (bench/<name>.js next to this file). */
  load?: (name: string, sel: SuiteSelection) => Promise<Suite>;
  /** Parent of the run's scratch directory; default os.tmpdir(). */
  tmpRoot?: string;
  /** The machine record; default: describeMachine() (tests pass one to stay fast). */
  machine?: (modelPath: string | undefined) => Promise<Machine>;
  /** Where power samples come from; default the native addon (tests pass recorded samples). */
  sampler?: () => NativeSample;
  /** Runs of each suite, one after the other, folded with their spread (harness.ts combineRuns). Default 1; the CLI's --repeat defaults to 3. */
  repeats?: number;
}

/** Which engine the inference suite measures. */
export interface SuiteSelection {
  backend: Backend;
  inferenceHost?: string;
  model?: string;
}

/**
 * Imports bench/<name>.js and returns its `suite`. Names are checked against KNOWN_SUITES first.
 * The inference suite against a model server (ollama, openai) is bench/inference-remote.js.
 */
export async function loadSuite(name: string, sel?: SuiteSelection): Promise<Suite> {
  if (!KNOWN_SUITES.includes(name)) throw new Error(`unknown suite '${name}'`);
  if (name === "inference" && sel !== undefined && sel.backend !== "llama") {
    const backend = sel.backend;
    const { remoteInferenceSuite } = await import("./inference-remote.js");
    return remoteInferenceSuite({
      backend,
      host: sel.inferenceHost ?? DEFAULT_HOSTS[backend],
      model: sel.model ?? "",
    });
  }
  const mod = (await import(new URL(`./${name}.js`, import.meta.url).href)) as { suite?: Suite };
  if (typeof mod.suite !== "function") throw new Error(`bench/${name} does not export a suite`);
  return mod.suite;
}

/** Runs the suites and returns the report (validated). Never throws for a suite's failure. */
export async function runBench(o: RunOptions): Promise<Report> {
  const started_at = new Date().toISOString();
  const scratch = mkdtempSync(join(o.tmpRoot ?? tmpdir(), "forge-bench-"));
  const load = o.load ?? loadSuite;
  const inferenceHost = o.inferenceHost ?? (o.backend === "llama" ? undefined : DEFAULT_HOSTS[o.backend]);
  try {
    // The llama backend's default model is the generated tiny model: made once here so the
    // machine record can carry its digest and the inference suite loads the same file.
    let modelPath = o.backend === "llama" ? o.model : undefined;
    if (o.backend === "llama" && modelPath === undefined && o.suites.includes("inference")) {
      const { ensureTinyModel } = await import("../src/inference/tiny-model.js");
      modelPath = ensureTinyModel(join(scratch, "model"));
    }
    const machine = await (
      o.machine ??
      ((path) =>
        describeMachine({
          backend: o.backend,
          model: o.model,
          ...(path === undefined ? {} : { modelPath: path }),
          ...(inferenceHost === undefined ? {} : { inferenceHost }),
          defaultModelName: "tiny smoke-test model (generated, random weights)",
        }))
    )(modelPath);

    const suites: SuiteReport[] = [];
    for (let i = 0; i < o.suites.length; i++) {
      const name = o.suites[i]!;
      o.events?.suiteStart?.(name, i, o.suites.length);
      const r = await runOne(name, load, {
        ...o,
        ...(inferenceHost === undefined ? {} : { inferenceHost }),
        modelPath,
        scratch,
      });
      suites.push(r);
      o.events?.suiteEnd?.(r, i, o.suites.length);
    }

    const metrics = suites.flatMap((s) => s.metrics);
    const intent: Intent = {
      suites: [...o.suites],
      duration_s: o.durationS,
      backend: o.backend,
      model: o.model ?? null,
    };
    return ReportSchema.parse(
      jsonSafe({
        format: REPORT_FORMAT,
        intent,
        started_at,
        finished_at: new Date().toISOString(),
        partial: suites.some((s) => s.status === "partial" || s.status === "not_run"),
        machine: { ...machine, load_average: { ...machine.load_average, end: loadavg() } },
        suites,
        summary: {
          targets: metrics.filter((m) => m.met !== undefined).length,
          met: metrics.filter((m) => m.met === true).length,
          missed: metrics.filter((m) => m.met === false).length,
          skipped: suites.filter((s) => s.status === "skipped").map((s) => s.suite),
          errors: suites.filter((s) => s.status === "error").map((s) => s.suite),
        },
      }),
    );
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

type OneOptions = RunOptions & { modelPath: string | undefined; scratch: string };

async function runOne(
  name: string,
  load: (name: string, sel: SuiteSelection) => Promise<Suite>,
  o: OneOptions,
): Promise<SuiteReport> {
  const t0 = performance.now();
  const done = (
    r: Omit<SuiteReport, "elapsed_s" | "skipped_parts"> & { skipped_parts?: SuiteReport["skipped_parts"] },
  ) => jsonSafe({ skipped_parts: [], ...r, elapsed_s: (performance.now() - t0) / 1000 }) as SuiteReport;
  if (o.signal.aborted) return done({ suite: name, status: "not_run", metrics: [] });

  const absent = await missingDependency(name, o);
  if (absent !== null) return done({ suite: name, status: "skipped", skipped: absent, metrics: [] });

  const tmpDir = join(o.scratch, name);
  mkdirSync(tmpDir, { recursive: true });
  const power = name === "inference" ? new GenerationPower(o.sampler ?? sampleMetrics) : null;
  // The suite gets the file to load (llama) or the server's model name (ollama).
  const model = o.modelPath ?? o.model;
  try {
    const suite = await load(name, {
      backend: o.backend,
      ...(o.inferenceHost === undefined ? {} : { inferenceHost: o.inferenceHost }),
      ...(o.model === undefined ? {} : { model: o.model }),
    });
    const result = await repeated(
      suite,
      o.repeats ?? 1,
    )({
      durationS: o.durationS,
      signal: o.signal,
      progress: (fraction, label) => {
        power?.observe(label);
        o.events?.progress?.(name, fraction, label);
      },
      backend: o.backend,
      ...(model === undefined ? {} : { model }),
      tmpDir,
    });
    if (result.skipped !== undefined)
      return done({ suite: name, status: "skipped", skipped: result.skipped, metrics: [], ...info(result) });
    const partial = result.partial === true || o.signal.aborted;
    const out: SuiteReport = done({
      suite: name,
      status: partial ? "partial" : "ok",
      ...(partial ? { partial: true } : {}),
      metrics: partial ? result.metrics.map(unjudged) : result.metrics,
      ...info(result),
    });
    if (power !== null) addInferenceExtras(out, result, power);
    return out;
  } catch (err) {
    const skip = dependencyError(err);
    if (skip !== null) return done({ suite: name, status: "skipped", skipped: skip, metrics: [] });
    if (o.signal.aborted)
      return done({
        suite: name,
        status: "partial",
        partial: true,
        metrics: [],
        info: { interrupted: (err as Error).message },
      });
    const e = err as Error & { code?: unknown };
    return done({
      suite: name,
      status: "error",
      error: {
        code: typeof e.code === "string" ? e.code : Codes.INTERNAL,
        message: e.message ?? String(err),
      },
      metrics: [],
    });
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}

/**
 * An interrupted measurement keeps its figures but is not held to a target: a p99 of a handful of
 * samples says nothing about the p99 the target means.
 */
function unjudged(m: Metric): Metric {
  if (m.target === undefined) return m;
  const { met: _met, margin: _margin, ...rest } = m;
  const note = "not judged: interrupted before the measurement ended";
  return { ...rest, notes: m.notes === undefined ? note : `${m.notes}; ${note}` };
}

function info(r: SuiteResult): { info?: Record<string, unknown> } {
  return r.info === undefined ? {} : { info: r.info };
}

/** Why a suite cannot run on this host (checked before it starts), or null. */
async function missingDependency(name: string, o: OneOptions): Promise<string | null> {
  if (name === "inference" && o.backend !== "llama") {
    const host = o.inferenceHost ?? DEFAULT_HOSTS[o.backend];
    const path = o.backend === "ollama" ? "/api/version" : "/v1/models";
    const server = o.backend === "ollama" ? "Ollama server" : "OpenAI-compatible server";
    try {
      await fetch(new URL(path, host), { signal: AbortSignal.timeout(2000) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      return `no ${server} at ${host} (${cause}); start one or pass --inference-host URL`;
    }
  }
  return null;
}

/** A failure that means "a dependency is absent here" (skip), as opposed to a bug (error). */
function dependencyError(err: unknown): string | null {
  if (hasForgeCode(err) && (err.code === Codes.NATIVE_UNAVAILABLE || err.code === Codes.BACKEND_UNAVAILABLE))
    return err.message;
  const e = err as { code?: unknown; message?: string };
  if (e?.code === "ERR_MODULE_NOT_FOUND") {
    const pkg = /Cannot find package '([^']+)'/.exec(e.message ?? "")?.[1];
    if (pkg !== undefined) return `package ${pkg} is not installed here (npm i ${pkg})`;
  }
  return null;
}

/** The label the inference suite reports after each measured round (bench/inference.ts). */
const ROUND_LABEL = "inference rounds";

/**
 * Energy over the inference suite's measured generation: a platform sample at the first and at
 * the last round report, so model load and warm-up fall outside the window. Each round is one
 * direct and one governed request.
 */
export class GenerationPower {
  private first: NativeSample | undefined;
  private last: NativeSample | undefined;
  private rounds = 0;
  private failure: string | undefined;

  constructor(private readonly sample: () => NativeSample) {}

  observe(label: string): void {
    if (label !== ROUND_LABEL || this.failure !== undefined) return;
    try {
      const s = this.sample();
      if (this.first === undefined) this.first = s;
      else {
        this.last = s;
        this.rounds++;
      }
    } catch (err) {
      this.failure = (err as Error).message;
    }
  }

  /** Watts per rail and tokens per joule over the window, or why not ("no power rails …"). */
  result(tokensPerRound: number): { metrics: Metric[] } | { skipped: string } {
    if (this.failure !== undefined) return { skipped: `no platform sampler: ${this.failure}` };
    const a = this.first;
    const b = this.last;
    if (a === undefined || b === undefined)
      return { skipped: "fewer than two measured generation rounds: no window to measure power over" };
    if (a.energy.length === 0) {
      const why = a.notes.filter((n) => /energy|powercap|rapl|ioreport/i.test(n));
      return {
        skipped: `no power rails on this host (no readable RAPL powercap zone or IOReport energy channel)${why.length ? `: ${why.join("; ")}` : ""}`,
      };
    }
    const reading = computeReading(a, b);
    const rails = Object.entries(reading.watts) as Array<[Rail, number]>;
    if (rails.length === 0)
      return { skipped: `energy counters gave no usable delta: ${reading.notes.join("; ")}` };
    const seconds = reading.elapsedMs / 1000;
    // psys ("system") already holds every other rail; without it the rails are disjoint and add up.
    const watts = reading.watts.system ?? rails.reduce((sum, [, w]) => sum + w, 0);
    const joules = watts * seconds;
    const tokens = this.rounds * tokensPerRound;
    const metrics: Metric[] = rails.map(([rail, w]) => ({
      name: `power, ${rail} rail, during generation`,
      unit: "W",
      stats: stats([w]),
      notes: `average over ${seconds.toFixed(2)} s of generation rounds`,
    }));
    metrics.push({
      name: "tokens per joule (generation)",
      unit: "tok/J",
      stats: stats([tokens / joules]),
      notes: `${tokens} tokens in ${this.rounds} rounds (${tokensPerRound} a round: both sides' requested tokens), ${joules.toFixed(2)} J (${reading.watts.system === undefined ? "sum of rails" : "system rail"})`,
    });
    return { metrics };
  }
}

/** Power per rail, tokens per joule, and MLX peak memory where they exist; else why not. */
function addInferenceExtras(out: SuiteReport, result: SuiteResult, power: GenerationPower): void {
  const inf = result.info ?? {};
  // Tokens a request generates: the suite's own count where it gives one, else what it asked for.
  const perRequest = Number(inf.generated_per_request ?? inf.tokens ?? Number.NaN);
  const p = power.result(2 * perRequest);
  if ("skipped" in p) out.skipped_parts.push({ part: "power", why: `skipped: ${p.skipped}` });
  else out.metrics.push(...(jsonSafe(p.metrics) as SuiteReport["metrics"]));
  let mlx: ReturnType<typeof mlxMemory>;
  try {
    mlx = mlxMemory();
  } catch (err) {
    mlx = { available: false, reason: (err as Error).message };
  }
  if (mlx.available) {
    out.metrics.push(
      jsonSafe({
        name: "MLX peak memory",
        unit: "MB",
        stats: stats([mlx.peak / 2 ** 20]),
        notes: `MLX allocator in this process: active ${(mlx.active / 2 ** 20).toFixed(1)} MB, cache ${(mlx.cache / 2 ** 20).toFixed(1)} MB`,
      }) as SuiteReport["metrics"][number],
    );
  } else out.skipped_parts.push({ part: "mlx", why: `skipped: ${mlx.reason}` });
}

/** The report as text, at most 120 columns: one table per suite, the parts skipped, then the targets and whether each was met. */
export function formatReport(r: Report): string {
  const m = r.machine;
  const lines = [
    `forge-agent bench ${r.started_at}${r.partial ? "  (PARTIAL: interrupted)" : ""}`,
    `machine: ${m.chip}, ${m.cores.logical} logical cores, ${(m.memory_bytes / 2 ** 30).toFixed(1)} GiB, ${m.os.name} (${m.os.platform} ${m.os.arch} ${m.os.release}), Node ${m.node.version}`,
    `addon: ${m.addon.loaded ? `${m.addon.path} (ABI ${m.addon.abi}, MLX ${m.addon.mlx ? "compiled in" : "not compiled in"})` : `not loaded: ${m.addon.error}`}`,
    `backend: ${m.backend}, model: ${m.model}, digest: ${m.model_digest ?? `none (${m.model_digest_note})`}`,
    `load average (1/5/15 min): ${m.load_average.start.map((x) => x.toFixed(2)).join(" ")} at start${m.load_average.end ? `, ${m.load_average.end.map((x) => x.toFixed(2)).join(" ")} at end` : ""}`,
    "",
  ];
  for (const s of r.suites) {
    if (s.status === "not_run") lines.push(`${s.suite}: not run (interrupted)`);
    else if (s.status === "error") lines.push(`${s.suite}: ERROR ${s.error!.code}: ${s.error!.message}`);
    else lines.push(formatSuite(toHarness(s)));
    for (const p of s.skipped_parts) lines.push(`  ${p.part}: ${p.why}`);
    lines.push("");
  }
  lines.push(
    `targets: ${r.summary.met} of ${r.summary.targets} met${r.summary.missed ? `, ${r.summary.missed} missed` : ""}`,
  );
  for (const s of r.suites) {
    for (const x of s.metrics) {
      if (x.target === undefined) continue;
      const v =
        x.met === undefined
          ? `not judged (${s.status === "partial" ? "interrupted" : "no figure"})`
          : `${x.met ? "met" : "MISSED"}: ${verdict(x as Metric).replace(/^(yes|NO): /, "")}`;
      lines.push(`  ${s.suite}: ${x.name}: ${x.target.text}: ${v}`);
    }
  }
  // At most TABLE_WIDTH columns: a longer header or target line wraps (the tables already fit).
  return lines.flatMap((l) => l.split("\n").flatMap(wrapLine)).join("\n");
}

/** The harness's in-memory shape (NaN for a missing figure) from the report's (null). */
function toHarness(s: SuiteReport): SuiteResult {
  const n = (v: number | null | undefined) => (v === null || v === undefined ? Number.NaN : v);
  const st = (x: SuiteReport["metrics"][number]["stats"]) => ({
    n: x.n,
    median: n(x.median),
    p99: n(x.p99),
    min: n(x.min),
    max: n(x.max),
  });
  return {
    suite: s.suite,
    ...(s.skipped === undefined ? {} : { skipped: s.skipped }),
    ...(s.status === "partial" ? { partial: true } : {}),
    metrics: s.metrics.map((m) => ({
      ...m,
      stats: st(m.stats),
      ...(m.baseline ? { baseline: { name: m.baseline.name, stats: st(m.baseline.stats) } } : {}),
      ...(m.ratio === undefined ? {} : { ratio: n(m.ratio) }),
      ...(m.margin === undefined ? {} : { margin: n(m.margin) }),
    })) as Metric[],
  };
}
