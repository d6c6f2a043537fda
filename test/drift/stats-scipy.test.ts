// The drift statistics against scipy, live: fixtures are generated here (seeded), scipy answers
// them in a child process (test/fixtures/drift/scipy-oracle.py), and every value is compared.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { Rng } from "../../src/drift/random.js";
import {
  chi2Sf,
  chiSquare,
  chiSquareHomogeneity,
  jsDistance,
  ks2samp,
  wasserstein1,
  zTestProportions,
} from "../../src/drift/stats.js";
import { DEBIAN_PYTHON, missing } from "../support/tools.js";

const ORACLE = fileURLToPath(new URL("../fixtures/drift/scipy-oracle.py", import.meta.url));

type Case = Record<string, unknown> & { test: string };

function fixtures(): Case[] {
  const rng = new Rng(20261202);
  const cases: Case[] = [];
  const normal = (n: number, mean: number, sd: number) =>
    Array.from({ length: n }, () => Math.round(rng.normal(mean, sd) * 1e6) / 1e6);
  // KS: equal and unequal sizes, no shift to a large one, ties (rounded values), tiny samples.
  const ksSizes: [number, number, number, number][] = [
    [5, 7, 0, 1],
    [20, 20, 0, 0.5],
    [50, 80, 0, 0],
    [100, 100, 0.3, 0],
    [200, 150, 0.2, 0.1],
    [300, 1000, 0, 0],
    [1000, 500, 0.15, 0],
    [1000, 1000, 0.05, 0],
    [250, 400, 1, 0],
  ];
  for (const [n1, n2, shift, sdShift] of ksSizes)
    cases.push({ test: "ks", a: normal(n1, 0, 1), b: normal(n2, shift, 1 + sdShift) });
  cases.push({
    test: "ks",
    a: Array.from({ length: 300 }, () => rng.int(8)),
    b: Array.from({ length: 200 }, () => rng.int(9)),
  });
  // Chi-square: scaled expected (Evidently's way), a new category (expected 0), many categories.
  for (const k of [2, 3, 5, 12, 40]) {
    const w = Array.from({ length: k }, () => 0.2 + rng.next());
    const ref = Array.from({ length: k }, (_, i) => Math.round(w[i]! * 300));
    const cur = Array.from({ length: k }, (_, i) => Math.round(w[i]! * 100 * (0.8 + 0.4 * rng.next())));
    const scale = cur.reduce((s, v) => s + v, 0) / ref.reduce((s, v) => s + v, 0);
    cases.push({ test: "chi", observed: cur, expected: ref.map((v) => v * scale) });
  }
  cases.push({ test: "chi", observed: [10, 20, 5], expected: [12, 23, 0] });
  // Homogeneity (2×k contingency): both samples noisy, a category only in the current one.
  for (const k of [2, 4, 9, 30]) {
    const w = Array.from({ length: k }, () => 0.1 + rng.next());
    cases.push({
      test: "chi2x",
      a: w.map((v) => 1 + Math.round(v * 200)),
      b: w.map((v) => 1 + Math.round(v * 80 * (0.7 + 0.6 * rng.next()))),
    });
  }
  cases.push({ test: "chi2x", a: [300, 200, 100, 0], b: [140, 110, 40, 12] });
  for (const [x, df] of [
    [0.5, 1],
    [3.84, 1],
    [20, 5],
    [150, 30],
    [1e-3, 4],
    [400, 3],
  ] as const)
    cases.push({ test: "chi2sf", x, df });
  // z-test for proportions, from balanced to a far tail.
  for (const [k1, n1, k2, n2] of [
    [50, 100, 55, 100],
    [100, 1000, 150, 1000],
    [10, 500, 60, 400],
    [1, 300, 40, 300],
    [500, 1000, 100, 1000],
  ])
    cases.push({ test: "z", k1, n1, k2, n2 });
  // Wasserstein-1 and Jensen-Shannon (base 2 and e), with empty bins on either side.
  for (const [n1, n2, shift] of [
    [10, 15, 0.5],
    [500, 300, 0],
    [2000, 500, 0.3],
  ] as const)
    cases.push({ test: "wasserstein", a: normal(n1, 0, 1), b: normal(n2, shift, 2) });
  cases.push({ test: "js", p: [10, 20, 30, 0], q: [0, 20, 30, 10], base: 2 });
  cases.push({ test: "js", p: [1, 0, 0], q: [0, 0, 1], base: 2 });
  cases.push({ test: "js", p: [5, 5, 5], q: [5, 5, 5], base: 2 });
  cases.push({ test: "js", p: [0.1, 0.4, 0.5], q: [0.3, 0.3, 0.4], base: Math.E });
  for (let r = 0; r < 3; r++) {
    const k = 3 + rng.int(20);
    cases.push({
      test: "js",
      p: Array.from({ length: k }, () => (rng.next() < 0.2 ? 0 : rng.int(100))),
      q: Array.from({ length: k }, () => (rng.next() < 0.2 ? 0 : rng.int(100))),
      base: 2,
    });
  }
  return cases;
}

/** Our result's fields (a spread: the result interfaces have no index signature). */
function ours(c: Case): Record<string, number | string> {
  switch (c.test) {
    case "ks":
      return { ...ks2samp(c.a as number[], c.b as number[]) };
    case "chi":
      return { ...chiSquare(c.observed as number[], c.expected as number[]) };
    case "chi2x":
      return { ...chiSquareHomogeneity(c.a as number[], c.b as number[]) };
    case "chi2sf":
      return { value: chi2Sf(c.x as number, c.df as number) };
    case "z":
      return { ...zTestProportions(c.k1 as number, c.n1 as number, c.k2 as number, c.n2 as number) };
    case "wasserstein":
      return { value: wasserstein1(c.a as number[], c.b as number[]) };
    case "js":
      return { value: jsDistance(c.p as number[], c.q as number[], c.base as number) };
    default:
      throw new Error(c.test);
  }
}

/** Equal to 1e-9 absolute or 1e-7 relative (p-values in the far tail are compared relatively). */
function close(a: number, b: number): boolean {
  if (a === b || (Number.isNaN(a) && Number.isNaN(b))) return true;
  if (!Number.isFinite(a) || !Number.isFinite(b)) return false;
  return Math.abs(a - b) <= 1e-9 || Math.abs(a - b) <= 1e-7 * Math.max(Math.abs(a), Math.abs(b));
}

describe.skipIf(missing("python3-scipy"))("drift statistics against scipy 1.10 (live oracle)", () => {
  const cases = fixtures();
  const answers = JSON.parse(
    execFileSync(DEBIAN_PYTHON, [ORACLE], {
      input: JSON.stringify(cases),
      encoding: "utf8",
      timeout: 120_000,
    }),
  ) as Record<string, number | string>[];
  const num = (v: number | string) =>
    typeof v === "number" ? v : v === "inf" ? Infinity : v === "-inf" ? -Infinity : Number.NaN;

  it("answers every fixture", () => {
    expect(answers).toHaveLength(cases.length);
  });

  for (const [k, c] of cases.entries()) {
    it(`${k}: ${c.test}`, () => {
      const mine = ours(c);
      const theirs = answers[k]!;
      for (const [field, v] of Object.entries(theirs)) {
        const m = mine[field];
        const t = num(v);
        if (typeof m !== "number" || !close(m, t))
          throw new Error(`${c.test} ${field}: ours ${m}, scipy ${t}`);
      }
    });
  }
});
