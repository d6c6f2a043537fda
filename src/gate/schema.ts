/**
 * The policy file schema (zod). docs/policy.md is the reference for every field here.
 */
import { z } from "zod";
import { ACTION_KINDS } from "./actions.js";
import { SandboxSectionSchema } from "./sandbox-profile.js";

const strList = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .transform((v) => (Array.isArray(v) ? v : [v]));
const Kind = z.enum(ACTION_KINDS as unknown as [string, ...string[]]);

export const MatchSchema = z.strictObject({
  /** Action kinds this rule applies to. */
  kind: z.union([Kind, z.array(Kind).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
  /** Shell: program basenames (globs); `python3.12` is `python`. */
  program: strList.optional(),
  /** Shell: a program basename (glob) that is not one of these: `rm -rf __pycache__` deletes, it plants nothing. */
  program_not: strList.optional(),
  /** Shell: the first operand (`git status` → status). */
  subcommand: strList.optional(),
  /** Shell: any of these flags (`-r` matches `-rf`). */
  flags: strList.optional(),
  /** Shell: none of these flags (`crontab` without `-l`). */
  flags_none: strList.optional(),
  /** Shell: all of these flags. */
  flags_all: strList.optional(),
  /** Shell: any operand matches one of these word globs. */
  args: strList.optional(),
  /**
   * Shell: the command's whole argv after the program name, words joined by one space, is exactly
   * one of these (`--version`; `""` for no argument at all).
   */
  argv: z
    .union([z.string(), z.array(z.string()).min(1)])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .optional(),
  /** Any path the action names (operands, redirect targets, file path) matches one of these path globs. */
  paths: strList.optional(),
  /** With `paths`: a path that also matches one of these does not count (`~/**` except the workspace). */
  paths_except: strList.optional(),
  /** Every path the action names matches one of these (e.g. everything inside `$CWD/**`). */
  paths_within: strList.optional(),
  /** Some path the action names matches none of these (e.g. outside `$CWD/**`). */
  paths_outside: strList.optional(),
  /** Shell: the command's own path, when it names one (`./build.sh` → `$CWD/build.sh`). */
  program_path: strList.optional(),
  /** Some path the action writes matches none of these. */
  writes_outside: strList.optional(),
  /** Any path the action writes (redirect targets, file.write/delete) matches one of these. */
  writes: strList.optional(),
  /** Any host the action reaches matches one of these host globs. */
  hosts: strList.optional(),
  /** Some host the action reaches matches none of these (an allowlist). */
  hosts_not: strList.optional(),
  /**
   * gate49: any URL the action requests matches one of these, written `/HOST/PATH` and matched as
   * path globs (`*` one segment, `**` any): the URL canonical (hosts.ts canonicalUrl).
   */
  urls: strList.optional(),
  /** HTTP methods (upper case). */
  methods: strList.optional(),
  /** URL schemes. */
  schemes: strList.optional(),
  /** Email: some recipient's domain matches one of these. */
  domains: strList.optional(),
  /** Email: some recipient's domain matches none of these. */
  domains_not: strList.optional(),
  /** Tool: the tool name (globs). */
  tool: strList.optional(),
  /** Tool: argument name → glob over its string (or JSON) value; all must match. */
  arguments: z.record(z.string(), z.string()).optional(),
  /** Shell: the command's input comes from one of these programs (`curl … | sh`). */
  piped_from: strList.optional(),
  /** Shell: the command runs under one of these wrappers (sudo, xargs, bash -c …). */
  via: strList.optional(),
  /** Shell: a file mode the command sets has the setuid or setgid bit, in any notation (chmod, install -m). */
  mode_setid: z.literal(true).optional(),
  /** model.pull/push: the repository matches one of these globs (`team/models/*`). */
  repositories: strList.optional(),
  /** model.pull/push: the reference is (true) or is not (false) pinned to a digest. */
  pinned: z.boolean().optional(),
  /** model.pull/push: a signature refers to the artifact (true) or none does (false). */
  signed: z.boolean().optional(),
  /** model.pull: why it is pulled (serve, pull). */
  purpose: strList.optional(),
  /** training.run: the dataset carries no sha256 pin. */
  dataset_unpinned: z.literal(true).optional(),
  /** training.run: the dataset's source (`oci://HOST/REPO`, `file:PATH`, `generated:NAME`) matches none of these globs. */
  dataset_sources_not: strList.optional(),
  /** training.run: a base model is named and matches none of these globs. */
  base_models_not: strList.optional(),
  /** training.run: some budget is above its limit here, or left unbounded. */
  budget_over: z
    .strictObject({
      max_parameters: z.number().positive().optional(),
      max_tokens: z.number().positive().optional(),
      max_steps: z.number().positive().optional(),
      max_wall_seconds: z.number().positive().optional(),
      max_memory_mb: z.number().positive().optional(),
      max_energy_joules: z.number().positive().optional(),
    })
    .optional(),
});
export type MatchSpec = z.infer<typeof MatchSchema>;

const CountSchema = z.strictObject({
  /** Count matches of this rule id … */
  rule: z.string().min(1).optional(),
  /** … or actions of this kind. */
  kind: Kind.optional(),
  /** Window in seconds (default: the whole session). */
  within_s: z.number().positive().optional(),
  /** Holds when the count (before this action) is at least this. */
  gte: z.number().int().nonnegative(),
});

export const WhenSchema = z.strictObject({
  /** Any of these labels is on the session or the principal. */
  labels: strList.optional(),
  /** All of these labels are present. */
  labels_all: strList.optional(),
  /** None of these labels is present. */
  labels_none: strList.optional(),
  /** Prior matches of a rule (or actions of a kind) within a window. */
  count: CountSchema.optional(),
});
export type WhenSpec = z.infer<typeof WhenSchema>;

export const EffectSchema = z.enum(["allow", "deny", "escalate"]);

export const RuleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "rule ids are lower-case words: a-z 0-9 . _ -"),
  description: z.string().optional(),
  match: MatchSchema,
  effect: EffectSchema,
  risk: z.number().int().min(0).max(100).default(0),
  labels: strList.optional(),
  when: WhenSchema.optional(),
  /** The sandbox profile an action this rule allows runs under (a name in `sandbox.profiles`). */
  sandbox: z.string().min(1).optional(),
});
export type RuleSpec = z.infer<typeof RuleSchema>;

const Expect = z.enum(["ALLOW", "DENY", "ESCALATE"]);
export const TestSchema = z
  .strictObject({
    name: z.string().optional(),
    command: z.string().min(1).optional(),
    action: z.unknown().optional(),
    cwd: z.string().optional(),
    /** Tests naming the same session run in file order and share its composition state. */
    session: z.string().optional(),
    principal: z.string().optional(),
    expect: Expect,
    /** Rule ids that must be among the matched rules. */
    rules: strList.optional(),
  })
  .refine((t) => (t.command === undefined) !== (t.action === undefined), {
    message: "a test needs exactly one of 'command' or 'action'",
  });
export type TestSpec = z.infer<typeof TestSchema>;

export const PolicyFileSchema = z.strictObject({
  /**
   * `default`: this file adds to the default pack (policies/default.yaml) instead of replacing
   * it: the pack's rules, lists and tests come first; this file's lists extend the pack's lists of
   * the same name, its `defaults` override the pack's. Rule ids must stay unique.
   */
  extends: z.literal("default").optional(),
  bundle: z.strictObject({ id: z.string().min(1), version: z.number().int().nonnegative() }).optional(),
  defaults: z
    .strictObject({
      /** Effect for an action (or a simple command) no rule matches. */
      effect: EffectSchema.optional(),
      /** An ALLOW whose risk is above this becomes ESCALATE. */
      risk_threshold: z.number().int().min(0).max(100).optional(),
    })
    .optional(),
  /** Named lists, referenced in match fields as "@name". */
  lists: z.record(z.string().regex(/^[a-z0-9_-]+$/i), z.array(z.string().min(1))).optional(),
  rules: z.array(RuleSchema).default([]),
  tests: z.array(TestSchema).default([]),
  /** Sandbox profiles for executed actions (src/gate/sandbox-profile.ts). */
  sandbox: SandboxSectionSchema.optional(),
});
export type PolicyFile = z.infer<typeof PolicyFileSchema>;

/** Every key a strict object accepts, per YAML path shape, for "did you mean" hints. */
export const KNOWN_KEYS: Record<string, string[]> = {
  top: Object.keys(PolicyFileSchema.shape),
  bundle: ["id", "version"],
  defaults: ["effect", "risk_threshold"],
  rule: Object.keys(RuleSchema.shape),
  match: Object.keys(MatchSchema.shape),
  when: Object.keys(WhenSchema.shape),
  count: Object.keys(CountSchema.shape),
  sandbox: ["default", "profiles"],
  test: ["name", "command", "action", "cwd", "session", "principal", "expect", "rules"],
};
