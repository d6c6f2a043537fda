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
 * True when `s` may hold a brace expansion: an unescaped `{` not after `$`, with a `,` after it.
 * One linear scan (a regex here backtracked quadratically on `{{{{…`).
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
    else if (c === 44 /* , */ && open) return true;
    dollar = c === 36; /* $ */
  }
  return false;
}

/**
 * Bash brace expansion of `s` (alternatives only, not `{a..b}`). Null when it would make more than
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
