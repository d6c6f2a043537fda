/**
 * The red28 held-out corpus (issue 19) parses and every line is tagged. No threshold on the
 * verdicts: the figures are the report (`node scripts/redteam-fresh.js --corpus test/gate/corpus-red28`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Action } from "../../src/gate/actions.js";

const dir = join(import.meta.dirname, "corpus-red28");
const FAMILIES = [
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
];

interface Entry {
  id: string;
  family: string;
  claim: string;
  steps: ({ command: string } | { action: unknown })[];
}

function load(name: string): Entry[] {
  return readFileSync(join(dir, name), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Entry);
}

function checkTagged(entries: Entry[], families: string[]): void {
  const ids = new Set<string>();
  for (const e of entries) {
    expect(typeof e.id, JSON.stringify(e)).toBe("string");
    expect(ids.has(e.id), `duplicate id ${e.id}`).toBe(false);
    ids.add(e.id);
    expect(families, e.id).toContain(e.family);
    expect(typeof e.claim === "string" && e.claim.trim().length > 0, `${e.id} has no claim`).toBe(true);
    expect(e.steps.length, e.id).toBeGreaterThan(0);
    for (const s of e.steps) {
      if ("command" in s) expect(typeof s.command === "string" && s.command.length > 0, e.id).toBe(true);
      else expect(Action.safeParse(s.action).success, `${e.id}: action does not parse`).toBe(true);
    }
  }
}

describe("corpus-red28", () => {
  const attacks = load("attacks.jsonl");
  const benign = load("benign.jsonl");

  it("attacks parse, are tagged with one of 16 families and a claim, and cover every family", () => {
    checkTagged(attacks, FAMILIES);
    expect(attacks.length).toBeGreaterThanOrEqual(250);
    expect(new Set(attacks.map((e) => e.family))).toEqual(new Set(FAMILIES));
  });

  it("everyday lines parse and are tagged", () => {
    checkTagged(benign, ["everyday"]);
    expect(benign.length).toBeGreaterThanOrEqual(80);
  });

  it("the review names only attack ids, each with a reason", () => {
    const review = JSON.parse(readFileSync(join(dir, "review.json"), "utf8")) as {
      false_claims: Record<string, string>;
    };
    const ids = new Set(attacks.map((e) => e.id));
    for (const [id, why] of Object.entries(review.false_claims)) {
      expect(ids.has(id), `review names unknown id ${id}`).toBe(true);
      expect(why.trim().length, id).toBeGreaterThan(0);
    }
  });
});
