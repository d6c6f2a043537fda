/**
 * The training job file: YAML validated with zod, frozen once parsed. Errors name the file, the
 * line and the fix (FORGE_TRAINING_JOB_INVALID, exit 2). docs/training.md is the field reference.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { z } from "zod";
import { Codes, didYouMean, ForgeError } from "../errors.js";
import { parseYamlDoc } from "../gate/yaml-doc.js";

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256 (64 characters)");
const PosInt = z.number().int().positive();

/** The tiny-llama shape the project generates (src/inference/tiny-model.ts), by the issue's names. */
export const ShapeSchema = z
  .strictObject({
    layers: PosInt.max(64),
    width: PosInt.max(4096),
    heads: PosInt.max(64),
    /** Feed-forward width; default 2 × width. */
    ffn: PosInt.max(16384).optional(),
    context: PosInt.max(65536),
    /** The byte tokenizer's vocabulary (3 control + 256 bytes); only 259 is accepted. */
    vocab: z.literal(259).default(259),
  })
  .refine((s) => s.width % s.heads === 0 && (s.width / s.heads) % 2 === 0, {
    message: "width must split into 'heads' heads of even width (RoPE rotates pairs): e.g. width 64, heads 4",
  });

export const ModelSchema = z
  .strictObject({
    shape: ShapeSchema.optional(),
    /** A base GGUF path or `oci://HOST/REPO@sha256:…` to fine-tune (policy: unknown bases escalate). */
    base: z.string().min(1).optional(),
    seed: z.number().int().min(0).max(0xffffffff).default(0),
  })
  .refine((m) => (m.shape === undefined) !== (m.base === undefined), {
    message: "give exactly one of 'shape' (train from scratch) or 'base' (fine-tune)",
  });

export const DatasetSchema = z.strictObject({
  /** A local path (relative to the job file), `generated:corpus-v1`, or `oci://HOST/REPO@sha256:…`. */
  ref: z.string().min(1),
  /** The dataset bytes' sha256: always required. */
  sha256: Hex64,
});

export const HyperSchema = z.strictObject({
  learning_rate: z.number().positive().max(10),
  schedule: z.enum(["constant", "cosine", "linear"]).default("constant"),
  warmup_steps: z.number().int().nonnegative().default(0),
  batch: PosInt.max(4096),
  sequence: PosInt.max(65536),
  steps: PosInt.max(10_000_000),
  seed: z.number().int().min(0).max(0xffffffff).default(0),
});

export const BudgetsSchema = z.strictObject({
  max_parameters: PosInt.optional(),
  max_tokens: PosInt.optional(),
  max_steps: PosInt.optional(),
  max_wall_seconds: z.number().positive().optional(),
  max_memory_mb: z.number().positive().optional(),
  /** Only where the platform has power rails; a job declaring it on a host without rails is refused. */
  max_energy_joules: z.number().positive().optional(),
});

const Outcome = z.enum(["skip", "halt", "escalate"]);

export const AnomalySchema = z.strictObject({
  non_finite: z.strictObject({ action: Outcome }).optional(),
  spike: z
    .strictObject({
      /** Loss above factor × the rolling maximum of the window is a spike. */
      factor: z.number().gt(1),
      window: PosInt.default(100),
      /** Inactive until this many finite samples (Megatron: 100). */
      warmup: PosInt.default(100),
      action: Outcome,
    })
    .optional(),
  zscore: z
    .strictObject({
      sigma: z.number().positive(),
      window: PosInt.default(128),
      /** Inactive until this many finite samples (OLMo-core: 64). */
      min_samples: z.number().int().min(2).default(64),
      action: Outcome,
    })
    .optional(),
  /** How long an `escalate` waits for a review before it halts (deadline = deny). */
  review_deadline_seconds: z.number().positive().default(300),
});

export const InjectSchema = z.strictObject({
  step: PosInt,
  /** nan: the step's loss is NaN; spike: the loss is multiplied by `factor` (default 1000). */
  kind: z.enum(["nan", "spike"]),
  factor: z.number().positive().default(1000),
});

export const JobSchema = z.strictObject({
  job: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "job ids are lower-case words: a-z 0-9 . _ -"),
  model: ModelSchema,
  dataset: DatasetSchema,
  hyperparameters: HyperSchema,
  budgets: BudgetsSchema.default({}),
  anomaly: AnomalySchema.default({ review_deadline_seconds: 300 }),
  checkpoints: z.strictObject({ every: PosInt, dir: z.string().min(1).optional() }),
  trainer: z.enum(["embedded", "torch", "mlx"]).default("embedded"),
  inject: z.array(InjectSchema).default([]),
  export: z.strictObject({ gguf: z.string().min(1), type: z.enum(["f32", "f16"]).default("f32") }).optional(),
});

export type JobSpec = z.infer<typeof JobSchema>;
export type Shape = z.infer<typeof ShapeSchema>;

/** A parsed job: the spec plus where it came from (paths in it are relative to `dir`). */
export interface Job {
  spec: JobSpec;
  file: string;
  dir: string;
  /** sha256 of the job file's bytes. */
  sha256: string;
}

const KNOWN: Record<string, string[]> = {
  "": Object.keys(JobSchema.shape),
  model: ["shape", "base", "seed"],
  "model.shape": ["layers", "width", "heads", "ffn", "context", "vocab"],
  dataset: Object.keys(DatasetSchema.shape),
  hyperparameters: Object.keys(HyperSchema.shape),
  budgets: Object.keys(BudgetsSchema.shape),
  anomaly: Object.keys(AnomalySchema.shape),
  "anomaly.non_finite": ["action"],
  "anomaly.spike": ["factor", "window", "warmup", "action"],
  "anomaly.zscore": ["sigma", "window", "min_samples", "action"],
  inject: Object.keys(InjectSchema.shape),
  checkpoints: ["every", "dir"],
  export: ["gguf", "type"],
};

function invalid(message: string, details: Record<string, unknown>): ForgeError {
  return new ForgeError(Codes.TRAINING_JOB_INVALID, message, { details });
}

/** Parses and validates a job file's text; throws FORGE_TRAINING_JOB_INVALID naming file:line. */
export function parseJobText(text: string, file: string): JobSpec {
  const name = basename(file);
  const { js, lineOf, keyLine } = parseYamlDoc(text, file, name, invalid);
  const r = JobSchema.safeParse(js);
  if (r.success) return r.data;
  const issue = r.error.issues.find((i) => i.code === "unrecognized_keys") ?? r.error.issues[0]!;
  const path = issue.path as (string | number)[];
  const shape = path.filter((p) => typeof p === "string").join(".");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    const line = keyLine(path, key) ?? lineOf(path);
    const known = KNOWN[shape] ?? [];
    const guess = didYouMean(key, known);
    const fix = guess ? `did you mean '${guess}'?` : `known fields: ${known.join(", ")}`;
    throw invalid(`${name}:${line}: unknown field '${key}'${shape ? ` in '${shape}'` : ""}: ${fix}`, {
      file,
      line,
      field: key,
    });
  }
  const line = lineOf(path);
  const field = path.length ? `'${path.join(".")}'` : "the job";
  const missing = issue.message.includes("received undefined") ? " (required: add it)" : "";
  throw invalid(`${name}:${line}: ${field}: ${issue.message}${missing}`, {
    file,
    line,
    path: path.map(String),
  });
}

/** Reads and validates a job file. */
export function loadJob(file: string): Job {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw invalid(`cannot read job file '${file}': ${(err as Error).message}`, { file });
  }
  const spec = parseJobText(bytes.toString("utf8"), file);
  return Object.freeze({
    spec: deepFreeze(spec),
    file: resolve(file),
    dir: dirname(resolve(file)),
    sha256: createHash("sha256").update(bytes).digest("hex"),
  });
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === "object") {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** The model's shape with defaults filled (ffn = 2 × width). */
export function fullShape(s: Shape): Required<Shape> {
  return { ...s, ffn: s.ffn ?? 2 * s.width };
}

/** Parameter count of the llama shape (embedding, output, per-block attention + FFN + norms). */
export function parameterCount(s: Shape): number {
  const { layers, width: E, vocab: V, ffn: F } = fullShape(s);
  return 2 * V * E + E + layers * (4 * E * E + 3 * E * F + 2 * E);
}
