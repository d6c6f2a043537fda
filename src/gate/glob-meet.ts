/**
 * Can two glob patterns match a common string? (issue 19 §2: a glob word is judged by every path it
 * could match.) `cat /dev/[z]ero`, `/dev/ze*`, `~/Library/Keychain?/login.keychain-db` name no file
 * literally, but bash expands each to the file the pack's pattern names: the word meets the pattern.
 *
 * The word is a shell glob after quote removal (`*` and `?` within a segment and not a leading `.`
 * of one, `[...]` / `[!...]` one such character, `**` any run, `/` included, as zsh's `**\/`). The
 * pattern is the pack's dialect (paths.ts `globSource`: `*`, `?`, `[...]`, `**`, `{a,b}`, a trailing
 * `/**` that also matches the directory). Matching folds ASCII case, as the pack does.
 *
 * Both become token arrays; the answer is a search of their product (a state is a position in each,
 * every step moves at least one), memoised: O(n·m) states, each with at most four moves, and a
 * character-set test bounded by the sets' sizes. Over `MAX_STATES` the answer is "they meet" (a
 * rule matches: never a reason to ALLOW).
 */

import { splitPathGlob } from "./paths.js";

/** Token kinds. */
const LIT = 0; // one character (`c`, folded)
const SET = 1; // one character of a set (`?`, `[...]`)
const STAR = 2; // any run of characters of a set (`*`: not `/`; `**`: anything)
const STAR0 = 3; // `*` at the start of a segment: empty, or a first character that is not `.`, then STAR

interface Tok {
  k: number;
  /** LIT: the character code (lowercased). */
  c: number;
  /** SET, STAR, STAR0: [lo, hi] pairs of the characters it holds, or of those it excludes when `neg`. */
  ranges: number[];
  neg: boolean;
}

/** A glob as the alternatives it stands for (braces expanded), each a token array. */
export type MeetPattern = readonly (readonly Tok[])[];

const SLASH = 47;
const DOT = 46;
/** More product states than this: the answer is "they meet" (bounded work, never an ALLOW). */
const MAX_STATES = 1 << 16;
/** More brace alternatives than this in a pack pattern: the same. */
const MAX_ALTS = 64;

const NOT_SLASH: number[] = [SLASH, SLASH];
const NOT_SLASH_DOT: number[] = [DOT, DOT, SLASH, SLASH];

function lit(c: number): Tok {
  return { k: LIT, c: fold(c), ranges: [], neg: false };
}

function fold(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/**
 * The class at `s[i] === "["`: its token and the index after its `]`, or null when it does not
 * close (then `[` is a literal, as in bash and as globSource reads it).
 */
function parseClass(s: string, i: number, shell: boolean): { tok: Tok; end: number } | null {
  let j = i + 1;
  let neg = false;
  if (s[j] === "!" || s[j] === "^") {
    neg = true;
    j++;
  }
  const ranges: number[] = [];
  const start = j;
  // A `]` first in a shell class is a member; the pack's globSource closes at the first `]`.
  for (; j < s.length; j++) {
    if (s[j] === "]" && (j > start || !shell)) break;
    // A backslash is a member: the word's escapes are gone, and the pack's are literal (globSource).
    const c = s.charCodeAt(j);
    if (s[j + 1] === "-" && j + 2 < s.length && s[j + 2] !== "]") {
      const hi = s.charCodeAt(j + 2);
      if (hi >= c) ranges.push(c, hi);
      j += 2;
    } else ranges.push(c, c);
  }
  if (j >= s.length) return null;
  return { tok: { k: SET, c: 0, ranges, neg }, end: j + 1 };
}

/** Tokens of a shell glob word (the path the command names, after quote removal). */
export function shellPattern(word: string): MeetPattern {
  const out: Tok[] = [];
  for (let i = 0; i < word.length; i++) {
    const ch = word[i]!;
    const segStart = i === 0 || word.charCodeAt(i - 1) === SLASH;
    if (ch === "*") {
      if (word[i + 1] === "*") {
        // `**`: any run, `/` and dot-directories included (broader than zsh's `**\/`: never fewer matches).
        while (word[i + 1] === "*") i++;
        out.push({ k: STAR, c: 0, ranges: [], neg: true });
        continue;
      }
      if (segStart) {
        out.push({ k: STAR0, c: 0, ranges: NOT_SLASH_DOT, neg: true });
        out.push({ k: STAR, c: 0, ranges: NOT_SLASH, neg: true });
      } else out.push({ k: STAR, c: 0, ranges: NOT_SLASH, neg: true });
    } else if (ch === "?")
      out.push({ k: SET, c: 0, ranges: segStart ? NOT_SLASH_DOT : NOT_SLASH, neg: true });
    else if (ch === "[") {
      const cls = parseClass(word, i, true);
      if (cls === null) out.push(lit(91));
      else {
        // A shell class never matches `/`, nor a leading `.` of a segment.
        const t = cls.tok;
        out.push(
          t.neg
            ? { ...t, ranges: [...t.ranges, SLASH, SLASH, ...(segStart ? [DOT, DOT] : [])] }
            : without(t, segStart),
        );
        i = cls.end - 1;
      }
    } else out.push(lit(word.charCodeAt(i)));
  }
  return [out];
}

/** A positive class minus `/` (and `.` at a segment start): ranges split around them. */
function without(t: Tok, segStart: boolean): Tok {
  const cut = segStart ? [DOT, SLASH] : [SLASH];
  let ranges = t.ranges;
  for (const x of cut) {
    const next: number[] = [];
    for (let k = 0; k < ranges.length; k += 2) {
      const lo = ranges[k]!;
      const hi = ranges[k + 1]!;
      if (x < lo || x > hi) next.push(lo, hi);
      else {
        if (lo < x) next.push(lo, x - 1);
        if (x < hi) next.push(x + 1, hi);
      }
    }
    ranges = next;
  }
  return { k: SET, c: 0, ranges, neg: false };
}

/**
 * Tokens of a pack path pattern as paths.ts anchors it: `~/…` below `home`, `$CWD/…` below `cwd`,
 * `/…` at the root, anything else at any depth (`**\/` before it). Braces expanded; `**` any run;
 * a leading `**\/` also nothing, a trailing `/**` also the directory itself; `*` and `?` not `/`;
 * a class as written (the pack's regex class may match `/`). Null when the braces make too many.
 * `anchored`: only the alternatives that name a fixed place (see the gate's use).
 */
export function packPattern(glob: string, home: string, cwd: string, anchored = false): MeetPattern | null {
  const { base, rest } = splitPathGlob(glob);
  let root = base === "home" ? home : base === "cwd" ? cwd : "";
  if (root === "/") root = "";
  const alts = expandBraces(rest);
  if (alts === null) return null;
  const head: Tok[] = [];
  for (let i = 0; i < root.length; i++) head.push(lit(root.charCodeAt(i)));
  const out: Tok[][] = [];
  const add = (r: string) => out.push([...head, lit(SLASH), ...packTokens(r)]);
  const rooted = glob.startsWith("/") || glob.startsWith("~") || glob.startsWith("$CWD");
  if (anchored && !rooted) return [];
  for (const a of alts) {
    // Anchored only: an alternative with `**` before its end (`$CWD/**/package.json`) is a file
    // name at any depth, which a `*` in the word always meets; only fixed places take part.
    if (anchored && (a.endsWith("/**") ? a.slice(0, -3) : a).includes("**")) continue;
    // The base itself when the rest can match nothing: `~`, `~/**`, `~/*` match the home directory.
    if (root !== "" && packTokens(a).every((t) => t.k === STAR)) out.push(head);
    for (const h of a.startsWith("**/") ? [a, a.slice(3)] : [a]) {
      add(h);
      if (h.endsWith("/**")) add(h.slice(0, -3));
    }
  }
  return out;
}

function packTokens(s: string): Tok[] {
  const out: Tok[] = [];
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === "*") {
      const any = s[i + 1] === "*";
      while (s[i + 1] === "*") i++;
      out.push({ k: STAR, c: 0, ranges: any ? [] : NOT_SLASH, neg: true });
    } else if (ch === "?") out.push({ k: SET, c: 0, ranges: NOT_SLASH, neg: true });
    else if (ch === "[") {
      const cls = parseClass(s, i, false);
      if (cls === null) out.push(lit(91));
      else {
        out.push(cls.tok);
        i = cls.end - 1;
      }
    } else out.push(lit(s.charCodeAt(i)));
  }
  return out;
}

/** `{a,b}` alternatives (nested), as globSource reads them; null over MAX_ALTS. */
function expandBraces(s: string): string[] | null {
  const open = s.indexOf("{");
  if (open < 0) return [s];
  let depth = 0;
  const cuts: number[] = [];
  let close = -1;
  for (let i = open; i < s.length; i++) {
    if (s[i] === "{") depth++;
    else if (s[i] === "}") {
      depth--;
      if (depth === 0) {
        close = i;
        break;
      }
    } else if (s[i] === "," && depth === 1) cuts.push(i);
  }
  if (close < 0) return [s];
  const head = s.slice(0, open);
  const tail = s.slice(close + 1);
  const out: string[] = [];
  let from = open + 1;
  for (const k of [...cuts, close]) {
    const more = expandBraces(head + s.slice(from, k) + tail);
    if (more === null || out.length + more.length > MAX_ALTS) return null;
    out.push(...more);
    from = k + 1;
  }
  return out;
}

/** True when some string matches both patterns (case folded). */
export function patternsMeet(a: MeetPattern, b: MeetPattern): boolean {
  for (const x of a) for (const y of b) if (tokensMeet(x, y)) return true;
  return false;
}

/** One alternative with its fixed ends as strings (folded), for a test before any search. */
export interface Keyed {
  pre: string;
  post: string;
  toks: readonly Tok[];
  /** The whole segments of `pre` (each followed by `/`, or the last when the pattern ends there). */
  segs: string[];
  /** The index of its last segment's first token. */
  last: number;
}

/** A node of a set's segment tree: the alternatives whose whole segments end here, and deeper ones. */
interface SegNode {
  here: Keyed[];
  kids: Map<string, SegNode>;
  /** Every alternative at or below this node (made on first use). */
  below?: Keyed[];
}

/**
 * Many pack patterns at once (a rule field's list) in a tree of their fixed leading segments: a
 * word is searched against the alternatives on its own fixed segments' path and below its last,
 * never against `/Users/dev/.ssh/…` when it lies in `/Users/dev/project/src/`.
 */
export interface MeetSet {
  root: SegNode;
  size: number;
  /** Some pattern could not be read (too many braces): every word meets the set. */
  always: boolean;
}

function keyed(toks: readonly Tok[]): Keyed {
  let pre = "";
  for (let i = 0; i < toks.length && toks[i]!.k === LIT; i++) pre += String.fromCharCode(toks[i]!.c);
  let post = "";
  for (let i = toks.length - 1; i >= pre.length && toks[i]!.k === LIT; i--)
    post = String.fromCharCode(toks[i]!.c) + post;
  const segs: string[] = [];
  let from = pre.charCodeAt(0) === SLASH ? 1 : -1;
  for (let i = 1; from > 0 && i <= pre.length; i++) {
    if (i < pre.length && pre.charCodeAt(i) !== SLASH) continue;
    if (i === pre.length && pre.length < toks.length) break;
    segs.push(pre.slice(from, i));
    from = i + 1;
  }
  let last = toks.length;
  while (last > 0 && !(toks[last - 1]!.k === LIT && toks[last - 1]!.c === SLASH)) last--;
  return { pre, post, toks, segs, last };
}

function node(): SegNode {
  return { here: [], kids: new Map() };
}

/**
 * The pack patterns `globs` (see packPattern) as one set. `exts`: only the alternatives whose last
 * segment names a file by its extension alone (`**\/*.pem`, `~/.aws/*.json`), the ones a word such
 * as `*.pem` is about (see nameReach).
 */
export function meetSet(
  globs: readonly string[],
  home: string,
  cwd: string,
  anchored: boolean,
  exts = false,
): MeetSet {
  const set: MeetSet = { root: node(), size: 0, always: false };
  for (const g of globs) {
    const p = packPattern(g, home, cwd, anchored);
    if (p === null) {
      set.always = true;
      continue;
    }
    for (const t of p) {
      if (exts && nameReach(t) !== EXT_NAME) continue;
      const k = keyed(t);
      let at = set.root;
      for (const seg of k.segs) {
        let next = at.kids.get(seg);
        if (next === undefined) {
          next = node();
          at.kids.set(seg, next);
        }
        at = next;
      }
      at.here.push(k);
      set.size++;
    }
  }
  return set;
}

function below(n: SegNode): Keyed[] {
  if (n.below === undefined) {
    const out = [...n.here];
    for (const k of n.kids.values()) out.push(...below(k));
    n.below = out;
  }
  return n.below;
}

/** A glob word keyed for `meetsSet`. */
export function shellWord(word: string): Keyed {
  return keyed(shellPattern(word)[0]!);
}

/** nameReach: the last segment names any file (`*`, `*.*`: a directory's worth, no name). */
export const ANY_NAME = 0;
/** nameReach: files by an extension alone (`*.pem`, `*.test.ts`). */
export const EXT_NAME = 1;
/** nameReach: a part of a name (`.env*`, `deploy_k*`, `id_*`, `*secret*`, `*_rsa`) or a whole one. */
export const SOME_NAME = 2;

const EXTENSION = /^(?:\.[a-z0-9_-]+)+$/;

/**
 * gate56: what a glob's last segment says of the file's name. Literal text before its last
 * wildcard, or after it when that is not an extension, is part of a name (SOME_NAME: `.env*` is
 * `.env` and its siblings, `*secret*` a name holding `secret`); an extension alone after the
 * wildcards is EXT_NAME; wildcards and dots alone name no file (ANY_NAME: `*`, `*.*`, `**`).
 * A segment with no wildcard is a name.
 */
export function nameReach(toks: readonly Tok[]): number {
  let from = toks.length;
  while (from > 0 && !(toks[from - 1]!.k === LIT && toks[from - 1]!.c === SLASH)) from--;
  let last = -1;
  for (let i = from; i < toks.length; i++) if (toks[i]!.k !== LIT) last = i;
  if (last < 0) return from < toks.length ? SOME_NAME : ANY_NAME;
  let before = "";
  for (let i = from; i < last; i++) if (toks[i]!.k === LIT && toks[i]!.c !== DOT) before += "x";
  if (before !== "") return SOME_NAME;
  let after = "";
  for (let i = last + 1; i < toks.length; i++) after += String.fromCharCode(toks[i]!.c);
  if (after === "" || /^\.*$/.test(after)) return ANY_NAME;
  return EXTENSION.test(after) ? EXT_NAME : SOME_NAME;
}

/**
 * True when the word meets some pattern of the set. `byName` (gate56): the literal characters of
 * the word's last segment must meet literal characters of the pattern, not its wildcards: `.env*`
 * meets `.env` and `deploy_k*` meets `deploy_key*`, but `README*` does not meet `*.key` (the name
 * the word spells is not the name the pattern spells, though `README.key` would match both).
 */
export function meetsSet(set: MeetSet, w: Keyed, byName = false): boolean {
  return meetsSetBy(set, w, byName ? w.last : Number.POSITIVE_INFINITY, false);
}

/**
 * The same for a word that names files by extension (`*.pem`, nameReach EXT_NAME) and a set of
 * patterns that do (meetSet's `exts`): both last segments' literals meet only literals, so the
 * extensions are the same (`*.json` does not meet `*.tfvars.json`, a name the word does not spell).
 */
export function meetsSetByExtension(set: MeetSet, w: Keyed): boolean {
  return meetsSetBy(set, w, w.last, true);
}

function meetsSetBy(set: MeetSet, w: Keyed, from: number, both: boolean): boolean {
  if (set.always) return true;
  if (set.size === 0) return false;
  // Alternatives whose fixed segments stop on the word's path, then all of those below its end.
  let at: SegNode | undefined = set.root;
  for (const seg of w.segs) {
    if (meetsAny(at.here, w, from, both)) return true;
    at = at.kids.get(seg);
    if (at === undefined) return false;
  }
  return meetsAny(below(at), w, from, both);
}

function meetsAny(alts: readonly Keyed[], w: Keyed, from: number, both: boolean): boolean {
  for (const a of alts) {
    // Fixed ends that disagree: no search (most of a list, for any one word).
    if (!(a.pre.length <= w.pre.length ? w.pre.startsWith(a.pre) : a.pre.startsWith(w.pre))) continue;
    if (!(a.post.length <= w.post.length ? w.post.endsWith(a.post) : a.post.endsWith(w.post))) continue;
    if (tokensMeet(w.toks, a.toks, from, both ? a.last : Number.POSITIVE_INFINITY)) return true;
  }
  return false;
}

/** True when the glob word `word` (an absolute path) and the pack pattern `glob` can match a common path. */
export function globsMeet(word: string, glob: string, home: string, cwd: string): boolean {
  const b = packPattern(glob, home, cwd);
  return b === null || patternsMeet(shellPattern(word), b);
}

/** One buffer for every search (grown on demand): a search allocates nothing. */
let memoBuf = new Uint8Array(1024);

// The search's state (one search at a time; it does not reenter): the patterns, the part of each
// left after their common fixed ends [lo, pEnd) and [lo, qEnd), and the memo row width.
let P: readonly Tok[] = [];
let Q: readonly Tok[] = [];
let lo = 0;
let pEnd = 0;
let qEnd = 0;
let width = 0;
// The first token of P (the word) whose literals only meet Q's literals (meetsSet's byName), and
// the same for Q's literals (meetsSetByExtension).
let strict = Number.POSITIVE_INFINITY;
let strictQ = Number.POSITIVE_INFINITY;

// The product search: memo[(i - lo) * width + (j - lo)] is 0 (not seen), 1 (no common string from
// here), 2 (one).
function tokensMeet(
  p: readonly Tok[],
  q: readonly Tok[],
  strictFrom = Number.POSITIVE_INFINITY,
  strictQFrom = Number.POSITIVE_INFINITY,
): boolean {
  const n = p.length;
  const m = q.length;
  // Literal ends first: two patterns whose fixed prefixes (or suffixes) differ never meet, which is
  // most pairs; equal ones are forced moves, so the search starts after them and ends before them.
  let a = 0;
  while (a < n && a < m && p[a]!.k === LIT && q[a]!.k === LIT) {
    if (p[a]!.c !== q[a]!.c) return false;
    a++;
  }
  let b = 0;
  while (b < n - a && b < m - a && p[n - 1 - b]!.k === LIT && q[m - 1 - b]!.k === LIT) {
    if (p[n - 1 - b]!.c !== q[m - 1 - b]!.c) return false;
    b++;
  }
  const size = (n - a - b + 1) * (m - a - b + 1);
  if (size > MAX_STATES) return true;
  if (memoBuf.length < size) memoBuf = new Uint8Array(Math.max(size, memoBuf.length * 2));
  else memoBuf.fill(0, 0, size);
  P = p;
  Q = q;
  strict = strictFrom;
  strictQ = strictQFrom;
  lo = a;
  pEnd = n - b;
  qEnd = m - b;
  width = m - a - b + 1;
  return meet(a, a);
}

function meet(i: number, j: number): boolean {
  const at = (i - lo) * width + (j - lo);
  if (memoBuf[at] !== 0) return memoBuf[at] === 2;
  memoBuf[at] = 1;
  let ok = i === pEnd && j === qEnd;
  const a = i < pEnd ? P[i]! : null;
  const b = j < qEnd ? Q[j]! : null;
  // Empty moves: a star matches nothing (STAR0 skips its STAR too).
  if (!ok && a !== null && a.k >= STAR) ok = meet(i + (a.k === STAR0 ? 2 : 1), j);
  if (!ok && b !== null && b.k >= STAR) ok = meet(i, j + (b.k === STAR0 ? 2 : 1));
  // One character both consume: a star stays (STAR) or moves to its STAR (STAR0); others advance.
  if (
    !ok &&
    a !== null &&
    b !== null &&
    (a.k !== LIT || b.k === LIT || i < strict) &&
    (b.k !== LIT || a.k === LIT || j < strictQ) &&
    charsMeet(a, b)
  ) {
    const ni = a.k === STAR ? i : i + 1;
    const nj = b.k === STAR ? j : j + 1;
    // Two stars both staying make no progress (their empty moves cover what follows).
    if (ni !== i || nj !== j) ok = meet(ni, nj);
  }
  if (ok) memoBuf[at] = 2;
  return ok;
}

/** True when some character is in both tokens' sets (case folded). */
function charsMeet(a: Tok, b: Tok): boolean {
  if (a.k === LIT) return holds(b, a.c);
  if (b.k === LIT) return holds(a, b.c);
  // Two stars of everything but `/` (the common case) share any letter.
  if (a.neg && b.neg && a.ranges.length <= 4 && b.ranges.length <= 4 && holds(a, 97) && holds(b, 97))
    return true;
  // Membership is constant between the sets' boundaries (and their case twins): test each.
  if (both(a, b, 0)) return true;
  return (
    edges(a, a, b) ||
    edges(b, a, b) ||
    both(a, b, DOT + 1) ||
    both(a, b, SLASH + 1) ||
    both(a, b, 65) ||
    both(a, b, 91) ||
    both(a, b, 97) ||
    both(a, b, 123)
  );
}

/** Tests every boundary of `t`'s ranges (and their case twins) against both sets. */
function edges(t: Tok, a: Tok, b: Tok): boolean {
  const r = t.ranges;
  for (let k = 0; k < r.length; k++) {
    const e = k % 2 === 0 ? r[k]! : r[k]! + 1;
    if (both(a, b, e) || both(a, b, e + 32) || (e >= 32 && both(a, b, e - 32))) return true;
  }
  return false;
}

function both(a: Tok, b: Tok, c: number): boolean {
  return c <= 0x10ffff && holds(a, c) && holds(b, c);
}

/**
 * True when the token matches `c` with case folded, as a regex with the `i` flag does: `c` or its
 * ASCII case twin is in the ranges, then negated for `[!…]` (`[!z]` matches neither `z` nor `Z`).
 */
function holds(t: Tok, c: number): boolean {
  if (t.k === LIT) return t.c === fold(c);
  const twin = c >= 65 && c <= 90 ? c + 32 : c >= 97 && c <= 122 ? c - 32 : c;
  return (inRanges(t.ranges, c) || (twin !== c && inRanges(t.ranges, twin))) !== t.neg;
}

function inRanges(r: readonly number[], c: number): boolean {
  for (let k = 0; k < r.length; k += 2) if (c >= r[k]! && c <= r[k + 1]!) return true;
  return false;
}
