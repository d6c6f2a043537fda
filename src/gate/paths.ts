/**
 * Path normalisation and the glob dialect the policy language uses for paths, hosts and words.
 * Pure string work: no file-system access (only the links the session made are resolved: gate61).
 */
import { canonicalHost, proxiedHost } from "./hosts.js";

/**
 * Segment bounds of the path being collapsed, [start, end) pairs: one buffer for every call, so a
 * collapse allocates nothing but its result (the split/array/join it replaced was a third of the
 * allocations a shell line's paths made). Grown when a path has more segments.
 */
let segs = new Int32Array(256);

/** Collapses `.`, `..` and repeated slashes of an absolute path; never climbs above `/`. */
export function collapse(abs: string): string {
  const n = abs.length;
  // Most paths are already clean: no `//`, no `/.`, no trailing `/`, and a leading `/` ("" too).
  if (
    n === 0 ||
    (abs.charCodeAt(0) === 47 &&
      (n === 1 || abs.charCodeAt(n - 1) !== 47) &&
      !abs.includes("//") &&
      !abs.includes("/."))
  )
    return abs;
  let top = 0; // pairs on the stack
  let i = 0;
  while (i <= n) {
    let j = abs.indexOf("/", i);
    if (j < 0) j = n;
    const len = j - i;
    if (len === 0 || (len === 1 && abs.charCodeAt(i) === 46)) {
      // "" or "."
    } else if (len === 2 && abs.charCodeAt(i) === 46 && abs.charCodeAt(i + 1) === 46) {
      if (top > 0) top--;
    } else {
      if (2 * top + 2 > segs.length) {
        const grown = new Int32Array(segs.length * 2);
        grown.set(segs);
        segs = grown;
      }
      segs[2 * top] = i;
      segs[2 * top + 1] = j;
      top++;
    }
    i = j + 1;
  }
  if (top === 0) return "/";
  // Kept segments that lie in one run of the input (only a tail was dropped): one slice.
  const first = segs[0]!;
  const last = segs[2 * top - 1]!;
  if (first > 0 && contiguous(top)) return abs.slice(first - 1, last);
  let out = "";
  for (let k = 0; k < top; k++) out += `/${abs.slice(segs[2 * k]!, segs[2 * k + 1]!)}`;
  return out;
}

/** True when the `top` kept segments are separated by exactly one `/` each (a run of the input). */
function contiguous(top: number): boolean {
  for (let k = 1; k < top; k++) if (segs[2 * k]! !== segs[2 * k - 1]! + 1) return false;
  return true;
}

const PROC_ROOT = /^\/proc\/(?:self|thread-self|\d+)(?:\/task\/\d+)?\/root(?=\/|$)/;

/**
 * `/proc/self/root/etc/x`, `/proc/42/root/etc/x` and `/proc/self/task/7/root/etc/x` name `/etc/x`
 * (in the executor's mount namespace): strip the alias so every rule sees the real path.
 */
export function stripProcRoot(abs: string): string {
  let p = abs;
  for (let i = 0; i < 8 && p.startsWith("/proc/") && PROC_ROOT.test(p); i++) {
    p = collapse(p.replace(PROC_ROOT, "") || "/");
  }
  return p;
}

/** True when `path` is `root` or lies below it (both absolute, in the same form); `/` holds everything. */
export function isWithin(path: string, root: string): boolean {
  return path === root || root === "/" || path.startsWith(`${root}/`);
}

/**
 * Absolute, collapsed form of `p`: `~` and `~/` expand to `home`, relative paths resolve against
 * `cwd`, and `/proc/<pid>/root` aliases are taken out. `links`: the session's and the line's
 * symbolic links (gate61), which the path is resolved through as the kernel would (none by default).
 */
export function normalisePath(p: string, cwd: string, home: string, links: Links): string {
  let out: string;
  const joined = p === "~" || p.startsWith("~/") ? home + p.slice(1) : p.startsWith("/") ? p : `${cwd}/${p}`;
  out = links.size === 0 ? collapse(joined) : physical(joined, home, links);
  if (out.startsWith("/proc/")) out = stripProcRoot(out);
  return ALIAS_HEAD.test(out) ? unalias(out) : out;
}

/**
 * The symbolic links a decision's paths are resolved through (gate61): the session's, then the
 * ones its line makes (`ln -s T a && rm -rf a/..`). Keyed by the link's absolute path in lower case
 * (APFS compares names case-blind), which is also the index a path is looked up in, prefix by
 * prefix: its target, absolute, or null when only known at run time. A decision's links travel
 * with it (Gate.decide → parseShell's context), never in module state; the walk adds the line's to
 * a copy (`with`), so the session's are never changed by a line.
 */
export class Links {
  /** No links: the usual session's, shared (never added to). */
  static readonly NONE = new Links(new Map(), false);
  /** Link targets (lower case) to the names linked to them, in the links' order: built when first asked. */
  private byTarget: Map<string, string[]> | null = null;

  private constructor(
    private readonly map: Map<string, string | null>,
    /** The session made more links than it keeps (Track.linksLost): any segment before a `..` may be one. */
    readonly lost: boolean,
  ) {}

  /** The links of `made` in order, then `more`'s (a later one with the same name wins). */
  static of(
    made: ReadonlyMap<string, string | null> | null | undefined,
    lost = false,
    more?: ReadonlyMap<string, string | null>,
  ): Links {
    if ((made === null || made === undefined || made.size === 0) && (more === undefined || more.size === 0))
      return lost ? new Links(new Map(), true) : Links.NONE;
    const out = new Links(new Map(), lost);
    if (made) for (const [k, v] of made) out.map.set(k.toLowerCase(), v);
    if (more) for (const [k, v] of more) out.map.set(k.toLowerCase(), v);
    return out;
  }

  get size(): number {
    return this.map.size;
  }

  /** The target of the link named `key` (lower case): undefined when it is none. */
  get(key: string): string | null | undefined {
    return this.map.get(key);
  }

  /** These links and `ln -s TARGET NAME`'s: a new set (or this one, `own`: made by `with` for the caller). */
  with(name: string, target: string | null, own = false): Links {
    const out = own && this !== Links.NONE ? this : new Links(new Map(this.map), this.lost);
    out.map.set(name.toLowerCase(), target);
    out.byTarget = null;
    return out;
  }

  /**
   * The other names of the file `abs` (absolute, as normalisePath made it) through the links
   * (gate61, red39 class 6): the target when `abs` is a link, and every link made to `abs`. A write
   * through one name writes the other, and a run of one runs what was written to the other.
   */
  otherNames(abs: string): string[] {
    if (this.map.size === 0) return [];
    const key = abs.toLowerCase();
    const out: string[] = [];
    const to = this.map.get(key);
    if (typeof to === "string") out.push(to);
    if (this.byTarget === null) {
      this.byTarget = new Map();
      for (const [name, target] of this.map) {
        if (target === null) continue;
        const t = target.toLowerCase();
        const l = this.byTarget.get(t);
        if (l) l.push(name);
        else this.byTarget.set(t, [name]);
      }
    }
    const names = this.byTarget.get(key);
    if (names) for (const name of names) if (name !== key) out.push(name);
    return out;
  }
}

/** The other names of `abs` through `links` (Links.otherNames). */
export function otherNames(abs: string, links: Links = Links.NONE): string[] {
  return links.otherNames(abs);
}

/** Hops through links before a path is given up on, as the kernel's ELOOP (macOS: 32). */
const MAX_HOPS = 32;

/**
 * `abs` (absolute, not yet collapsed) resolved as the kernel does through `links`: a segment that
 * is a link and has more segments after it (`a/..`, `a/x`, `a/`) is replaced by the link's target,
 * so `a/..` is the target's parent, not the directory `a` lies in. The last segment is left as
 * written (`rm a` removes the link). A link whose target is unknown leads to a directory of home,
 * the place a link to the workspace leads, so `a/..` is judged as home (fail closed).
 */
function physical(abs: string, home: string, links: Links): string {
  if (!passesLink(abs, links)) return collapse(abs);
  let rest = abs.split("/");
  let i = 0;
  const stack: string[] = [];
  let hops = 0;
  while (i < rest.length) {
    const seg = rest[i++]!;
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      stack.pop();
      continue;
    }
    stack.push(seg);
    if (i >= rest.length) break;
    let target = links.get(`/${stack.join("/")}`.toLowerCase());
    // A forgotten link may be any segment that `..` follows.
    if (target === undefined && links.lost && rest[i] === "..") target = null;
    if (target === undefined || hops >= MAX_HOPS) continue;
    hops++;
    const to = target ?? `${home}/?`;
    rest = [...to.split("/"), ...rest.slice(i)];
    i = 0;
    stack.length = 0;
  }
  return stack.length === 0 ? "/" : `/${stack.join("/")}`;
}

/**
 * False when resolving `abs` through `links` cannot change it (then it is only collapsed): a
 * clean path (no `.`, `..` or empty segment) passes a link only where one of its proper prefixes
 * is a link's name, looked up in the links themselves; any other path is resolved segment by segment.
 */
function passesLink(abs: string, links: Links): boolean {
  const n = abs.length;
  if (
    n === 0 ||
    abs.charCodeAt(0) !== 47 ||
    abs.charCodeAt(n - 1) === 47 ||
    abs.includes("//") ||
    abs.includes("/.")
  )
    return true;
  const lower = abs.toLowerCase();
  for (let j = lower.indexOf("/", 1); j > 0; j = lower.indexOf("/", j + 1))
    if (links.get(lower.slice(0, j)) !== undefined) return true;
  return false;
}

/** The first segments under which a macOS alias can start (case-blind, like the file system). */
const ALIAS_HEAD = /^\/(?:private|system|volumes)(?:\/|$)/i;
/** The boot volume under its default names: `/Volumes/Macintosh HD` is `/` (a symlink macOS makes). */
const BOOT_VOLUME = /^\/volumes\/macintosh hd(?: - data)?(?=\/|$)/i;
/**
 * Any other volume whose next segment is a top-level directory of the system volume: the boot
 * volume renamed, or a clone or backup of it (a copy of `~/.ssh` is as secret as the original).
 */
const VOLUME_ROOT =
  /^\/volumes\/[^/]+(?=\/(?:users|private|system|library|applications|etc|var|tmp|opt|usr|bin|sbin|cores)(?:\/|$))/i;
const MAC_ALIAS = /^(?:\/system\/volumes\/data(?=\/|$))?(?:\/private(?=\/(?:etc|var|tmp)(?:\/|$)))?/i;

/**
 * macOS firmlinks and aliases (issue 19 §2): `/System/Volumes/Data/Users/x` is `/Users/x`;
 * `/private/etc`, `/private/var`, `/private/tmp` are `/etc`, `/var`, `/tmp`; `/Volumes/Macintosh HD/x`
 * (and `/Volumes/<any>/Users/x`, `/Volumes/<any>/private/etc/x` …) is `/x`. Case-blind; repeated
 * until no alias is left (`/Volumes/Macintosh HD/System/Volumes/Data/private/etc`).
 */
export function unalias(abs: string): string {
  let p = abs;
  for (let i = 0; i < 8 && ALIAS_HEAD.test(p); i++) {
    const v = BOOT_VOLUME.exec(p) ?? VOLUME_ROOT.exec(p);
    const m = v ?? MAC_ALIAS.exec(p);
    if (!m || m[0] === "") break;
    const rest = p.slice(m[0].length);
    p = rest === "" ? "/" : rest;
  }
  return p;
}

const REGEX_SPECIAL = /[.+^$()|\\]/;

/**
 * Glob → RegExp source: `**` any characters including `/`, `*` any run without `/` (or, when
 * `slash` is false, any run at all), `?` one character, `{a,b}` alternatives, `[...]` a class.
 * A trailing `/**` also matches the directory itself. "Any character" is `[^]`, never `.`: a file
 * name may hold a line break, and `.` would not match it (`~/.ssh/**` would miss `~/.ssh/a⏎b`).
 */
export function globSource(glob: string, slash = true): string {
  let re = "";
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*") {
      if (glob[i + 1] === "*") {
        i++;
        if (re.endsWith("\\/") && i === glob.length - 1) {
          re = `${re.slice(0, -2)}(?:/[^]*)?`;
        } else re += "[^]*";
      } else re += slash ? "[^/]*" : "[^]*";
    } else if (c === "?") re += slash ? "[^/]" : "[^]";
    else if (c === "{") {
      depth++;
      re += "(?:";
    } else if (c === "}" && depth > 0) {
      depth--;
      re += ")";
    } else if (c === "," && depth > 0) re += "|";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        const body = glob.slice(i + 1, end).replace(/\\/g, "\\\\");
        re += `[${body.startsWith("!") ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else if (c === "]" || c === "}" || c === "/" || c === "-" || c === "," || c === "=") re += `\\${c}`;
    else if (REGEX_SPECIAL.test(c)) re += `\\${c}`;
    else re += c;
  }
  return re;
}

/** Where a path glob is anchored: the filesystem root, the home directory, or the action's cwd. */
export type PathBase = "abs" | "home" | "cwd";

export interface PathGlob {
  source: string;
  /** The globs as written (for a glob word, matched pattern against pattern: glob-meet.ts; for `matchPathGlobUnder`). */
  globs: readonly string[];
  base: PathBase;
  /**
   * Matches the remainder of the path below the base (no leading slash), from `lastIndex` to the
   * end: a sticky regex, so matchPathGlob tests the path in place instead of slicing it (set
   * lastIndex before every test; `matchAt` does).
   */
  rest: RegExp;
  /**
   * The same alternation split by the rest's first segment (compilePathGlobs, long lists only),
   * or null: `rest` is then the only test. See `FirstSegment`.
   */
  first: FirstSegment | null;
}

/**
 * A list's alternation split three ways (issue 18 target 1), each glob in exactly one part, so
 * "some glob matches" is the OR of the parts, as it is of the whole alternation's alternatives:
 * - `byKey`: globs whose first segment below the base is a plain ASCII literal (`.ssh` in
 *   `~/.ssh/**`, `etc` in `/etc/shadow`). Such a glob can only match a path whose first segment is
 *   that literal, case-blind, so each literal has its own regex and a path tries only its own.
 * - `last`: globs at any depth whose remainder is one segment (`*.pem`, `{,**\/}id_{rsa,dsa}*`:
 *   no `/`, `**`, class or escape). They can only match the path's last segment, so they are
 *   tried once, there, instead of after every `/` (see LastSegment).
 * - `wild`: every other glob (a wildcard, class or brace in the first segment, `**`, a deep glob
 *   of several segments, the base itself), tried where the whole alternation was.
 * An empty rest, or a path whose first segment is not ASCII, is tested against the whole
 * alternation.
 */
export interface FirstSegment {
  /** Keyed by segment length × 128 + its first character lower-cased: the literals (lower case) and their regexes. */
  byKey: Map<number, { seg: string; re: RegExp }[]>;
  last: LastSegment | null;
  wild: RegExp | null;
}

/**
 * One-segment globs against a path's last segment. Each glob's brace alternatives (at most 64)
 * are sorted by shape, ASCII literals only, compared case-blind as the regex would: a name
 * (`Makefile`), a prefix (`id_rsa*`), a suffix (`*.pem`), a part (`*secret*`); every other
 * alternative (`?`, several `*`, non-ASCII, a glob with more alternatives) is in `other`, one
 * regex. A segment matches the glob list iff one of them says so.
 */
interface LastSegment {
  /** Keyed by length × 128 + first character (lower case). */
  names: Map<number, string[]>;
  prefixes: string[];
  /** Keyed by last character (lower case). */
  suffixes: Map<number, string[]>;
  /** The parts as one unanchored, case-blind alternation (lastIndex: the segment's start). */
  parts: RegExp | null;
  other: RegExp | null;
}

/** Lists shorter than this are one alternation only: a few alternatives cost less than the split. */
const FIRST_SEGMENT_MIN = 8;
/** Characters that make a glob's first segment more than a literal (compared as typed, not folded). */
const NOT_LITERAL = /[*?[\]{},\\]|[^\x00-\x7f]/;
/** What keeps a glob's remainder from being one segment: a `/`, a class (`[!x]` matches `/`), an escape. */
const NOT_ONE_SEGMENT = /[/[\]\\]/;

/**
 * Compiles a policy path glob: `/etc/**`, `~/.ssh/**`, `$CWD/**` (the action's working directory).
 * A glob without a leading `/`, `~` or `$CWD` matches at any depth (`**\/` is prepended).
 * Matching is case-insensitive because macOS file systems are, by default: `~/.SSH` is `~/.ssh`.
 */
export function compilePathGlob(glob: string): PathGlob {
  const { base, src } = pathGlobParts(glob);
  return { source: glob, globs: [glob], base, rest: new RegExp(`(?:${src})$`, "iy"), first: null };
}

/**
 * Compiles a list of path globs into at most three (one per base), each one alternation, so a
 * rule naming forty paths costs one regex test per path instead of forty.
 */
export function compilePathGlobs(globs: readonly string[]): PathGlob[] {
  const byBase = new Map<PathBase, string[]>();
  const written = new Map<PathBase, string[]>();
  for (const g of globs) {
    const { base, src } = pathGlobParts(g);
    const l = byBase.get(base);
    if (l) l.push(src);
    else byBase.set(base, [src]);
    const w = written.get(base);
    if (w) w.push(g);
    else written.set(base, [g]);
  }
  return [...byBase].map(([base, srcs]) => ({
    source: globs.join(", "),
    globs: written.get(base)!,
    base,
    rest: new RegExp(`${alternation(srcs)}$`, "iy"),
    first: srcs.length >= FIRST_SEGMENT_MIN ? firstSegments(written.get(base)!) : null,
  }));
}

/** The split of one base's globs (see FirstSegment). */
function firstSegments(globs: readonly string[]): FirstSegment {
  const lit = new Map<string, string[]>();
  const wild: string[] = [];
  const last: string[] = [];
  for (const g of globs) {
    const { rest } = splitPathGlob(g);
    const deep = rest.startsWith("**/") ? rest.slice(3) : rest.startsWith("{,**/}") ? rest.slice(6) : null;
    if (deep !== null && deep !== "" && !deep.includes("**") && !NOT_ONE_SEGMENT.test(deep)) {
      last.push(deep);
      continue;
    }
    const slash = rest.indexOf("/");
    const seg = slash < 0 ? rest : rest.slice(0, slash);
    if (seg === "" || NOT_LITERAL.test(seg)) wild.push(pathGlobParts(g).src);
    else {
      const key = seg.toLowerCase();
      const l = lit.get(key);
      if (l) l.push(pathGlobParts(g).src);
      else lit.set(key, [pathGlobParts(g).src]);
    }
  }
  const byKey = new Map<number, { seg: string; re: RegExp }[]>();
  for (const [seg, srcs] of lit) {
    const k = seg.length * 128 + seg.charCodeAt(0);
    const e = { seg, re: new RegExp(`${alternation(srcs)}$`, "iy") };
    const l = byKey.get(k);
    if (l) l.push(e);
    else byKey.set(k, [e]);
  }
  return {
    byKey,
    last: last.length > 0 ? lastSegments(last) : null,
    wild: wild.length > 0 ? new RegExp(`${alternation(wild)}$`, "iy") : null,
  };
}

/** A literal of a one-segment glob's alternative: ASCII, no wildcard (braces already expanded). */
const PLAIN = /^[^*?[\]{},\\\x80-\uffff]+$/;

function pushKeyed(m: Map<number, string[]>, k: number, v: string): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

/** One-segment globs (no `/`, `**`, class or escape), sorted by shape (see LastSegment). */
function lastSegments(tails: readonly string[]): LastSegment {
  const out: LastSegment = { names: new Map(), prefixes: [], suffixes: new Map(), parts: null, other: null };
  const parts: string[] = [];
  const other: string[] = [];
  for (const t of tails) {
    const alts = expandBraces(t);
    // Only a complete expansion stands for the glob (expandBraces stops at 256).
    if (alts.length > 64) {
      other.push(globSource(t));
      continue;
    }
    for (const a of alts) {
      const lo = a.toLowerCase();
      if (PLAIN.test(a)) pushKeyed(out.names, lo.length * 128 + lo.charCodeAt(0), lo);
      else if (a.length > 1 && a.endsWith("*") && PLAIN.test(a.slice(0, -1)))
        out.prefixes.push(lo.slice(0, -1));
      else if (a.length > 1 && a.startsWith("*") && PLAIN.test(a.slice(1)))
        pushKeyed(out.suffixes, lo.charCodeAt(lo.length - 1), lo.slice(1));
      else if (a.length > 2 && a.startsWith("*") && a.endsWith("*") && PLAIN.test(a.slice(1, -1)))
        parts.push(globSource(a.slice(1, -1)));
      else other.push(globSource(a));
    }
  }
  if (parts.length > 0) out.parts = new RegExp(`(?:${parts.join("|")})`, "gi");
  if (other.length > 0) out.other = new RegExp(`(?:${other.join("|")})$`, "iy");
  return out;
}

/** True when `s` from `p` to its end (one segment, no `/`) matches one of `l`'s globs. */
function matchLast(l: LastSegment, s: string, p: number): boolean {
  const n = s.length - p;
  if (n > 0) {
    const c0 = s.charCodeAt(p);
    const names = l.names.get(n * 128 + (c0 >= 65 && c0 <= 90 ? c0 + 32 : c0));
    if (names !== undefined) for (const x of names) if (sameAsciiFoldAt(s, p, x)) return true;
    for (const x of l.prefixes) if (x.length <= n && sameAsciiFoldAt(s, p, x)) return true;
    const cz = s.charCodeAt(s.length - 1);
    const suf = l.suffixes.get(cz >= 65 && cz <= 90 ? cz + 32 : cz);
    if (suf !== undefined)
      for (const x of suf) if (x.length <= n && sameAsciiFoldAt(s, s.length - x.length, x)) return true;
    if (l.parts !== null) {
      l.parts.lastIndex = p;
      if (l.parts.test(s)) return true;
    }
  }
  return l.other !== null && matchAt(l.other, s, p);
}

/**
 * `g`'s alternation against `s` from `at` (what `matchAt(g.rest, s, at)` says), through its
 * first-segment split when it has one.
 */
function matchRest(g: PathGlob, s: string, at: number): boolean {
  const f = g.first;
  if (f === null || at >= s.length) return matchAt(g.rest, s, at);
  let end = at;
  for (; end < s.length; end++) {
    const c = s.charCodeAt(end);
    if (c === 47) break;
    if (c > 127) return matchAt(g.rest, s, at);
  }
  const c0 = s.charCodeAt(at);
  const cands = f.byKey.get((end - at) * 128 + (c0 >= 65 && c0 <= 90 ? c0 + 32 : c0));
  if (cands !== undefined)
    for (const e of cands)
      if (sameAsciiFoldAt(s, at, e.seg)) {
        if (matchAt(e.re, s, at)) return true;
        break;
      }
  if (f.last !== null) {
    const slash = s.lastIndexOf("/");
    if (matchLast(f.last, s, slash >= at ? slash + 1 : at)) return true;
  }
  return f.wild !== null && matchAt(f.wild, s, at);
}

/** `s.slice(at, at + seg.length).toLowerCase() === seg` for ASCII `s` and lower-case `seg`, without the slice. */
function sameAsciiFoldAt(s: string, at: number, seg: string): boolean {
  for (let i = 0; i < seg.length; i++) {
    const a = s.charCodeAt(at + i);
    if ((a >= 65 && a <= 90 ? a + 32 : a) !== seg.charCodeAt(i)) return false;
  }
  return true;
}

/** The prefixes `{,**\/}x` and `**\/x` compile to: "at any depth". */
const ANY_DEPTH = ["(?:|[^]*\\/)", "(?:[^]*/)?"];

// One alternation of glob sources, with the "at any depth" ones (`**/package.json`,
// `{,**/}conftest.py`) sharing a single any-directories prefix: a long persistence list then costs
// one scan of the path's directories, not one per entry.
function alternation(srcs: string[]): string {
  const plain: string[] = [];
  const deep: string[] = [];
  for (const s of srcs) {
    const pre = ANY_DEPTH.find((p) => s.startsWith(p));
    if (pre) deep.push(s.slice(pre.length));
    else plain.push(s);
  }
  if (deep.length > 0) plain.push(`(?:[^]*/)?(?:${deep.join("|")})`);
  return `(?:${plain.join("|")})`;
}

function pathGlobParts(glob: string): { base: PathBase; src: string } {
  const { base, rest } = splitPathGlob(glob);
  // "**/x" must also match "x" at the base itself.
  const src = rest.startsWith("**/") ? `(?:[^]*/)?${globSource(rest.slice(3))}` : globSource(rest);
  return { base, src };
}

/**
 * Where a policy path glob is anchored and what follows its base (no leading slash): `~/x` is
 * home and `x`, `$CWD/x` the cwd and `x`, `/x` the root and `x`, a bare `x` the root and `**\/x`.
 */
export function splitPathGlob(glob: string): { base: PathBase; rest: string } {
  let base: PathBase;
  let rest: string;
  if (glob === "~" || glob.startsWith("~/")) {
    base = "home";
    rest = glob.slice(2);
  } else if (glob === "$CWD" || glob.startsWith("$CWD/")) {
    base = "cwd";
    rest = glob.slice(5);
  } else if (glob.startsWith("/")) {
    base = "abs";
    rest = glob.slice(1);
  } else {
    base = "abs";
    rest = glob.startsWith("**/") ? glob : `**/${glob}`;
  }
  // Folded as APFS compares names (foldPath): a glob is compared with folded paths.
  return { base, rest: foldPath(rest) };
}

const NON_ASCII = /[^\x00-\x7f]/;

/**
 * A path as APFS compares it: normalisation-insensitive (NFD) and case-insensitive with Unicode
 * case folding, so `Keychainſ` (U+017F), `\u212A` (Kelvin sign) and a decomposed `é` name the same
 * directory entries as `Keychains`, `k` and `é`. Each character is folded through its upper case
 * (`ſ` → `S` → `s`, `K` → `k`) unless that changes its length (`ß` stays). ASCII paths are returned
 * as they are (the matchers fold ASCII case themselves).
 */
export function foldPath(s: string): string {
  if (!NON_ASCII.test(s)) return s;
  let out = "";
  for (const c of s.normalize("NFD")) {
    if (c.charCodeAt(0) < 128) {
      out += c;
      continue;
    }
    const u = c.toUpperCase();
    out += (u.length === c.length ? u : c).toLowerCase();
  }
  return out;
}

/**
 * True when the absolute, collapsed `path` matches `g` for the given home and cwd. Allocation-free:
 * the rest is matched in place (sticky regex) and the root compared case-insensitively char by char.
 */
export function matchPathGlob(g: PathGlob, path: string, home: string, cwd: string): boolean {
  if (NON_ASCII.test(path)) {
    path = foldPath(path);
    home = foldPath(home);
    cwd = foldPath(cwd);
  }
  if (g.base === "abs") return matchRest(g, path, 1);
  const root = g.base === "home" ? home : cwd;
  if (path.length === root.length) return sameFolded(path, root) && matchAt(g.rest, "", 0);
  if (root === "/") return matchRest(g, path, 1);
  if (path.length < root.length + 1 || path.charCodeAt(root.length) !== 47) return false;
  if (!sameFolded(path, root)) return false;
  return matchRest(g, path, root.length + 1);
}

/** restAt's answer for a path that is its root exactly. */
const AT_ROOT = -3;

/**
 * Where `path` (folded as its root is) continues below `root`, as matchPathGlob tests it: the
 * offset of the rest, AT_ROOT when the path is the root, -1 when it lies elsewhere.
 */
function restAt(path: string, root: string): number {
  if (path.length === root.length) return sameFolded(path, root) ? AT_ROOT : -1;
  if (root === "/") return 1;
  if (path.length < root.length + 1 || path.charCodeAt(root.length) !== 47) return -1;
  return sameFolded(path, root) ? root.length + 1 : -1;
}

/**
 * True when some glob of `w` matches `path`: what matchPathGlob of each says, with the path folded
 * and compared with the home and the cwd once for the list, not once per glob (issue 18).
 */
export function matchAnyPathGlob(w: readonly PathGlob[], path: string, home: string, cwd: string): boolean {
  if (w.length === 0) return false;
  if (NON_ASCII.test(path)) {
    path = foldPath(path);
    home = foldPath(home);
    cwd = foldPath(cwd);
  }
  let inHome = -2;
  let inCwd = -2;
  for (let i = 0; i < w.length; i++) {
    const g = w[i]!;
    let at = 1;
    if (g.base === "home") {
      if (inHome === -2) inHome = restAt(path, home);
      at = inHome;
    } else if (g.base === "cwd") {
      if (inCwd === -2) inCwd = restAt(path, cwd);
      at = inCwd;
    }
    if (at === -1) continue;
    if (at === AT_ROOT ? matchAt(g.rest, "", 0) : matchRest(g, path, at)) return true;
  }
  return false;
}

/** A glob's segments below its base: a case-blind regex per segment, or `**` (any number of them). */
type UnderSeg = RegExp | "**";
const UNDER = new WeakMap<PathGlob, UnderSeg[][]>();

/** The glob's brace alternatives (`{,**\/}x` → `x`, `**\/x`), each split into segments. */
function underSegments(g: PathGlob): UnderSeg[][] {
  let out = UNDER.get(g);
  if (out) return out;
  out = [];
  for (const glob of g.globs) {
    const rest =
      glob === "~" || glob === "$CWD"
        ? ""
        : glob.startsWith("~/")
          ? glob.slice(2)
          : glob.startsWith("$CWD/")
            ? glob.slice(5)
            : glob.startsWith("/")
              ? glob.slice(1)
              : `**/${glob}`;
    for (const alt of expandBraces(rest))
      out.push(
        alt
          .split("/")
          .filter((s) => s !== "")
          .map((s) => (s === "**" ? "**" : new RegExp(`^${globSource(s)}$`, "i"))),
      );
  }
  UNDER.set(g, out);
  return out;
}

/** Brace alternatives of a glob, outermost first (`a{b,c{d,e}}` → `ab`, `acd`, `ace`); at most 256. */
function expandBraces(glob: string): string[] {
  const open = glob.indexOf("{");
  if (open < 0) return [glob];
  let depth = 0;
  const cuts: number[] = [];
  let close = -1;
  for (let i = open; i < glob.length && close < 0; i++) {
    const c = glob[i];
    if (c === "{") depth++;
    else if (c === "}" && --depth === 0) close = i;
    else if (c === "," && depth === 1) cuts.push(i);
  }
  if (close < 0) return [glob];
  const parts: string[] = [];
  let from = open + 1;
  for (const c of [...cuts, close]) {
    parts.push(glob.slice(from, c));
    from = c + 1;
  }
  const out: string[] = [];
  for (const p of parts)
    for (const tail of expandBraces(glob.slice(0, open) + p + glob.slice(close + 1)))
      if (out.length < 256) out.push(tail);
  return out;
}

/** True when segments `g[i…]` can match some path whose leading segments are `d[j…]` (then any). */
function segsUnder(g: UnderSeg[], i: number, d: string[], j: number): boolean {
  if (j === d.length) return true;
  if (i === g.length) return false;
  const s = g[i]!;
  if (s === "**") return segsUnder(g, i + 1, d, j) || segsUnder(g, i, d, j + 1);
  return s.test(d[j]!) && segsUnder(g, i + 1, d, j + 1);
}

/**
 * True when `g` matches `dir` or some path below it: what a write of an unknown set of files under
 * `dir` (an archive extracted there, a patch applied) may touch. `dir` is absolute and collapsed.
 */
export function matchPathGlobUnder(g: PathGlob, dir: string, home: string, cwd: string): boolean {
  const root = g.base === "home" ? home : g.base === "cwd" ? cwd : "/";
  let rel: string;
  if (isWithin(root.toLowerCase(), dir.toLowerCase())) rel = "";
  else if (isWithin(dir.toLowerCase(), root.toLowerCase()))
    rel = dir.slice(root === "/" ? 1 : root.length + 1);
  else return false;
  const d = rel === "" ? [] : rel.split("/");
  for (const segs of underSegments(g)) if (segsUnder(segs, 0, d, 0)) return true;
  return false;
}

/** `re` (sticky, `$`-anchored) against `s` from index `at`: what `^…$` on `s.slice(at)` says. */
function matchAt(re: RegExp, s: string, at: number): boolean {
  if (at >= s.length) {
    re.lastIndex = 0;
    return re.test("");
  }
  re.lastIndex = at;
  return re.test(s);
}

/**
 * `path.slice(0, root.length).toLowerCase() === root.toLowerCase()` without the three strings: ASCII
 * folded in place; a pair of differing non-ASCII code units falls back to toLowerCase (whose
 * Unicode mapping may change lengths), so the answer is always the one the slices would give.
 */
function sameFolded(path: string, root: string): boolean {
  // The usual case, the path spelt as the root is: one native comparison, no loop.
  if (path.startsWith(root)) return true;
  const n = root.length;
  for (let i = 0; i < n; i++) {
    const a = path.charCodeAt(i);
    const b = root.charCodeAt(i);
    if (a === b) continue;
    if (a > 127 || b > 127) return path.slice(0, n).toLowerCase() === root.toLowerCase();
    const la = a >= 65 && a <= 90 ? a + 32 : a;
    const lb = b >= 65 && b <= 90 ? b + 32 : b;
    if (la !== lb) return false;
  }
  return true;
}

/** Compiles a glob over plain words (program names, hosts, arguments): `*` matches anything. */
export function compileWordGlob(glob: string, caseInsensitive = false): RegExp {
  return new RegExp(`^${globSource(glob, false)}$`, caseInsensitive ? "i" : "");
}

/** One regex for a list of word globs (an alternation). */
export function compileWordGlobs(globs: readonly string[], caseInsensitive = false): RegExp {
  return new RegExp(`^(?:${globs.map((g) => globSource(g, false)).join("|")})$`, caseInsensitive ? "i" : "");
}

/** Host of a URL-ish word (`https://h/x`, `user@h:path`, `h:443`, bare `h.example`), lowercased, or null. */
export function hostOf(word: string): string | null {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]+\]|[^/:?#]+)/i.exec(word);
  if (m) return proxiedHost(canonicalHost(m[1]!), word);
  const scp = /^(?:[^@/\s]+@)?([a-z0-9][a-z0-9.-]*[a-z0-9]|\[[0-9a-f:.]+\]):/i.exec(word);
  if (scp && (scp[1]!.includes(".") || scp[1]!.startsWith("[") || word.includes("@")))
    return canonicalHost(scp[1]!);
  const bare =
    /^(?:[^@/\s]+@)?([a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+|localhost|0x[0-9a-f]{1,8}|\d{8,10})(?::\d+)?(?:\/.*)?$/i.exec(
      word,
    );
  if (bare) return proxiedHost(canonicalHost(bare[1]!), word);
  return null;
}
