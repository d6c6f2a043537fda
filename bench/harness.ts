/**
 * The one measuring kit every suite uses: sampling loops, percentiles, and the report shape.
 * Suites return figures; `forge-agent bench` and the standalone runners print them.
 */
import { Worker } from "node:worker_threads";

export interface Stats {
  n: number;
  median: number;
  p99: number;
  min: number;
  max: number;
}

export interface Target {
  /** Human form, e.g. "p99 <= 15 us". */
  text: string;
  /** Which statistic the target constrains. */
  stat: "median" | "p99" | "min" | "max" | "ratio" | "value";
  op: "<=" | ">=";
  value: number;
}

export interface Metric {
  name: string;
  unit: string;
  stats: Stats;
  /** A baseline measured in the same run, on the same machine. */
  baseline?: { name: string; stats: Stats };
  /** Our median over the baseline's median, or the suite's own definition (said in `ratio_of`). */
  ratio?: number;
  ratio_of?: string;
  target?: Target;
  met?: boolean;
  /** How far inside (positive) or outside (negative) the target, as a fraction of the target. */
  margin?: number;
  notes?: string;
  /** Set when the suite ran more than once (repeated): the figure every run gave, and how far apart. */
  spread?: Spread;
}

/** One figure across the runs of a repeated suite. */
export interface Spread {
  runs: number;
  /** Which figure: the target's statistic, else the ratio, else the median. */
  of: "median" | "p99" | "min" | "max" | "ratio" | "value";
  values: number[];
  min: number;
  max: number;
  /** (max - min) / |median of the values|: 0.1 means the runs lay within 10 % of each other. */
  relative: number;
}

export interface SuiteResult {
  suite: string;
  /** Set when the suite could not run here: "skipped: why". */
  skipped?: string;
  metrics: Metric[];
  /** Set when the run was interrupted: the metrics hold what was measured before. */
  partial?: boolean;
  info?: Record<string, unknown>;
}

export interface SuiteContext {
  /** Seconds of measurement per metric, roughly. */
  durationS: number;
  signal: AbortSignal;
  /** Fraction 0..1 of the suite done, and what it is doing. */
  progress: (fraction: number, label: string) => void;
  backend?: string;
  model?: string;
  /** Scratch directory the suite may use; removed by the runner. */
  tmpDir: string;
}

export type Suite = (ctx: SuiteContext) => Promise<SuiteResult>;

/** Nearest-rank percentile of an ascending-sorted array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function stats(samples: ArrayLike<number>): Stats {
  const s = Float64Array.from(samples as ArrayLike<number>).sort();
  return {
    n: s.length,
    median: percentile(s, 50),
    p99: percentile(s, 99),
    min: s.length ? s[0]! : Number.NaN,
    max: s.length ? s[s.length - 1]! : Number.NaN,
  };
}

/** Nanosecond clock as a number (safe for deltas). */
export const nowNs = (): number => Number(process.hrtime.bigint());

/**
 * Times `fn` repeatedly: `warmup` untimed calls, then timed calls until `seconds` pass or
 * `maxSamples` are taken or the signal aborts. Returns per-call microseconds.
 */
export function sampleSync(
  fn: (i: number) => unknown,
  opts: { seconds: number; warmup?: number; maxSamples?: number; signal?: AbortSignal },
): number[] {
  const warmup = opts.warmup ?? 1000;
  for (let i = 0; i < warmup; i++) fn(i);
  const out: number[] = [];
  const max = opts.maxSamples ?? 1_000_000;
  const end = nowNs() + opts.seconds * 1e9;
  for (let i = 0; out.length < max; i++) {
    const t0 = nowNs();
    fn(i);
    out.push((nowNs() - t0) / 1e3);
    if ((i & 255) === 0 && (nowNs() > end || opts.signal?.aborted)) break;
  }
  return out;
}

/** The async twin of sampleSync, one call at a time. */
export async function sampleAsync(
  fn: (i: number) => Promise<unknown>,
  opts: { seconds: number; warmup?: number; maxSamples?: number; signal?: AbortSignal },
): Promise<number[]> {
  const warmup = opts.warmup ?? 100;
  for (let i = 0; i < warmup; i++) await fn(i);
  const out: number[] = [];
  const max = opts.maxSamples ?? 1_000_000;
  const end = nowNs() + opts.seconds * 1e9;
  for (let i = 0; out.length < max; i++) {
    const t0 = nowNs();
    await fn(i);
    out.push((nowNs() - t0) / 1e3);
    if (nowNs() > end || opts.signal?.aborted) break;
  }
  return out;
}

/** Median of the per-round ratios: each round of one side against the round beside it of the other. */
export function pairedRatio<T>(a: T[], b: T[], pick: (r: T) => number): number {
  return stats(a.map((r, i) => pick(r) / pick(b[i]!))).median;
}

/**
 * A client on a worker thread (the agent is another process in real use, so its parsing competes
 * for a core, not for the measured event loop): the module at `url`, started with `data`, posts
 * "ready", then answers each posted request with one message (`{error}` when it failed).
 */
export async function startRequestWorker<Req, Res>(
  url: URL,
  data: Record<string, unknown>,
): Promise<{ request(req: Req): Promise<Res>; close(): Promise<number> }> {
  const worker = new Worker(url, { workerData: data });
  await new Promise<void>((resolve, reject) => {
    worker.once("message", () => resolve());
    worker.once("error", reject);
  });
  return {
    request: (req) =>
      new Promise((resolve, reject) => {
        worker.once("message", (m: Res | { error: string }) =>
          m !== null && typeof m === "object" && "error" in m
            ? reject(new Error(m.error))
            : resolve(m as Res),
        );
        worker.postMessage(req);
      }),
    close: () => worker.terminate(),
  };
}

/** Fills `target`/`met`/`margin` on a metric from the statistic the target names. */
export function judge(metric: Metric, target: Target): Metric {
  const v =
    target.stat === "ratio"
      ? metric.ratio
      : target.stat === "value"
        ? metric.stats.median
        : metric.stats[target.stat];
  if (v === undefined || Number.isNaN(v)) return { ...metric, target };
  const met = target.op === "<=" ? v <= target.value : v >= target.value;
  const margin = target.op === "<=" ? (target.value - v) / target.value : (v - target.value) / target.value;
  return { ...metric, target, met, margin };
}

/** The figure a metric is read by: its target's statistic, else its ratio, else its median. */
function keyFigure(m: Metric): { of: Spread["of"]; value: number } {
  const of: Spread["of"] = m.target?.stat ?? (m.ratio !== undefined ? "ratio" : "median");
  const v = of === "ratio" ? m.ratio : of === "value" ? m.stats.median : m.stats[of];
  return { of, value: v ?? Number.NaN };
}

/**
 * Folds the results of one suite run several times (in one process, one after the other) into one
 * result: each metric is the run whose key figure (keyFigure) is the median of the runs — its own
 * figures, baseline, ratio and verdict, all from that one run, so a ratio is never taken across
 * runs — with `spread` holding every run's key figure. A metric missing from some runs is folded
 * over the runs that have it.
 */
export function combineRuns(runs: readonly SuiteResult[]): SuiteResult {
  const first = runs[0]!;
  if (runs.length === 1 || first.skipped !== undefined) return first;
  const metrics = first.metrics.map((m0) => {
    const all = runs.flatMap((r) => r.metrics.filter((m) => m.name === m0.name));
    const keyed = all.map((m) => ({ m, k: keyFigure(m).value })).filter((x) => !Number.isNaN(x.k));
    if (keyed.length === 0) return m0;
    const sorted = [...keyed].sort((a, b) => a.k - b.k);
    const mid = sorted[(sorted.length - 1) >> 1]!;
    const values = keyed.map((x) => x.k);
    const min = sorted[0]!.k;
    const max = sorted[sorted.length - 1]!.k;
    const spread: Spread = {
      runs: keyed.length,
      of: keyFigure(mid.m).of,
      values,
      min,
      max,
      relative: mid.k === 0 ? 0 : (max - min) / Math.abs(mid.k),
    };
    return { ...mid.m, spread };
  });
  const partial = runs.some((r) => r.partial === true);
  return {
    suite: first.suite,
    metrics,
    ...(partial ? { partial: true } : {}),
    info: { ...(runs[runs.length - 1]!.info ?? {}), repeats: runs.length },
  };
}

/**
 * The suite run `n` times one after the other in this process (each in its own scratch
 * subdirectory), folded by combineRuns. Stops early when the signal aborts or a run is skipped.
 */
export function repeated(suite: Suite, n: number): Suite {
  if (n <= 1) return suite;
  return async (ctx) => {
    const { mkdirSync } = await import("node:fs");
    const { join } = await import("node:path");
    const runs: SuiteResult[] = [];
    for (let i = 0; i < n; i++) {
      const tmpDir = join(ctx.tmpDir, `run-${i + 1}`);
      mkdirSync(tmpDir, { recursive: true });
      const r = await suite({
        ...ctx,
        tmpDir,
        // The label is kept as is: bench/run.ts's power sampler counts inference rounds by it.
        progress: (f, label) => ctx.progress((i + f) / n, label),
      });
      runs.push(r);
      if (r.skipped !== undefined || r.partial === true || ctx.signal.aborted) break;
    }
    return combineRuns(runs);
  };
}

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return "-";
  if (Math.abs(n) >= 1000) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

/** The widest line `forge-agent bench` prints: its tables wrap to stay within it. */
export const TABLE_WIDTH = 120;

/**
 * Whether more is better for a metric's ratio: a `>=` ratio target, a ratio of rates (tok/s, MiB/s,
 * tok/J …), or one its suite defines so ("times faster", "higher is better").
 */
function higherIsBetter(m: Metric): boolean {
  if (m.target?.stat === "ratio") return m.target.op === ">=";
  if (/lower is better/.test(m.ratio_of ?? "")) return false;
  return /\/(s|J)$/.test(m.unit) || /times faster|higher is better/.test(m.ratio_of ?? "");
}

/** The ratio cell: the figure, and "(higher is better)" where it is (a latency ratio reads lower-better). */
export function ratioCell(m: Metric): string {
  if (m.ratio === undefined) return "-";
  return `${fmt(m.ratio)}${higherIsBetter(m) ? " (higher is better)" : ""}`;
}

/**
 * How a judged figure stands against its target, in words: "24% under the limit" for a `<=`
 * target (a maximum), "24% over the minimum" for a `>=` one; a miss says which way it went.
 */
export function verdict(m: Metric): string {
  if (m.met === undefined || m.margin === undefined || m.target === undefined) return "-";
  const pct = `${Math.abs(m.margin * 100).toFixed(0)}%`;
  if (m.target.op === "<=") return m.met ? `yes: ${pct} under the limit` : `NO: ${pct} over the limit`;
  return m.met ? `yes: ${pct} over the minimum` : `NO: ${pct} under the minimum`;
}

/**
 * A plain-text table of one suite's result, for people, at most TABLE_WIDTH columns: one row a
 * metric (median, p99, min..max, ratio, target, verdict), then an indented line with its baseline
 * and the spread of repeated runs; a metric name too long for its column gets a line of its own.
 */
export function formatSuite(r: SuiteResult): string {
  if (r.skipped) return `${r.suite}: skipped: ${r.skipped}`;
  const head = ["metric", "unit", "median", "p99", "min..max", "ratio", "target", "met"];
  const figures = r.metrics.map((m) => [
    m.unit,
    fmt(m.stats.median),
    fmt(m.stats.p99),
    `${fmt(m.stats.min)}..${fmt(m.stats.max)}`,
    ratioCell(m),
    m.target?.text ?? "-",
    verdict(m),
  ]);
  const widths = head.slice(1).map((h, i) => Math.max(h.length, ...figures.map((row) => row[i]!.length)));
  const rest = widths.reduce((a, w) => a + w + 2, 0);
  const nameWidth = Math.max(
    "metric".length,
    Math.min(Math.max(...r.metrics.map((m) => m.name.length), 0), TABLE_WIDTH - rest - 2),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(i === 0 ? nameWidth : widths[i - 1]!))
      .join("  ")
      .trimEnd();
  const out = [`${r.suite}${r.partial ? " (partial: interrupted)" : ""}`, line(head)];
  r.metrics.forEach((m, i) => {
    if (m.name.length > nameWidth) out.push(m.name, line(["", ...figures[i]!]));
    else out.push(line([m.name, ...figures[i]!]));
    const more: string[] = [];
    if (m.baseline)
      more.push(`baseline ${m.baseline.name}: median ${fmt(m.baseline.stats.median)} ${m.unit}`);
    if (m.spread)
      more.push(
        `${m.spread.runs} runs: ${m.spread.of} ${fmt(m.spread.min)}..${fmt(m.spread.max)} (${(m.spread.relative * 100).toFixed(0)}% apart)`,
      );
    if (more.length > 0) out.push(...wrapLine(`    ${more.join("; ")}`));
  });
  return out.join("\n");
}

/** A line wrapped at TABLE_WIDTH on spaces; continuation lines keep its indent plus two. */
export function wrapLine(line: string): string[] {
  if (line.length <= TABLE_WIDTH) return [line];
  const indent = `${/^ */.exec(line)![0]}  `;
  const lines: string[] = [];
  let cur = "";
  for (const w of line.trimStart().split(" ")) {
    const head = lines.length === 0 ? /^ */.exec(line)![0] : indent;
    if (cur !== "" && head.length + cur.length + 1 + w.length > TABLE_WIDTH) {
      lines.push(head + cur);
      cur = w;
    } else cur = cur === "" ? w : `${cur} ${w}`;
  }
  lines.push((lines.length === 0 ? /^ */.exec(line)![0] : indent) + cur);
  return lines;
}

/** Runs one suite standalone (`node dist/bench/<suite>.js`): prints the table, exits non-zero on error. */
/** Runs one suite outside `forge-agent bench`; BENCH_SECONDS and BENCH_REPEATS (default 3) as --duration and --repeat. */
export async function runStandalone(name: string, suite: Suite, durationS = 3): Promise<void> {
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const tmpDir = mkdtempSync(join(tmpdir(), `forge-bench-${name}-`));
  const ac = new AbortController();
  process.once("SIGINT", () => ac.abort());
  try {
    const r = await repeated(
      suite,
      Number(process.env.BENCH_REPEATS ?? 3),
    )({
      durationS: Number(process.env.BENCH_SECONDS ?? durationS),
      signal: ac.signal,
      progress: (f, label) => process.stderr.write(`[${name}] ${(f * 100).toFixed(0)}% ${label}\n`),
      tmpDir,
    });
    process.stdout.write(`${formatSuite(r)}\n`);
  } finally {
    rmSync(tmpDir, { recursive: true, force: true });
  }
}
