import { z } from "zod";
import { Codes, ForgeError } from "../errors.js";

/** The actions a model or a local agent may propose, discriminated by `kind`. */
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "must be a lowercase hex sha256");

export const ShellAction = z.strictObject({
  kind: z.literal("shell"),
  command: z.string().min(1),
  cwd: z.string().min(1).optional(),
  env: z.record(z.string(), z.string()).optional(),
});

const fileFields = { path: z.string().min(1), content_sha256: sha256Hex.optional() };
export const FileReadAction = z.strictObject({ kind: z.literal("file.read"), ...fileFields });
export const FileWriteAction = z.strictObject({
  kind: z.literal("file.write"),
  ...fileFields,
  /**
   * The file's text: what the built-in executor writes, and what the gate reads when the file is
   * later run or loaded by a project runner (a written script or test file is judged by it).
   */
  content: z.string().optional(),
  /**
   * An edit's replacements (Claude Code's Edit/MultiEdit): the gate reads the new text when the
   * file is later run or loaded. No executor applies them: a client that proposes edits applies them.
   */
  edits: z
    .array(z.strictObject({ old_text: z.string(), new_text: z.string() }))
    .max(1000)
    .optional(),
});
export const FileDeleteAction = z.strictObject({ kind: z.literal("file.delete"), ...fileFields });

export const HttpAction = z.strictObject({
  kind: z.literal("http"),
  method: z
    .string()
    .min(1)
    .transform((m) => m.toUpperCase()),
  url: z.url(),
  headers: z.record(z.string(), z.string()).optional(),
  body_sha256: sha256Hex.optional(),
  /** Only for the built-in executor. */
  body: z.string().optional(),
});

export const EmailSendAction = z.strictObject({
  kind: z.literal("email.send"),
  to: z.array(z.string().min(3)).min(1),
  cc: z.array(z.string().min(3)).default([]),
  subject: z.string(),
  body_sha256: sha256Hex.optional(),
});

export const ToolAction = z.strictObject({
  kind: z.literal("tool"),
  name: z.string().min(1),
  arguments: z.record(z.string(), z.unknown()).default({}),
});

/** An OCI artifact moving between this host and a registry (src/registry); the gate judges by host, pin and signature. */
const artifactFields = {
  /** The reference as written (`oci://host/repo:tag[@sha256:…]`). */
  ref: z.string().min(1),
  /** `host[:port]` of the registry. */
  registry: z.string().min(1),
  repository: z.string().min(1),
  tag: z.string().min(1).nullable().default(null),
  /** The manifest digest (resolved for a tag; the pin when `pinned`). */
  digest: z
    .string()
    .regex(/^sha256:[0-9a-f]{64}$/, "must be sha256:<64 lowercase hex>")
    .nullable()
    .default(null),
  /** The reference names its digest (`@sha256:…`), so the content cannot move under the tag. */
  pinned: z.boolean(),
  /** A signature artifact refers to the manifest (found through the referrers API or its fallback). */
  signed: z.boolean().default(false),
  artifact_type: z.string().min(1).optional(),
};
export const ModelPullAction = z.strictObject({
  kind: z.literal("model.pull"),
  ...artifactFields,
  /** `serve`: pulled to be served (FORGE_MODEL=oci://…); `pull`: fetched into the cache. */
  purpose: z.enum(["serve", "pull"]).default("pull"),
});
export const ModelPushAction = z.strictObject({ kind: z.literal("model.push"), ...artifactFields });
const budgetValue = z.number().positive().nullable();

/** A governed training run (src/training): the job's intent as the gate judges it. */
export const TrainingRunAction = z.strictObject({
  kind: z.literal("training.run"),
  job: z.string().min(1),
  trainer: z.enum(["embedded", "torch", "mlx"]),
  model: z.strictObject({
    /** A base model to fine-tune (GGUF path or oci:// reference); null when trained from scratch. */
    base: z.string().min(1).nullable(),
    parameters: z.number().int().nonnegative(),
  }),
  dataset: z.strictObject({ ref: z.string().min(1), sha256: sha256Hex.nullable() }),
  /** Each budget the job declares; null = unbounded. */
  budgets: z.strictObject({
    max_parameters: budgetValue,
    max_tokens: budgetValue,
    max_steps: budgetValue,
    max_wall_seconds: budgetValue,
    max_memory_mb: budgetValue,
    max_energy_joules: budgetValue,
  }),
});
export type TrainingRunAction = z.infer<typeof TrainingRunAction>;

/**
 * Lifecycle facts (src/lifecycle/facts.ts), established by the agent itself for the exact digest;
 * a caller's claims are overwritten. Policies match them as `arguments` ("true"/"false" strings).
 */
const fact = z.boolean().default(false);
const lifecycleFields = {
  ref: z.string().min(1),
  registry: z.string().min(1),
  repository: z.string().min(1),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, "must be sha256:<64 lowercase hex>"),
};
/** Moving a stage alias (a registry tag) to a model digest (src/lifecycle/promote.ts). */
export const ModelPromoteAction = z.strictObject({
  kind: z.literal("model.promote"),
  ...lifecycleFields,
  stage: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "stage names are a-z 0-9 . _ -"),
  reason: z.string().nullable().default(null),
  /** An absent fact is false: a promotion nobody established facts for is never allowed. */
  facts: z
    .strictObject({
      eval_exists: fact,
      eval_passed: fact,
      eval_signed: fact,
      eval_fresh: fact,
      provenance_complete: fact,
      training_verified: fact,
      signer_trusted: fact,
    })
    .prefault({}),
});
/** Loading a model for serving (src/lifecycle/admission.ts). */
export const ModelServeAction = z.strictObject({
  kind: z.literal("model.serve"),
  ...lifecycleFields,
  stage: z.string().nullable().default(null),
  facts: z
    .strictObject({
      promoted: fact,
      eval_passed: fact,
      provenance_verified: fact,
      signature_verified: fact,
      /** The embedded smoke-test model (random weights): exempt, and labelled so. */
      exempt: fact,
    })
    .prefault({}),
});

/**
 * Forgetting the composition state of a session and/or a principal (`forge-agent state clear`).
 * Governed like any action: the daemon proposes it and clears only what was approved; the gate
 * denies a principal clearing its own state (src/gate/gate.ts `selfClear`).
 */
export const GateStateClearAction = z
  .strictObject({
    kind: z.literal("gate.state.clear"),
    session: z.string().min(1).max(256).nullable().default(null),
    principal: z.string().min(1).max(256).nullable().default(null),
  })
  .refine((a) => a.session !== null || a.principal !== null, "name a session, a principal, or both");

export const Action = z.discriminatedUnion("kind", [
  ShellAction,
  FileReadAction,
  FileWriteAction,
  FileDeleteAction,
  HttpAction,
  EmailSendAction,
  ToolAction,
  ModelPullAction,
  ModelPushAction,
  TrainingRunAction,
  ModelPromoteAction,
  ModelServeAction,
  GateStateClearAction,
]);

export type Action = z.infer<typeof Action>;
export type ActionKind = Action["kind"];
export const ACTION_KINDS: readonly ActionKind[] = [
  "shell",
  "file.read",
  "file.write",
  "file.delete",
  "http",
  "email.send",
  "tool",
  "model.pull",
  "model.push",
  "training.run",
  "model.promote",
  "model.serve",
  "gate.state.clear",
];

/** Validates an untrusted action; throws FORGE_ACTION_INVALID naming the first bad field. */
export function parseAction(input: unknown): Action {
  const r = Action.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join(".") : "action";
  throw new ForgeError(Codes.ACTION_INVALID, `invalid action: ${where}: ${issue.message}`, {
    details: { path: issue.path.map(String), issues: r.error.issues.length },
  });
}
