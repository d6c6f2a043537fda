/**
 * The JSON report of one `forge-agent bench` run: what `--json FILE` writes and what the
 * `benchmark` evidence record carries as its execution_result. One zod schema, so a report from
 * any host validates the same way (the dashboard and the tests parse it with `parseReport`).
 *
 * Numbers a suite could not compute (a percentile of no samples, a ratio over zero) are NaN in
 * memory and `null` here: JSON has no NaN, and a missing figure must not read as 0.
 */
import { z } from "zod";

/** The report format's name and version; bump the number on an incompatible change. */
export const REPORT_FORMAT = "forge-agent.bench/1";

/** The session of every `benchmark` record (src/protocol/benchmark.ts, which builds the record). */
export { BENCH_SESSION_ID } from "../src/protocol/benchmark.js";

const num = z.number().nullable();
const Rfc3339 = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/, "RFC 3339 UTC");

export const StatsSchema = z.strictObject({
  n: z.number().int().nonnegative(),
  median: num,
  p99: num,
  min: num,
  max: num,
});

export const TargetSchema = z.strictObject({
  text: z.string(),
  stat: z.enum(["median", "p99", "min", "max", "ratio", "value"]),
  op: z.enum(["<=", ">="]),
  value: z.number(),
});

export const MetricSchema = z.strictObject({
  name: z.string().min(1),
  unit: z.string(),
  stats: StatsSchema,
  baseline: z.strictObject({ name: z.string(), stats: StatsSchema }).optional(),
  ratio: num.optional(),
  ratio_of: z.string().optional(),
  target: TargetSchema.optional(),
  met: z.boolean().optional(),
  margin: num.optional(),
  notes: z.string().optional(),
});
export type MetricReport = z.infer<typeof MetricSchema>;

/**
 * ok: ran to the end; partial: interrupted, `metrics` hold what was measured before; skipped: a
 * dependency is absent here (`skipped` says why); error: the suite failed (`error` says how);
 * not_run: the run was interrupted before the suite started.
 */
export const SuiteStatus = z.enum(["ok", "partial", "skipped", "error", "not_run"]);
export type SuiteStatus = z.infer<typeof SuiteStatus>;

export const SuiteReportSchema = z
  .strictObject({
    suite: z.string().min(1),
    status: SuiteStatus,
    skipped: z.string().optional(),
    error: z.strictObject({ code: z.string(), message: z.string() }).optional(),
    partial: z.boolean().optional(),
    metrics: z.array(MetricSchema),
    /** Parts of a suite that could not run here (power rails, MLX), each with why. */
    skipped_parts: z.array(z.strictObject({ part: z.string(), why: z.string() })).default([]),
    info: z.record(z.string(), z.unknown()).optional(),
    /** Wall time the suite took, seconds (model load and warm-up included). */
    elapsed_s: z.number().nonnegative(),
  })
  .refine((s) => s.status !== "skipped" || typeof s.skipped === "string", {
    message: "a skipped suite says why",
    path: ["skipped"],
  })
  .refine((s) => s.status !== "error" || s.error !== undefined, {
    message: "a failed suite says how",
    path: ["error"],
  });
export type SuiteReport = z.infer<typeof SuiteReportSchema>;

export const MachineSchema = z.strictObject({
  hostname: z.string(),
  /** CPU brand string ("Apple M2 Pro", "Intel(R) Xeon(R) …"). */
  chip: z.string(),
  cores: z.strictObject({
    logical: z.number().int().positive(),
    physical: z.number().int().positive().nullable(),
    /** Apple Silicon P/E split where the OS reports it. */
    performance: z.number().int().nonnegative().nullable(),
    efficiency: z.number().int().nonnegative().nullable(),
  }),
  memory_bytes: z.number().int().positive(),
  os: z.strictObject({
    platform: z.string(),
    arch: z.string(),
    release: z.string(),
    /** Distribution or product name and version ("macOS 15.1", "Debian GNU/Linux 12"). */
    name: z.string(),
  }),
  node: z.strictObject({ version: z.string(), v8: z.string(), abi: z.string() }),
  addon: z.strictObject({
    path: z.string(),
    loaded: z.boolean(),
    /** Why it did not load. */
    error: z.string().optional(),
    abi: z.number().int().nullable(),
    mlx: z.boolean(),
    mlx_reason: z.string().optional(),
  }),
  backend: z.enum(["llama", "ollama", "openai"]),
  /** The model as given (--model), or the generated tiny model's description. */
  model: z.string(),
  /** sha256 of the GGUF file (llama), or the server's digest (ollama); null with the reason otherwise. */
  model_digest: z.string().nullable(),
  model_digest_note: z.string().optional(),
  model_bytes: z.number().int().nonnegative().nullable(),
  /** 1/5/15-minute load averages when the run started and ended: other work competes for the cores. */
  load_average: z.strictObject({
    start: z.array(z.number().nonnegative()).length(3),
    end: z.array(z.number().nonnegative()).length(3).nullable(),
  }),
  date: Rfc3339,
});
export type Machine = z.infer<typeof MachineSchema>;

/** What the run was asked to do: the benchmark record's proposed_action. */
export const IntentSchema = z.strictObject({
  suites: z.array(z.string().min(1)).min(1),
  duration_s: z.number().positive(),
  backend: z.enum(["llama", "ollama", "openai"]),
  model: z.string().nullable(),
});
export type Intent = z.infer<typeof IntentSchema>;

export const ReportSchema = z.strictObject({
  format: z.literal(REPORT_FORMAT),
  intent: IntentSchema,
  started_at: Rfc3339,
  finished_at: Rfc3339,
  /** True when the run was interrupted: some suite is partial or not_run. */
  partial: z.boolean(),
  machine: MachineSchema,
  suites: z.array(SuiteReportSchema),
  summary: z.strictObject({
    targets: z.number().int().nonnegative(),
    met: z.number().int().nonnegative(),
    missed: z.number().int().nonnegative(),
    /** Suite names per status. */
    skipped: z.array(z.string()),
    errors: z.array(z.string()),
  }),
  /** Where the run's evidence record went; absent inside the record itself. */
  record: z
    .strictObject({
      written: z.boolean(),
      path: z.string().optional(),
      host_id: z.string().optional(),
      seq: z.number().int().positive().optional(),
      hash: z.string().optional(),
      reason: z.string().optional(),
    })
    .optional(),
});
export type Report = z.infer<typeof ReportSchema>;

/** Validates a report (parsed JSON); throws a ZodError naming the first bad field. */
export function parseReport(value: unknown): Report {
  return ReportSchema.parse(value);
}

/** NaN/±Infinity become null (as JSON.stringify would), so a value validates and canonicalises. */
export function jsonSafe<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? null : v)),
  );
}
