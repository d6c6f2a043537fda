/**
 * Word values without a parser: brace expansion, backslash and ANSI-C decoding, glob detection.
 * Pure string functions; the walk (walk.ts) applies them to the words the tree gives it.
 */
import type { Word } from "./types.js";

export const GLOB_CHARS = /(?<!\\)[*?[]/;
/** An unescaped `{` that is not `${`: a possible brace expansion. */
export const BRACE = /(^|[^\\$])\{[^}]*,/;

/** A word as the words it stands for: brace expansions become several static words. */
export function spread(w: Word, into: Word[]): void {
  if (!w.alts || !w.known) {
    into.push(w);
    return;
  }
  // An empty result of an unquoted word is no word at all (`{,}x` is `x`, `{,}` is nothing).
  for (const a of w.alts) if (a !== "" || w.quoted) into.push({ value: a, glob: GLOB_CHARS.test(a) });
}

/** `s` as one POSIX-shell word, single-quoted (`'` written `'\\''`): for a line the gate parses or prints. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}

/** `s` as one POSIX-shell word, bare when it has no character the shell reads specially. */
export function shellArg(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : shellQuote(s);
}

/** A zsh option name as zsh reads it, case and underscores ignored: `Hist_No_Store` is `histnostore`. */
export function zshOption(name: string): string {
  return name.replace(/_/g, "").toLowerCase();
}

/**
 * True when `s` holds an unescaped blank: tree-sitter-bash reads `{ {` and `} }` as one word where
 * bash has two, so such a word's value is not bash's (the walk makes it dynamic).
 */
export function unescapedBlank(s: string): boolean {
  if (s.indexOf(" ") < 0 && s.indexOf("\t") < 0 && s.indexOf("\n") < 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 32 || c === 9 || c === 10) return true;
  }
  return false;
}

/** True when every unescaped `{` in `s` has its `}` and no `}` comes before its `{`. */
export function bracesBalanced(s: string): boolean {
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 123 /* { */) depth++;
    else if (c === 125 /* } */ && --depth < 0) return false;
  }
  return depth === 0;
}

/** The directory a glob word expands inside: `/*` → `/`, `~/.ssh/id_*` → `~/.ssh`, `*.ts` → `.`. */
export function globDir(v: string): string {
  const g = v.search(/[*?[]/);
  const slash = v.lastIndexOf("/", g);
  return slash < 0 ? "." : slash === 0 ? "/" : v.slice(0, slash);
}

/** What a brace expansion may still spend: characters scanned (shared by one line's walk). */
export interface Work {
  left: number;
}

/**
 * True when `s` may hold a brace expansion: an unescaped `{` not after `$`, with a `,` or `..` after
 * it. One linear scan (a regex here backtracked quadratically on `{{{{…`).
 */
export function mayBrace(s: string): boolean {
  let open = false;
  let dollar = false; // the previous character is an unescaped `$`
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) {
      i++;
      dollar = false;
      continue;
    }
    if (c === 123 /* { */ && !dollar) open = true;
    else if (open && (c === 44 /* , */ || (c === 46 /* . */ && s.charCodeAt(i + 1) === 46))) return true;
    dollar = c === 36; /* $ */
  }
  return false;
}

/**
 * Bash brace expansion of `s`: alternatives `{a,b}` and sequences `{x..y[..step]}` (integers,
 * zero-padded when either end is, or single letters), as bash's brace_expand does it: the first `{`
 * with a matching `}` and a top-level `,` or `..` starts the expression (others are text), the text
 * before it is kept as is, the parts and the rest are expanded and multiplied. Null when it would
 * make more than `max` words, spend more than `work.left` characters, or make a word the gate does
 * not model (a letter range through `[\]^_\``, a number past 2^53): the caller treats the word as
 * unknown (never as the first `max` words: a dropped alternative could be the dangerous one).
 */
export function braceExpand(s: string, max: number, work: Work = { left: 1_000_000 }): string[] | null {
  if (!take(work, s.length + 1)) return null;
  const scan = braceScan(s);
  for (let k = 0; k < scan.opens.length; k++) {
    const open = scan.opens[k]!;
    const close = scan.close[open]!;
    if (close < 0 || (scan.flags[open]! & EXCITING) === 0) continue;
    const pre = s.slice(0, open);
    const amble = s.slice(open + 1, close);
    const post = s.slice(close + 1);
    let mid: string[] | null;
    if ((scan.flags[open]! & HAS_COMMA) === 0) {
      const seq = sequence(amble, max);
      if (seq === undefined) {
        // Not a sequence: the expression is text, and the braces after it may still expand.
        while (k + 1 < scan.opens.length && scan.opens[k + 1]! <= close) k++;
        continue;
      }
      mid = seq;
    } else mid = alternatives(amble, max, work);
    if (mid === null) return null;
    const tail = post === "" ? [""] : braceExpand(post, max, work);
    if (tail === null || mid.length * tail.length > max) return null;
    const out: string[] = [];
    for (const m of mid) for (const t of tail) out.push(pre + m + t);
    return out;
  }
  return [s];
}

/** What one pass over a word finds of its braces (`braceScan`). */
interface BraceScan {
  /** For each `{` that may start an expression (unescaped, not `${`): its matching `}`, else -1. */
  close: Int32Array;
  /** Bit 1: a `,` or a `..` (not `..}`) at the top level of that `{`; bit 2: a `,` anywhere in it. */
  flags: Uint8Array;
  /** Positions of the `{` that may start an expression, in order. */
  opens: number[];
}

const EXCITING = 1;
const HAS_COMMA = 2;

/**
 * One pass over `s` with a stack: every `{` its `}` and whether a `,` or `..` is at its top level,
 * as bash's brace_expand looks for them (a `\` escapes the next character; `${` is no expression
 * but its braces nest). Linear in `s`, where scanning from each `{` again was quadratic.
 */
function braceScan(s: string): BraceScan {
  const n = s.length;
  const close = new Int32Array(n).fill(-1);
  const flags = new Uint8Array(n);
  const opens: number[] = [];
  const stack: number[] = [];
  // Unescaped commas before each position: a `{` has a comma anywhere in it when the count grows.
  const commas = new Int32Array(n + 1);
  let prevDollar = false;
  for (let i = 0; i < n; i++) {
    commas[i + 1] = commas[i]!;
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) {
      if (i + 1 < n) commas[i + 2] = commas[i + 1]!;
      i++;
      prevDollar = false;
      continue;
    }
    if (c === 123 /* { */) {
      if (!prevDollar) opens.push(i);
      stack.push(i);
    } else if (c === 125 /* } */) {
      const o = stack.pop();
      if (o !== undefined) {
        close[o] = i;
        if (commas[i]! > commas[o + 1]!) flags[o] = flags[o]! | HAS_COMMA;
      }
    } else if (c === 44 /* , */) {
      commas[i + 1] = commas[i + 1]! + 1;
      const top = stack[stack.length - 1];
      if (top !== undefined) flags[top] = flags[top]! | EXCITING;
    } else if (c === 46 /* . */ && s.charCodeAt(i + 1) === 46 && s.charCodeAt(i + 2) !== 125) {
      const top = stack[stack.length - 1];
      if (top !== undefined) flags[top] = flags[top]! | EXCITING;
    }
    prevDollar = c === 36; /* $ */
  }
  return { close, flags, opens };
}

/**
 * Takes `n` steps from `work`; when fewer are left the budget is spent (left at most -1) and the
 * answer is no. A charge never overdraws: a word's raw text (quoted characters escaped) can be
 * twice the line, and an expansion charges it more than once.
 */
function take(work: Work, n: number): boolean {
  if (work.left < n) {
    work.left = Math.min(work.left, -1);
    return false;
  }
  work.left -= n;
  return true;
}

/** `a,b{c,d},e` → each top-level part brace-expanded, in order. */
function alternatives(amble: string, max: number, work: Work): string[] | null {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i <= amble.length; i++) {
    const c = amble.charCodeAt(i);
    if (c === 92 /* \ */) {
      i++;
      continue;
    }
    if (c === 123 /* { */) depth++;
    else if (c === 125 /* } */ && depth > 0) depth--;
    else if ((c === 44 /* , */ && depth === 0) || i >= amble.length) {
      const part = braceExpand(amble.slice(from, i), max, work);
      if (part === null || out.length + part.length > max) return null;
      for (const p of part) out.push(p);
      from = i + 1;
    }
  }
  return out;
}

const SEQ_INT = /^([+-]?\d+)\.\.([+-]?\d+)(?:\.\.([+-]?\d+))?$/;
const SEQ_CHAR = /^([A-Za-z])\.\.([A-Za-z])(?:\.\.([+-]?\d+))?$/;
const INT64 = 2n ** 63n;

/** A number bash's legal_number accepts (it fits an intmax_t). */
function int64(v: string): boolean {
  const b = BigInt(v);
  return b < INT64 && b >= -INT64;
}

/**
 * `x..y[..step]` as bash's expand_seqterm: the words, undefined when it is not a sequence (the
 * braces are then text), null when it makes more than `max` words or words the gate does not model.
 */
function sequence(amble: string, max: number): string[] | null | undefined {
  const num = SEQ_INT.exec(amble);
  const chr = num === null ? SEQ_CHAR.exec(amble) : null;
  const m = num ?? chr;
  if (m === null) return undefined;
  if ((num && (!int64(m[1]!) || !int64(m[2]!))) || (m[3] !== undefined && !int64(m[3]))) return undefined;
  const a = num ? Number(m[1]) : m[1]!.charCodeAt(0);
  const b = num ? Number(m[2]) : m[2]!.charCodeAt(0);
  const stepAbs = m[3] === undefined ? 1 : Math.abs(Number(m[3])) || 1;
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b) || !Number.isSafeInteger(stepAbs)) return null;
  const n = Math.floor(Math.abs(b - a) / stepAbs) + 1;
  if (n > max) return null;
  const step = a <= b ? stepAbs : -stepAbs;
  const out: string[] = [];
  if (chr) {
    // A range from upper to lower case passes `[\]^_\``: glob and quote characters made by the
    // expansion, which the gate does not model.
    for (let k = 0, v = a; k < n; k++, v += step) {
      if (v > 90 && v < 97) return null;
      out.push(String.fromCharCode(v));
    }
    return out;
  }
  const padded = (t: string) =>
    (t.length > 1 && t[0] === "0") || (t.length > 2 && t[0] === "-" && t[1] === "0");
  const width = padded(m[1]!) || padded(m[2]!) ? Math.max(m[1]!.length, m[2]!.length) : 0;
  for (let k = 0, v = a; k < n; k++, v += step) {
    const abs = String(Math.abs(v));
    const sign = v < 0 ? "-" : "";
    out.push(sign + abs.padStart(width - sign.length, "0"));
  }
  return out;
}

export function unescapeWord(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\\n/g, "").replace(/\\(.)/gs, "$1");
}

export function unescapeDouble(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\\n/g, "").replace(/\\([$`"\\])/g, "$1");
}

/** Where bash ends the `$'…'` word at the start of `s` (after its closing quote); -1 when it does not. */
export function ansiCEnd(s: string): number {
  for (let i = 2; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 /* \ */) i++;
    else if (c === 39 /* ' */) return i + 1;
  }
  return -1;
}

export function decodeAnsiC(s: string): string {
  return s.replace(
    /\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)/gs,
    (_, e: string) => {
      const c = e[0]!;
      // `\x` with no hex digit after it is kept as written, as bash does.
      if ((c === "x" || c === "u" || c === "U") && e.length === 1) return `\\${c}`;
      if (c === "x" || c === "u" || c === "U") {
        const cp = Number.parseInt(e.slice(1), 16);
        // Past Unicode: kept as written (never ALLOW anyway: ANSI-C quoting is a floor).
        return cp > 0x10ffff ? `\\${e}` : String.fromCodePoint(cp);
      }
      if (c >= "0" && c <= "7") return String.fromCharCode(Number.parseInt(e, 8));
      if (c === "c") return String.fromCharCode(e.charCodeAt(1) & 31);
      const map: Record<string, string> = {
        n: "\n",
        t: "\t",
        r: "\r",
        a: "\x07",
        b: "\b",
        e: "\x1b",
        E: "\x1b",
        f: "\f",
        v: "\v",
        "\\": "\\",
        "'": "'",
        '"': '"',
        "?": "?",
      };
      // Bash keeps an unknown escape as written: `$'\q'` is `\q`.
      return map[c] ?? `\\${c}`;
    },
  );
}
