/**
 * One compiled matcher per path-glob list (issue 18 target 1). A rule's `paths`, `paths_outside`,
 * `writes` … list (the pack's secrets, persistence and system-path lists expanded into it) is
 * compiled once, at policy load, into one alternation per base (`/`, `~`, `$CWD`; the globs that
 * match at any depth share one any-directories prefix), and rules naming the same list share one
 * matcher (policy.ts). `test` is one regex test per base for a path; `first` recovers the index of
 * the first glob (list order) that matches, for a reason naming it, by testing the globs one by one
 * only for a path the list matches.
 *
 * A segment trie (literal segments hashed, glob segments at the nodes) was built and measured
 * first: with the same answers (the property test below held), it took 1.5× the CPU of these
 * regexes on the pack's lists (V8's regex engine compares a literal alternation faster than a
 * walk in JS can), so the regexes stay. See /work/notes/18-perf33.md.
 */
import {
  compilePathGlob,
  compilePathGlobs,
  matchAnyPathGlob,
  matchPathGlob,
  matchPathGlobUnder,
  type PathGlob,
} from "./paths.js";

/** Bumped once per decision (newPathLine): a class's memo holds only the current line's paths. */
let epoch = 0;

/**
 * Starts a new line for the path classes' memos. Only a speed matter: a memo entry is a pure
 * function of (path, home, cwd), so one kept from an earlier line would still be right.
 */
export function newPathLine(): void {
  epoch++;
}

/** Paths a class remembers per line; a line naming more tests the rest as before. */
const MEMO = 8;
/** Memo bits: whether the class's globs anchored at `$CWD` (IN) or at another base (OUT) are known, and match. */
const IN_KNOWN = 1;
const IN_YES = 2;
const OUT_KNOWN = 4;
const OUT_YES = 8;

/**
 * A path class: one of the pack's lists (`@secrets`), or a field's own globs, compiled once per
 * policy and shared by every matcher whose list holds it (perf42). A line's path is tested against
 * a class once, whichever rules and commands ask: the answer is kept for the line (`match`). A
 * list matches a path iff one of its classes does, as the alternation is an OR of its globs.
 */
export class PathClass {
  readonly globs: readonly string[];
  private readonly inCwd: PathGlob[];
  private readonly outside: PathGlob[];
  /** It has globs anchored at `$CWD` (`inWorkspace`), at another base (`elsewhere`). */
  readonly inWorkspace: boolean;
  readonly elsewhere: boolean;
  private at = -1;
  private home = "";
  private cwd = "";
  private n = 0;
  private readonly paths: string[] = [];
  private readonly bits: number[] = [];

  constructor(globs: readonly string[]) {
    this.globs = [...globs];
    const whole = compilePathGlobs(this.globs);
    this.inCwd = whole.filter((g) => g.base === "cwd");
    this.outside = whole.filter((g) => g.base !== "cwd");
    this.inWorkspace = this.inCwd.length > 0;
    this.elsewhere = this.outside.length > 0;
  }

  /**
   * True when `path` matches a glob of the class anchored at `$CWD` (`want` 1), at another base
   * (2), or either (3), for this home and cwd: PathMatcher.test/testBase over this class's globs.
   */
  match(path: string, home: string, cwd: string, want: 1 | 2 | 3): boolean {
    if (this.at !== epoch || this.home !== home || this.cwd !== cwd) {
      this.at = epoch;
      this.home = home;
      this.cwd = cwd;
      this.n = 0;
    }
    let i = 0;
    while (i < this.n && this.paths[i] !== path) i++;
    let b = 0;
    if (i < this.n) b = this.bits[i]!;
    else if (this.n < MEMO) {
      this.n++;
      this.paths[i] = path;
    } else i = -1;
    if (want & 1) {
      if (!(b & IN_KNOWN)) b |= matchAnyPathGlob(this.inCwd, path, home, cwd) ? IN_KNOWN | IN_YES : IN_KNOWN;
      if (b & IN_YES) {
        if (i >= 0) this.bits[i] = b;
        return true;
      }
    }
    if (want & 2 && !(b & OUT_KNOWN))
      b |= matchAnyPathGlob(this.outside, path, home, cwd) ? OUT_KNOWN | OUT_YES : OUT_KNOWN;
    if (i >= 0) this.bits[i] = b;
    return (want & 2) !== 0 && (b & OUT_YES) !== 0;
  }
}

/** A glob list compiled into one matcher; see the file comment. Immutable once built. */
export class PathMatcher {
  readonly globs: readonly string[];
  /** The list, one alternation per base. */
  private readonly whole: PathGlob[];
  /** The globs one by one, for `first`; compiled when first needed. */
  private each: PathGlob[] | null = null;
  /**
   * The list as its classes (their globs together are `globs`), or null: tested as `whole`. Kept
   * as the classes with globs anchored at `$CWD` and those with globs at another base (a class
   * may be in both): a test asks each only what its globs can answer, the workspace prefix
   * compares (cheap, and what most paths of a line meet) first.
   */
  private readonly inClasses: readonly PathClass[] | null;
  private readonly outClasses: readonly PathClass[] | null;

  constructor(globs: readonly string[], classes: readonly PathClass[] | null = null) {
    this.globs = [...globs];
    this.whole = compilePathGlobs(this.globs);
    this.inClasses = classes === null ? null : classes.filter((c) => c.inWorkspace);
    this.outClasses = classes === null ? null : classes.filter((c) => c.elsewhere);
  }

  /** True when `path` (absolute, collapsed) matches some glob of the list for this home and cwd. */
  test(path: string, home: string, cwd: string): boolean {
    const ic = this.inClasses;
    if (ic !== null) {
      for (let i = 0; i < ic.length; i++) if (ic[i]!.match(path, home, cwd, 1)) return true;
      const oc = this.outClasses!;
      for (let i = 0; i < oc.length; i++) if (oc[i]!.match(path, home, cwd, 2)) return true;
      return false;
    }
    return matchAnyPathGlob(this.whole, path, home, cwd);
  }

  /**
   * True when `path` matches a glob of the list whose base is (`is`) or is not (`!is`) `base`:
   * a list's globs anchored at the workspace tested apart from the rest (paths_except).
   */
  testBase(path: string, home: string, cwd: string, base: PathGlob["base"], is: boolean): boolean {
    if (this.inClasses !== null && base === "cwd") {
      const c = is ? this.inClasses : this.outClasses!;
      const want = is ? 1 : 2;
      for (let i = 0; i < c.length; i++) if (c[i]!.match(path, home, cwd, want)) return true;
      return false;
    }
    const w = this.whole;
    for (let i = 0; i < w.length; i++)
      if ((w[i]!.base === base) === is && matchPathGlob(w[i]!, path, home, cwd)) return true;
    return false;
  }

  /** True when some file below one of `dirs` (absolute) may match a glob of the list: a subtree written without naming its files. */
  testUnder(dirs: readonly string[], home: string, cwd: string): boolean {
    const w = this.whole;
    for (const d of dirs)
      for (let i = 0; i < w.length; i++) if (matchPathGlobUnder(w[i]!, d, home, cwd)) return true;
    return false;
  }

  /** Index in `globs` of the first glob `path` matches (list order), or -1: for a reason naming it. */
  first(path: string, home: string, cwd: string): number {
    if (!this.test(path, home, cwd)) return -1;
    this.each ??= this.globs.map((g) => compilePathGlob(g));
    return this.each.findIndex((g) => matchPathGlob(g, path, home, cwd));
  }
}

/**
 * Compiles a path-glob list (each glob already valid: compilePathGlob accepts it); `classes`, when
 * given, are the list cut into path classes whose globs together are exactly `globs`.
 */
export function compilePathMatcher(
  globs: readonly string[],
  classes: readonly PathClass[] | null = null,
): PathMatcher {
  return new PathMatcher(globs, classes);
}
