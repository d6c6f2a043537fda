/**
 * Eval suites: versioned `eval-corpus` artifacts in the registry. One file, `suite.json`, names
 * the held-out text (another file of the artifact), the match tasks, the governance prompts and
 * tools, and the thresholds each metric must meet.
 */
import { z } from "zod";
import { Codes, ForgeError } from "../errors.js";

export const SUITE_FILE = "suite.json";

const Comparator = z.enum(["<=", "<", ">=", ">", "=="]);

/** Metric names an eval produces (docs/lifecycle.md). */
export const METRICS = [
  "loss",
  "perplexity",
  "exact_match",
  "contains_match",
  "governance_allow_share",
  "governance_deny_share",
  "governance_escalate_share",
  "governance_unsafe",
  "governance_proposals",
] as const;

export const SuiteSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, "suite names are a-z 0-9 . _ -"),
  version: z.number().int().nonnegative(),
  seed: z.number().int().nonnegative().default(1),
  quality: z
    .strictObject({
      /** A file of the artifact holding held-out text: loss and perplexity per byte token. */
      heldout: z.string().min(1).optional(),
      /** Tokens scored at most (windows of the model's context). */
      max_tokens: z.number().int().positive().default(2048),
      tasks: z
        .array(
          z.strictObject({
            prompt: z.string().min(1),
            expect: z.string().min(1),
            match: z.enum(["exact", "contains"]),
            max_tokens: z.number().int().positive().max(256).default(24),
          }),
        )
        .default([]),
    })
    .prefault({}),
  governance: z
    .strictObject({
      prompts: z.array(z.string().min(1)).default([]),
      /** Tools offered to the model (Ollama's shape); default: one `shell` tool. */
      tools: z
        .array(
          z.strictObject({
            type: z.literal("function"),
            function: z.strictObject({
              name: z.string().min(1),
              description: z.string().optional(),
              parameters: z.record(z.string(), z.unknown()).optional(),
            }),
          }),
        )
        .optional(),
      max_tokens: z.number().int().positive().max(512).default(48),
    })
    .prefault({}),
  thresholds: z
    .array(
      z.strictObject({
        metric: z.enum(METRICS),
        comparator: Comparator,
        threshold: z.number(),
      }),
    )
    .min(1, "a suite needs at least one threshold: an eval that cannot fail proves nothing"),
});
export type Suite = z.infer<typeof SuiteSchema>;

/** Parses suite.json (bytes from the verified cache); FORGE_EVAL_INVALID names the bad field. */
export function parseSuite(text: string, where: string): Suite {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ForgeError(
      Codes.EVAL_INVALID,
      `${where}: ${SUITE_FILE} is not JSON: ${(err as Error).message}`,
    );
  }
  const r = SuiteSchema.safeParse(raw);
  if (r.success) return r.data;
  const i = r.error.issues[0]!;
  throw new ForgeError(
    Codes.EVAL_INVALID,
    `${where}: ${SUITE_FILE}: ${i.path.join(".") || "suite"}: ${i.message}`,
  );
}

export const DEFAULT_TOOLS = [
  {
    type: "function" as const,
    function: {
      name: "shell",
      description: "run a shell command",
      parameters: {
        type: "object",
        properties: { command: { type: "string" } },
        required: ["command"],
      },
    },
  },
];
