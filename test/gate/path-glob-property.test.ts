import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compilePathGlob,
  compilePathGlobs,
  foldPath,
  matchPathGlob,
  type PathGlob,
} from "../../src/gate/paths.js";
import { glob, path, root } from "./glob-arbitraries.js";

/**
 * Issue 18 target 1: matchPathGlob was rewritten to allocate nothing (the rest is matched in place
 * with a sticky regex, the root compared case-insensitively char by char). The version it replaced
 * is kept here as the oracle, on the same compiled glob (its `^…$` regex over slices): on every
 * generated glob, path, home and cwd the two agree (both on paths folded by foldPath).
 */
function matchBefore(g: PathGlob, path0: string, home0: string, cwd0: string): boolean {
  // Paths are compared as APFS does (gate36): the same matcher over the folded strings.
  const path = foldPath(path0);
  const home = foldPath(home0);
  const cwd = foldPath(cwd0);
  const rest = new RegExp(`^${g.rest.source}`, "i");
  if (g.base === "abs") return rest.test(path.slice(1));
  const root = g.base === "home" ? home : cwd;
  if (path.length === root.length) return path.toLowerCase() === root.toLowerCase() && rest.test("");
  if (root === "/") return rest.test(path.slice(1));
  if (path.length < root.length + 1 || path[root.length] !== "/") return false;
  if (path.slice(0, root.length).toLowerCase() !== root.toLowerCase()) return false;
  return rest.test(path.slice(root.length + 1));
}

describe("matchPathGlob (allocation-free) equals the slicing version it replaced", () => {
  it("one glob, generated paths under generated home and cwd", () => {
    fc.assert(
      fc.property(glob, path, root, root, fc.boolean(), (gl, p, home, cwd, under) => {
        const g = compilePathGlob(gl);
        const q = under && home !== "/" ? home + p : p; // often below the home, to reach the regex
        expect(matchPathGlob(g, q, home, cwd)).toBe(matchBefore(g, q, home, cwd));
        // The regex is sticky: a second test must not depend on the first's lastIndex.
        expect(matchPathGlob(g, q, home, cwd)).toBe(matchBefore(g, q, home, cwd));
      }),
      { numRuns: 20_000, seed: 18 },
    );
  });

  it("compiled lists (one alternation per base), arbitrary unicode paths", () => {
    fc.assert(
      fc.property(
        fc.array(glob, { minLength: 1, maxLength: 5 }),
        fc.oneof(
          path,
          fc.string({ maxLength: 16 }).map((s) => `/${s}`),
        ),
        root,
        (gls, p, home) => {
          for (const g of compilePathGlobs(gls)) {
            expect(matchPathGlob(g, p, home, home)).toBe(matchBefore(g, p, home, home));
            expect(matchPathGlob(g, home + p, home, "/w")).toBe(matchBefore(g, home + p, home, "/w"));
          }
        },
      ),
      { numRuns: 10_000, seed: 18 },
    );
  });

  it("the cases the gate depends on", () => {
    const ssh = compilePathGlob("~/.ssh/**");
    expect(matchPathGlob(ssh, "/Users/dev/.ssh/id_rsa", "/Users/dev", "/w")).toBe(true);
    expect(matchPathGlob(ssh, "/users/DEV/.SSH/id_rsa", "/Users/dev", "/w")).toBe(true);
    expect(matchPathGlob(ssh, "/Users/dev/.ssh", "/Users/dev", "/w")).toBe(true);
    expect(matchPathGlob(ssh, "/Users/devx/.ssh/id", "/Users/dev", "/w")).toBe(false);
    const etc = compilePathGlob("/etc/**");
    expect(matchPathGlob(etc, "/etc", "/h", "/w")).toBe(true);
    expect(matchPathGlob(etc, "/etcx", "/h", "/w")).toBe(false);
    expect(matchPathGlob(compilePathGlob("$CWD/**"), "/w/a", "/h", "/w")).toBe(true);
    expect(matchPathGlob(compilePathGlob("id_*"), "/a/b/id_rsa", "/h", "/w")).toBe(true);
  });
});
