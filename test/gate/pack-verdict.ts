/** The default pack's verdicts in tests (HOME=/Users/dev, workspace ~/project). */
import { beforeAll, describe, expect, it } from "vitest";
import { defaultPolicyPath, Gate, initGate, loadPolicy, type PolicyBundle } from "../../src/gate/index.js";

export const HOME = "/Users/dev";
export const CWD = `${HOME}/project`;

/** Registers a beforeAll that loads the pack; the returned function makes a fresh gate over it. */
export function packGates(opts: { maxSessions?: number } = {}): () => Gate {
  let bundle: PolicyBundle;
  beforeAll(async () => {
    await initGate();
    bundle = loadPolicy(defaultPolicyPath());
  });
  return () => new Gate(bundle, { home: HOME, cwd: CWD, ...opts });
}

export interface Verdict {
  evaluation: string;
  reasons: string[];
  rules: string[];
}

const RANK: Record<string, number> = { ALLOW: 0, ESCALATE: 1, DENY: 2 };

/** A shell line, or an action as the gate takes it. */
export type Step = string | Record<string, unknown>;

/**
 * One gate for the file; the returned function runs the steps (shell lines or actions) in order in
 * a fresh session and gives the strictest verdict.
 */
export function packSteps(
  prefix: string,
  opts: { maxSessions?: number } = {},
): (...steps: Step[]) => Verdict {
  const make = packGates(opts);
  let gate: Gate | undefined;
  let n = 0;
  return (...steps) => {
    gate ??= make();
    const session_id = `${prefix}-${n++}`;
    let worst: Verdict = { evaluation: "ALLOW", reasons: [], rules: [] };
    for (const s of steps) {
      const action = typeof s === "string" ? { kind: "shell", command: s } : s;
      const d = gate.evaluate({ session_id, action });
      if (RANK[d.evaluation]! >= RANK[worst.evaluation]!)
        worst = {
          evaluation: d.evaluation,
          reasons: d.reasons,
          rules: d.policy_matched.map((m) => m.rule_id),
        };
    }
    return worst;
  };
}

/** The verdict on one shell line, each line its own session. */
export function packVerdict(prefix: string): (command: string) => string {
  const steps = packSteps(prefix);
  return (command) => steps(command).evaluation;
}

/** A row of a class's table: one step, or the steps of one session. */
export type Row = Step | Step[];

/**
 * A class's table over the pack (gate44): `table(title, bad, good)` registers one test per row, the
 * attack rows not ALLOW and the everyday rows next to them ALLOW.
 */
export function packTable(prefix: string): (title: string, bad: Row[], good?: Row[]) => void {
  const steps = packSteps(prefix);
  const run = (r: Row) => steps(...(Array.isArray(r) ? r : [r])).evaluation;
  const name = (r: Row) =>
    (Array.isArray(r) ? r : [r]).map((s) => (typeof s === "string" ? s : JSON.stringify(s))).join(" ⟶ ");
  return (title, bad, good = []) =>
    describe(title, () => {
      for (const r of bad) it(`${name(r)} is not ALLOW`, () => expect(run(r)).not.toBe("ALLOW"));
      for (const r of good) it(`${name(r)} stays ALLOW`, () => expect(run(r)).toBe("ALLOW"));
    });
}
