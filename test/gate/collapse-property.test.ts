import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { collapse } from "../../src/gate/paths.js";

/**
 * Issue 18 target 1: collapse() was rewritten to allocate nothing but its result (a scan over one
 * reused segment buffer instead of split/array/join). The old implementation is kept here, as the
 * oracle: on every generated input the two agree.
 */
const NEEDS_COLLAPSE = /\/\/|\/\.|.\/$|^[^/]/;
function collapseBefore(abs: string): string {
  if (!NEEDS_COLLAPSE.test(abs)) return abs;
  const out: string[] = [];
  for (const seg of abs.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return `/${out.join("/")}`;
}

/** Paths made of the parts that matter to collapse: slashes, dots, dot-dot, names, dotfiles. */
const part = fc.constantFrom(
  "/",
  "//",
  ".",
  "..",
  "...",
  "a",
  "bc",
  ".ssh",
  "..x",
  "x.",
  "~",
  " ",
  "é",
  "\\",
);
const pathish = fc.array(part, { maxLength: 24 }).map((ps) => ps.join(""));

describe("collapse (allocation-free) equals the split/join version it replaced", () => {
  it("on paths built from slashes, dots and names (absolute or not)", () => {
    fc.assert(
      fc.property(pathish, fc.boolean(), (p, abs) => {
        const s = abs ? `/${p}` : p;
        expect(collapse(s)).toBe(collapseBefore(s));
      }),
      { numRuns: 20_000, seed: 18 },
    );
  });

  it("on arbitrary strings, and on paths with more segments than its first buffer holds", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 64 }), (s) => {
        expect(collapse(s)).toBe(collapseBefore(s));
      }),
      { numRuns: 20_000, seed: 18 },
    );
    for (const n of [127, 128, 129, 300, 1000]) {
      const deep = `/${Array.from({ length: n }, (_, i) => (i % 7 === 3 ? ".." : `d${i}`)).join("/")}/`;
      expect(collapse(deep)).toBe(collapseBefore(deep));
      const dots = `${"/./a".repeat(n)}//`;
      expect(collapse(dots)).toBe(collapseBefore(dots));
    }
  });

  it("the cases the gate depends on", () => {
    for (const [i, o] of [
      ["", ""],
      ["/", "/"],
      ["//", "/"],
      ["/..", "/"],
      ["a/b", "/a/b"],
      ["/a/b/", "/a/b"],
      ["/a/./b//c/../d/", "/a/b/d"],
      ["/home/u/.ssh/../.ssh/id", "/home/u/.ssh/id"],
      ["/x/y/..", "/x"],
    ] as const) {
      expect(collapse(i)).toBe(o);
      expect(collapseBefore(i)).toBe(o);
    }
  });
});
