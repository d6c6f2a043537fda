/**
 * The commands a written file's text carries (issue 19, gate53): a write is at least as dangerous
 * as the commands its content carries. Tools load and run files nobody lists (project.clj, bb.edn,
 * config/*.exs, Procfile.dev, an ERB config, a podspec, Directory.Build.rsp, a package's
 * `__init__.py`), and every language's process API takes a shell string (system, exec,
 * os.system, Process.Start, os:cmd, System.cmd, Runtime.exec, backticks, passthru …). So the
 * gate reads the text it knows a write puts in a file for command candidates, and judges each
 * with its own shell analysis (gate.ts carriedFindings).
 *
 * Candidates: every line (a Procfile's `name:` prefix, a YAML `- `, a Dockerfile instruction and
 * a recipe's `@` taken off), every one-line string literal in any language ('…', "…", `…`,
 * backslash escapes undone), and every `$(…)`. Only a candidate in which some command names a
 * program the gate knows (a spec, a wrapper, a shell, an interpreter, a program a pack rule names,
 * a path) is judged: an unknown word in prose ("Hello world") has no effect the gate can name.
 * The scan is linear in the text and bounded (CARRIED_BUDGET): a text longer than the budget, a
 * line longer than the shell's own limit, or more judged candidates than the budget is ESCALATE.
 * A line none of whose words can name a known program is skipped in one pass over its characters
 * (KnownPrograms.mayCarry, perf48): the same candidates, without reading each line as code.
 */

import { inertWords } from "./shell/effects.js";
import {
  INTERPRETERS,
  NET_PROGRAMS,
  programFamily,
  SHELL_BUILTINS,
  SHELLS,
  SIMPLE_WRAPPERS,
} from "./shell/programs.js";
import { SPEC_ALIASES, SPECS } from "./shell/specs.js";

/** The declared budget of one write's scan. */
export const CARRIED_BUDGET = {
  /** Most bytes (UTF-16 units) of one write's text read for candidates. */
  maxBytes: 256 * 1024,
  /** Most candidates judged per write (after the known-program filter, duplicates once). */
  maxCandidates: 200,
  /** Longest candidate (the shell's own line limit). */
  maxLength: 16384,
};

export type CarriedScan = { candidates: string[]; over: string | null };

/** A line's prefix that is not part of the command: `web: `, `- `, `RUN `, a recipe's `@`/`-`. */
const LINE_PREFIX =
  /^(?:-\s+)?(?:(?:RUN|CMD|ENTRYPOINT|SHELL|ONBUILD)\s+|[A-Za-z_][\w.-]*\s*:\s+(?=\S)|[@+-]+(?=[A-Za-z/.]))?/;
/** Where a new simple command may start inside a candidate (searched from `lastIndex`). */
const SEPARATORS = /[|;&()`\n{}]|\$\(/g;
/** The first word of the command at `lastIndex` (assignments and leading `!"'` skipped). */
const COMMAND_WORD = /[\s!"']*(?:[A-Za-z_]\w*=\S*\s+)*([^\s|;&()`{}'"<>]+)/y;

/**
 * The candidates `text` carries that name a known program (`known`), in order, each once; `over`
 * says which bound ran out.
 */
export function carriedCandidates(
  text: string,
  programs: KnownPrograms | ((word: string) => boolean),
): CarriedScan {
  const filter = programs instanceof KnownPrograms ? programs : null;
  const known = filter === null ? (programs as (word: string) => boolean) : (w: string) => filter.has(w);
  const out: string[] = [];
  const seen = new Set<string>();
  let over: string | null = null;
  const add = (raw: string): boolean => {
    const c = raw.trim();
    if (c.length < 3 || seen.has(c)) return true;
    seen.add(c);
    if (!namesKnown(c, known)) return true;
    if (c.length > CARRIED_BUDGET.maxLength) {
      over = `a command candidate longer than ${CARRIED_BUDGET.maxLength} characters`;
      return false;
    }
    if (out.length >= CARRIED_BUDGET.maxCandidates) {
      over = `more than ${CARRIED_BUDGET.maxCandidates} command candidates`;
      return false;
    }
    out.push(c);
    return true;
  };
  if (text.length > CARRIED_BUDGET.maxBytes) {
    return { candidates: out, over: `a text longer than ${CARRIED_BUDGET.maxBytes} characters` };
  }
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("\n", start);
    if (end < 0) end = text.length;
    const from = start;
    start = end + 1;
    // The pre-filter reads the line in place: only a line that may carry is cut out.
    if (filter !== null && !filter.mayCarry(text, from, end)) continue;
    const line = text.slice(from, end);
    const trimmed = line.trim();
    if (trimmed === "") continue;
    if (!add(trimmed.replace(LINE_PREFIX, ""))) break;
    if (!literals(line, add, 0)) break;
  }
  return { candidates: out, over };
}

/** Literals inside literals read this deep (`'os:cmd("curl … | sh")'`): each level is linear. */
const MAX_NESTING = 3;

/**
 * The one-line string literals and `$(…)` of `line`, unescaped, each given to `add` (false: stop),
 * and those inside them to MAX_NESTING.
 */
function literals(line: string, add: (s: string) => boolean, level: number): boolean {
  const n = line.length;
  for (let i = 0; i < n; i++) {
    const q = line.charCodeAt(i);
    if (q === 36 /* $ */ && line.charCodeAt(i + 1) === 40 /* ( */) {
      let depth = 1;
      let j = i + 2;
      for (; j < n && depth > 0; j++) {
        const c = line.charCodeAt(j);
        if (c === 40) depth++;
        else if (c === 41) depth--;
      }
      if (depth === 0) {
        const inner = line.slice(i + 2, j - 1);
        if (!add(inner) || (level < MAX_NESTING && !literals(inner, add, level + 1))) return false;
      }
      continue;
    }
    if (q !== 34 /* " */ && q !== 39 /* ' */ && q !== 96 /* ` */) continue;
    let j = i + 1;
    let body = "";
    let from = j;
    for (; j < n; j++) {
      const c = line.charCodeAt(j);
      if (c === 92 /* \ */ && j + 1 < n) {
        body += line.slice(from, j);
        const next = line[j + 1]!;
        body += next === "n" ? "\n" : next === "t" ? "\t" : next;
        j++;
        from = j + 1;
        continue;
      }
      if (c === q) break;
    }
    if (j >= n) continue; // no closing quote on this line: not a literal (an apostrophe in prose)
    body += line.slice(from, j);
    if (!add(body) || (level < MAX_NESTING && !literals(body, add, level + 1))) return false;
    i = j;
  }
  return true;
}

/** Separators namesKnown reads past; a candidate with more counts as naming a known program. */
const MAX_SEPARATORS = 64;

/** Whether some command of `c` (its first word, or one after a separator) names a known program. */
function namesKnown(c: string, known: (word: string) => boolean): boolean {
  if (!/\s/.test(c)) return false;
  // A program with no effect of its own (echo, export, return, cd) counts only with a redirection.
  const redirects = c.includes(">");
  const counts = (w: string) => known(w) && (redirects || !effectless(w));
  // Each command is read where it starts (sticky patterns from `at`), not from a copy of the rest.
  let at = 0;
  for (let k = 0; k < MAX_SEPARATORS; k++) {
    COMMAND_WORD.lastIndex = at;
    const m = COMMAND_WORD.exec(c);
    if (m !== null) {
      const w = m[1]!;
      const base = w.includes("/") ? w.slice(w.lastIndexOf("/") + 1) : w;
      if (base !== "" && (w.includes("/") ? /^[\w.+-]+$/.test(base) && counts(base) : counts(base)))
        return true;
    }
    SEPARATORS.lastIndex = at;
    const s = SEPARATORS.exec(c);
    if (s === null) return false;
    at = s.index + s[0].length;
  }
  return true;
}

/** Shell builtins that run nothing (`eval`, `exec`, `command`, `builtin` run their words). */
const RUNNING_BUILTINS = new Set(["eval", "exec", "command", "builtin"]);

/** A program whose words are only text, or a builtin that sets or tests shell state: no effect without a redirection. */
function effectless(word: string): boolean {
  return inertWords(word) || (SHELL_BUILTINS.has(word) && !RUNNING_BUILTINS.has(word));
}

/** Program names the gate knows whatever the pack: specs and their aliases, wrappers, shells, interpreters, fetchers. */
export function builtInProgram(word: string): boolean {
  return builtInNames().has(programFamily(word));
}

/** The names builtInProgram knows, in one set: a word is looked up once, not in six tables. */
let BUILT_IN: Set<string> | undefined;
function builtInNames(): Set<string> {
  BUILT_IN ??= new Set([
    ...Object.keys(SPECS),
    ...Object.keys(SPEC_ALIASES),
    ...SIMPLE_WRAPPERS,
    ...SHELLS,
    ...INTERPRETERS,
    ...NET_PROGRAMS,
  ]);
  return BUILT_IN;
}

/** What programFamily folds: these followed by digits and dots (`python3.11`), and three awks. */
const FAMILY_STEMS = ["python", "perl", "ruby", "php", "node", "lua", "pip"];
const FOLDED_AWKS = ["gawk", "mawk", "nawk"];

const FNV_BASIS = -2128831035; // 2166136261 as an int32
const FNV_PRIME = 16777619;
const SLOTS = 1 << 16;
const fold = (h: number) => (h ^ (h >>> 16)) & (SLOTS - 1);
/**
 * What mayCarry reads of each ASCII character, as bits: namesKnown's word pattern stops at it
 * (`[\s|;&()\`{}'"<>]`), it is one of SEPARATORS' characters (`$(` at its `(`), a `>`, a `\`, a
 * `/`, one of `!@+-` (what may precede the word inside a run: `!cmd`, a recipe's `@cmd`), a digit
 * or dot (what programFamily folds after a stem).
 */
const STOP = 1;
const SEPARATOR = 2;
const GT = 4;
const BACKSLASH = 8;
const SLASH = 16;
const LEAD = 32;
const DIGIT_OR_DOT = 64;
const CLASS = new Uint8Array(128);
const classify = (chars: string, bit: number) => {
  for (const ch of chars) CLASS[ch.charCodeAt(0)]! |= bit;
};
classify(" \t\n\v\f\r|;&()`{}'\"<>", STOP);
classify("|;&()`{}", SEPARATOR);
classify(">", GT);
classify("\\", BACKSLASH);
classify("/", SLASH);
classify("!@+-", LEAD);
classify("0123456789.", DIGIT_OR_DOT);

/**
 * The programs carriedCandidates counts (builtInProgram's and `extra`, a pack's program names),
 * with a pre-filter that skips a line none of whose candidates can name one: most lines of
 * ordinary code and prose are then read once, without a regular expression or a string cut out.
 */
export class KnownPrograms {
  /** FNV-1a hashes (folded) of every name, leading `!@+-` left out. */
  private readonly names = new Uint8Array(SLOTS);
  /** The same of the names that count without a redirection (not effectless). */
  private readonly effectful = new Uint8Array(SLOTS);
  /** The same of FAMILY_STEMS, which a word followed by digits and dots reaches. */
  private readonly stems = new Uint8Array(SLOTS);

  constructor(private readonly extra?: { has(word: string): boolean; keys(): Iterable<string> }) {
    const mark = (n: string) => {
      const slot = fold(nameHash(n));
      this.names[slot] = 1;
      if (!effectless(n)) this.effectful[slot] = 1;
    };
    for (const n of builtInNames()) mark(n);
    for (const n of FOLDED_AWKS) mark(n);
    if (extra !== undefined) for (const n of extra.keys()) mark(n);
    for (const n of FAMILY_STEMS) this.stems[fold(nameHash(n))] = 1;
  }

  has(word: string): boolean {
    return builtInProgram(word) || this.extra?.has(word) === true;
  }

  /**
   * False only when no candidate of `line` can pass namesKnown. Without a backslash (an escape a
   * literal undoes: `"\x63url"` is no word of the line) every candidate (the line, a literal, a
   * `$(…)`) is a piece of the line that ends where a word of namesKnown's pattern ends, and each
   * word namesKnown reads is a run of that pattern, from its start or after leading `!@+-`, or
   * such a word's part after its last `/`. A known program's name hashes to a marked slot (its
   * family's stem when programFamily folds it; without a `>` in the line, only a program that
   * counts without a redirection), so a line in which no run's last part does, and with fewer
   * separators than namesKnown reads before it gives up (and counts the candidate), has no
   * candidate that passes.
   */
  mayCarry(line: string, from = 0, to = line.length): boolean {
    const { names, effectful, stems } = this;
    let separators = 0;
    let inRun = false;
    let lead = false;
    let h = FNV_BASIS;
    let stem = FNV_BASIS;
    let stemmed = false;
    // A run naming a program that counts only with a redirection: true once the line has a `>`.
    let gt = false;
    let needsGt = false;
    for (let i = from; i <= to; i++) {
      const c = i < to ? line.charCodeAt(i) : 32;
      const k = c < 128 ? CLASS[c]! : /\s/.test(line[i]!) ? STOP : 0;
      if (k === 0) {
        // The usual character: a letter of a run (none of the marks below).
        if (!inRun) {
          inRun = true;
          h = FNV_BASIS;
        }
        lead = false;
        h = Math.imul(h ^ c, FNV_PRIME);
        stem = h;
        stemmed = true;
        continue;
      }
      if (k & STOP) {
        if (k & GT) {
          if (needsGt) return true;
          gt = true;
        }
        if (k & SEPARATOR && ++separators >= MAX_SEPARATORS) return true;
        if (inRun) {
          const slot = fold(h);
          if (effectful[slot] === 1 || stems[fold(stemmed ? stem : h)] === 1) return true;
          if (names[slot] === 1) {
            if (gt) return true;
            needsGt = true;
          }
        }
        inRun = false;
        continue;
      }
      if (k & BACKSLASH) return true;
      if (!inRun || k & SLASH) {
        // a run starts, or its last part after a `/` does
        inRun = true;
        lead = true;
        h = FNV_BASIS;
        stemmed = false;
        if (k & SLASH) continue;
      }
      if (lead && k & LEAD) continue;
      lead = false;
      h = Math.imul(h ^ c, FNV_PRIME);
      if (!(k & DIGIT_OR_DOT)) {
        stem = h;
        stemmed = true;
      }
    }
    return false;
  }
}

/** A name's hash as mayCarry computes a run's: leading `!@+-` left out. */
function nameHash(name: string): number {
  let i = 0;
  while (i < name.length && (CLASS[name.charCodeAt(i)]! & LEAD) !== 0) i++;
  let h = FNV_BASIS;
  for (; i < name.length; i++) h = Math.imul(h ^ name.charCodeAt(i), FNV_PRIME);
  return h;
}

const KNOWN = new WeakMap<object, KnownPrograms>();
const NO_EXTRA: ReadonlyMap<string, unknown> = new Map();
/** The KnownPrograms of builtInProgram's names and `extra`'s keys, made once per `extra`. */
export function knownPrograms(extra: ReadonlyMap<string, unknown> | undefined): KnownPrograms {
  const key = extra ?? NO_EXTRA;
  let k = KNOWN.get(key);
  if (k === undefined) {
    k = new KnownPrograms(key);
    KNOWN.set(key, k);
  }
  return k;
}
