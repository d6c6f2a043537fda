/** The `lifecycle` section of the agent's config (docs/lifecycle.md). */
import { z } from "zod";

export const LifecycleConfig = z
  .strictObject({
    /** SPKI PEM files of trusted model-signing keys (P-256): eval results, provenance and signatures must verify with one. */
    trusted_keys: z.array(z.string().min(1)).default([]),
    /** Trust this host's own model-signing key too (a single-host setup); false on a host that only serves. */
    trust_own_key: z.boolean().default(true),
    /** Stage → the reviewers who may approve a promotion to it (`operator:NAME`, `uid:N`, or a bare name). */
    reviewers: z.record(z.string(), z.array(z.string().min(1))).default({}),
    /** An eval result older than this is not fresh: promotion needs a newer one. */
    eval_max_age_s: z
      .number()
      .int()
      .positive()
      .default(7 * 24 * 3600),
    /**
     * Serving admission: `registry` (default) admits an oci:// model only with a verified promotion,
     * passing eval and provenance for its digest; `strict` also refuses local GGUF files; `off` admits all.
     * The embedded smoke-test model is always exempt (and labelled so).
     */
    admission: z.enum(["off", "registry", "strict"]).default("registry"),
    /**
     * A file holding the bearer secret of a collector operator account, for reading this host's
     * pruned records and fleet lineage back from a collector that requires sign-in.
     */
    collector_token_file: z.string().min(1).optional(),
  })
  .prefault({});
export type LifecycleConfig = z.infer<typeof LifecycleConfig>;
