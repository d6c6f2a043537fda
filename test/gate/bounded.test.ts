import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultPolicyPath, Gate, initGate, loadPolicy, parseShell } from "../../src/gate/index.js";
import { DEFAULT_LIMITS } from "../../src/gate/shell/index.js";

/**
 * Issue 19 §6: the gate never hangs the daemon. Every step of a line's walk is linear or bounded by
 * a declared budget (DEFAULT_LIMITS); a budget that runs out is a `shell-budget:` floor (never
 * ALLOW). Asserted on the walk's own counters (`work`), never on time.
 */
const HOME = "/home/u";
const CWD = `${HOME}/p`;
let gate: Gate;

beforeAll(async () => {
  await initGate();
  gate = new Gate(loadPolicy(defaultPolicyPath()), { home: HOME, cwd: CWD, maxSessions: 64 });
});

const decide = (command: string) => gate.evaluate({ session_id: "b", action: { kind: "shell", command } });
/** The most steps a line may spend: the budget, plus one step's overshoot (a whole word at most). */
const CEILING = DEFAULT_LIMITS.maxWork + DEFAULT_LIMITS.maxLength + 1;

/** The shapes that were exponential, quadratic or recursive before (issue 19 §6), and their kin. */
const FRAGMENTS = [
  "{a,b}",
  "{",
  ",",
  "}",
  "a=",
  "=",
  "$(",
  ")",
  "(",
  "((",
  "{ ",
  "; }",
  "\\\n",
  "'",
  '"',
  " | ls",
  " && ",
  "${x:-",
  "<<E\n",
  "\nE\n",
  "$((",
  "[[ ",
  " ]]",
  "`",
  "x{",
  " ",
  "ls ",
  "a/",
  "../",
  "-",
  "$'\\x41'",
  "bash -c '",
  "eval ",
];

describe("bounded work (issue 19 §6)", () => {
  it("the regressions: exponential braces, `a=a=…` recursion, deep nesting, long lines decide within the budget", () => {
    const cases: [string, RegExp][] = [
      [`echo ${"{a,b}".repeat(24)}`, /^shell-budget: brace expansion .* makes over 64 words/],
      [`echo ${"{a,b}".repeat(3000)}`, /^shell-budget: /],
      [`ls ${"a=".repeat(6000)}a`, /^shell-budget: a word holds over 8 'k=v' assignments/],
      [`echo ${"$(".repeat(3000)}${")".repeat(3000)}`, /^shell-budget: nesting deeper than 200/],
      [`${"(".repeat(5000)}ls${")".repeat(5000)}`, /^shell-budget: nesting deeper than 200/],
      [`${"{ ".repeat(3000)}ls${"; }".repeat(3000)}`, /^shell-budget: nesting deeper than 200/],
      // Quoted and unquoted braces glued (fast-check found it): the raw word, quoted characters
      // escaped, is longer than the line, and each expansion charged it before it checked.
      [`'{a,b},`.repeat(4096).slice(0, 16 * 1024), /^shell-budget: over 400000 steps/],
    ];
    for (const [line, reason] of cases) {
      const p = parseShell(line, CWD, HOME);
      expect(p.work.steps).toBeLessThanOrEqual(CEILING);
      expect(p.work.nesting).toBeLessThanOrEqual(DEFAULT_LIMITS.maxNesting);
      expect(p.floors.some((f) => reason.test(f))).toBe(true);
      const d = decide(line);
      expect(d.evaluation).toBe("ESCALATE");
      expect(d.reasons.some((r) => reason.test(r))).toBe(true);
    }
  });

  it("a brace expansion over the word budget is unknown, never its first words (a dropped one may be `~`)", () => {
    const line = `rm -rf {${Array.from({ length: 70 }, (_, i) => `a${i}`).join(",")},~}`;
    expect(decide(line).evaluation).not.toBe("ALLOW");
    const p = parseShell(line, CWD, HOME);
    expect(p.commands[0]!.dynamic).toBe(true);
  });

  it("property: every generated line up to 16 KiB decides within the declared budget, never ALLOW on a spent budget", () => {
    const line = fc
      .tuple(
        fc.array(fc.constantFrom(...FRAGMENTS), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 4096 }),
      )
      .map(([parts, times]) =>
        parts
          .join("")
          .repeat(times)
          .slice(0, 16 * 1024),
      );
    fc.assert(
      fc.property(line, (l) => {
        const p = parseShell(l, CWD, HOME);
        expect(p.work.steps).toBeLessThanOrEqual(CEILING);
        expect(p.work.nesting).toBeLessThanOrEqual(DEFAULT_LIMITS.maxNesting);
        const d = decide(l);
        expect(d.reasons[0]).not.toBe("gate-error");
        if (p.floors.some((f) => f.startsWith("shell-budget:"))) expect(d.evaluation).not.toBe("ALLOW");
      }),
      { numRuns: 150 },
    );
    // 150 lines of 16 KiB through the parser: over a minute on 2 cores shared with other runs.
  }, 180_000);

  it("unmatched and text braces cost one pass over the word, not one per brace", () => {
    // fast-check found `../{` × 17 at 632 steps against 608: each `{` scanned to the end again.
    for (const unit of ["../{", "{../}", "x{", "{a..}", "{{"])
      for (const times of [17, 40, 400]) {
        const l = unit.repeat(times);
        const p = parseShell(l, CWD, HOME);
        expect({ l, steps: p.work.steps <= 8 * l.length + 64 }).toEqual({ l, steps: true });
      }
  });

  it("property: without brace expansion (bounded by the budget alone), a line's steps grow linearly with its length", () => {
    const noBraces = FRAGMENTS.filter((f) => !f.includes(","));
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...noBraces), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 8, max: 1500 }),
        (parts, times) => {
          const l = parts
            .join("")
            .repeat(times)
            .slice(0, 16 * 1024);
          const p = parseShell(l, CWD, HOME);
          if (p.work.steps < DEFAULT_LIMITS.maxWork)
            expect(p.work.steps).toBeLessThanOrEqual(8 * l.length + 64);
        },
      ),
      { numRuns: 150 },
    );
  });
});
