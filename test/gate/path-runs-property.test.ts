import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { pathShapedRuns } from "../../src/gate/gate.js";

/**
 * Issue 18 target 1: the protected-path search in an action's text scanned it with
 * `text.match(/[~A-Za-z0-9._@%+=,/-]+/g)` (an array and a string for every run, kept or not); it is
 * one scan now that cuts out only the runs it keeps. The regex version is the oracle.
 */
function regexScan(text: string): string[] {
  const head = text.length > 64 * 1024 ? text.slice(0, 64 * 1024) : text;
  const tokens = head.match(/[~A-Za-z0-9._@%+=,/-]+/g);
  const out: string[] = [];
  if (tokens !== null)
    for (const tok of tokens.length > 512 ? tokens.slice(0, 512) : tokens)
      if (tok.length > 1 && (tok.includes("/") || tok.includes("."))) out.push(tok);
  return out;
}

const piece = fc.constantFrom(
  "/",
  ".",
  "a",
  "Z",
  "9",
  "~",
  "_",
  "@",
  "%",
  "+",
  "=",
  ",",
  "-",
  " ",
  '"',
  "'",
  "|",
  ";",
  "(",
  "é",
  "\n",
  "$",
  "*",
  "\u0000",
  "ab/cd",
  "x.ts",
);

describe("pathShapedRuns equals the regex scan it replaced", () => {
  it("generated texts", () => {
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (parts) => {
        const t = parts.join("");
        expect(pathShapedRuns(t)).toEqual(regexScan(t));
      }),
      { numRuns: 20_000, seed: 33 },
    );
  });

  it("the bounds: the first 512 runs, the first 64 KiB", () => {
    const many = Array.from({ length: 600 }, (_, i) => (i % 2 === 0 ? "w" : `/p/${i}`)).join(" ");
    expect(pathShapedRuns(many)).toEqual(regexScan(many));
    expect(pathShapedRuns(many)).toHaveLength(256);
    const long = `${"x ".repeat(32 * 1024 - 2)}/etc/passwd`;
    expect(pathShapedRuns(long)).toEqual(regexScan(long));
    expect(pathShapedRuns(`cat "/x//var/../var/agent.sock"; ls`)).toEqual(["/x//var/../var/agent.sock"]);
  });
});
