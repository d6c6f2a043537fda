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
  let root: string;
  let rest: string;
  if (glob === "~" || glob.startsWith("~/")) {
    root = home;
    rest = glob.slice(2);
  } else if (glob === "$CWD" || glob.startsWith("$CWD/")) {
    root = cwd;
    rest = glob.slice(5);
  } else if (glob.startsWith("/")) {
    root = "";
    rest = glob.slice(1);
  } else {
    root = "";
    rest = glob.startsWith("**/") ? glob : `**/${glob}`;
  }
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

/** True when the glob word `word` (an absolute path) and the pack pattern `glob` can match a common path. */
export function globsMeet(word: string, glob: string, home: string, cwd: string): boolean {
  const b = packPattern(glob, home, cwd);
  return b === null || patternsMeet(shellPattern(word), b);
}

// The product search: memo[i * (m + 1) + j] is 0 (not seen), 1 (no common string from here), 2 (one).
function tokensMeet(p: readonly Tok[], q: readonly Tok[]): boolean {
  const n = p.length;
  const m = q.length;
  if ((n + 1) * (m + 1) > MAX_STATES) return true;
  const memo = new Uint8Array((n + 1) * (m + 1));
  return meet(p, q, 0, 0, memo, m + 1);
}

function meet(
  p: readonly Tok[],
  q: readonly Tok[],
  i: number,
  j: number,
  memo: Uint8Array,
  w: number,
): boolean {
  const at = i * w + j;
  if (memo[at] !== 0) return memo[at] === 2;
  memo[at] = 1;
  const n = p.length;
  const m = q.length;
  let ok = false;
  if (i === n && j === m) ok = true;
  const a = i < n ? p[i]! : null;
  const b = j < m ? q[j]! : null;
  // Empty moves: a star matches nothing (STAR0 skips its STAR too).
  if (!ok && a !== null && a.k >= STAR) ok = meet(p, q, i + (a.k === STAR0 ? 2 : 1), j, memo, w);
  if (!ok && b !== null && b.k >= STAR) ok = meet(p, q, i, j + (b.k === STAR0 ? 2 : 1), memo, w);
  // One character both consume: a star stays (STAR) or moves to its STAR (STAR0); others advance.
  if (!ok && a !== null && b !== null && charsMeet(a, b)) {
    const ni = a.k === STAR ? i : i + 1;
    const nj = b.k === STAR ? j : j + 1;
    // Two stars both staying make no progress (their empty moves cover what follows).
    if (ni !== i || nj !== j) ok = meet(p, q, ni, nj, memo, w);
  }
  if (ok) memo[at] = 2;
  return ok;
}

/** True when some character is in both tokens' sets (case folded). */
function charsMeet(a: Tok, b: Tok): boolean {
  if (a.k === LIT) return holds(b, a.c);
  if (b.k === LIT) return holds(a, b.c);
  // Membership is constant between the sets' boundaries (and their case twins): test each.
  if (holds(a, 0) && holds(b, 0)) return true;
  for (const t of [a, b])
    for (let k = 0; k < t.ranges.length; k++) {
      const edge = k % 2 === 0 ? t.ranges[k]! : t.ranges[k]! + 1;
      for (const c of [edge, edge + 32, edge - 32])
        if (c >= 0 && c <= 0x10ffff && holds(a, c) && holds(b, c)) return true;
    }
  for (const c of [DOT + 1, SLASH + 1, 65, 91, 97, 123]) if (holds(a, c) && holds(b, c)) return true;
  return false;
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
