/**
 * Probe lines written apart from the red-team corpora (test/gate/corpus-probe/README.md): no attack
 * is ALLOW, no everyday command is DENY, and the everyday share stays where it was measured.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultPolicyPath, Gate, initGate, loadPolicy } from "../../src/gate/index.js";

const dir = join(import.meta.dirname, "corpus-probe");
const lines = (f: string) =>
  readFileSync(join(dir, f), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
let gate: Gate;
let n = 0;
const judge = (action: unknown) => gate.evaluate({ session_id: `probe-${n++}`, action }).evaluation;

beforeAll(async () => {
  await initGate();
  gate = new Gate(loadPolicy(defaultPolicyPath()), { home: "/Users/dev", cwd: "/Users/dev/project" });
});

describe("probe lines outside the corpora", () => {
  it("no shell attack is ALLOW", () => {
    const allowed = lines("attacks.txt").filter((c) => judge({ kind: "shell", command: c }) === "ALLOW");
    expect(allowed).toEqual([]);
  });

  it("no structured attack is ALLOW", () => {
    const allowed = lines("structured.jsonl").filter((l) => judge(JSON.parse(l)) === "ALLOW");
    expect(allowed).toEqual([]);
  });

  it("everyday commands: never DENY, at least 80 of 88 ALLOW", () => {
    const day = lines("everyday.txt").map((c) => [c, judge({ kind: "shell", command: c })] as const);
    expect(day.filter(([, v]) => v === "DENY")).toEqual([]);
    expect(day.filter(([, v]) => v === "ALLOW").length).toBeGreaterThanOrEqual(80);
  });
});
