/**
 * Runs the `tests:` embedded in policy files against a fresh Gate with a fixed home
 * (/Users/dev), working directory (/Users/dev/project) and clock, so results do not depend on
 * the machine that loads the policy.
 */
import { basename } from "node:path";
import { Codes, ForgeError } from "../errors.js";
import type { Decision } from "./decision.js";
import { Gate } from "./gate.js";
import type { PolicyBundle, PolicyTestCase } from "./policy.js";

export const TEST_HOME = "/Users/dev";
export const TEST_CWD = "/Users/dev/project";

export interface PolicyTestResult {
  file: string;
  line: number;
  name: string;
  expect: string;
  got: string;
  pass: boolean;
  /** Why it failed (empty when it passed). */
  message: string;
  decision: Decision;
}

function nameOf(t: PolicyTestCase): string {
  const s = t.spec;
  return s.name ?? (s.command !== undefined ? s.command : JSON.stringify(s.action));
}

/** Runs every embedded test in file order; tests naming the same `session` share state. */
export function runPolicyTests(bundle: PolicyBundle): PolicyTestResult[] {
  let clock = Date.UTC(2026, 0, 1);
  const gate = new Gate(bundle, { home: TEST_HOME, cwd: TEST_CWD, now: () => clock });
  const out: PolicyTestResult[] = [];
  for (const t of bundle.tests) {
    clock += 1000;
    const s = t.spec;
    const action =
      s.command !== undefined
        ? { kind: "shell", command: s.command, ...(s.cwd ? { cwd: s.cwd } : {}) }
        : s.action;
    const d = gate.evaluate({
      session_id: s.session ?? `test:${t.file}:${t.index}`,
      principal: s.principal ?? null,
      action,
    });
    const problems: string[] = [];
    if (d.evaluation !== s.expect)
      problems.push(`expected ${s.expect}, got ${d.evaluation} (${d.reasons.join("; ")})`);
    for (const id of s.rules ?? []) {
      if (!d.policy_matched.some((m) => m.rule_id === id)) {
        problems.push(
          `expected rule '${id}' to match; matched: ${d.policy_matched.map((m) => m.rule_id).join(", ") || "none"}`,
        );
      }
    }
    out.push({
      file: t.file,
      line: t.line,
      name: nameOf(t),
      expect: s.expect,
      got: d.evaluation,
      pass: problems.length === 0,
      message: problems.join("; "),
      decision: d,
    });
  }
  return out;
}

/** Throws FORGE_POLICY_TEST_FAILED listing every failed embedded test. */
export function assertPolicyTests(bundle: PolicyBundle): void {
  const failed = runPolicyTests(bundle).filter((r) => !r.pass);
  if (failed.length === 0) return;
  const lines = failed.slice(0, 10).map((r) => `  ${basename(r.file)}:${r.line} '${r.name}': ${r.message}`);
  if (failed.length > 10) lines.push(`  … and ${failed.length - 10} more`);
  throw new ForgeError(
    Codes.POLICY_TEST_FAILED,
    `${failed.length} embedded policy test(s) failed; fix the rules or the tests:\n${lines.join("\n")}`,
    {
      details: {
        failed: failed.map((r) => ({ file: r.file, line: r.line, name: r.name, message: r.message })),
      },
    },
  );
}
