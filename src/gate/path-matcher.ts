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
  matchPathGlob,
  matchPathGlobUnder,
  type PathGlob,
} from "./paths.js";

/** A glob list compiled into one matcher; see the file comment. Immutable once built. */
export class PathMatcher {
  readonly globs: readonly string[];
  /** The list, one alternation per base. */
  private readonly whole: PathGlob[];
  /** The globs one by one, for `first`; compiled when first needed. */
  private each: PathGlob[] | null = null;

  constructor(globs: readonly string[]) {
    this.globs = [...globs];
    this.whole = compilePathGlobs(this.globs);
  }

  /** True when `path` (absolute, collapsed) matches some glob of the list for this home and cwd. */
  test(path: string, home: string, cwd: string): boolean {
    const w = this.whole;
    for (let i = 0; i < w.length; i++) if (matchPathGlob(w[i]!, path, home, cwd)) return true;
    return false;
  }

  /**
   * True when `path` matches a glob of the list whose base is (`is`) or is not (`!is`) `base`:
   * a list's globs anchored at the workspace tested apart from the rest (paths_except).
   */
  testBase(path: string, home: string, cwd: string, base: PathGlob["base"], is: boolean): boolean {
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

/** Compiles a path-glob list (each glob already valid: compilePathGlob accepts it). */
export function compilePathMatcher(globs: readonly string[]): PathMatcher {
  return new PathMatcher(globs);
}
