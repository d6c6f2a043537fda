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
 * a fresh session and gives the strictest verdict (with `last`, the last step's).
 */
export function packSteps(
  prefix: string,
  opts: { maxSessions?: number; last?: boolean } = {},
): (...steps: Step[]) => Verdict {
  const make = packGates(opts.maxSessions === undefined ? {} : { maxSessions: opts.maxSessions });
  let gate: Gate | undefined;
  let n = 0;
  return (...steps) => {
    gate ??= make();
    const session_id = `${prefix}-${n++}`;
    let worst: Verdict = { evaluation: "ALLOW", reasons: [], rules: [] };
    for (const s of steps) {
      const action = typeof s === "string" ? { kind: "shell", command: s } : s;
      const d = gate.evaluate({ session_id, action });
      // `last`: the verdict on the last step (the earlier ones set the session up, approved or not).
      if (opts.last === true || RANK[d.evaluation]! >= RANK[worst.evaluation]!)
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

/**
 * A table of rows of steps, each row its own session (a gate from packSteps): the bad rows are not
 * ALLOW, the good ones are.
 */
export function stepTable(steps: (...steps: Step[]) => Verdict) {
  const name = (row: Step[]) => row.map((s) => (typeof s === "string" ? s : JSON.stringify(s))).join(" ⟶ ");
  return (title: string, bad: Step[][], good: Step[][] = []): void => {
    describe(title, () => {
      it.each(bad.map((r) => [name(r), r] as const))("%s is not ALLOW", (_, row) =>
        expect(steps(...row).evaluation).not.toBe("ALLOW"),
      );
      if (good.length > 0)
        it.each(good.map((r) => [name(r), r] as const))("%s stays ALLOW", (_, row) =>
          expect(steps(...row).evaluation).toBe("ALLOW"),
        );
    });
  };
}

/** A row of a class's table: one step, or the steps of one session. */
export type Row = Step | Step[];

/** stepTable over a fresh pack gate, with one-step rows written bare (gate44's tables). */
export function packTable(prefix: string): (title: string, bad: Row[], good?: Row[]) => void {
  const table = stepTable(packSteps(prefix));
  const steps = (r: Row) => (Array.isArray(r) ? r : [r]);
  return (title, bad, good = []) => table(title, bad.map(steps), good.map(steps));
}

/** A structured read (file.read) of a path in the workspace. */
export const readAction = (path: string) => ({ kind: "file.read", path: `${CWD}/${path}` });
/** A read tool called on a path in the workspace (MCP filesystem servers' `path`). */
export const toolAction = (name: string, path: string) => ({
  kind: "tool",
  name,
  arguments: { path: `${CWD}/${path}` },
});

/**
 * Every channel that reads a workspace file, as the gate sees it: a printing program, a searcher, an
 * encoder, a copy or archive, a structured read, MCP read tools and Claude Code's Read. A credential
 * table (gate43, gate46) crosses its names with these: the path classifier judges them all, not
 * each program.
 */
export const READ_CHANNELS: ((p: string) => Step)[] = [
  (p) => `cat ${p}`,
  (p) => `less ${p}`,
  (p) => `head -c 200 ${p}`,
  (p) => `grep -n key ${p}`,
  (p) => `awk 1 ${p}`,
  (p) => `sed -n 1,5p ${p}`,
  (p) => `base64 ${p}`,
  (p) => `xxd ${p}`,
  (p) => `strings ${p}`,
  (p) => `cp ${p} notes/copy.txt`,
  (p) => `tar czf /tmp/x.tgz ${p}`,
  (p) => `zip -q /tmp/x.zip ${p}`,
  (p) => readAction(p),
  (p) => toolAction("mcp__filesystem__read_text_file", p),
  (p) => toolAction("read_file", p),
  (p) => ({ kind: "tool", name: "Read", arguments: { file_path: `${CWD}/${p}` } }),
];
