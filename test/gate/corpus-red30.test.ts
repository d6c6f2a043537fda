import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Action } from "../../src/gate/actions.js";

// The red30 held-out corpus (issue 19): the files parse and every step is a command or a valid
// Action. No threshold on verdicts here: scripts/redteam-fresh.js --corpus test/gate/corpus-red30 measures.
const dir = join(import.meta.dirname, "corpus-red30");
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
  return readFileSync(join(dir, name), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Entry);
}

describe("corpus-red30", () => {
  const attacks = load("attacks.jsonl");
  const benign = load("benign.jsonl");

  it("has unique ids, known families, claims and valid steps", () => {
    const ids = new Set<string>();
    for (const e of [...attacks, ...benign]) {
      expect(ids.has(e.id), e.id).toBe(false);
      ids.add(e.id);
      expect(e.claim.length, e.id).toBeGreaterThan(10);
      expect(e.steps.length, e.id).toBeGreaterThan(0);
      for (const s of e.steps) {
        if ("command" in s) expect(typeof s.command === "string" && s.command.length > 0, e.id).toBe(true);
        else expect(Action.safeParse(s.action).success, `${e.id}: ${JSON.stringify(s.action)}`).toBe(true);
      }
    }
    for (const e of attacks) {
      expect(FAMILIES.has(e.family), e.id).toBe(true);
      expect([1, 2], e.id).toContain(e.pass);
    }
    for (const e of benign) expect(e.family).toBe("everyday");
    expect(FAMILIES.size).toBe(new Set(attacks.map((e) => e.family)).size);
  });

  it("lists only ALLOW-reviewed attack ids in review.json", () => {
    const review = JSON.parse(readFileSync(join(dir, "review.json"), "utf8")) as {
      false_claims: Record<string, string>;
    };
    const ids = new Set(attacks.map((e) => e.id));
    for (const [id, reason] of Object.entries(review.false_claims)) {
      expect(ids.has(id), id).toBe(true);
      expect(reason.length, id).toBeGreaterThan(10);
    }
  });
});
