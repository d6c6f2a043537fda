import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { defaultPolicyPath, initGate, loadPolicy } from "../../src/gate/index.js";
import { compilePathMatcher, newPathLine, PathClass, type PathMatcher } from "../../src/gate/path-matcher.js";
import { compilePathGlob, matchPathGlob, type PathGlob } from "../../src/gate/paths.js";
import { glob, path, root } from "./glob-arbitraries.js";

/**
 * Issue 18 target 1: a rule's path list is one compiled matcher, shared by the rules naming the
 * same list, with `first` giving the index of the first glob that matches (for a reason naming it).
 * The per-glob matcher (compilePathGlob + matchPathGlob, glob by glob) is the oracle: on every path
 * list of the default pack, and on generated lists, `test` is "some glob matches" and `first` the
 * first glob's index, for generated paths under the home, the workspace and elsewhere (the pack's
 * own globs filled in, other pieces, any case, non-ASCII, paths that are not collapsed). Planted
 * bugs (a trailing `/**` that misses the directory, `{,**\/}` that misses depth 0, case-sensitive
 * segments, a wrong index) make it fail.
 */
const HOME = "/Users/dev";
const CWD = `${HOME}/project`;

const firstGlob = (globs: PathGlob[], p: string, home: string, cwd: string) =>
  globs.findIndex((g) => matchPathGlob(g, p, home, cwd));
/** The oracle: the per-glob matcher on the list's globs, optionally rewritten (a planted bug). */
type Oracle = (l: List, p: string, home: string, cwd: string) => number;
const perGlob: Oracle = (l, p, home, cwd) => firstGlob(l.each, p, home, cwd);

interface List {
  globs: string[];
  matcher: PathMatcher;
  each: PathGlob[];
}

const lists: List[] = [];
/** Path segments taken from the pack's globs: literal ones as written, glob ones filled in. */
let pieces: string[] = [];
/** Whole paths the pack's globs match (each brace alternative, wildcards filled in). */
let instances: string[] = [];

/** A glob's brace alternatives as text (at most 8). */
function braces(glob: string): string[] {
  const m = /\{([^{}]*)\}/.exec(glob);
  if (m === null) return [glob];
  const out: string[] = [];
  for (const alt of m[1]!.split(","))
    out.push(...braces(glob.slice(0, m.index) + alt + glob.slice(m.index + m[0].length)));
  return out.slice(0, 8);
}

/** A path a glob matches: each brace alternative, wildcards filled in, the base resolved. */
function instancesOf(glob: string): string[] {
  return braces(glob).map((g) => {
    const p = g
      .replace(/^~(?=\/|$)/, HOME)
      .replace(/^\$CWD(?=\/|$)/, CWD)
      .replace(/\*\*/g, "d/e")
      .replace(/\*/g, "x")
      .replace(/\?/g, "q")
      .replace(/\[!?[^\]]*\]/g, (c) => (c[1] === "!" ? "z" : c[1]!));
    return p.startsWith("/") ? p : `/opt/w/${p}`;
  });
}

beforeAll(async () => {
  await initGate();
  const bundle = loadPolicy(defaultPolicyPath());
  const seen = new Set<PathMatcher>();
  for (const r of bundle.rules) {
    for (const m of [r.paths, r.pathsWithin, r.pathsOutside, r.programPath, r.writes, r.writesOutside]) {
      if (m === null || seen.has(m)) continue;
      seen.add(m);
      lists.push({ globs: [...m.globs], matcher: m, each: m.globs.map((g) => compilePathGlob(g)) });
    }
  }
  const set = new Set<string>();
  for (const l of lists) for (const g of l.globs) for (const p of instancesOf(g)) set.add(p);
  instances = [...set];
  pieces = [...new Set(instances.flatMap((p) => p.split("/")).filter((x) => x !== ""))];
});

const upper = (s: string) => s.toUpperCase();
const odd = ["é", "É", "İ", "\u212a", "ſ", "Σ", "", ".", ".."];

/** A path: a root (home, workspace, `/`, a neighbour of home), segments, a case, a shape. */
const pathArb = () =>
  fc
    .record({
      root: fc.oneof(fc.constantFrom(HOME, CWD, "", "/Users/devx", "/private", "/Volumes/x"), {
        weight: 3,
        arbitrary: fc.nat(100_000).map((i) => instances[i % instances.length]!),
      }),
      segs: fc.array(
        fc.oneof(
          { weight: 6, arbitrary: fc.nat(10_000).map((i) => pieces[i % pieces.length]!) },
          { weight: 1, arbitrary: fc.constantFrom(...odd) },
          { weight: 1, arbitrary: fc.stringMatching(/^[a-zA-Z0-9._-]{1,6}$/) },
        ),
        { maxLength: 4 },
      ),
      caps: fc.constantFrom("as-is", "upper", "one"),
      shape: fc.constantFrom("clean", "clean", "clean", "trailing", "double", "bare"),
    })
    .map(({ root, segs, caps, shape }) => {
      const parts = segs.flatMap((s) => s.split("/"));
      let p = `${root}/${parts.join("/")}`.replace(/\/+/g, "/");
      if (caps === "upper") p = upper(p);
      else if (caps === "one" && parts.length > 0) p = p.replace(parts[0]!, upper(parts[0]!));
      if (shape === "trailing") p += "/";
      else if (shape === "double") p = p.replace("/", "//");
      else if (shape === "bare") p = root || "/";
      return p;
    });

const env = fc.constantFrom([HOME, CWD], [HOME, HOME], ["/", CWD], [HOME, "/"], ["/Users/DEV", CWD]);

function agrees(oracle: Oracle) {
  return fc.property(pathArb(), env, (p, [home, cwd]) => {
    for (const l of lists) {
      const want = oracle(l, p, home!, cwd!);
      if (l.matcher.test(p, home!, cwd!) !== want >= 0) return false;
      if (l.matcher.first(p, home!, cwd!) !== want) return false;
    }
    return true;
  });
}

/** The globs of a generated list that compile (the generator can make invalid ones). */
function compilable(globs: string[]): string[] {
  return globs.filter((g) => {
    try {
      compilePathGlob(g);
      return true;
    } catch {
      return false;
    }
  });
}

describe("PathMatcher equals the per-glob matcher", () => {
  it("on every path list of the default pack", () => {
    expect(lists.length).toBeGreaterThan(15);
    // The generator reaches both answers on most lists: the property is not vacuous.
    const hit = new Set<PathMatcher>();
    const miss = new Set<PathMatcher>();
    fc.assert(
      fc.property(pathArb(), env, (p, [home, cwd]) => {
        for (const l of lists) {
          const want = perGlob(l, p, home!, cwd!);
          (want >= 0 ? hit : miss).add(l.matcher);
          expect(l.matcher.test(p, home!, cwd!)).toBe(want >= 0);
          expect(l.matcher.first(p, home!, cwd!)).toBe(want);
        }
      }),
      { numRuns: 4000, seed: 33 },
    );
    expect(hit.size).toBeGreaterThan(lists.length * 0.8);
    expect(miss.size).toBe(lists.length);
  });

  it("fails when the oracle is planted with a bug the matcher could have", () => {
    // A bug is the per-glob matcher on rewritten globs, compiled once per list.
    const rewritten = (f: (g: string) => string): Oracle => {
      const memo = new Map<List, PathGlob[]>();
      return (l, p, home, cwd) => {
        let each = memo.get(l);
        if (each === undefined) {
          each = l.globs.map((g) => compilePathGlob(f(g)));
          memo.set(l, each);
        }
        return firstGlob(each, p, home, cwd);
      };
    };
    const bugs: [string, Oracle][] = [
      // A trailing `/**` that does not match the directory itself.
      ["strictly below", rewritten((g) => g.replace(/\/\*\*$/, "/?*/**"))],
      // `{,**/}x` that misses x at depth 0.
      ["any depth but here", rewritten((g) => g.replace("{,**/}", "*/{,**/}"))],
      // Segments compared with their case (the root still folded).
      [
        "cased",
        (l, p, home, cwd) =>
          l.each.findIndex((g) =>
            matchPathGlob({ ...g, rest: new RegExp(g.rest.source, "y") }, p, home, cwd),
          ),
      ],
      // The first glob of the list named where a later one matched.
      ["wrong index", (l, p, home, cwd) => Math.min(perGlob(l, p, home, cwd), 0)],
    ];
    for (const [name, bug] of bugs)
      expect([name, fc.check(agrees(bug), { numRuns: 4000, seed: 33 }).failed]).toEqual([name, true]);
    expect(fc.check(agrees(perGlob), { numRuns: 500, seed: 33 }).failed).toBe(false);
  });

  it("on generated lists and paths", () => {
    fc.assert(
      fc.property(
        fc.array(glob, { minLength: 1, maxLength: 6 }),
        path,
        root,
        root,
        fc.boolean(),
        (gls, p, home, cwd, under) => {
          const valid = compilable(gls);
          if (valid.length === 0) return;
          const m = compilePathMatcher(valid);
          const each = valid.map((g) => compilePathGlob(g));
          const q = under && home !== "/" ? home + p : p;
          const want = firstGlob(each, q, home, cwd);
          expect(m.test(q, home, cwd)).toBe(want >= 0);
          expect(m.first(q, home, cwd)).toBe(want);
        },
      ),
      { numRuns: 20_000, seed: 33 },
    );
  });

  it("on generated lists long enough to be split by first segment", () => {
    // Lists of 8 globs or more are split (paths.ts FirstSegment): literal first segments keyed,
    // one-segment globs at any depth tried at the last segment, the rest as before. The generated
    // globs reach all three parts, in every case and with non-ASCII segments.
    fc.assert(
      fc.property(
        fc.array(glob, { minLength: 8, maxLength: 24 }),
        fc.array(path, { minLength: 1, maxLength: 4 }),
        root,
        root,
        fc.boolean(),
        (gls, ps, home, cwd, under) => {
          const valid = compilable(gls);
          if (valid.length < 8) return;
          const m = compilePathMatcher(valid);
          const each = valid.map((g) => compilePathGlob(g));
          for (const p of ps) {
            const q = under && home !== "/" ? home + p : p;
            const want = firstGlob(each, q, home, cwd);
            expect(m.test(q, home, cwd)).toBe(want >= 0);
            for (const base of ["abs", "home", "cwd"] as const)
              for (const is of [true, false])
                expect(m.testBase(q, home, cwd, base, is)).toBe(
                  each.some((g) => (g.base === base) === is && matchPathGlob(g, q, home, cwd)),
                );
          }
        },
      ),
      { numRuns: 5_000, seed: 38 },
    );
    const m = compilePathMatcher([
      "~/.ssh/**",
      "~/.aws/**",
      "~/Library/Keychains/**",
      "/etc/shadow",
      "/etc/sudoers.d/**",
      "*.pem",
      "{,**/}id_{rsa,ed25519}*",
      "**/*secret*",
      "~/.config/*/token",
      "/Users/*/.netrc",
    ]);
    const t = (p: string) => m.test(p, HOME, CWD);
    expect(t("/Users/dev/.SSH/id_x")).toBe(true);
    expect(t("/Users/dev/.sshx/id_x")).toBe(false);
    expect(t("/Users/dev/.aws")).toBe(true);
    expect(t("/ETC/Shadow")).toBe(true);
    expect(t("/etc/shadow/x")).toBe(false);
    expect(t("/etc/sudoers.d")).toBe(true);
    expect(t("/a/b/k.PEM")).toBe(true);
    expect(t("/a/b.pem/k")).toBe(false);
    expect(t("/a/id_rsa.pub")).toBe(true);
    expect(t("/id_ed25519")).toBe(true);
    expect(t("/a/my-SECRET-file")).toBe(true);
    expect(t("/a/my-SECRET-file/")).toBe(false); // a trailing / ends in an empty segment, as the whole regex says
    expect(t("/Users/dev/.config/gh/token")).toBe(true);
    expect(t("/Users/x/.netrc")).toBe(true);
    expect(t("/Users/dev/Library/Keychains")).toBe(true);
    expect(t("/Users/dev/Library/Keychain\u017f/x")).toBe(true); // ſ folds to s (APFS), the split's fallback
    expect(t("/Users/dev/Library/KEYCHAINS/login.keychain-db")).toBe(true);
  });

  it("cut into path classes, with the line memo, answers as the whole list", () => {
    // perf42: a list is an OR of its classes (the pack's lists it names, its own globs), each
    // class remembering a line's paths for the home and cwd they were tested with. The same paths
    // asked again in any order, under other homes and cwds, more paths than the memo holds, and
    // new lines in between, give the per-glob answers for test and testBase (paths_except).
    fc.assert(
      fc.property(
        fc.array(glob, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(3), { minLength: 12, maxLength: 12 }),
        fc.array(path, { minLength: 1, maxLength: 12 }),
        fc.array(fc.tuple(fc.nat(11), root, root, fc.nat(4)), { minLength: 1, maxLength: 40 }),
        fc.boolean(),
        (gls, cut, ps, asks, under) => {
          const valid = compilable(gls);
          if (valid.length === 0) return;
          const parts: string[][] = [[], [], [], []];
          for (let i = 0; i < valid.length; i++) parts[cut[i]!]!.push(valid[i]!);
          const m = compilePathMatcher(
            valid,
            parts.filter((x) => x.length > 0).map((x) => new PathClass(x)),
          );
          const each = valid.map((g) => compilePathGlob(g));
          for (const [i, home, cwd, op] of asks) {
            if (op === 4) {
              newPathLine();
              continue;
            }
            const p = ps[i % ps.length]!;
            const q = under && home !== "/" ? home + p : p;
            const hits = each.filter((g) => matchPathGlob(g, q, home, cwd));
            if (op === 0) expect(m.test(q, home, cwd)).toBe(hits.length > 0);
            else if (op === 1) expect(m.first(q, home, cwd)).toBe(firstGlob(each, q, home, cwd));
            else
              expect(m.testBase(q, home, cwd, "cwd", op === 2)).toBe(
                hits.some((g) => (g.base === "cwd") === (op === 2)),
              );
          }
        },
      ),
      { numRuns: 5_000, seed: 42 },
    );
    // More paths on one line than a class remembers: the ninth and later are tested as before.
    const m = compilePathMatcher(
      ["$CWD/**", "~/.ssh/**"],
      [new PathClass(["$CWD/**"]), new PathClass(["~/.ssh/**"])],
    );
    newPathLine();
    const many = Array.from({ length: 20 }, (_, i) => (i % 2 ? `${CWD}/f${i}` : `${HOME}/.ssh/k${i}`));
    for (let round = 0; round < 2; round++)
      for (const p of [...many, "/tmp/x"]) {
        expect(m.test(p, HOME, CWD)).toBe(p !== "/tmp/x");
        expect(m.testBase(p, HOME, CWD, "cwd", true)).toBe(p.startsWith(CWD));
        expect(m.testBase(p, HOME, CWD, "cwd", false)).toBe(p.startsWith(`${HOME}/.ssh`));
      }
    // The same path under another workspace is not the remembered one.
    expect(m.testBase(`${CWD}/f1`, HOME, "/elsewhere", "cwd", true)).toBe(false);
    expect(m.testBase(`${CWD}/f1`, HOME, CWD, "cwd", true)).toBe(true);
    expect(m.test(`${HOME}/.ssh/k0`, "/Users/other", CWD)).toBe(false);
  });

  it("the cases the gate depends on", () => {
    const m = compilePathMatcher(["~/.ssh/**", "/etc/**", "$CWD/{,**/}.env", "id_*", "~/Library/**/*.plist"]);
    const t = (p: string) => m.first(p, HOME, CWD);
    expect(t("/Users/dev/.ssh/id_rsa")).toBe(0);
    expect(t("/users/DEV/.SSH/id_rsa")).toBe(0);
    expect(t("/Users/dev/.ssh")).toBe(0);
    expect(t("/Users/devx/.ssh/x")).toBe(-1);
    expect(t("/etc")).toBe(1);
    expect(t("/etcx")).toBe(-1);
    expect(t(`${CWD}/.env`)).toBe(2);
    expect(t(`${CWD}/a/b/.ENV`)).toBe(2);
    expect(t("/a/b/id_rsa")).toBe(3);
    expect(t("/Users/dev/.ssh/id_x")).toBe(0);
    expect(t("/Users/dev/Library/LaunchAgents/x.plist")).toBe(4);
    expect(t("/Users/dev/Library/x.plist")).toBe(-1);
    expect(t("/Users/dev//.ssh/k")).toBe(-1); // not collapsed: the regex says no, so does the matcher
  });
});
