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

/** A zsh option name as zsh reads it, case and underscores ignored: `Hist_No_Store` is `histnostore`. */
export function zshOption(name: string): string {
  return name.replace(/_/g, "").toLowerCase();
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
 * Bash brace expansion of `s`: alternatives `{a,b}` and sequences `{1..3}`, `{01..10..3}`, `{a..e}`.
 * Null when it would make more than
 * `max` words or spend more than `work.left` characters: the caller treats the word as unknown
 * (never as the first `max` words: a dropped alternative could be the dangerous one).
 */
export function braceExpand(s: string, max: number, work: Work = { left: 1_000_000 }): string[] | null {
  const out: string[] = [];
  return expandInto(s, max, work, out) ? out : null;
}

function expandInto(s: string, max: number, work: Work, out: string[]): boolean {
  work.left -= s.length + 1;
  if (work.left < 0) return false;
  let depth = 0;
  let open = -1;
  const commas: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "{") {
      if (depth === 0) {
        open = i;
        commas.length = 0;
      }
      depth++;
    } else if (c === "," && depth === 1) commas.push(i);
    else if (c === "}" && depth > 0) {
      depth--;
      if (depth === 0 && commas.length === 0) {
        const seq = sequence(s.slice(open + 1, i), max);
        if (seq === undefined) continue;
        if (seq === null) return false;
        const head = s.slice(0, open);
        const tail = s.slice(i + 1);
        for (const item of seq) if (!expandInto(head + item + tail, max, work, out)) return false;
        return true;
      }
      if (depth === 0 && commas.length > 0) {
        const head = s.slice(0, open);
        const tail = s.slice(i + 1);
        let from = open + 1;
        for (const k of [...commas, i]) {
          if (!expandInto(head + s.slice(from, k) + tail, max, work, out)) return false;
          from = k + 1;
        }
        return true;
      }
    }
  }
  if (out.length >= max) return false;
  out.push(s);
  return true;
}

const INT_SEQ = /^([+-]?\d+)\.\.([+-]?\d+)(?:\.\.([+-]?\d+))?$/;
const CHAR_SEQ = /^([A-Za-z])\.\.([A-Za-z])(?:\.\.([+-]?\d+))?$/;

/**
 * The words of a brace sequence body (`1..3`, `01..10..3`, `a..e`, `z..a..2`), as bash makes them:
 * undefined when `body` is no sequence (bash leaves it as written), null when it makes more than
 * `max` words or a character that is not a letter (`{Z..a}` spans `[\]^_\``: not read here).
 */
function sequence(body: string, max: number): string[] | null | undefined {
  const int = INT_SEQ.exec(body);
  const chr = int ? null : CHAR_SEQ.exec(body);
  const m = int ?? chr;
  if (!m) return undefined;
  const step = Math.max(1, Math.abs(m[3] === undefined ? 1 : Number(m[3])));
  const a = int ? Number(m[1]) : m[1]!.charCodeAt(0);
  const b = int ? Number(m[2]) : m[2]!.charCodeAt(0);
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b)) return null;
  const n = Math.floor(Math.abs(b - a) / step) + 1;
  if (n > max) return null;
  const dir = b >= a ? step : -step;
  // Bash pads to the widest end when either end starts with a zero (`{01..10}`, `{-05..5}`).
  const zero = /^[+-]?0\d/;
  const width = int && (zero.test(m[1]!) || zero.test(m[2]!)) ? Math.max(m[1]!.length, m[2]!.length) : 0;
  const out: string[] = [];
  for (let k = 0, v = a; k < n; k++, v += dir) {
    if (chr) {
      if (!/[A-Za-z]/.test(String.fromCharCode(v))) return null;
      out.push(String.fromCharCode(v));
    } else if (width > 0) {
      const digits = String(Math.abs(v)).padStart(v < 0 ? width - 1 : width, "0");
      out.push(v < 0 ? `-${digits}` : digits);
    } else out.push(String(v));
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

export function decodeAnsiC(s: string): string {
  return s.replace(
    /\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)/gs,
    (_, e: string) => {
      const c = e[0]!;
      if (c === "x" || c === "u" || c === "U") return String.fromCodePoint(Number.parseInt(e.slice(1), 16));
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
