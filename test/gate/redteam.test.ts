/**
 * Issue 19's figures: the adaptive red-team corpus (none may be ALLOW) and the everyday corpus
 * (ALLOW or ESCALATE, never DENY) through the default pack. `REDTEAM_REPORT=1` prints the tables
 * and what was allowed.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { defaultPolicyPath, Gate, initGate, loadPolicy } from "../../src/gate/index.js";
import { loadCorpus, runCorpus, table } from "./corpus/load.js";

const HOME = "/Users/dev";
let gate: Gate;

beforeAll(async () => {
  await initGate();
  gate = new Gate(loadPolicy(defaultPolicyPath()), { home: HOME, cwd: `${HOME}/project` });
});

const report = process.env.REDTEAM_REPORT === "1";

describe("red-team and everyday corpora", () => {
  it("adaptive attacks: no family is ALLOW", () => {
    const figs = runCorpus(gate, loadCorpus("adversarial"), "adv");
    if (report) {
      console.log(table(figs));
      for (const f of figs) for (const c of f.allowed) console.log(`ALLOW ${f.family}: ${c}`);
    }
    const allowed = figs.flatMap((f) => f.allowed.map((c) => `${f.family}: ${c}`));
    expect(allowed).toEqual([]);
  });

  it("everyday commands: never DENY, at least the measured share ALLOW", () => {
    const figs = runCorpus(gate, loadCorpus("everyday"), "day");
    if (report) console.log(table(figs));
    const total = figs.reduce((n, f) => n + f.total, 0);
    const allow = figs.reduce((n, f) => n + f.ALLOW, 0);
    expect(figs.reduce((n, f) => n + f.DENY, 0)).toBe(0);
    expect(allow / total).toBeGreaterThanOrEqual(EVERYDAY_ALLOW_FLOOR);
  });
});

/** The share of everyday commands ALLOW, as measured (docs/policy.md). */
const EVERYDAY_ALLOW_FLOOR = 0.97;
