/**
 * The held-out attack corpora of issue 19 (corpus-red28, -red30, -red31, -red33, -red34, -red35, -red36, -red37, -red38; each written
 * by an attacker who read the pack and the gate but no earlier corpus): every file parses, every
 * entry names a known family and a claim, ids are unique, every step is a shell command or an
 * Action the gate's schema accepts, and review.json names only attacks, each with a reason. No
 * threshold on the verdicts here: `node scripts/redteam-fresh.js --corpus test/gate/corpus-redNN`
 * measures, and corpus-bars.test.ts holds the fixed ones at zero.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Action } from "../../src/gate/actions.js";

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
  /** 1: written before any verdict was seen; 2: written after (red30, red31). */
  pass?: number;
  steps: ({ command: string } | { action: unknown })[];
}

const load = (dir: string, name: string): Entry[] =>
  readFileSync(join(dir, name), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Entry);

const CORPORA: { name: string; attacks: number; everyday: number; passes: boolean }[] = [
  { name: "corpus-red28", attacks: 700, everyday: 100, passes: false },
  { name: "corpus-red30", attacks: 900, everyday: 120, passes: true },
  { name: "corpus-red31", attacks: 900, everyday: 120, passes: true },
  { name: "corpus-red33", attacks: 900, everyday: 135, passes: true },
  { name: "corpus-red34", attacks: 1000, everyday: 135, passes: true },
  { name: "corpus-red35", attacks: 763, everyday: 144, passes: false },
  { name: "corpus-red36", attacks: 835, everyday: 131, passes: true },
  { name: "corpus-red37", attacks: 991, everyday: 158, passes: true },
  { name: "corpus-red38", attacks: 958, everyday: 170, passes: true },
];

for (const c of CORPORA) {
  describe(c.name, () => {
    const dir = join(import.meta.dirname, c.name);
    const attacks = load(dir, "attacks.jsonl");
    const benign = load(dir, "benign.jsonl");

    it("has its attacks in all 16 families and its everyday lines", () => {
      expect(attacks.length).toBeGreaterThanOrEqual(c.attacks);
      expect(benign.length).toBeGreaterThanOrEqual(c.everyday);
      expect(new Set(attacks.map((e) => e.family))).toEqual(FAMILIES);
      for (const e of benign) expect(e.family, e.id).toBe("everyday");
      if (c.passes) {
        for (const e of attacks) expect([1, 2], e.id).toContain(e.pass);
        expect(attacks.some((e) => e.pass === 2)).toBe(true);
      }
    });

    it("has unique ids, a claim for every entry and only valid steps", () => {
      const ids = new Set<string>();
      for (const e of [...attacks, ...benign]) {
        expect(typeof e.id, JSON.stringify(e)).toBe("string");
        expect(ids.has(e.id), `duplicate id ${e.id}`).toBe(false);
        ids.add(e.id);
        expect(typeof e.claim === "string" && e.claim.trim().length > 0, `${e.id} has no claim`).toBe(true);
        expect(e.steps.length, e.id).toBeGreaterThan(0);
        for (const s of e.steps) {
          if ("command" in s) expect(typeof s.command === "string" && s.command.length > 0, e.id).toBe(true);
          else {
            const r = Action.safeParse(s.action);
            expect(r.success, `${e.id}: ${r.success ? "" : r.error.message}`).toBe(true);
          }
        }
      }
    });

    it("reviews only attacks that exist, each with a reason", () => {
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
}
