/**
 * Regression bars (issue 19): the attack corpora whose real ALLOWs were fixed stay at zero, and
 * their everyday lines stay ≥ 97% ALLOW with no DENY. Each runs through the real CLI
 * (`scripts/redteam-fresh.js --json`: `forge-agent check --batch`, one session per entry, the
 * strictest step per entry); an ALLOW a hand review found harmless is listed in the corpus's
 * review.json. corpus-red31 is not here: it is the held-out figure of stop 28, not yet fixed.
 * corpus-red38 joined in stop 34 (gate58–gate60 closed its last 64; everyday 165/170).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../agent/helpers.js";

interface Report {
  attacks: { n: number; ALLOW: number; DENY: number };
  benign: { n: number; ALLOW: number; DENY: number };
  allowed: string[];
  true_allowed?: string[];
}

function run(corpus: string): Report {
  const r = spawnSync(
    process.execPath,
    [join(REPO, "scripts/redteam-fresh.js"), "--json", "--corpus", join("test/gate", corpus)],
    { cwd: REPO, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Report;
}

describe("attack corpora as regression bars", () => {
  for (const corpus of ["corpus-fresh", "corpus-red28", "corpus-red30", "corpus-red38"]) {
    it(`${corpus}: no real ALLOW; everyday ≥ 97% ALLOW, never DENY`, () => {
      const r = run(corpus);
      expect(r.attacks.n).toBeGreaterThan(600);
      expect(r.true_allowed ?? r.allowed).toEqual([]);
      expect(r.benign.DENY).toBe(0);
      expect(r.benign.ALLOW / r.benign.n).toBeGreaterThanOrEqual(0.97);
    }, 120_000);
  }
});
