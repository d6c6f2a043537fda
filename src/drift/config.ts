import { z } from "zod";
import { Codes, ForgeError } from "../errors.js";
import { WebhookConfig } from "../platform/tolerances.js";

/**
 * Drift detection config (the agent's `drift:` key, the collector's --drift FILE). Every bound
 * that keeps memory finite is here, with its default; docs/drift.md explains each choice.
 */
const Reference = z.discriminatedUnion("kind", [
  /** The first `n` values of each signal (after start, a promotion or a policy change). */
  z.strictObject({ kind: z.literal("first"), n: z.number().int().min(10).max(100_000).default(1000) }),
  /** Values whose record timestamp is in [since, until); later ones are the current window. */
  z.strictObject({ kind: z.literal("range"), since: z.iso.datetime(), until: z.iso.datetime() }),
  /** A model's eval run: inference records of sessions starting with `session_prefix`. */
  z.strictObject({ kind: z.literal("eval"), session_prefix: z.string().min(1).default("eval:") }),
]);

export const DriftConfig = z.strictObject({
  enabled: z.boolean().default(true),
  /** "evidently": Evidently's default tests and thresholds; "chunked": NannyML-style mean + 3σ of reference chunks. */
  mode: z.enum(["evidently", "chunked"]).default("evidently"),
  reference: Reference.default({ kind: "first", n: 1000 }),
  /** Values in the sliding current window of each signal. */
  window: z.number().int().min(20).max(10_000).default(500),
  /** A round (every signal tested) after this many records. */
  every: z.number().int().min(1).max(100_000).default(100),
  /** Family-wise (holm, bonferroni) or false-discovery (bh) control over one round's p-values. */
  correction: z.enum(["holm", "bonferroni", "bh", "none"]).default("holm"),
  /** Significance of the p-value tests (KS, chi-square, z): the round's error bound with the correction. */
  alpha: z.number().gt(0).lt(1).default(0.05),
  /**
   * Categorical test for small references: "homogeneity" (two-sample 2×k contingency, default)
   * or "evidently" (Evidently's goodness of fit against the scaled reference counts, which treats
   * the reference as exact and so alarms more often than alpha: docs/drift.md, measured).
   */
  chi_square: z.enum(["homogeneity", "evidently"]).default("homogeneity"),
  /** Evidently's distance thresholds (normed Wasserstein, Jensen-Shannon distance base 2). */
  distance_threshold: z.number().positive().default(0.1),
  /** Rows in the reference above which Evidently switches from p-value tests to distances. */
  small_reference: z.number().int().min(1).default(1000),
  /** Chunked mode: values per chunk (the current window is the last chunk). */
  chunk_size: z.number().int().min(10).default(100),
  /** Chunked mode: the alert threshold is mean + sigmas · σ of the reference chunks' statistic. */
  sigmas: z.number().positive().default(3),
  /** Consecutive clean rounds before a finding clears (a recovery record). */
  clear_rounds: z.number().int().min(1).default(3),
  /** Range / eval references: fewest reference values before a signal is tested. */
  min_reference: z.number().int().min(10).default(100),
  /** Memory bounds: reference reservoir per signal, categories per signal, signals per monitor. */
  reservoir: z.number().int().min(100).max(100_000).default(2000),
  max_categories: z.number().int().min(2).max(1000).default(32),
  max_signals: z.number().int().min(1).max(10_000).default(256),
  /** Split populations (action mix, deny rate) by principal and by session kind. */
  split_by: z.array(z.enum(["principal", "session_kind"])).default(["principal", "session_kind"]),
  /** Distinct populations per split before new ones fold into "(other)". */
  max_populations: z.number().int().min(1).default(16),
  seed: z.number().int().default(1),
  webhook: WebhookConfig.optional(),
});
export type DriftConfig = z.infer<typeof DriftConfig>;
export type DriftConfigInput = z.input<typeof DriftConfig>;

/** Validates drift config; FORGE_CONFIG_INVALID names the bad field. */
export function parseDriftConfig(input: unknown, where = "drift"): DriftConfig {
  const r = DriftConfig.safeParse(input ?? {});
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ForgeError(Codes.CONFIG_INVALID, `${where}.${i.path.join(".")}: ${i.message}`);
  }
  const c = r.data;
  if (c.reference.kind === "range" && Date.parse(c.reference.until) <= Date.parse(c.reference.since))
    throw new ForgeError(Codes.CONFIG_INVALID, `${where}.reference: 'until' must be after 'since'`);
  return Object.freeze(c);
}
