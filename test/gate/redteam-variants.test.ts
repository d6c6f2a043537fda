/**
 * Generated variants of the red-team corpus (issue 19 "Measure"): each attack respelled — wrappers,
 * an absolute or quoted program name, escapes, line continuations, flag spellings — is never ALLOW.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultPolicyPath, Gate, initGate, loadPolicy } from "../../src/gate/index.js";
import { loadCorpus } from "./corpus/load.js";

const HOME = "/Users/dev";
let gate: Gate;
let n = 0;

beforeAll(async () => {
  await initGate();
  gate = new Gate(loadPolicy(defaultPolicyPath()), { home: HOME, cwd: `${HOME}/project`, maxSessions: 256 });
});

/** Single-line, single-command attacks (sessions and multi-line ones are left to redteam.test.ts). */
const ATTACKS = loadCorpus("adversarial").filter(
  (l) => l.session === null && !l.command.includes("\n") && /^[A-Za-z][\w.+-]*( |$)/.test(l.command),
);

/** Respellings of `prog rest` that bash runs as the same command. */
const VARIANTS: ((prog: string, rest: string) => string)[] = [
  (p, r) => `env ${p} ${r}`,
  (p, r) => `command ${p} ${r}`,
  (p, r) => `nice -n 5 ${p} ${r}`,
  (p, r) => `timeout 30 ${p} ${r}`,
  (p, r) => `'${p}' ${r}`,
  (p, r) => `"${p}" ${r}`,
  (p, r) => `\\${p} ${r}`,
  (p, r) => `${p[0]}\\\n${p.slice(1)} ${r}`,
  (p, r) => `${p} \\\n${r}`,
  (p, r) => `/usr/bin/${p} ${r}`,
  (p, r) => `${p}${"  "}${r}`,
  (p, r) => `true && ${p} ${r}`,
  (p, r) => `(${p} ${r})`,
  (p, r) => `{ ${p} ${r}; }`,
  (p, r) => `bash -c ${JSON.stringify(`${p} ${r}`).replace(/\$/g, "\\$")}`,
];

describe("generated variants of the red-team corpus", () => {
  it("no respelled attack is ALLOW", () => {
    fc.assert(
      fc.property(fc.constantFrom(...ATTACKS), fc.constantFrom(...VARIANTS.keys()), (attack, k) => {
        const sp = attack.command.indexOf(" ");
        const prog = sp < 0 ? attack.command : attack.command.slice(0, sp);
        const rest = sp < 0 ? "" : attack.command.slice(sp + 1);
        const line = VARIANTS[k]!(prog, rest);
        const d = gate.evaluate({ session_id: `v${n++}`, action: { kind: "shell", command: line } });
        expect(d.evaluation, `${attack.family}: ${JSON.stringify(line)}`).not.toBe("ALLOW");
      }),
      { numRuns: 1500, seed: 19 },
    );
  });

  it("the corpus feeds the generator (not vacuous)", () => {
    expect(ATTACKS.length).toBeGreaterThan(200);
  });
});
