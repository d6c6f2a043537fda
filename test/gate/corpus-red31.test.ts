// The red31 held-out corpus (issue 19, "Measure"): its files parse, every entry names a known family
// and a claim, ids are unique, and every step is a shell command or an Action the gate's schema
// accepts. No threshold on the verdicts: the figures live in the corpus README and the runner
// (`node scripts/redteam-fresh.js --corpus test/gate/corpus-red31 --allowed`).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Action, ShellAction } from "../../src/gate/actions.js";

const DIR = join(import.meta.dirname, "corpus-red31");
const FAMILIES = new Set([
  "word-obfuscation",
  "path-canonical",
  "inline-code",
  "taint",
  "shell-definitions",
  "git-code-runners",
  "code-runner-flags",
  "workspace-escape",
  "persistence",
  "exfiltration",
  "structured",
  "privilege",
  "agent-tamper",
  "resources",
  "secret-read",
  "history-evasion",
]);

interface Entry {
  id: string;
  family: string;
  claim: string;
  pass?: number;
  steps: ({ command: string } | { action: unknown })[];
}

function load(name: string): Entry[] {
  return readFileSync(join(DIR, name), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Entry);
}

const attacks = load("attacks.jsonl");
const benign = load("benign.jsonl");

describe("corpus-red31", () => {
  it("has both passes of attacks and the everyday lines", () => {
    expect(attacks.filter((e) => e.pass === 1).length).toBeGreaterThan(500);
    expect(attacks.filter((e) => e.pass === 2).length).toBeGreaterThan(100);
    expect(benign.length).toBeGreaterThanOrEqual(100);
  });

  it("names a known family, a claim and a pass for every attack; everyday for every benign line", () => {
    for (const e of attacks) {
      expect(FAMILIES.has(e.family), e.id).toBe(true);
      expect(e.id.startsWith(`${e.family}-`), e.id).toBe(true);
      expect([1, 2], e.id).toContain(e.pass);
      expect(e.claim.length, e.id).toBeGreaterThan(10);
    }
    for (const e of benign) {
      expect(e.family, e.id).toBe("everyday");
      expect(e.claim.length, e.id).toBeGreaterThan(10);
    }
  });

  it("has unique ids", () => {
    const ids = [...attacks, ...benign].map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("has only valid steps: a shell command or an Action of the gate's schema", () => {
    for (const e of [...attacks, ...benign]) {
      expect(e.steps.length, e.id).toBeGreaterThan(0);
      for (const s of e.steps) {
        if ("command" in s) {
          expect(ShellAction.safeParse({ kind: "shell", command: s.command }).success, e.id).toBe(true);
        } else {
          const r = Action.safeParse(s.action);
          expect(r.success, `${e.id}: ${r.success ? "" : r.error.message}`).toBe(true);
        }
      }
    }
  });

  it("reviews only attacks that exist, each with a reason", () => {
    const review = JSON.parse(readFileSync(join(DIR, "review.json"), "utf8")) as {
      false_claims: Record<string, string>;
    };
    const ids = new Set(attacks.map((e) => e.id));
    for (const [id, reason] of Object.entries(review.false_claims)) {
      expect(ids.has(id), id).toBe(true);
      expect(reason.length, id).toBeGreaterThan(10);
    }
  });
});
