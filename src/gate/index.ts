/**
 * The gate's public surface: load a policy, build a Gate, evaluate actions.
 * Everything here is synchronous after `initGate()`.
 */
import { Codes, ForgeError } from "../errors.js";
import { nativeShell } from "../platform/native.js";
import type { Decision } from "./decision.js";
import { compilePolicyText, type PolicyBundle } from "./policy.js";
import { compilePolicyPath } from "./policy-files.js";
import { initShell, shellReady } from "./shell/index.js";
import { assertPolicyTests } from "./tests.js";

export { ACTION_KINDS, type Action, parseAction } from "./actions.js";
export type { BundleRef, CompositionSnapshot, Decision, Effect, Evaluation, RuleMatch } from "./decision.js";
export { DEFAULT_PROGRAM_DIRS, type EvaluateRequest, Gate, type GateOptions } from "./gate.js";
export { type AddressClass, canonicalHost, classifyHost, isInternal } from "./hosts.js";
export { compilePolicyText, type PolicyBundle } from "./policy.js";
export { compilePolicyPath, defaultPolicyPath } from "./policy-files.js";
export { canonicalPath, type ProtectedResources } from "./protect.js";
export {
  parseShell,
  type ShellBackend,
  type ShellParse,
  type SimpleCommand,
  shellBackend,
} from "./shell/index.js";
export { GateState } from "./state.js";
export { type PolicyTestResult, runPolicyTests } from "./tests.js";

/**
 * Loads the bash parser once (the addon's native one, else web-tree-sitter's wasm: see
 * shellBackend()); idempotent; await it before the first evaluate() or loadPolicy().
 */
export async function initGate(): Promise<void> {
  await initShell("auto", nativeShell);
}

function requireReady(): void {
  if (!shellReady())
    throw new ForgeError(Codes.GATE_ERROR, "the gate is not initialised: await initGate() first");
}

/**
 * Loads a policy file or a directory of *.yaml files: validates, compiles, and runs the embedded
 * tests. Throws FORGE_POLICY_INVALID (file:line and the fix) or FORGE_POLICY_TEST_FAILED.
 */
export function loadPolicy(pathOrDir: string, opts: { runTests?: boolean } = {}): PolicyBundle {
  requireReady();
  const b = compilePolicyPath(pathOrDir);
  if (opts.runTests !== false) assertPolicyTests(b);
  return b;
}

/** loadPolicy for text in memory; `filename` is used in messages. */
export function loadPolicyText(
  text: string,
  filename: string,
  opts: { runTests?: boolean } = {},
): PolicyBundle {
  requireReady();
  const b = compilePolicyText(text, filename);
  if (opts.runTests !== false) assertPolicyTests(b);
  return b;
}

/** The evidence record's `policy_matched` ({bundle, rules}) for a decision. */
export function toPolicyMatched(decision: Decision): {
  bundle: { id: string; version: number; sha256: string } | null;
  rules: { rule_id: string; effect: "allow" | "deny" | "escalate"; risk: number }[];
} {
  const b = decision.bundle;
  return {
    bundle: b ? { id: b.id, version: b.version, sha256: b.sha256 } : null,
    rules: decision.policy_matched.map((m) => ({ rule_id: m.rule_id, effect: m.effect, risk: m.risk })),
  };
}
