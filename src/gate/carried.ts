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
/** Where a new simple command may start inside a candidate. */
const SEPARATORS = /[|;&()`\n{}]|\$\(/;

/**
 * The candidates `text` carries that name a known program (`known`), in order, each once; `over`
 * says which bound ran out.
 */
export function carriedCandidates(text: string, known: (word: string) => boolean): CarriedScan {
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
    const line = text.slice(start, end);
    start = end + 1;
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

/** Whether some command of `c` (its first word, or one after a separator) names a known program. */
function namesKnown(c: string, known: (word: string) => boolean): boolean {
  if (!/\s/.test(c)) return false;
  // A program with no effect of its own (echo, export, return, cd) counts only with a redirection.
  const redirects = c.includes(">");
  const counts = (w: string) => known(w) && (redirects || !effectless(w));
  let rest = c;
  for (let k = 0; k < 64; k++) {
    const m = /^[\s!"']*(?:[A-Za-z_]\w*=\S*\s+)*([^\s|;&()`{}'"<>]+)/.exec(rest);
    if (m !== null) {
      const w = m[1]!;
      const base = w.includes("/") ? w.slice(w.lastIndexOf("/") + 1) : w;
      if (base !== "" && (w.includes("/") ? /^[\w.+-]+$/.test(base) && counts(base) : counts(base)))
        return true;
    }
    const s = SEPARATORS.exec(rest);
    if (s === null) return false;
    rest = rest.slice(s.index + s[0].length);
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
  const f = programFamily(word);
  return (
    Object.hasOwn(SPECS, f) ||
    Object.hasOwn(SPEC_ALIASES, f) ||
    SIMPLE_WRAPPERS.has(f) ||
    SHELLS.has(f) ||
    INTERPRETERS.has(f) ||
    NET_PROGRAMS.has(f)
  );
}
