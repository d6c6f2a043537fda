/**
 * Shell lines → every simple command they would run: the walk over tree-sitter-bash's tree.
 *
 * One walk reads the native parser's flat array and web-tree-sitter's tree through the same cursor
 * operations (flat-tree.ts) and slices the source string, so no Node objects are allocated.
 * Anything the parser cannot pin down statically (a command name from a variable, `$'\x72m'`,
 * a `bash -c "$X"`, inline interpreter code, parse errors, limits exceeded) is reported in
 * `floors`: the gate never lets such a line be ALLOW.
 */
import type { Cursor } from "../flat-tree.js";
import { canonicalHost, canonicalUrl } from "../hosts.js";
import { hostOf, isWithin, Links, normalisePath } from "../paths.js";
import { flagsLoad, propertyKind } from "../program-keys.js";
import { injectsEnv } from "../protect.js";
import { wordTable } from "../word-table.js";
import { activeBackend, type Backend, type Grammar } from "./backend.js";
import {
  commandEffects,
  type EffectsCtx,
  ENVIRON,
  inertWords,
  pythonModuleAt,
  SECRET_NAME,
  urlData,
} from "./effects.js";
import {
  CMD_VAR_ARGS,
  CMD_VARS,
  CODE_FLAGS,
  HOST_FIRST,
  INJECT_VARS,
  INTERPRETERS,
  NET_PROGRAMS,
  programFamily,
  QUIET_DEVICES,
  SHELL_BUILTINS,
  SHELLS,
  VALUE_FLAGS,
} from "./programs.js";
import { MAX_REQUESTS } from "./specs.js";
import { DEFAULT_LIMITS, type ShellLimits, type ShellParse, type SimpleCommand, type Word } from "./types.js";
import {
  ansiCEnd,
  braceExpand,
  bracesBalanced,
  decodeAnsiC,
  GLOB_CHARS,
  globDir,
  mayBrace,
  shellQuote,
  spread,
  unescapeDouble,
  unescapedBlank,
  unescapeWord,
  type Work,
  zshOption,
} from "./words.js";
import { containerRun, type Runner, recurse, scriptOperand, shellScriptIndex } from "./wrappers.js";

const CONTAINER_PROGRAMS = new Set(["docker", "podman", "nerdctl"]);
/** httpie/xh operands: [METHOD] URL ITEM…; true when an item is a header (`X-Key:v`, not `k:=json`). */
function headerItem(operands: readonly Word[]): boolean {
  const first = operands[0]?.value;
  for (let i = first && /^[A-Za-z]+$/.test(first) ? 2 : 1; i < operands.length; i++) {
    const v = operands[i]!.value;
    if (v === null || /^[A-Za-z0-9!#$%&'*+.^_`|~-]+:(?!=)/.test(v)) return true;
  }
  return false;
}
/** An indirect expansion: `${!name}`, `${!name:-x}` (not `${!prefix*}` or `${!arr[@]}`, which give names), zsh `${(P)name}`. */
const INDIRECT = /^\$\{(?:![A-Za-z_][A-Za-z0-9_]*(?![A-Za-z0-9_]*[*@[])|\([^)]*P[^)]*\))/;
/** Programs that resolve the names they are given: the name itself reaches the resolvers (gate43). */
const DNS_PROGRAMS = new Set(["dig", "nslookup", "host", "drill", "ping", "ping6", "traceroute", "whois"]);
/** `list` with the canonical form of URL `v` (hosts.ts canonicalUrl) added; made on first use. */
function requested(list: string[] | undefined, v: string): string[] | undefined {
  const u = canonicalUrl(v);
  if (u === null) return list;
  if (list === undefined) return [u];
  if (!list.includes(u)) list.push(u);
  return list;
}

/** A floor when a URL or name the line sends carries encoded data (effects.ts urlData). */
function sendsData(ctx: Ctx, v: string, cmdText: string): void {
  const why = urlData(v);
  if (why !== null) addFloor(ctx, `network-data: '${short(cmdText)}' sends data in ${why}`);
}
/** Clients that send their standard input as the request body (httpie, xh). */
const STDIN_BODY = new Set(["http", "https", "xh", "xhs"]);

/** The working directory as the line runs: `cd` changes it for the commands after it. */
interface Scope {
  cwd: string;
  /** A `cd` to a directory only known at run time happened: relative paths are unknown. */
  unknown: boolean;
  /** The line changed PATH (`PATH=… cmd`, `export PATH=…`): programs named without a slash are unknown. */
  path?: string;
  /** Names bound to a program's path (`hash git=/tmp/g`): a later `git` runs that path. Copied on write. */
  bound?: Map<string, string>;
  /** Directories the line put on zsh's fpath: `autoload NAME` then makes DIR/NAME the function's code. */
  fpath?: string[];
  /** The line put a directory only known at run time on fpath. */
  fpathUnknown?: boolean;
}

interface Ctx {
  line: string;
  /** The action's working directory: the workspace scripts may run from. */
  workspace: string;
  scope: Scope;
  home: string;
  depth: number;
  via: string[];
  feeders: string[];
  /** Redirect targets (as written) inherited from an enclosing `{ …; } > file`. */
  writes: string[];
  /** Of `writes`, the ones appended to (`>>`): a command reading one feeds itself. */
  appends?: string[];
  reads: string[];
  out: SimpleCommand[];
  floors: string[];
  limits: ShellLimits;
  /** The parser's symbol tables, and the parser. */
  g: Grammar;
  parse: Backend["parse"];
  /** The line's budget, shared by every nested parse (issue 19 §6). */
  budget: Budget;
  /** Loop variables bound to static words (`for f in src/*.ts`): their values inside the body. */
  vars?: ReadonlyMap<string, Word>;
  /** Expansions of credential-named variables so far (shared by every copy of the context). */
  secretEnv: { n: number };
  /** What a persistent shell keeps after the line (ShellParse.keeps), shared by every nested walk. */
  keeps: { path?: string };
  /** The line's shell variables as arithmetic would see them (shared by every copy of the context). */
  sh: ShellVars;
  /**
   * The links its paths are resolved through: the session's, then the line's own `ln -s` (shared by
   * every copy of the context; `own` once the line added one to its copy).
   */
  links: { at: Links; own: boolean };
}

/**
 * What the line assigned to its shell variables, for arithmetic (issue 19): bash and zsh evaluate a
 * variable named in an arithmetic context as an expression, and an array subscript in it runs its
 * command substitutions (`x='a[$(id)]'; echo $((x))`). A name maps to every value the line may have
 * given it, joined by `,` (a superset of any one path through the line), or null when one of them
 * is only known at run time; a name not in the map is the environment's (unknown).
 */
interface ShellVars {
  vars: Map<string, string | null>;
  /** Associative arrays (`declare -A m`): their subscripts are strings, not arithmetic. */
  assoc: Set<string> | null;
  /** Integer variables (`declare -i n`): every later assignment to one is evaluated as arithmetic. */
  ints?: Set<string>;
}

interface Budget extends Work {
  /** Current tree nesting, and the deepest reached. */
  nesting: number;
  peak: number;
  /** A budget ran out: the rest of the line is not read (its floor keeps it from ALLOW). */
  stopped: boolean;
}

/** Parses a shell line into its simple commands. Synchronous; needs `initShell()` first. */
export function parseShell(
  line: string,
  cwd: string,
  home: string,
  shellLimits: ShellLimits = DEFAULT_LIMITS,
  env?: Readonly<Record<string, string>>,
  /** The configured workspace the line runs in (default: `cwd`). */
  workspace: string = cwd,
  /** The session's links (gate61): the line's paths are resolved through them and its own `ln -s`. */
  links: Links = Links.NONE,
): ShellParse {
  const backend = activeBackend();
  const limits = { ...DEFAULT_LIMITS, ...shellLimits };
  const out: SimpleCommand[] = [];
  const floors: string[] = [];
  const ctx: Ctx = {
    line,
    workspace,
    scope: { cwd, unknown: false },
    home,
    depth: 0,
    via: [],
    feeders: [],
    writes: [],
    reads: [],
    out,
    floors,
    limits,
    g: backend.grammar,
    parse: backend.parse,
    budget: { left: limits.maxWork, nesting: 0, peak: 0, stopped: false },
    secretEnv: { n: 0 },
    keeps: {},
    sh: { vars: new Map(), assoc: null },
    links: { at: links, own: false },
  };
  // The action's environment reaches every command of the line: PAGER=…, LD_PRELOAD=… are judged.
  if (env)
    for (const [k, v] of Object.entries(env)) {
      envAssignment(ctx, k, v, ["env"]);
      exportedVar(ctx, k, v);
      shellVar(ctx, k, v, "");
    }
  parseInto(line, ctx);
  return {
    commands: out,
    floors,
    work: { steps: limits.maxWork - ctx.budget.left, nesting: ctx.budget.peak },
    keeps: kept(ctx),
  };
}

/** What the line leaves a persistent shell: the PATH it set. */
function kept(ctx: Ctx): ShellParse["keeps"] {
  return ctx.keeps.path === undefined ? undefined : { path: ctx.keeps.path };
}

function addFloor(ctx: Ctx, reason: string): void {
  if (!ctx.floors.includes(reason)) ctx.floors.push(reason);
}

function parseInto(line: string, ctx: Ctx): void {
  if (line.length > ctx.limits.maxLength) {
    addFloor(ctx, `shell-too-long: over ${ctx.limits.maxLength} characters`);
    return;
  }
  if (ctx.depth > ctx.limits.maxDepth) {
    addFloor(ctx, `shell-too-deep: nesting over ${ctx.limits.maxDepth}`);
    return;
  }
  if (line.includes("\0")) addFloor(ctx, "shell-unparseable: NUL byte");
  const tree = ctx.parse(line);
  if (!tree) {
    addFloor(ctx, "shell-unparseable: the parser returned nothing");
    return;
  }
  try {
    if (tree.hasError) addFloor(ctx, "shell-unparseable: syntax error");
    const cur = tree.walk();
    try {
      const sub: Ctx = { ...ctx, line };
      walkChildren(cur, sub);
    } finally {
      cur.delete();
    }
  } finally {
    tree.delete();
  }
}

function text(cur: Cursor, ctx: Ctx): string {
  return ctx.line.slice(cur.startIndex, cur.endIndex);
}

function walkChildren(cur: Cursor, ctx: Ctx): void {
  if (!cur.gotoFirstChild()) return;
  do walkNode(cur, ctx);
  while (cur.gotoNextSibling());
  cur.gotoParent();
}

/**
 * One step deeper into the tree, within the budget: false (the walk stops, with its floor) when
 * the walk ran out of steps or nests deeper than `maxNesting`. The caller decrements `nesting`.
 */
function enter(ctx: Ctx): boolean {
  const b = ctx.budget;
  if (b.stopped) return false;
  if (--b.left < 0) {
    outOfBudget(ctx, `over ${ctx.limits.maxWork} steps`);
    return false;
  }
  if (b.nesting >= ctx.limits.maxNesting!) {
    outOfBudget(ctx, `nesting deeper than ${ctx.limits.maxNesting}`);
    return false;
  }
  b.nesting++;
  if (b.nesting > b.peak) b.peak = b.nesting;
  return true;
}

/** Spends `n` steps of the line's budget. */
function spend(ctx: Ctx, n: number): void {
  ctx.budget.left -= n;
  if (ctx.budget.left < 0 && !ctx.budget.stopped) outOfBudget(ctx, `over ${ctx.limits.maxWork} steps`);
}

/** The budget ran out: the floor says why, and the walk stops reading the line. */
function outOfBudget(ctx: Ctx, why: string): void {
  addFloor(ctx, `shell-budget: ${why}: the gate stopped reading the line`);
  ctx.budget.stopped = true;
}

/** Visits the node under the cursor; leaves the cursor where it found it. */
function walkNode(cur: Cursor, ctx: Ctx): void {
  if (!enter(ctx)) return;
  try {
    walkNodeIn(cur, ctx);
  } finally {
    ctx.budget.nesting--;
  }
}

function walkNodeIn(cur: Cursor, ctx: Ctx): void {
  const id = cur.nodeTypeId;
  if (ctx.g.leaf[id]) return;
  switch (ctx.g.types[id]) {
    case "command":
      commandNode(cur, ctx);
      return;
    case "declaration_command":
    case "unset_command":
      declaration(cur, ctx);
      return;
    case "redirected_statement":
      redirectedStatement(cur, ctx);
      return;
    case "pipeline":
      pipeline(cur, ctx);
      return;
    case "subshell":
      // A subshell's `cd` does not outlive it.
      walkChildren(cur, { ...ctx, scope: { ...ctx.scope } });
      return;
    case "comment":
      return;
    case "variable_assignment": {
      // A bare `NAME=value` (`PS4='$(id)'`, `HISTFILE=/dev/null`, `PAGER=…`): judged like an env.
      const a = assignment(cur, ctx);
      envAssignment(ctx, a.name, a.value, ctx.via, a.raw);
      shellAssign(ctx, a);
      return;
    }
    case "function_definition": {
      // The gate judges commands where they are written, not where a function is called: a
      // definition (a fork bomb, a name shadowing a program) is reviewed.
      const name = ctx.line
        .slice(cur.startIndex, Math.min(cur.endIndex, cur.startIndex + 200))
        .replace(/^function\s+/, "")
        .split(/[\s(]/)[0];
      addFloor(ctx, `shell-definition: the line defines function '${short(name ?? "")}'`);
      walkChildren(cur, ctx);
      return;
    }
    case "for_statement":
      forStatement(cur, ctx);
      return;
    case "compound_statement": {
      // `(( y = x + 1 ))`: arithmetic; `{ …; }` is walked as it is.
      if (ctx.line.startsWith("((", cur.startIndex)) arith(ctx, text(cur, ctx).slice(2, -2));
      walkChildren(cur, ctx);
      return;
    }
    case "test_command":
      if (ctx.line.startsWith("[[", cur.startIndex)) testArith(cur, ctx);
      walkChildren(cur, ctx);
      return;
    case "c_style_for_statement": {
      // `for ((i=x; i<n; i++))`: the head is arithmetic.
      const close = ctx.line.indexOf("))", cur.startIndex);
      const open = ctx.line.indexOf("((", cur.startIndex);
      if (open >= 0 && close > open && close < cur.endIndex) arith(ctx, ctx.line.slice(open + 2, close));
      // `for ((;;))` (no condition) loops forever unless the body leaves.
      const head = ctx.line.slice(cur.startIndex, Math.min(cur.endIndex, cur.startIndex + 64));
      if (/^for\s*\(\([^;]*;\s*;/.test(head)) {
        const t = text(cur, ctx);
        if (!/\b(break|exit|return)\b/.test(t)) addFloor(ctx, `resources: '${short(t)}' loops forever`);
      }
      walkChildren(cur, ctx);
      return;
    }
    case "while_statement":
    case "until_statement": {
      // The head decides (linear); only an endless head makes the body be searched for a way out.
      const head = ctx.line.slice(cur.startIndex, Math.min(cur.endIndex, cur.startIndex + 64));
      if (ENDLESS_HEAD.test(head)) {
        const t = text(cur, ctx);
        if (!/\b(break|exit|return)\b/.test(t)) addFloor(ctx, `resources: '${short(t)}' loops forever`);
      } else if (NESTING_HEAD.test(head))
        addFloor(
          ctx,
          `resources: '${short(text(cur, ctx))}' makes and enters a directory each time round, forever`,
        );
      else if (cur.endIndex - cur.startIndex <= 4096 && BACKGROUND.test(text(cur, ctx)))
        backgroundLoop(ctx, text(cur, ctx), "as many times as its input or condition says");
      walkChildren(cur, ctx);
      return;
    }
    case "heredoc_body":
      return;
    default:
      walkChildren(cur, ctx);
  }
}

function pipeline(cur: Cursor, ctx: Ctx): void {
  if (!cur.gotoFirstChild()) return;
  const feeders = [...ctx.feeders];
  do {
    if (!ctx.g.named[cur.nodeTypeId]) continue;
    const start = ctx.out.length;
    walkNode(cur, { ...ctx, feeders: [...feeders], scope: { ...ctx.scope } });
    for (let i = start; i < ctx.out.length; i++) {
      const p = ctx.out[i]!.program;
      if (p && !feeders.includes(p)) feeders.push(p);
    }
  } while (cur.gotoNextSibling());
  cur.gotoParent();
}

interface Redirects {
  writes: string[];
  /** Of `writes`, the ones appended to (`>>`): a command reading one feeds itself. */
  appends?: string[];
  reads: string[];
  heredoc: string | null;
  /** Statements after a heredoc's start on the same line (`cat <<EOF | sh`), as cursors to walk. */
  trailing?: Cursor[];
  /**
   * Words after a file redirect's target (`tee -a < todo.add FILE`): tree-sitter-bash puts them in
   * the redirect node, bash gives them to the command as arguments (gate55).
   */
  args?: { w: Word; start: number }[];
  /** A here-string or an unquoted heredoc expands a secret-named variable: the program reads it on stdin. */
  secretIn?: boolean;
}

function redirectedStatement(cur: Cursor, ctx: Ctx): void {
  const r: Redirects = { writes: [], reads: [], heredoc: null };
  // First pass: the redirects (they may follow the body); second pass: the body.
  if (!cur.gotoFirstChild()) return;
  do {
    if (isRedirect(ctx.g.types[cur.nodeTypeId]!)) redirect(cur, ctx, r);
  } while (cur.gotoNextSibling());
  cur.gotoParent();
  cur.gotoFirstChild();
  const inner: Ctx = { ...ctx, writes: [...ctx.writes, ...r.writes], reads: [...ctx.reads, ...r.reads] };
  if (r.appends) inner.appends = [...(ctx.appends ?? []), ...r.appends];
  let body = false;
  do {
    const id = cur.nodeTypeId;
    const t = ctx.g.types[id]!;
    if (isRedirect(t)) continue;
    body = true;
    if (t === "command") commandNode(cur, inner, r);
    else if (ctx.g.named[id]) walkNode(cur, inner);
  } while (cur.gotoNextSibling());
  cur.gotoParent();
  // Words after a redirect target that no simple command took (`{ …; } < f x`): not judged.
  if (r.args !== undefined && r.args.length > 0)
    addFloor(
      ctx,
      `shell-unparseable: '${short(text(cur, ctx))}' has words after a redirect that no command takes`,
    );
  // `> ~/.zshrc` alone truncates a file: judge it as the null command `:` with that redirect.
  if (!body) emit(ctx, { value: ":", glob: false }, [], r, text(cur, ctx), []);
  trailing(ctx, r, null);
}

function isRedirect(type: string): boolean {
  return type === "file_redirect" || type === "heredoc_redirect" || type === "herestring_redirect";
}

/** Reads one redirect node into `r`; walks command substitutions inside it. */
function redirect(cur: Cursor, ctx: Ctx, r: Redirects): void {
  const type = ctx.g.types[cur.nodeTypeId]!;
  if (!cur.gotoFirstChild()) return;
  let op = "";
  let targeted = false;
  do {
    const id = cur.nodeTypeId;
    const t = ctx.g.types[id]!;
    if (!ctx.g.named[id]) {
      if (op === "") op = t;
      continue;
    }
    if (type === "heredoc_redirect") {
      if (t === "heredoc_body") {
        const before = ctx.secretEnv.n;
        r.heredoc = heredocText(cur, ctx);
        if (ctx.secretEnv.n !== before) r.secretIn = true;
      } else if (isRedirect(t)) redirect(cur, ctx, r);
      else if (t !== "heredoc_start" && t !== "heredoc_end") {
        if (!r.trailing) r.trailing = [];
        r.trailing.push(cur.copy());
      }
      continue;
    }
    if (t === "file_descriptor") continue;
    const w = wordValue(cur, ctx);
    if (type === "herestring_redirect") {
      r.heredoc = w.value;
      if (w.secretEnv) r.secretIn = true;
      continue;
    }
    if (targeted) {
      if (r.args === undefined) r.args = [];
      r.args.push({ w, start: cur.startIndex });
      continue;
    }
    targeted = true;
    if (op === ">&" || op === "<&" || op === ">&-" || op === "<&-") {
      if (w.value !== null && /^\d+-?$|^-$/.test(w.value)) continue;
    }
    if (w.value === null) {
      r.writes.push("");
      continue;
    }
    // Kept as written: relative targets resolve when the command is emitted, after any `cd` before
    // it (tree-sitter-bash attaches `a && b > f` redirects to the whole list).
    if (op.includes(">")) {
      r.writes.push(w.value);
      if (op.endsWith(">>")) {
        if (r.appends === undefined) r.appends = [];
        r.appends.push(w.value);
      }
    } else r.reads.push(w.value);
  } while (cur.gotoNextSibling());
  cur.gotoParent();
}

/**
 * The body's text as written. Substitutions in an unquoted body run in the outer shell, so they
 * are walked here; a `$X` left in the text re-parses as a dynamic word in the inner shell.
 */
function heredocText(cur: Cursor, ctx: Ctx): string {
  walkSubstitutions(cur, ctx);
  bodyExpansions(cur, ctx);
  return text(cur, ctx);
}

/** The name a `$X`, `${X…}`, `${#X}` or `${!X}` expands. */
const EXPANDED = /^\$\{?[#!]?([A-Za-z_][A-Za-z0-9_]*)/;

/**
 * Whether an expansion reads a secret-named variable's value. `${!v}` (bash) and `${(P)v}` (zsh)
 * expand the variable whose name v holds: any variable, a credential among them (`for v in
 * ${!AWS*}; do echo "${!v}"; done`).
 */
function secretExpansion(s: string, env = EXPANDED.exec(s)): boolean {
  return (env !== null && SECRET_NAME.test(env[1]!)) || INDIRECT.test(s);
}

/**
 * Counts the secret-named expansions of an unquoted heredoc's body in `ctx.secretEnv` (a quoted
 * one, `<<'EOF'`, has none: tree-sitter-bash gives it no expansion nodes). Substitutions are
 * walked on their own.
 */
function bodyExpansions(cur: Cursor, ctx: Ctx): void {
  if (!cur.gotoFirstChild()) return;
  do {
    const t = ctx.g.types[cur.nodeTypeId];
    if (t === "simple_expansion" || t === "expansion") {
      if (secretExpansion(text(cur, ctx))) ctx.secretEnv.n++;
    } else if (t !== "command_substitution" && t !== "process_substitution" && !ctx.g.leaf[cur.nodeTypeId])
      bodyExpansions(cur, ctx);
  } while (cur.gotoNextSibling());
  cur.gotoParent();
}

/** Nothing, or only line continuations: what lies between two parts of one word. */
const CONTINUATIONS = /^(?:\\\n)*$/;
/** Blanks, newlines and line continuations: what may separate the parts of one command. */
const BLANKS = /^(?:[ \t\r\n]|\\\r?\n)*$/;

function commandNode(cur: Cursor, ctx: Ctx, outer?: Redirects): void {
  const words: Word[] = [];
  const r: Redirects = {
    writes: [],
    reads: [],
    heredoc: outer?.heredoc ?? null,
    trailing: outer?.trailing,
    secretIn: outer?.secretIn,
  };
  if (outer) outer.trailing = undefined;
  let name: Word | null = null;
  const start = cur.startIndex;
  const end = cur.endIndex;
  const subFeeders: string[] = [];
  const raw: { w: Word; name: boolean; start: number }[] = [];
  let prevEnd = -1;
  let prevWord = false;
  if (!cur.gotoFirstChild()) return;
  do {
    const id = cur.nodeTypeId;
    if (!ctx.g.named[id]) continue;
    const t = ctx.g.types[id]!;
    // Between two parts of a command only blanks and line continuations may lie: tree-sitter
    // drops some text it cannot place (`$''\$""` loses the `\$`), and a dropped word is unknown.
    const gap = prevEnd < 0 ? " " : ctx.line.slice(prevEnd, cur.startIndex);
    if (!BLANKS.test(gap)) addFloor(ctx, `shell-unparseable: the parser skipped '${short(gap)}'`);
    prevEnd = cur.endIndex;
    if (t === "variable_assignment") {
      // `X=$(cmd) prog`: the substitution runs; `PAGER=cmd git log` makes git run cmd.
      const a = assignment(cur, ctx);
      envAssignment(ctx, a.name, a.value, [...ctx.via, "env"], a.raw);
      exportedVar(ctx, a.name, a.value);
      prevWord = false;
      continue;
    }
    if (isRedirect(t)) {
      redirect(cur, ctx, r);
      if (r.args) for (const a of r.args.splice(0)) raw.push({ w: a.w, name: false, start: a.start });
      prevWord = false;
      continue;
    }
    const start0 = cur.startIndex;
    if (t === "command_name") cur.gotoFirstChild();
    const w = wordValue(cur, ctx, subFeeders);
    if (t === "command_name") cur.gotoParent();
    // Nodes with nothing (or only a backslash-newline) between them are one word to bash
    // (`""\a{,}`, `~/.ss\⏎h`): tree-sitter splits them, the gate glues them back.
    const last = raw[raw.length - 1];
    if (prevWord && last && CONTINUATIONS.test(gap)) {
      // A brace expression split across the nodes (`{\⏎{,}{`): bash expands the joined text, so
      // the values glued are not bash's (dynamic).
      const span = ctx.line.slice(last.start, cur.endIndex);
      last.w =
        span.includes("{") &&
        (!bracesBalanced(ctx.line.slice(last.start, start0)) ||
          !bracesBalanced(ctx.line.slice(start0, cur.endIndex))) &&
        mayBrace(span)
          ? { value: null, glob: last.w.glob || w.glob }
          : glue(last.w, w, ctx);
    } else raw.push({ w, name: t === "command_name", start: start0 });
    prevWord = true;
  } while (cur.gotoNextSibling());
  cur.gotoParent();
  // Words after the target of a redirect outside the command node are its arguments too.
  if (outer?.args) for (const a of outer.args.splice(0)) raw.push({ w: a.w, name: false, start: a.start });
  // And after the last part (`{a,b}\$`: the `\$` is an unnamed node after the word).
  if (prevEnd >= 0 && prevEnd < end && !BLANKS.test(ctx.line.slice(prevEnd, end)))
    addFloor(ctx, `shell-unparseable: the parser skipped '${short(ctx.line.slice(prevEnd, end))}'`);
  for (const part of raw) {
    if (part.name) {
      const parts: Word[] = [];
      spread(part.w, parts);
      name = parts[0]!;
      words.push(...parts.slice(1));
    } else spread(part.w, words);
  }
  if (name === null) return; // a bare assignment: `X=1`
  const cmdText = ctx.line.slice(start, end);
  emit(ctx, name, words, r, cmdText, subFeeders);
  trailing(ctx, r, name.value);
}

/** Walks what followed a heredoc start (`cat <<EOF | sh`): piped stages are fed by the command. */
function trailing(ctx: Ctx, r: Redirects, program: string | null): void {
  if (!r.trailing) return;
  for (const c of r.trailing) {
    try {
      if (ctx.g.types[c.nodeTypeId] === "pipeline") {
        const feeders = program ? [...ctx.feeders, program] : [...ctx.feeders];
        if (c.gotoFirstChild()) {
          do if (ctx.g.named[c.nodeTypeId]) walkNode(c, { ...ctx, feeders });
          while (c.gotoNextSibling());
        }
      } else walkNode(c, ctx);
    } finally {
      c.delete();
    }
  }
  r.trailing = undefined;
}

/** `export A=1 B`, `local x`, `unset HISTFILE`: builtins the grammar gives their own node. */
function declaration(cur: Cursor, ctx: Ctx): void {
  const start = cur.startIndex;
  const end = cur.endIndex;
  const words: Word[] = [];
  let name = "";
  const feeders: string[] = [];
  let prevEnd = -1;
  let integer = false;
  let assoc = false;
  if (!cur.gotoFirstChild()) return;
  do {
    const id = cur.nodeTypeId;
    if (!ctx.g.named[id]) {
      if (name === "") name = ctx.g.types[id]!;
      prevEnd = cur.endIndex;
      continue;
    }
    // Parts with nothing between them are one word after quote removal: `export HI"STF"ILE=x` hands
    // export `HISTFILE=x` (tree-sitter splits it), so the glued word is what the builtin sets.
    const joined = prevEnd === cur.startIndex && words.length > 0;
    prevEnd = cur.endIndex;
    let w: Word;
    if (ctx.g.types[id] === "variable_assignment") {
      // The builtin only sets a variable: its value names no file, so the raw text stands in for it.
      // Substitutions inside it still run and are judged on their own; `export PAGER=cmd` is judged.
      const a = assignment(cur, ctx);
      if (!joined && (name === "export" || name === "declare" || name === "typeset"))
        envAssignment(ctx, a.name, a.value, ["export"], a.raw);
      if (!joined && name === "export") exportedVar(ctx, a.name, a.value);
      // `declare -i n=EXPR` evaluates EXPR now and n holds a number after.
      if (!joined && integer) {
        arith(ctx, a.value ?? a.raw);
        shellVar(ctx, a.name, "0", "0");
        declaredWord(ctx, a.name, true);
      } else if (!joined) shellAssign(ctx, a);
      w = { value: text(cur, ctx), glob: false };
    } else {
      w = wordValue(cur, ctx, feeders);
      const v = w.value;
      if (v?.startsWith("-") && !joined) {
        if (/^-[a-zA-Z]*i/.test(v)) integer = true;
        if (/^-[a-zA-Z]*A/.test(v)) assoc = true;
      } else if (v !== null && assoc && !joined && /^[A-Za-z_]\w*$/.test(v)) {
        if (ctx.sh.assoc === null) ctx.sh.assoc = new Set();
        ctx.sh.assoc.add(v);
      }
      if (v !== null && !joined && !v.startsWith("-")) declaredWord(ctx, v, integer);
    }
    if (joined) words[words.length - 1] = glue(words[words.length - 1]!, w, ctx);
    else words.push(w);
  } while (cur.gotoNextSibling());
  cur.gotoParent();
  emit(
    ctx,
    { value: name || "declare", glob: false },
    words,
    { writes: [], reads: [], heredoc: null },
    ctx.line.slice(start, end),
    feeders,
  );
}

/**
 * A word that `declare`, `typeset`, `local`, `readonly`, `export` or `unset` takes as a name
 * (issue 19, gate66): `'a[$(cmd)]=1'` and `unset 'a[$(cmd)]'` evaluate the subscript as arithmetic,
 * which runs its substitutions, as `a[$(cmd)]=1` does (judged by shellVar); `declare -i n` makes
 * every later `n=…` arithmetic.
 */
function declaredWord(ctx: Ctx, v: string, integer: boolean): void {
  const m = /^([A-Za-z_]\w*)(\[[\s\S]*\])?(?:\+?=([\s\S]*))?$/.exec(v);
  if (m === null) return;
  if (m[2] !== undefined) shellVar(ctx, m[1]! + m[2], null, "");
  else if (integer) {
    if (ctx.sh.ints === undefined) ctx.sh.ints = new Set();
    ctx.sh.ints.add(m[1]!);
    if (m[3] !== undefined) arith(ctx, m[3]);
  }
}

/** Builds the SimpleCommand for `name words…` and recurses into wrappers and nested shells. */
function emit(
  ctx: Ctx,
  name: Word,
  words: Word[],
  r: Redirects,
  cmdText: string,
  subFeeders: string[],
): void {
  if (ctx.out.length >= ctx.limits.maxCommands) {
    addFloor(ctx, `shell-too-many-commands: over ${ctx.limits.maxCommands}`);
    ctx.budget.stopped = true; // the rest of the line is not read: the floor keeps it from ALLOW
    return;
  }
  let program = "";
  let path: string | null = null;
  // `hash git=/tmp/g; git status`: the name runs the path it was bound to, and is judged as that.
  const raw =
    name.value !== null && ctx.scope.bound?.has(name.value) ? ctx.scope.bound.get(name.value)! : name.value;
  if (raw === null || raw === "") {
    addFloor(ctx, `dynamic-command: the command name in '${short(cmdText)}' is only known at run time`);
  } else {
    const slash = raw.lastIndexOf("/");
    program = programFamily(slash >= 0 ? raw.slice(slash + 1) : raw);
    if (slash >= 0) path = normalisePath(raw, ctx.scope.cwd, ctx.home, ctx.links.at);
    else if (ctx.scope.path !== undefined && !SHELL_BUILTINS.has(program))
      addFloor(
        ctx,
        `program-lookup: '${program}' is looked up through PATH=${short(ctx.scope.path)}, which this line set: the gate cannot tell which program runs`,
      );
    if (name.glob) addFloor(ctx, `dynamic-command: the command name '${raw}' is a glob`);
  }
  // zsh reads option names without case or underscores (`setopt Hist_No_Store` is `histnostore`).
  if (OPTION_WORDS.has(program)) words = canonicalOptions(program, words);
  const valueFlags = VALUE_FLAGS[program];
  const flags = new Set<string>();
  const operands: Word[] = [];
  const paths = new PathList();
  for (const raw of ctx.reads) addPath(paths, raw, ctx);
  for (const raw of r.reads) addPath(paths, raw, ctx);
  const writes: string[] = [];
  for (const raw of ctx.writes) addWrite(writes, raw, ctx);
  for (const raw of r.writes) addWrite(writes, raw, ctx);
  const hosts: string[] = [];
  let urls: string[] | undefined;
  let dynamic = raw === null;
  let endOfFlags = false;
  // What the program does with its words, by its spec (issue 19 §1): writes, reads, hosts, floors;
  // and which words are its own script or expression (a sed script is no path, its URL no host).
  const fx = program === "" ? null : commandEffects(program, words, new WalkEffects(ctx, cmdText));
  const exprs = fx !== null && fx.exprs.length > 0 ? fx.exprs : null;
  const pids = fx?.pids ?? null;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const v = w.value;
    // `{a..z}{a..z}{a..z}{a..z}{a..z}` reaches here as text: its sequences still expand in bash.
    if (v !== null && !w.quoted && v.includes("..")) sequenceBudget(ctx, v);
    if (v === null) {
      dynamic = true;
      operands.push(w);
      if (w.alts) for (const a of w.alts) addPath(paths, a, ctx);
      const h = w.prefix && /^[a-z][a-z0-9+.-]*:\/\/[^/?#]+[/?#]/i.test(w.prefix) ? hostOf(w.prefix) : null;
      if (h && !hosts.includes(h)) hosts.push(h);
      continue;
    }
    if (!endOfFlags && v === "--") {
      endOfFlags = true;
      continue;
    }
    // gate56: a process id spelled like a flag (`kill -9 -1`) is the operand it is.
    if (!endOfFlags && v.length > 1 && v[0] === "-" && !pids?.includes(w)) {
      addFlags(flags, v);
      const eq = v.indexOf("=");
      if (eq > 0) addPath(paths, v.slice(eq + 1), ctx);
      else if (valueFlags?.has(v) && i + 1 < words.length) {
        const next = words[++i]!;
        if (next.value === null) dynamic = true;
        else {
          addPath(paths, next.value, ctx);
          const h = /^[a-z][a-z0-9+.-]*:\/\//i.test(next.value) ? hostOf(next.value) : null;
          if (h) {
            hosts.push(h);
            sendsData(ctx, next.value, cmdText);
            urls = requested(urls, next.value);
          }
        }
      }
      continue;
    }
    operands.push(w);
    if (exprs?.includes(w)) {
      w.expr = true;
      continue;
    }
    addPath(paths, v, ctx);
    if (w.glob) addPath(paths, globDir(v), ctx);
    if (NET_PROGRAMS.has(program) || /^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
      const h = hostOf(v);
      if (h && !hosts.includes(h)) hosts.push(h);
      if (h) {
        sendsData(ctx, v, cmdText);
        urls = requested(urls, v);
      }
    } else if (DNS_PROGRAMS.has(program) && hostOf(v) !== null) sendsData(ctx, v, cmdText);
  }
  if (HOST_FIRST.has(program)) {
    const first = operands[0]?.value;
    if (first) {
      const h = canonicalHost(first.replace(/^[^@]*@/, "").replace(/:(?!.*\]).*$/, ""));
      if (h && !hosts.includes(h)) hosts.push(h);
    }
  }
  const symbolic =
    (program === "ln" && (flags.has("-s") || flags.has("--symbolic"))) ||
    (program === "cp" && (flags.has("-s") || flags.has("--symbolic-link")));
  if (symbolic && program === "ln") linkTargets(paths, operands, ctx);
  // A hard link (`ln T N`) is a second name of T's file; its target is named from the cwd.
  const links = symbolic || program === "ln" ? madeLinks(words, operands, ctx, !symbolic) : undefined;
  // `command export PROMPT_COMMAND=…` (a builtin reached through a wrapper): the assignment is judged.
  if (DECLARERS.has(program))
    for (const w of words) {
      const m = w.value === null ? null : /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(w.value);
      if (m) {
        envAssignment(ctx, m[1]!, m[2]!, [...ctx.via, program]);
        if (program === "export") exportedVar(ctx, m[1]!, m[2]!);
      }
    }
  if (ctx.appends || r.appends || program === "tee") selfFeed(ctx, program, flags, operands, r, cmdText);
  const walker = WALKERS.get(program);
  if (walker !== undefined) diskWalk(ctx, program, walker, flags, words, operands, cmdText);
  // `let y=x`: each word is an arithmetic expression.
  if (program === "let") for (const w of words) if (w.value !== null) arith(ctx, w.value);
  // `docker run IMAGE wget https://h`: the hosts after the image are the inner command's (judged as
  // its own command); the container program's own hosts are its effects' (an image's registry).
  if (CONTAINER_PROGRAMS.has(program) && containerRun(words).image >= 0) {
    hosts.length = 0;
    urls = undefined;
  }
  if (fx) {
    for (const w of fx.writes) {
      const p = normalisePath(w, ctx.scope.cwd, ctx.home, ctx.links.at);
      if (!QUIET_DEVICES.has(p) && !writes.includes(p)) writes.push(p);
    }
    if (fx.dynamicWrite) writes.push("");
    for (const p of fx.reads) addPath(paths, p, ctx);
    for (const f of fx.longFlags) flags.add(f);
    for (const t of fx.readTrees) treeRead(paths, t, ctx);
    for (const h of fx.hosts) if (!hosts.includes(h)) hosts.push(h);
    for (const f of fx.floors) addFloor(ctx, f);
    // `read PROMPT_COMMAND`, `printf -v HISTFILE …`: judged as `NAME=<only known at run time>`.
    if (fx.sets !== null)
      for (const n of fx.sets) {
        if (n === "")
          addFloor(
            ctx,
            `dynamic-command: '${short(cmdText)}' writes a variable whose name is only known at run time`,
          );
        else {
          envAssignment(ctx, n, null, [...ctx.via, program]);
          shellVar(ctx, n, null, "");
        }
      }
    if (fx.binds !== null)
      for (const [n, p] of fx.binds) {
        const bound = new Map(ctx.scope.bound ?? []);
        bound.set(n, normalisePath(p, ctx.scope.cwd, ctx.home, ctx.links.at));
        ctx.scope.bound = bound;
      }
    if (fx.tree !== null && r.heredoc !== null && (program === "git" || program === "patch"))
      patchWrites(r.heredoc, fx.tree, writes, ctx, cmdText);
  }
  // httpie/xh: a `Name:value` request item is a header, curl's `-H 'Name: value'` (the rules judge
  // both by the canonical flag).
  if (STDIN_BODY.has(program) && headerItem(operands)) flags.add("--header");
  // httpie/xh send their standard input as the body (and switch to POST) unless --ignore-stdin.
  if (
    STDIN_BODY.has(program) &&
    !flags.has("--ignore-stdin") &&
    !flags.has("-I") &&
    (ctx.feeders.length > 0 ||
      subFeeders.length > 0 ||
      r.heredoc !== null ||
      r.reads.some((p) => p !== "/dev/null") ||
      ctx.reads.some((p) => p !== "/dev/null"))
  )
    addFloor(ctx, `network-upload: '${short(cmdText)}' sends its standard input as the request body`);
  for (const w of writes) if (w !== "") paths.add(w);
  const dynamicWrites = writes.includes("") || ctx.scope.unknown;
  // `echo $PATH`: a program whose words are only text (no path, no flag that does anything) is
  // not made unknown by a word only known at run time.
  if (dynamic && raw !== null && inertWords(program)) dynamic = false;
  if (dynamicWrites || (ctx.scope.unknown && words.length > 0)) dynamic = true;
  const code = isInlineCode(program, words, r.heredoc !== null);
  const runs = path === null ? [] : [path];
  if (
    !code &&
    (SHELLS.has(program) || INTERPRETERS.has(program) || program === "source" || program === ".")
  ) {
    // The script file a shell or interpreter runs: its first operand (none with `-c`; none after
    // `python -m MOD`, whose first operand is the module: effects.ts names what a module runs).
    const mod = program === "python" ? pythonModuleAt(words) : -1;
    // deno and bun name the script after their subcommand (`deno run -A x.ts`); none for `deno fmt`.
    const at = INTERPRETERS.has(program) ? scriptOperand(program, operands) : 0;
    const first = at < 0 || (mod >= 0 && words[mod + 1] === operands[0]) ? undefined : operands[at]?.value;
    if (first && first !== "-" && (!SHELLS.has(program) || shellScriptIndex(words) < 0))
      runs.push(normalisePath(first, ctx.scope.cwd, ctx.home, ctx.links.at));
    // `sh < run.sh`, `{ bash -s; } < x`: a shell without a script file or `-c` runs its stdin file;
    // gate59: so does an interpreter (`python3 - < todo.txt`, `deno run -A - < n.txt`), whatever
    // the file is called: it runs as the interpreter's code.
    else if (
      (SHELLS.has(program) && (!first || first === "-") && shellScriptIndex(words) < 0) ||
      (INTERPRETERS.has(program) && at >= 0 && mod < 0 && (first === undefined || first === "-"))
    )
      for (const raw of [...ctx.reads, ...r.reads])
        if (raw !== "") runs.push(normalisePath(raw, ctx.scope.cwd, ctx.home, ctx.links.at));
  }
  if (fx) for (const f of fx.scripts) runs.push(normalisePath(f, ctx.scope.cwd, ctx.home, ctx.links.at));
  if (SHELLS.has(program)) rcFiles(words, runs, ctx, cmdText);
  if (program === "autoload" && (ctx.scope.fpath || ctx.scope.fpathUnknown))
    autoloaded(ctx, operands, runs, cmdText);
  // `echo "$GITHUB_TOKEN"`: a program that prints its words prints the credential, as `printenv
  // GITHUB_TOKEN` does: the same secret read. So does one given it on stdin (`base64 <<<
  // "$GITHUB_TOKEN"`, `cat <<EOF` of it): whatever the program, the value is its input, and a
  // filter prints its input (a consumer such as `gh auth login --with-token` is reviewed anyway).
  if ((inertWords(program) && words.some((w) => w.secretEnv)) || r.secretIn) paths.add(ENVIRON);
  const finalWrites = writes.includes("") ? writes.filter((w) => w !== "") : writes;
  // A write or run through one name of a file the session linked is one through its other names.
  const aliases = (list: string[]) => {
    for (const w of [...list])
      for (const o of ctx.links.at.otherNames(w)) if (!list.includes(o)) list.push(o);
  };
  if (program !== "ln" && program !== "rm" && program !== "unlink") aliases(finalWrites);
  aliases(runs);
  // A glob word names every path it could match: those paths are judged pattern against pattern.
  const globby = anyGlobWord(words) || anyGlob(ctx.reads) || anyGlob(r.reads);
  const globs = globby ? patterns(paths.list) : undefined;
  const globWrites = globby || anyGlob(ctx.writes) || anyGlob(r.writes) ? patterns(finalWrites) : undefined;
  tempRootWrites(program, finalWrites, ctx, cmdText);
  // Every field is present, the optional ones as undefined, in one order: one object shape for
  // every command, which a literal of conditional spreads (`...(x ? { x } : {})`) is not (each
  // spread after the first field takes V8's slow path, and the shapes differ by which are set).
  const cmd: SimpleCommand = {
    program,
    path,
    words,
    flags,
    operands,
    paths: paths.list,
    writes: finalWrites,
    globs,
    globWrites,
    hosts,
    urls,
    feeders: subFeeders.length ? [...ctx.feeders, ...subFeeders] : ctx.feeders,
    via: ctx.via,
    dynamic,
    dynamicWrites,
    code,
    runs,
    heredoc: r.heredoc === null ? undefined : r.heredoc,
    cwd: ctx.scope.cwd,
    text: short(cmdText),
    setid: fx?.setid || undefined,
    links: links && links.length > 0 ? links : undefined,
    copy: fx?.copy ? true : undefined,
    moved: fx?.moved
      ? fx.moved.map((d) => normalisePath(d, ctx.scope.cwd, ctx.home, ctx.links.at))
      : undefined,
    doctests: fx?.doctests ? fx.doctests : undefined,
    projects: fx?.projects
      ? fx.projects.map((d) => normalisePath(d, ctx.scope.cwd, ctx.home, ctx.links.at))
      : undefined,
    tree: fx?.tree ? normalisePath(fx.tree, ctx.scope.cwd, ctx.home, ctx.links.at) : undefined,
    repo: fx?.repo
      ? { dir: normalisePath(fx.repo.dir, ctx.scope.cwd, ctx.home, ctx.links.at), explicit: fx.repo.explicit }
      : undefined,
    expands: fx?.expands ? expandedFiles(fx.expands, [...ctx.reads, ...r.reads], ctx) : undefined,
    trees: undefined,
  };
  if (fx && fx.subtrees.length > 0) writtenTrees(cmd, fx.subtrees, ctx);
  ctx.out.push(cmd);
  if (code) addFloor(ctx, `inline-code: '${short(cmdText)}' runs ${program} code given inline`);
  if (program === "cd" || program === "pushd" || program === "popd" || program === "chdir")
    changeDir(ctx, cmd);
  if (program !== "") recurse(new WalkRunner(ctx), cmd, r.heredoc);
}

/**
 * gate64: the temp roots every program and user of the machine shares: /tmp (/private/tmp),
 * /var/tmp, and /var/folders down to a user's C, T and 0 directories ($TMPDIR is
 * /var/folders/xx/yyyy/T). A named directory below one is scratch (`rm -rf /tmp/build-xyz`); the
 * root is not: it holds other programs' sockets (ssh-agent, tmux, VS Code's IPC), other users'
 * files and launchd's state.
 */
const TEMP_ROOT =
  /^(?:\/system\/volumes\/data)?(?:\/private)?\/(?:tmp|var\/tmp|var\/folders(?:\/[^/]+){0,3})\/*$/i;
/** Programs that remove the paths they name: a temp root named whole is removed. */
const REMOVERS = new Set(["rm", "rmdir", "srm", "shred", "unlink", "trash"]);

/**
 * gate64: a write whose glob starts directly in a temp root (`rm -rf /tmp/*`, each user's cache
 * `/var/folders/X/Y/C` named by globs, launchd's `/private/tmp/com.apple.launchd.*` sockets)
 * reaches whatever other programs keep there, and a remover naming the root itself removes all of
 * it: outside the workspace, a floor (ESCALATE).
 */
function tempRootWrites(program: string, writes: readonly string[], ctx: Ctx, cmdText: string): void {
  for (const w of writes) {
    const g = w.search(GLOB_CHARS);
    const root = g < 0 ? (REMOVERS.has(program) ? w : null) : w.slice(0, Math.max(w.lastIndexOf("/", g), 0));
    if (root === null || !TEMP_ROOT.test(root)) continue;
    addFloor(
      ctx,
      `workspace-escape: '${short(cmdText)}' ${g < 0 ? "removes" : "writes what a glob matches in"} ${root}, a temp root every program and user shares (sockets, other users' files, launchd's state): only a named directory below it is scratch`,
    );
  }
}

/** The files an expander reads (its operands and its standard input's file), absolute. */
function expandedFiles(files: readonly string[], stdin: readonly string[], ctx: Ctx): string[] {
  const out: string[] = [];
  for (const f of [...files, ...stdin])
    if (f !== "") out.push(normalisePath(f, ctx.scope.cwd, ctx.home, ctx.links.at));
  return out;
}

function anyGlobWord(words: readonly Word[]): boolean {
  for (const w of words) if (w.glob) return true;
  return false;
}

function anyGlob(list: readonly string[]): boolean {
  for (const p of list) if (GLOB_CHARS.test(p)) return true;
  return false;
}

/** The entries of `list` with glob characters; undefined when none has. */
function patterns(list: readonly string[]): string[] | undefined {
  let out: string[] | undefined;
  for (const p of list) {
    if (!GLOB_CHARS.test(p)) continue;
    if (out === undefined) out = [];
    out.push(p);
  }
  return out;
}

/**
 * A directory read recursively (`diff -r A B`): every file below it. Outside the workspace that is
 * its hidden entries too (`A/.*`, a path the dot-file and secret rules judge), and a tree that holds
 * home holds home's (`diff -r /tmp/e /` reads `~/.ssh`).
 */
function treeRead(paths: PathList, raw: string, ctx: Ctx): void {
  const p = normalisePath(raw, ctx.scope.cwd, ctx.home, ctx.links.at);
  paths.add(p);
  if (isWithin(p, ctx.workspace)) return;
  paths.add(p === "/" ? "/.*" : `${p}/.*`);
  if (isWithin(ctx.home, p) && p !== ctx.home) paths.add(`${ctx.home}/.*`);
}

/**
 * A temporary or build-output directory (`/tmp/x`, `$TMPDIR`, `build/`, `dist/`, `out/`): what an
 * archive leaves there is not where tools look for code to run, so its own path is judged alone.
 */
const SCRATCH_DIR = /^\/(?:tmp|var\/folders)(?:\/|$)|\/(?:build|dist|out|tmp|temp)(?:\/|$)/i;

/** The subtrees a command writes without naming their files, absolute, onto `cmd.trees` (and its writes). */
function writtenTrees(cmd: SimpleCommand, subtrees: readonly string[], ctx: Ctx): void {
  const trees: string[] = [];
  for (const t of subtrees) {
    const p = normalisePath(t, ctx.scope.cwd, ctx.home, ctx.links.at);
    if (!cmd.writes.includes(p)) cmd.writes.push(p);
    if (!cmd.paths.includes(p)) cmd.paths.push(p);
    const rel = isWithin(p, ctx.scope.cwd) ? p.slice(ctx.scope.cwd.length) : p;
    if (!SCRATCH_DIR.test(rel) && !trees.includes(p)) trees.push(p);
  }
  if (trees.length > 0) cmd.trees = trees;
}

/**
 * A patch given inline (`git apply <<EOF`, `patch -p1 <<EOF`): the files it names are writes under
 * its tree, so the persistence rules judge them; a symlink it creates (`new file mode 120000`) can
 * point anywhere, and later paths through it are not where they look: at least ESCALATE.
 */
function patchWrites(text: string, tree: string, writes: string[], ctx: Ctx, cmdText: string): void {
  const base = normalisePath(tree, ctx.scope.cwd, ctx.home, ctx.links.at);
  const patch = patchTargets(text);
  for (const f of patch.files) {
    const p = normalisePath(f, base, ctx.home, ctx.links.at);
    if (!writes.includes(p)) writes.push(p);
  }
  if (patch.link)
    addFloor(
      ctx,
      `workspace-escape: '${short(cmdText)}' creates a symlink from a patch (mode 120000): later paths through it may lead anywhere`,
    );
}

/**
 * The files a patch or mailbox names (`+++ b/F`, `diff --git a/F b/F`, renames and copies), as
 * written (relative to the tree it is applied in), and whether it makes a symlink (mode 120000).
 */
export function patchTargets(text: string): { files: string[]; link: boolean } {
  const files: string[] = [];
  for (const m of text.matchAll(
    /^(?:\+\+\+ (?:b\/)?|diff --git a\/\S+ b\/|rename to |copy to )([^\t\n]+)$/gm,
  )) {
    const f = m[1]!.trim();
    if (f !== "/dev/null" && f !== "" && !files.includes(f)) files.push(f);
  }
  return { files, link: /^(?:new file mode|new mode|old mode) 120000$/m.test(text) };
}

/** A redirect target (as written; "" for one only known at run time) into `writes`, once. */
function addWrite(writes: string[], raw: string, ctx: Ctx): void {
  if (raw === "") {
    writes.push("");
    return;
  }
  const p = normalisePath(raw, ctx.scope.cwd, ctx.home, ctx.links.at);
  if (!QUIET_DEVICES.has(p) && !writes.includes(p)) writes.push(p);
}

/**
 * Brace sequences (`{1..N}`, `{a..z}`, adjacent ones multiply): over 100000 words is a resources
 * floor (bash makes every word before the command starts).
 */
function sequenceBudget(ctx: Ctx, text: string): void {
  for (const run of text.matchAll(
    /(?:\{(?:[+-]?\d+\.\.[+-]?\d+|[A-Za-z]\.\.[A-Za-z])(?:\.\.[+-]?\d+)?\})+/g,
  )) {
    let n = 1;
    for (const m of run[0].matchAll(/\{([^.}]+)\.\.([^.}]+)/g)) {
      const a = /^[+-]?\d+$/.test(m[1]!) ? Number(m[1]) : m[1]!.charCodeAt(0);
      const b = /^[+-]?\d+$/.test(m[2]!) ? Number(m[2]) : m[2]!.charCodeAt(0);
      n *= Math.abs(b - a) + 1;
    }
    if (n > 100_000) addFloor(ctx, `resources: the sequence ${short(run[0])} expands to ${n} words`);
  }
}

/** The workspace test and reason text effects.ts judges a command's words with (one object, no closures). */
class WalkEffects implements EffectsCtx {
  readonly text: string;
  constructor(
    private readonly ctx: Ctx,
    cmdText: string,
  ) {
    this.text = short(cmdText);
  }
  inWorkspace(p: string): boolean {
    const ws = this.ctx.workspace;
    const abs = normalisePath(p, this.ctx.scope.cwd, this.ctx.home, this.ctx.links.at);
    return abs === ws || abs.startsWith(`${ws}/`);
  }
}

/**
 * `ln -s TARGET LINK`: the kernel resolves a relative TARGET against the link's directory, not the
 * cwd. LINK may be an existing directory (the link then goes inside it), so both are judged.
 */
function linkTargets(paths: PathList, operands: Word[], ctx: Ctx): void {
  const vals = operands.map((o) => o.value);
  if (vals.length === 0 || vals.some((v) => v === null)) return;
  const last =
    vals.length >= 2 ? normalisePath(vals[vals.length - 1]!, ctx.scope.cwd, ctx.home, ctx.links.at) : null;
  const dirs = last === null ? [ctx.scope.cwd] : [last.slice(0, last.lastIndexOf("/")) || "/", last];
  const targets = vals.length >= 2 ? vals.slice(0, -1) : vals;
  for (const t of targets) {
    if (t!.startsWith("/") || t!.startsWith("~")) continue;
    for (const d of dirs) {
      paths.add(normalisePath(t!, d, ctx.home, ctx.links.at));
    }
  }
}

/**
 * The links `ln -s` (or `cp -s`) makes, as [name, target] (absolute; the target null when only
 * known at run time): `ln -s T N`, `ln -s T` (N is T's last segment, in the cwd), `ln -s T1 T2 DIR`
 * and `-t DIR`. A relative target is resolved against the name's directory, as the kernel does.
 * Each is added to the line's links (ctx.links) at once, so the rest of the line passes through it
 * (`ln -s ~/project a && rm -rf a/../Documents`); the gate records them with the session (gate61).
 */
function madeLinks(
  words: readonly Word[],
  operands: readonly Word[],
  ctx: Ctx,
  hard: boolean,
): [string, string | null][] {
  let dir: string | null | undefined;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === "-t" || v === "--target-directory") dir = words[i + 1]?.value ?? null;
    else if (v?.startsWith("--target-directory=")) dir = v.slice(19);
    else if (v !== null && /^-[^-]*t./.test(v) && !v.startsWith("--")) dir = v.slice(v.indexOf("t") + 1);
  }
  if (dir === null) return [];
  const targets = dir === undefined && operands.length >= 2 ? operands.slice(0, -1) : operands;
  const into = dir ?? (operands.length >= 3 ? operands[operands.length - 1]!.value : undefined);
  if (into === null) return [];
  const out: [string, string | null][] = [];
  for (const t of targets) {
    const v = t.value;
    const base = v === null ? null : v.replace(/\/+$/, "").slice(v.replace(/\/+$/, "").lastIndexOf("/") + 1);
    let name: string;
    if (into !== undefined) {
      if (base === null || base === "") continue;
      name = normalisePath(`${into}/${base}`, ctx.scope.cwd, ctx.home, ctx.links.at);
    } else if (operands.length === 2) {
      const n = operands[1]!.value;
      if (n === null) continue;
      name = normalisePath(n, ctx.scope.cwd, ctx.home, ctx.links.at);
    } else {
      if (base === null || base === "") continue;
      name = normalisePath(base, ctx.scope.cwd, ctx.home, ctx.links.at);
    }
    const from = hard ? ctx.scope.cwd : name.slice(0, name.lastIndexOf("/")) || "/";
    const target = v === null ? null : normalisePath(v, from, ctx.home, ctx.links.at);
    // The rest of the line passes through it (`ln -s ~/project a && rm -rf a/../Documents`).
    ctx.links.at = ctx.links.at.with(name, target, ctx.links.own);
    ctx.links.own = true;
    out.push([name, target]);
  }
  return out;
}

function changeDir(ctx: Ctx, cmd: SimpleCommand): void {
  const target = cmd.operands[0];
  if (cmd.program === "popd" || (target !== undefined && (target.value === null || target.value === "-"))) {
    ctx.scope.unknown = true;
    return;
  }
  ctx.scope.cwd =
    target === undefined ? ctx.home : normalisePath(target.value!, ctx.scope.cwd, ctx.home, ctx.links.at);
}

function short(s: string): string {
  if (s.length <= 120 && !/\s\s|[\t\n\r]/.test(s)) return s;
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > 120 ? `${one.slice(0, 117)}...` : one;
}

function addFlags(flags: Set<string>, v: string): void {
  if (v.startsWith("--")) {
    const eq = v.indexOf("=");
    flags.add(eq > 0 ? v.slice(0, eq) : v);
    return;
  }
  flags.add(v);
  if (v.length > 2) for (let k = 1; k < v.length; k++) if (v[k] !== "=") flags.add(`-${v[k]}`);
}

/** A command's paths in first-seen order, deduplicated in O(1) per path. */
class PathList {
  readonly list: string[] = [];
  private readonly seen = new Set<string>();
  add(p: string): void {
    if (this.seen.has(p)) return;
    this.seen.add(p);
    this.list.push(p);
  }
}

/**
 * Adds `v` as a path; `@file` (curl) names `file`, and `k=v` / `k=@v` also names `v` (and
 * `k=j=v` names `j=v` and `v`: at most `maxAssignSplits` splits, then the budget floor).
 */
function addPath(paths: PathList, v: string, ctx: Ctx): void {
  let from = 0;
  for (let splits = 0; ; splits++) {
    if (splits > ctx.limits.maxAssignSplits!) {
      outOfBudget(ctx, `a word holds over ${ctx.limits.maxAssignSplits} 'k=v' assignments`);
      return;
    }
    const rest = from === 0 ? v : v.slice(from);
    if (rest === "" || rest === "-") return;
    spend(ctx, rest.length >> 4);
    paths.add(
      normalisePath(
        rest.startsWith("@") && rest.length > 1 ? rest.slice(1) : rest,
        ctx.scope.cwd,
        ctx.home,
        ctx.links.at,
      ),
    );
    const eq = v.indexOf("=", from);
    if (eq <= from || eq >= v.length - 1) return;
    from = eq + 1;
  }
}

/**
 * gate64: `bash --rcfile F -ic CMD` (`--init-file`) runs F before CMD: F is a script the shell
 * runs (a session artefact is judged as run; one outside the workspace is a floor, as `-c` lets
 * the shell-c rule allow the line).
 */
function rcFiles(words: readonly Word[], runs: string[], ctx: Ctx, cmdText: string): void {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v !== "--rcfile" && v !== "--init-file") continue;
    const f = words[i + 1]?.value;
    if (f === null || f === undefined)
      addFloor(
        ctx,
        `dynamic-command: '${short(cmdText)}' runs a start-up file only known at run time (${v})`,
      );
    else {
      const rc = normalisePath(f, ctx.scope.cwd, ctx.home, ctx.links.at);
      runs.push(rc);
      if (!isWithin(rc, ctx.workspace))
        addFloor(
          ctx,
          `code: '${short(cmdText)}' runs '${rc}', outside the workspace, as its start-up file (${v})`,
        );
    }
  }
}

/**
 * gate64: perl's `-MMOD` is `use MOD;` put before the program, and `-d:MOD` is `-MDevel::MOD`:
 * anything after a module name and its `=a,b` import list is perl code
 * (`'-Mstrict;exec(…)'`, `-M'X qw(a)'`).
 */
const PERL_MODULE = /^-(?:[mM]|d:|dt:)(?!-?[A-Za-z_][\w:]*(?:=[\w:,.+-]*)?$)/s;

function isInlineCode(program: string, words: Word[], heredoc: boolean): boolean {
  const flags = CODE_FLAGS[program];
  if (flags === undefined) return false;
  if (program === "perl" && words.some((w) => w.value !== null && PERL_MODULE.test(w.value))) return true;
  // awk programs can run commands: system(), print | "cmd", "cmd" | getline.
  if (program === "awk")
    return words.some(
      (w) => w.value !== null && /\bsystem\s*\(|\||\bgetline\b|\/inet|\bprintf?\b[^;{}]*>/.test(w.value),
    );
  if (program === "tclsh") return false;
  if (heredoc && INTERPRETERS.has(program)) return true;
  for (const w of words) {
    const v = w.value;
    if (v === null) continue;
    if (flags.includes(v)) return true;
    // Attached: `'-cimport os'`, `--eval=…`, `-e…`.
    if (flags.some((f) => (f.length === 2 ? v.length > 2 && v.startsWith(f) : v.startsWith(`${f}=`))))
      return true;
    // `-c` bundled with other short flags: `python -Sc`, `perl -ne`.
    if (
      INTERPRETERS.has(program) &&
      /^-[A-Za-z]+$/.test(v) &&
      flags.some((f) => f.length === 2 && v.includes(f[1]!))
    )
      return true;
    if (v === "-") return INTERPRETERS.has(program) && heredoc;
  }
  return false;
}

/** Name and value of the `variable_assignment` under the cursor (substitutions in it are walked). */
function assignment(cur: Cursor, ctx: Ctx): Assignment {
  let name = "";
  let value: string | null = "";
  let raw = "";
  let seenEq = false;
  let items: Word[] | undefined;
  if (cur.gotoFirstChild()) {
    do {
      const id = cur.nodeTypeId;
      if (!ctx.g.named[id]) {
        if (ctx.g.types[id] === "=" || ctx.g.types[id] === "+=") seenEq = true;
        continue;
      }
      if (!seenEq) name = text(cur, ctx);
      else {
        raw = text(cur, ctx);
        if (ctx.g.types[id] === "array") {
          // `a=(x "y z")`: the elements, each a word (`functions+=(NAME BODY)` defines NAME).
          value = null;
          items = [];
          if (cur.gotoFirstChild()) {
            do if (ctx.g.named[cur.nodeTypeId]) spread(wordValue(cur, ctx), items);
            while (cur.gotoNextSibling());
            cur.gotoParent();
          }
        } else value = wordValue(cur, ctx).value;
      }
    } while (cur.gotoNextSibling());
    cur.gotoParent();
  }
  return { name, value, raw, items };
}

interface Assignment {
  name: string;
  value: string | null;
  raw: string;
  /** An array's elements (`a=(x y)`). */
  items?: Word[];
}

/**
 * `NAME=value` for what runs next. `raw` is the value as written, for search paths that extend
 * themselves (`PATH="$PATH:./bin"`, only known at run time but judged entry by entry).
 */
function envAssignment(ctx: Ctx, name: string, value: string | null, via: string[], raw?: string): void {
  const list = value ?? (raw !== undefined && /^"?[^"`'\\]*"?$/.test(raw) ? raw.replace(/"/g, "") : null);
  if (name === "PATH") {
    ctx.scope.path = value ?? "(only known at run time)";
    // A bare `PATH=…` or `export PATH=…` outlives the line in a persistent shell (a command's
    // prefix `PATH=… cmd` does not): the gate judges later steps' program names through it.
    if (ctx.depth === 0 && (via.length === 0 || (via.length === 1 && via[0] === "export")))
      ctx.keeps.path = list ?? raw ?? "$(only known at run time)";
    if (!searchPathInWorkspace(ctx, name, list))
      addFloor(
        ctx,
        `shell-state: PATH=… puts a directory outside the workspace first in line for this and later commands`,
      );
  } else if (SEARCH_PATHS.has(name) && searchPathInWorkspace(ctx, name, list)) {
    // `PYTHONPATH=src`: the project's own modules, nothing from elsewhere.
  } else if (CMD_VARS.has(name)) {
    if (value === null) addFloor(ctx, `dynamic-command: ${name} names a command only known at run time`);
    else if (value !== "") {
      const args = CMD_VAR_ARGS[name];
      nested(ctx, args === undefined ? value : `${value} ${args}`, via);
    }
  } else if (INJECT_VARS.test(name) || injectsEnv(name)) {
    // The same list as an action's env (protect.ts): package indexes, proxies, start-up files …
    addFloor(ctx, `code-injection: ${name}=… changes what a program loads, runs or talks to`);
  } else if (value !== null && propertyKind(name) === "options" && flagsLoad(value) !== null) {
    // gate54: `CFLAGS='-fplugin=./p.so' make`, `CGO_LDFLAGS=-Wl,-plugin,P go build`: options a
    // compiler, linker or JVM reads from the variable, which load code (`CFLAGS=-O2` does not).
    addFloor(ctx, `code-injection: ${name}=… gives a compiler, linker or JVM code to load`);
  } else if (STATE_VARS.test(name)) {
    addFloor(ctx, `shell-state: ${name}=… changes ${STATE_VARS_WHAT[name] ?? "shell state"}`);
  } else if (name.startsWith("options[")) {
    // zsh's `options[histnostore]=on`: the same as `setopt`.
    addFloor(ctx, `shell-state: ${short(name)}=… sets the zsh option ${zshOption(name.slice(8, -1))}`);
  }
}

/**
 * Variables an exported assignment may set without review (issue 19, gate66): each only changes
 * output format, locale, logging or a build mode by name, never a file, program or host a tool
 * reads. Every other name is unknown (`PSQLRC`, `TF_CLI_CONFIG_FILE`, `GOWORK`, `AWS_CONFIG_FILE`,
 * `*_BASE_URL` move a tool's config, code or endpoint, and no list of such names is ever complete).
 * A value (true) must be a plain word: `RAILS_ENV=../../tmp/x` names a file Rails loads.
 */
const INERT_VARS = new Map<string, boolean>([
  ...wordList(
    "LANG LANGUAGE LC_ALL LC_CTYPE LC_COLLATE LC_MESSAGES LC_NUMERIC LC_TIME LC_MONETARY TZ PGPASSWORD",
  ).map((n): [string, boolean] => [n, false]),
  ...wordList(
    "TERM COLORTERM NO_COLOR FORCE_COLOR CLICOLOR CLICOLOR_FORCE COLUMNS LINES CI DEBUG VERBOSE PORT " +
      "RUST_BACKTRACE RUST_LOG RUST_LIB_BACKTRACE PYTHONUNBUFFERED PYTHONDONTWRITEBYTECODE PYTHONHASHSEED " +
      "PYTHONIOENCODING PYTHONUTF8 PYTHONFAULTHANDLER NODE_NO_WARNINGS GOOS GOARCH GOARM GOAMD64 CGO_ENABLED " +
      "GO111MODULE GOEXPERIMENT GOMAXPROCS GODEBUG NODE_ENV RAILS_ENV RACK_ENV MIX_ENV APP_ENV FLASK_ENV " +
      "ENVIRONMENT LOG_LEVEL TF_LOG TF_IN_AUTOMATION DOCKER_BUILDKIT BUILDKIT_PROGRESS PGUSER PGDATABASE PGPORT PGAPPNAME " +
      "PGCONNECT_TIMEOUT",
  ).map((n): [string, boolean] => [n, true]),
]);

function wordList(s: string): string[] {
  return s.split(/\s+/).filter((w) => w !== "");
}

/**
 * Variables that name a database client's server (`PGHOST`, `DATABASE_URL`): the client connects
 * there as it does to its `-h` host, so only this machine is allowed without review.
 */
const HOST_VARS =
  /^(PGHOST|PGHOSTADDR|PGSERVICE|PGSERVICEFILE|PGDATABASE_URL|DATABASE_URL|[A-Z]*_?DATABASE_URL|MYSQL_HOST|MYSQL_TCP_PORT|REDIS_URL|REDIS_HOST|REDISCLI_AUTH|MONGODB_URI|MONGO_URL|MONGO_URI)$/;

/** `localhost`, a loopback address, or a URL whose host is one (`postgres://u:p@localhost:5432/db`). */
function loopbackValue(v: string): boolean {
  const host = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(v)?.[1] ?? v;
  return /^(localhost|127\.\d+\.\d+\.\d+|\[?::1\]?)$/i.test(host);
}

/**
 * An assignment that reaches a program's environment (`X=v cmd`, `env X=v cmd`, `export X=v`, an
 * action's env) whose name envAssignment did not judge: ESCALATE unless the name is inert or the
 * value is a literal path inside the workspace (the project's own file or directory).
 */
function exportedVar(ctx: Ctx, name: string, value: string | null): void {
  if (!/^[A-Za-z_]\w*$/.test(name) || !/[A-Z]/.test(name)) return; // `a[1]=x`, lower-case shell variables
  if (
    name === "PATH" ||
    SEARCH_PATHS.has(name) ||
    CMD_VARS.has(name) ||
    INJECT_VARS.test(name) ||
    injectsEnv(name) ||
    STATE_VARS.test(name)
  )
    return; // judged by envAssignment
  const plain = INERT_VARS.get(name) ?? (name.startsWith("LC_") ? false : undefined);
  if (plain !== undefined && (!plain || value === null || /^[\w.,:=+*-]*$/.test(value))) return;
  if (HOST_VARS.test(name)) {
    if (value !== null && loopbackValue(value)) return;
    addFloor(
      ctx,
      `database-remote-host: ${name}=${value === null ? "<only known at run time>" : short(value)} names a database server that is not this machine`,
    );
    return;
  }
  if (value !== null && workspaceLiteral(ctx, value)) return;
  // `CFLAGS=-O2`: a compiler's options, judged by what they load (envAssignment).
  if (value !== null && propertyKind(name) === "options" && flagsLoad(value) === null) return;
  // A switch or a plain word (`A=1`, `VERBOSE=true`, `FOO=bar`, `PROFILE=dev`): no slash, dot, colon,
  // `$` or leading `-`, so it names no file outside the workspace (at most one in the cwd, as a
  // workspace literal may), no URL or dotted host, and no flag. One that turns off certificate checks
  // (`NODE_TLS_REJECT_UNAUTHORIZED=0`) or widens what is allowed (`GIT_ALLOW_PROTOCOL=ext`) stays.
  if (
    value !== null &&
    /^[A-Za-z0-9_][A-Za-z0-9_-]*$/.test(value) &&
    !/TLS|SSL|VERIFY|INSECURE|CERT|ALLOW|PROTOCOL|UNSAFE|TRUST/.test(name)
  )
    return;
  addFloor(
    ctx,
    `code-injection: ${name}=… is not a variable known to be inert: it may move a program's config, code or host`,
  );
}

/** A literal path (`./cfg`, `config/x.toml`, `/abs/ws/dir`) inside the workspace: no URL, host or expansion. */
function workspaceLiteral(ctx: Ctx, v: string): boolean {
  if (v === "" || /[$`:@\\]/.test(v) || !(v.includes("/") || v === "." || v.startsWith("."))) return false;
  const abs = normalisePath(v, ctx.scope.cwd, ctx.home, ctx.links.at);
  return abs === ctx.workspace || abs.startsWith(`${ctx.workspace}/`);
}

/** A shell variable set by the line (bare, or by export/declare/typeset/local/readonly). */
function shellAssign(ctx: Ctx, a: Assignment): void {
  zshTable(ctx, a);
  if (ctx.sh.ints?.has(a.name)) arith(ctx, a.value ?? a.raw);
  shellVar(ctx, a.name, a.value, a.raw);
}

/**
 * zsh's special parameters that are tables of command names: assigning one defines what a name
 * runs, as `NAME() { … }`, `alias` and `hash` do (issue 19, gate38). Judged the same way: the
 * definition is reviewed, its body judged now, a path bound to a name judged as run by it.
 */
const ZSH_TABLES = new Map<string, "function" | "alias" | "path" | "disable">([
  ["functions", "function"],
  ["aliases", "alias"],
  ["galiases", "alias"],
  ["saliases", "alias"],
  ["commands", "path"],
  ["builtins", "disable"],
  ["reswords", "disable"],
  ["dis_functions", "disable"],
  ["dis_aliases", "disable"],
  ["dis_galiases", "disable"],
  ["dis_saliases", "disable"],
  ["dis_builtins", "disable"],
  ["dis_reswords", "disable"],
  ["dis_patchars", "disable"],
  ["functions_source", "disable"],
]);
/** zsh's hook arrays: the functions they name run at every prompt, command, directory change or exit. */
const ZSH_HOOKS = /^(?:precmd|preexec|chpwd|periodic|zshexit|zshaddhistory|zsh_directory_name)_functions$/;

function zshTable(ctx: Ctx, a: Assignment): void {
  const b = a.name.indexOf("[");
  const table = b > 0 ? a.name.slice(0, b) : a.name;
  if (table === "fpath" || table === "FPATH") {
    // Where `autoload NAME` finds NAME's file: a directory the line chose makes NAME its code.
    const dirs = a.items ? a.items : [{ value: a.value, glob: false }];
    const known: string[] = [];
    for (const d of dirs) {
      if (d.value === null) {
        if (!/^"?\$\{?(?:fpath|FPATH)\}?"?$/.test(a.raw) || dirs.length !== 1) continue;
      } else for (const e of table === "FPATH" ? d.value.split(":") : [d.value]) if (e !== "") known.push(e);
    }
    const dyn = dirs.some((d) => d.value === null);
    ctx.scope.fpath = [
      ...(ctx.scope.fpath ?? []),
      ...known.map((d) => normalisePath(d, ctx.scope.cwd, ctx.home, ctx.links.at)),
    ];
    if (dyn) ctx.scope.fpathUnknown = true;
    addFloor(
      ctx,
      `shell-definition: '${short(`${a.name}=${a.raw}`)}' changes where zsh autoloads functions from`,
    );
    return;
  }
  if (ZSH_HOOKS.test(table)) {
    addFloor(
      ctx,
      `shell-definition: '${short(`${a.name}=${a.raw}`)}' makes zsh run functions at every prompt, command or exit`,
    );
    return;
  }
  const kind = ZSH_TABLES.get(table);
  if (kind === undefined) return;
  const text = short(`${a.name}=${a.raw}`);
  if (kind === "disable") {
    addFloor(ctx, `shell-definition: '${text}' changes what a command name runs`);
    return;
  }
  // `functions[NAME]=BODY`, or `functions+=(NAME BODY …)`: name and body pairs.
  const pairs: [string | null, string | null][] = [];
  if (b > 0 && a.name.endsWith("]")) {
    const key = a.name.slice(b + 1, -1).replace(/^(["'])(.*)\1$/, "$2");
    pairs.push([/[$`\\]/.test(key) ? null : key, a.value]);
  } else if (a.items) {
    for (let i = 0; i < a.items.length; i += 2)
      pairs.push([a.items[i]!.value, a.items[i + 1]?.value ?? null]);
  } else pairs.push([null, a.value]);
  for (const [key, body] of pairs) {
    if (key === null || body === null) {
      addFloor(ctx, `dynamic-command: '${text}' defines a command only known at run time`);
      continue;
    }
    if (kind === "path") {
      // `commands[git]=/tmp/g`: zsh's hash table, as `hash git=/tmp/g`.
      nested(ctx, `hash ${shellQuote(`${key}=${body}`)}`, ctx.via, true);
      continue;
    }
    addFloor(ctx, `shell-definition: '${text}' makes '${short(key)}' run another command`);
    nested(ctx, body, ctx.via);
  }
}

/**
 * `autoload [-Uz] NAME` after the line changed fpath: NAME's code is the file DIR/NAME of a
 * directory put there (judged as run by the command, a file written this session included).
 */
function autoloaded(ctx: Ctx, operands: readonly Word[], runs: string[], cmdText: string): void {
  for (const o of operands) {
    const n = o.value;
    if (n === null) {
      addFloor(ctx, `dynamic-command: '${short(cmdText)}' autoloads a function only known at run time`);
      continue;
    }
    if (n.includes("/")) continue; // a path: effects.ts judges it as run
    addFloor(
      ctx,
      `shell-definition: '${short(cmdText)}' makes '${short(n)}' run a file from the fpath this line set`,
    );
    for (const d of ctx.scope.fpath ?? []) runs.push(`${d}/${n}`);
  }
}

/** Variables bash and zsh keep numeric (or set to a number): safe in arithmetic. */
const NUMERIC_VARS = new Set([
  "RANDOM",
  "SRANDOM",
  "SECONDS",
  "EPOCHSECONDS",
  "LINENO",
  "BASHPID",
  "PPID",
  "UID",
  "EUID",
  "GID",
  "EGID",
  "OPTIND",
  "SHLVL",
  "COLUMNS",
  "LINES",
  "HISTCMD",
  "BASH_SUBSHELL",
  "BASH_ARGC",
  "TTYIDLE",
]);
/** An arithmetic text with no name, expansion or subscript in it: nothing to evaluate. */
const ARITH_INERT = /^[\s0-9+\-*/%<>=!&|^~?:,().]*$/;
/** A value that is a number once assigned: `$((…))`, `$#`, `$?`, `$$`, `$!`, a numeric variable. */
const NUMERIC_RAW = /^"?(?:\$\(\([^`]*\)\)|\$\[[^`]*\]|\$\{?[#?$!]\}?|\$\{#\w+(?:\[[@*]\])?\}|-?\d+)"?$/;
/** A substitution that prints a number: `$(wc -l < f)`, `$(nproc)`, `$(date +%s)`. */
const NUMERIC_SUBST =
  /^"?\$\((?:[^()`;&]*\|\s*)?\s*(?:wc\s+-[lcmw]+\b|nproc\b|date\s+\+%s\b|id\s+-[ug]\b|getconf\s+\w+\s*\)|sysctl\s+-n\s+hw\.\w+\s*\))[^()`|;&]*\)"?$/;
/** An array of plain words: `a=(1 2 3)`, its elements evaluated as any value. */
const ARRAY_RAW = /^\((?:\s*[\w.+-]+)*\s*\)$/;
/** A value copied from another variable: `start=$SECONDS`, `y="${x}"`. */
const COPY_RAW = /^"?\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))"?$/;
/** The most values one variable collects (joined by `,`) before it counts as unknown. */
const MAX_VAR_TEXT = 4096;
/** How deep a value naming another variable is followed (`x=y; y=z; …`) before it counts as unknown. */
const MAX_ARITH_DEPTH = 8;

/**
 * `NAME=value` as the line's shell variable (ctx.sh): what arithmetic later evaluates. `value` is
 * null when only known at run time (`read x`, `x=$(cat f)`); `raw` is the value as written.
 */
function shellVar(ctx: Ctx, name: string, value: string | null, raw: string): void {
  if (!/^[A-Za-z_]\w*$/.test(name)) {
    // `a[x]=1`: an indexed array's subscript is arithmetic.
    const b = name.indexOf("[");
    const table = b > 0 ? name.slice(0, b) : "";
    // zsh's tables (`functions[ls]`, `options[x]`) are associative: their keys are names.
    if (
      b > 0 &&
      name.endsWith("]") &&
      !ctx.sh.assoc?.has(table) &&
      !ZSH_TABLES.has(table) &&
      table !== "options"
    )
      arith(ctx, name.slice(b + 1, -1));
    return;
  }
  let v = value;
  if (NUMERIC_RAW.test(raw) || (value === null && NUMERIC_SUBST.test(raw))) v = "0";
  else if (value === null && ARRAY_RAW.test(raw)) v = raw.slice(1, -1).trim().split(/\s+/).join(" , ") || "0";
  else if (v === null) {
    const m = COPY_RAW.exec(raw);
    const from = m ? (m[1] ?? m[2]!) : "";
    if (from !== "")
      v = NUMERIC_VARS.has(from) ? "0" : ctx.vars?.has(from) ? null : (ctx.sh.vars.get(from) ?? null);
  }
  const vars = ctx.sh.vars;
  if (vars.has(name)) {
    const old = vars.get(name)!;
    // Every value the line may leave in NAME (a branch, a subshell): all are evaluated.
    v = old === null || v === null ? null : old === v ? v : `${old} , ${v}`;
    if (v !== null && v.length > MAX_VAR_TEXT) v = null;
  }
  vars.set(name, v);
}

/**
 * The text of an arithmetic context (`$((…))`, `((…))`, `${a[…]}`, `${s:…}`, `[[ … -eq … ]]`,
 * `let`): every variable it names is evaluated as an expression (bash's and zsh's arithmetic do so
 * recursively), and an array subscript in a value runs its command substitutions. A value the line
 * gave is parsed and its commands judged here; one only known at run time is a floor.
 */
function arith(ctx: Ctx, s: string, depth = 0): void {
  if (ARITH_INERT.test(s)) return;
  const t = withoutSubstitutions(ctx, s);
  let targets: string[] | null = null;
  const re = /\$\{#[A-Za-z_]\w*|\$\{?([A-Za-z_]\w*|\d+|[@*#?$!-])|([A-Za-z_]\w*)|([;,])/g;
  for (let m = re.exec(t); m !== null; m = re.exec(t)) {
    if (m[3] !== undefined) {
      if (targets) for (const n of targets) shellVar(ctx, n, "0", "0");
      targets = null;
      continue;
    }
    const dollar = m[1];
    if (dollar !== undefined) {
      if (/^[#?$!-]$/.test(dollar)) continue;
      if (/^[\d@*]/.test(dollar)) {
        addFloor(
          ctx,
          `code: arithmetic evaluates '$${dollar}', a parameter only known at run time (an array subscript in it runs commands)`,
        );
        continue;
      }
      arithName(ctx, dollar, depth);
      continue;
    }
    const name = m[2];
    if (name === undefined) continue; // `${#name}`: a length
    // `16#ff`, `0x1f`: digits of a number, not a name.
    const before = m.index > 0 ? t.charCodeAt(m.index - 1) : 32;
    if ((before >= 48 && before <= 57) || before === 35 || before === 46) continue;
    const op = /^\s*((?:[-+*/%&|^]|<<|>>)?)=(?!=)/.exec(t.slice(re.lastIndex, re.lastIndex + 8));
    if (op) {
      if (targets === null) targets = [];
      targets.push(name);
      if (op[1] === "") continue; // `i = …` does not read i
    }
    arithName(ctx, name, depth);
  }
  if (targets) for (const n of targets) shellVar(ctx, n, "0", "0");
}

/** One variable named in arithmetic: its value is evaluated as an expression in turn. */
function arithName(ctx: Ctx, name: string, depth: number): void {
  if (NUMERIC_VARS.has(name)) return;
  const bound = ctx.vars?.get(name);
  let values: readonly (string | null)[];
  if (bound) values = bound.value !== null ? [bound.value] : bound.known && bound.alts ? bound.alts : [null];
  else if (ctx.sh.vars.has(name)) values = [ctx.sh.vars.get(name)!];
  else values = [null];
  for (const v of values) {
    if (v === null) {
      addFloor(
        ctx,
        `code: arithmetic evaluates '${short(name)}', whose value is only known at run time (an array subscript in it runs commands)`,
      );
      return;
    }
    if (ARITH_INERT.test(v)) continue;
    if (/[$`[]/.test(v)) nested(ctx, `(( ${v} ))`, ctx.via, true);
    else if (depth >= MAX_ARITH_DEPTH)
      addFloor(
        ctx,
        `code: arithmetic follows '${short(name)}' through more than ${MAX_ARITH_DEPTH} variables`,
      );
    else arith(ctx, v, depth + 1);
  }
}

/**
 * `s` with its command substitutions (`$(…)`, backquotes) blanked: they are walked as commands
 * where they stand, but their output is evaluated as arithmetic too, so one that does not print a
 * number (`$(( $(cat n.txt) ))`) is a floor.
 */
function withoutSubstitutions(ctx: Ctx, s: string): string {
  if (!s.includes("`") && !/\$\((?!\()/.test(s)) return s;
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === "`") {
      const e = s.indexOf("`", i + 1);
      substitutionOutput(ctx, `$(${s.slice(i + 1, e < 0 ? s.length : e)})`);
      i = e < 0 ? s.length : e + 1;
      out += " ";
      continue;
    }
    if (c === "$" && s[i + 1] === "(" && s[i + 2] !== "(") {
      let d = 0;
      let j = i + 1;
      for (; j < s.length; j++) {
        if (s[j] === "(") d++;
        else if (s[j] === ")" && --d === 0) break;
      }
      substitutionOutput(ctx, s.slice(i, j + 1));
      i = j + 1;
      out += " ";
      continue;
    }
    out += c;
    i++;
  }
  return out;
}

/** Operators of `[[ … ]]` whose operands are arithmetic expressions. */
const TEST_ARITH = new Set(["-eq", "-ne", "-lt", "-le", "-gt", "-ge"]);

/** `[[ $x -eq 0 ]]`: both operands of an arithmetic comparison are evaluated as expressions. */
function testArith(cur: Cursor, ctx: Ctx): void {
  if (!cur.gotoFirstChild()) return;
  do {
    const t = ctx.g.types[cur.nodeTypeId];
    if (t === "binary_expression") {
      let arithOp = false;
      const operands: string[] = [];
      if (cur.gotoFirstChild()) {
        do {
          if (ctx.g.types[cur.nodeTypeId] === "test_operator") arithOp ||= TEST_ARITH.has(text(cur, ctx));
          else if (ctx.g.named[cur.nodeTypeId]) operands.push(text(cur, ctx));
        } while (cur.gotoNextSibling());
        cur.gotoParent();
      }
      if (arithOp) for (const o of operands) arith(ctx, o);
      else testArith(cur, ctx);
    } else if (!ctx.g.leaf[cur.nodeTypeId]) testArith(cur, ctx);
  } while (cur.gotoNextSibling());
  cur.gotoParent();
}

/** A command substitution's output evaluated as arithmetic: a floor unless it prints a number. */
function substitutionOutput(ctx: Ctx, sub: string): void {
  if (!NUMERIC_SUBST.test(sub))
    addFloor(
      ctx,
      `code: arithmetic evaluates the output of '${short(sub)}' (an array subscript in it runs commands)`,
    );
}

/** The arithmetic parts of a `${…}` expansion: an indexed subscript, a substring's offset and length. */
function expansionArith(ctx: Ctx, s: string): void {
  const m = /^\$\{[#!]?([A-Za-z_]\w*)(\[)?/.exec(s);
  if (!m) return;
  let rest = s.slice(m[0].length, -1);
  if (m[2] !== undefined) {
    // The subscript up to its `]` (nested brackets counted).
    let d = 1;
    let j = 0;
    for (; j < rest.length; j++) {
      if (rest[j] === "[") d++;
      else if (rest[j] === "]" && --d === 0) break;
    }
    const sub = rest.slice(0, j);
    if (sub !== "@" && sub !== "*" && !ctx.sh.assoc?.has(m[1]!)) arith(ctx, sub);
    rest = rest.slice(j + 1);
  }
  // `${s:OFF}`, `${s:OFF:LEN}`, `${s: -1}`; not `${s:-x}`, `${s:=x}`, `${s:+x}`, `${s:?x}`.
  if (!rest.startsWith(":") || /^:[-=+?]/.test(rest)) return;
  // zsh's modifiers (`${f:t}`, `${f:h:r}`): a name bash would read as a variable only when the line set it.
  const zshMod = /^(?::[aAcehlPqQrtu])+$/.test(rest);
  if (zshMod && !/[a-zA-Z]/.test(rest.replace(/:(\w)/g, (_, c: string) => (ctx.sh.vars.has(c) ? c : ""))))
    return;
  arith(ctx, rest.slice(1).replace(/:/g, ","));
}

/** Variables that are search paths for programs or modules. */
const SEARCH_PATHS = new Set([
  "PYTHONPATH",
  "NODE_PATH",
  "PERL5LIB",
  "PERLLIB",
  "RUBYLIB",
  "GEM_PATH",
  "LUA_PATH",
  "LUA_CPATH",
  "TCLLIBPATH",
]);

/** True when every entry of a search path is the variable's old value (`$PATH`) or a workspace directory. */
function searchPathInWorkspace(ctx: Ctx, name: string, value: string | null): boolean {
  if (value === null) return false;
  const ws = ctx.workspace;
  return value
    .replace(/"/g, "")
    .split(":")
    .every((e) => {
      if (e === `$${name}` || e === `\${${name}}`) return true;
      if (e === "" || e.includes("$")) return false;
      const abs = normalisePath(e, ctx.scope.cwd, ctx.home, ctx.links.at);
      return abs === ws || abs.startsWith(`${ws}/`);
    });
}

/**
 * `for VAR in WORDS; do BODY; done`: when every word is static (globs included), `$VAR` in the body
 * stands for all of them at once (a superset of any one iteration's effects); otherwise it stays
 * dynamic. A body that assigns VAR itself is walked with VAR unknown.
 */
/** `$(<FILE)` / `$(< "F G")` / `$(<$HOME/x)`: a substitution that is one input redirect of one word. */
const REDIRECT_ONLY = /^\$\(\s*<\s*((?:\\.|"[^"`$]*"|'[^']*'|\$\{?\w+\}?|[^\s<>&|;()\\"'`$])+)\s*\)$/;

/**
 * A loop head whose condition never changes: `while true`, `while :`, `while [ 1 ]`, `while test 1`,
 * `while sleep 0` (sleep succeeds), `while ((1))`, `until false`, `until ! true`.
 */
const ENDLESS_HEAD =
  /^(?:while\s+(?:true|:|!\s*false|sleep\s+[\d.]+[smhd]?|\[\s+(?:[^\s\]$`-][^\s\]$`]*|"[^"$`]+"|'[^']+')\s+\]|\[\[\s+(?:[^\s\]$`-][^\s\]$`]*|"[^"$`]+"|'[^']+')\s+\]\]|test\s+(?:[^\s;&|$`-][^\s;&|$`]*|"[^"$`]+"|'[^']+')|\(\(\s*[1-9]\d*\s*\)\))|until\s+(?:false|!\s*(?:true|:)|\(\(\s*0\s*\)\)))\s*(?:;|\n|do\b)/;

/**
 * A loop head that makes a directory and enters it (`while mkdir a && cd a`, `until ! mkdir -p d || ! cd d`):
 * it succeeds each time, one level deeper, until the file system gives out.
 */
const NESTING_HEAD =
  /^(?:while\s+(?:mkdir\s+(?:-p\s+)?([^\s;&|]+)\s*&&\s*(?:cd|pushd)\s+\1|(?:cd|pushd)\s+([^\s;&|]+)\s*\|\|\s*mkdir\s+(?:-p\s+)?\2)|until\s+!\s*mkdir\s+(?:-p\s+)?([^\s;&|]+)\s*\|\|\s*!\s*(?:cd|pushd)\s+\3)\s*(?:;|\n|do\b)/;

/** Programs that read a file to its end, following it as it grows (a file they append to feeds them). */
const STREAMERS = new Set([
  "cat",
  "tail",
  "grep",
  "egrep",
  "fgrep",
  "sed",
  "awk",
  "gawk",
  "cut",
  "nl",
  "paste",
  "tr",
  "dd",
  "tee",
  "rev",
  "strings",
]);

/**
 * `tail -f f >> f`, `cat f >> f`, `tee -a g < g`: a command reading the file it appends to reads
 * its own output, and the file grows until the disk is full.
 */
function selfFeed(
  ctx: Ctx,
  program: string,
  flags: Set<string>,
  operands: readonly Word[],
  r: Redirects,
  cmdText: string,
): void {
  if (!STREAMERS.has(program)) return;
  const norm = (p: string) => normalisePath(p, ctx.scope.cwd, ctx.home, ctx.links.at);
  const appended: string[] = [];
  for (const a of ctx.appends ?? []) appended.push(norm(a));
  for (const a of r.appends ?? []) appended.push(norm(a));
  const tee = program === "tee";
  if (tee && (flags.has("-a") || flags.has("--append")))
    for (const o of operands) if (o.value !== null) appended.push(norm(o.value));
  if (appended.length === 0) return;
  const read: string[] = [];
  for (const p of ctx.reads) read.push(norm(p));
  for (const p of r.reads) read.push(norm(p));
  if (!tee) for (const o of operands) if (o.value !== null) read.push(norm(o.value));
  for (const p of appended)
    if (read.includes(p)) {
      addFloor(
        ctx,
        `resources: '${short(cmdText)}' reads ${short(p)}, which it appends to: it grows until the disk is full`,
      );
      return;
    }
}

/**
 * Programs that walk a directory tree, with the flags that make them recursive (none: always) and
 * the flags that bound their depth. Over the whole disk, /Users, /Volumes or home they read
 * millions of entries (`ls -laR /`, `du -h /`, `tree /`).
 */
interface Walker {
  recursive?: readonly string[];
  depth?: readonly string[];
  /** Its first operand is a pattern, not a directory (unless -e/-f give it). */
  pattern?: boolean;
}
const GREP_WALK: Walker = {
  recursive: ["-r", "-R", "--recursive", "--dereference-recursive"],
  pattern: true,
};
const WALKERS = new Map<string, Walker>([
  ["ls", { recursive: ["-R", "--recursive"] }],
  ["gls", { recursive: ["-R", "--recursive"] }],
  ["tree", { depth: ["-L"] }],
  ["du", {}],
  ["gdu", {}],
  ["find", { depth: ["-maxdepth"] }],
  ["gfind", { depth: ["-maxdepth"] }],
  ["fd", { depth: ["-d", "--max-depth", "--maxdepth"] }],
  ["rg", { depth: ["-d", "--max-depth", "--maxdepth"], pattern: true }],
  ["ag", { depth: ["--depth"], pattern: true }],
  ["ack", { pattern: true }],
  ["grep", GREP_WALK],
  ["egrep", GREP_WALK],
  ["fgrep", GREP_WALK],
  ["ggrep", GREP_WALK],
]);
/** Deepest a bounded walk of a large root may go. */
const MAX_WALK_DEPTH = 3;

function diskWalk(
  ctx: Ctx,
  program: string,
  w: Walker,
  flags: Set<string>,
  words: readonly Word[],
  operands: readonly Word[],
  cmdText: string,
): void {
  if (w.recursive && !w.recursive.some((f) => flags.has(f))) return;
  if (w.depth)
    for (let i = 0; i < words.length; i++) {
      const v = words[i]!.value;
      if (v === null) continue;
      const f = w.depth.find(
        (d) =>
          v === d || v.startsWith(`${d}=`) || (d.length === 2 && v.startsWith(d) && /^\d+$/.test(v.slice(2))),
      );
      if (f === undefined) continue;
      const n = v === f ? words[i + 1]?.value : v.slice(v.startsWith(`${f}=`) ? f.length + 1 : f.length);
      if (n != null && /^\d+$/.test(n) && Number(n) <= MAX_WALK_DEPTH) return;
    }
  const home = ctx.home;
  const given =
    w.pattern &&
    !flags.has("-e") &&
    !flags.has("-f") &&
    !flags.has("--regexp") &&
    !flags.has("--file") &&
    !flags.has("--files");
  let roots = operands;
  if (given) roots = operands.slice(1);
  // find's starting points come before its expression.
  if (program === "find" || program === "gfind") {
    const starts: Word[] = [];
    for (const x of words) {
      if (x.value !== null && /^[-(!]/.test(x.value)) break;
      starts.push(x);
    }
    roots = starts;
  }
  for (const o of roots) {
    const v = o.value;
    if (v === null) continue;
    const p = normalisePath(o.glob ? globDir(v) : v, ctx.scope.cwd, home, ctx.links.at);
    if (LARGE_ROOTS.has(p) || p === home || p === `${home}/Library` || /^\/Volumes\/[^/]+$/.test(p)) {
      addFloor(ctx, `resources: '${short(cmdText)}' walks every file under ${p}`);
      return;
    }
  }
}
/** Roots whose tree is the whole disk or every user's files. */
const LARGE_ROOTS = new Set([
  "/",
  "/Users",
  "/Volumes",
  "/System",
  "/System/Volumes/Data",
  "/Library",
  "/private",
  "/home",
  "/root",
]);

/** A `&` that puts a job in the background (not `&&`, `>&`, `&>`, `|&`). */
const BACKGROUND = /(?<![&>|<])&(?![&>])/;
/** Most background jobs a literal loop may start (`for i in 1 2 3; do sleep 1 & done`). */
const MAX_BACKGROUND_LOOP = 64;

/** A loop that starts a background job per iteration, unbounded or many times: process exhaustion. */
function backgroundLoop(ctx: Ctx, loop: string, times: string): void {
  addFloor(ctx, `resources: '${short(loop)}' starts a background job per iteration, ${times}`);
}

/** `$(seq LAST)`, `$(seq FIRST LAST)`, `$(seq FIRST STEP LAST)` (or backquoted) as a loop's word. */
const SEQ_WORD = /^"?(?:\$\(|`)seq((?:\s+-?\d+){1,3})\s*(?:\)|`)"?$/;

/** How many values a loop word gives: a seq substitution's count, a brace sequence's, else its words. */
function loopWords(source: string, words: number): number {
  const m = SEQ_WORD.exec(source);
  if (m) {
    const a = m[1]!.trim().split(/\s+/).map(Number);
    const [first, step, last] = a.length === 1 ? [1, 1, a[0]!] : a.length === 2 ? [a[0]!, 1, a[1]!] : a;
    return step! === 0 ? Infinity : Math.max(0, Math.floor((last! - first!) / step!) + 1);
  }
  const b = /^\{(-?\d+)\.\.(-?\d+)(?:\.\.(-?\d+))?\}$/.exec(source);
  if (b)
    return Math.floor(Math.abs(Number(b[2]) - Number(b[1])) / Math.max(1, Math.abs(Number(b[3] ?? 1)))) + 1;
  return words;
}

/** Distinct values of a loop variable judged one by one as assignments; past this, as one unknown value. */
const MAX_LOOP_VALUES = 64;

function forStatement(cur: Cursor, ctx: Ctx): void {
  if (!cur.gotoFirstChild()) return;
  let name = "";
  const values: Word[] = [];
  let body: Cursor | null = null;
  let iterations = 0;
  try {
    do {
      const id = cur.nodeTypeId;
      if (!ctx.g.named[id]) continue;
      const t = ctx.g.types[id]!;
      if (t === "variable_name" && name === "") name = text(cur, ctx);
      else if (t === "do_group" || t === "compound_statement") body = cur.copy();
      else {
        const at = values.length;
        spread(wordValue(cur, ctx), values);
        iterations += loopWords(text(cur, ctx), values.length - at);
      }
    } while (cur.gotoNextSibling());
    cur.gotoParent();
    if (body === null) return;
    // A body too long to search for a reassignment leaves the variable unknown (bounded work).
    const bodyText = body.endIndex - body.startIndex > 4096 ? "" : text(body, ctx);
    const reassigned =
      bodyText === "" || new RegExp(`(^|[\\s;&|(])${name}\\+?=|\\bread\\b[^;]*\\b${name}\\b`).test(bodyText);
    const bound =
      name !== "" && values.length > 0 && !reassigned && values.every((v) => v.value !== null)
        ? values.length === 1
          ? values[0]!
          : { value: null, glob: values.some((v) => v.glob), alts: values.map((v) => v.value!), known: true }
        : null;
    // A body that starts a background job per iteration: the iterations are processes at once.
    if (bodyText === "" || BACKGROUND.test(bodyText)) {
      let n = 0;
      for (const v of values) n += v.value === null && !v.alts ? Infinity : (v.alts?.length ?? 1);
      if (n > MAX_BACKGROUND_LOOP && (bodyText !== "" || n === Infinity))
        backgroundLoop(
          ctx,
          text(body, ctx),
          n === Infinity ? "over words only known at run time" : `${n} times`,
        );
    }
    // `for NAME in V…` assigns NAME each V before the body runs: judged as `NAME=V` is, each value
    // (`for BASH_ENV in ./p`, `for PATH in /tmp/x`); one unknown value is judged as unknown.
    if (name !== "") {
      // No list (`for NAME; do`): the positional parameters, unknown here.
      const each = new Set<string | null>(values.length === 0 ? [null] : []);
      for (const v of values) {
        if (v.value === null && v.alts === undefined) each.add(null);
        else for (const x of v.alts ?? [v.value!]) each.add(x);
        if (each.size > MAX_LOOP_VALUES) break;
      }
      if (each.size > MAX_LOOP_VALUES) envAssignment(ctx, name, null, ctx.via);
      else for (const x of each) envAssignment(ctx, name, x, ctx.via);
    }
    const vars = new Map(ctx.vars ?? []);
    if (bound) vars.set(name, bound);
    else vars.delete(name);
    // What arithmetic sees in NAME: numbers (`{1..1000}`, `$(seq 1 9)`), the words, or unknown.
    if (name !== "") {
      if (numericWords(cur, ctx)) shellVar(ctx, name, "0", "0");
      else if (bound) for (const v of values) shellVar(ctx, name, v.value, "");
      else shellVar(ctx, name, null, "");
    }
    const ran = ctx.out.length;
    walkNode(body, { ...ctx, vars });
    // A fetch per iteration, more than MAX_REQUESTS times: a flood of the host (gate55).
    if (iterations > MAX_REQUESTS)
      for (let k = ran; k < ctx.out.length; k++)
        if (ctx.out[k]!.hosts.length > 0) {
          addFloor(
            ctx,
            `resources: '${short(text(body, ctx))}' requests '${ctx.out[k]!.hosts[0]}' once per iteration, ${iterations === Infinity ? "without end" : `${iterations} times`} (more than ${MAX_REQUESTS})`,
          );
          break;
        }
  } finally {
    (body as Cursor | null)?.delete();
  }
}

/** A `for` loop's words are all numbers: brace sequences, `$(seq N M)`, literal numbers. */
function numericWords(cur: Cursor, ctx: Ctx): boolean {
  let any = false;
  let ok = true;
  if (!cur.gotoFirstChild()) return false;
  let past = false;
  do {
    const id = cur.nodeTypeId;
    const t = ctx.g.types[id]!;
    if (!ctx.g.named[id]) {
      if (t === "in") past = true;
      continue;
    }
    if (!past || t === "do_group" || t === "compound_statement") continue;
    any = true;
    if (
      !/^(?:-?\d+|\{-?\d+\.\.-?\d+(?:\.\.-?\d+)?\}|"?\$\(seq(?:\s+-?[\d.]+){1,3}\s*\)"?)$/.test(
        text(cur, ctx),
      )
    )
      ok = false;
  } while (cur.gotoNextSibling());
  cur.gotoParent();
  return any && ok;
}

/** Builtins with zsh option names among their words: all of them (setopt), or after `-o`/`+o`. */
const OPTION_WORDS = new Set(["setopt", "unsetopt", "set", "emulate"]);

/** `words` with the option names canonical (a copy when one changes). */
function canonicalOptions(program: string, words: Word[]): Word[] {
  let out = words;
  const all = program === "setopt" || program === "unsetopt";
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null || v === "--") break;
    const opt = all
      ? !v.startsWith("-") && !v.startsWith("+")
      : i > 0 && /^[-+][a-zA-Z]*o$/.test(words[i - 1]!.value ?? "");
    if (!opt) continue;
    const c = zshOption(v);
    if (c === v) continue;
    if (out === words) out = [...words];
    out[i] = { ...words[i]!, value: c };
  }
  return out;
}

/** Builtins whose `NAME=value` words set variables. */
const DECLARERS = new Set(["export", "declare", "typeset", "local", "readonly"]);

/** Variables whose change the gate reviews (history evasion, `cd` lookup, git's tree and repository). */
const STATE_VARS =
  /^(HIST[A-Z_]*|SAVEHIST|HISTORY_IGNORE|PS[0-3]|CDPATH|GIT_DIR|GIT_WORK_TREE|GIT_COMMON_DIR|GIT_INDEX_FILE|GIT_OBJECT_DIRECTORY|GIT_TEMPLATE_DIR|HUSKY|HUSKY_SKIP_HOOKS|LEFTHOOK|SKIP|PRE_COMMIT_ALLOW_NO_CONFIG|GIT_(AUTHOR|COMMITTER)_(NAME|EMAIL|DATE))$/;
const STATE_VARS_WHAT: Record<string, string> = wordTable({
  HUSKY: "whether the repository's git hooks run",
  HUSKY_SKIP_HOOKS: "whether the repository's git hooks run",
  LEFTHOOK: "whether the repository's git hooks run",
  SKIP: "which pre-commit hooks run",
  PRE_COMMIT_ALLOW_NO_CONFIG: "whether pre-commit's checks run",
  GIT_AUTHOR_NAME: "whom a commit names as its author",
  GIT_AUTHOR_EMAIL: "whom a commit names as its author",
  GIT_AUTHOR_DATE: "when a commit says it was written",
  GIT_COMMITTER_NAME: "whom a commit names as its committer",
  GIT_COMMITTER_EMAIL: "whom a commit names as its committer",
  GIT_COMMITTER_DATE: "when a commit says it was made",
  PS0: "the prompt (its substitutions run)",
  PS1: "the prompt (its substitutions run)",
  PS2: "the prompt (its substitutions run)",
  PS3: "the prompt (its substitutions run)",
  CDPATH: "where cd goes",
  GIT_DIR: "which repository (and config, and hooks) git uses",
  GIT_WORK_TREE: "which tree git writes",
  GIT_COMMON_DIR: "which repository git uses",
  GIT_INDEX_FILE: "git's index",
  GIT_OBJECT_DIRECTORY: "git's object store",
  GIT_TEMPLATE_DIR: "the hooks a new repository gets",
});

/** The walk's side of wrappers.ts: what a wrapper's inner command is handed to (one object, no closures). */
class WalkRunner implements Runner {
  readonly via: string[];
  constructor(private readonly ctx: Ctx) {
    this.via = ctx.via;
  }
  floor(reason: string): void {
    addFloor(this.ctx, reason);
  }
  nested(script: string, via: string[], sameShell?: boolean): void {
    nested(this.ctx, script, via, sameShell);
  }
  sub(inner: Word[], via: string[], outer: SimpleCommand): void {
    sub(this.ctx, inner, via, outer);
  }
  env(name: string, value: string | null, via: string[]): void {
    envAssignment(this.ctx, name, value, via);
    exportedVar(this.ctx, name, value);
  }
}

function nested(ctx: Ctx, script: string, via: string[], sameShell = false): void {
  parseInto(script, {
    ...ctx,
    depth: ctx.depth + 1,
    via,
    writes: [],
    reads: [],
    scope: sameShell ? ctx.scope : { ...ctx.scope },
  });
}

function sub(ctx: Ctx, inner: Word[], via: string[], outer: SimpleCommand): void {
  if (inner.length === 0) return;
  if (ctx.depth + 1 > ctx.limits.maxDepth) {
    addFloor(ctx, `shell-too-deep: nesting over ${ctx.limits.maxDepth}`);
    return;
  }
  const r: Redirects = { writes: outer.writes, reads: [], heredoc: outer.heredoc ?? null };
  emit(
    { ...ctx, depth: ctx.depth + 1, via, writes: [], reads: [] },
    inner[0]!,
    inner.slice(1),
    r,
    wordsText(inner),
    [],
  );
}

function wordsText(ws: Word[]): string {
  return ws.map((w) => (w.value === null ? "$?" : w.value)).join(" ");
}

/**
 * Brace expansion of a word's raw text within the budget, then tilde expansion (of an unescaped
 * leading `~`) and quote removal of each result: null (and a `shell-budget` floor) when it makes
 * more than `maxBraceWords` words or runs out of work; a `~user` result leaves its slot null.
 */
function expandBraces(s: string, ctx: Ctx, unquote = unescapeWord): (string | null)[] | null {
  const alts = braceExpand(s, ctx.limits.maxBraceWords!, ctx.budget);
  if (alts === null) {
    if (ctx.budget.left < 0) outOfBudget(ctx, `over ${ctx.limits.maxWork} steps`);
    else
      addFloor(
        ctx,
        `shell-budget: brace expansion in '${short(s)}' makes over ${ctx.limits.maxBraceWords} words (or words the gate does not model)`,
      );
    return null;
  }
  return alts.map((a) => tilde(a, unquote(a), ctx));
}

/**
 * Tilde expansion: `raw` is the word as written (escapes kept), `v` its value. Only an unquoted,
 * unescaped leading `~` expands. gate65: `~+` is $PWD (the walk's cwd, while it is known);
 * `~user` and `~-` ($OLDPWD) are only known at run time (null).
 */
function tilde(raw: string, v: string, ctx: Ctx): string | null {
  if (raw[0] !== "~") return v;
  if (raw === "~" || raw.startsWith("~/")) return ctx.home + v.slice(1);
  if ((raw === "~+" || raw.startsWith("~+/")) && !ctx.scope.unknown) return ctx.scope.cwd + v.slice(2);
  return null;
}

/** Escapes every character of a quoted part, so brace expansion and quote removal leave it as is. */
function escapeAll(v: string): string {
  let out = "";
  for (const c of v) out += `\\${c}`;
  return out;
}

/** Removes the backslash of every escape, newline included (the inverse of escapeAll). */
function unescapeAll(s: string): string {
  return s.includes("\\") ? s.replace(/\\(.)/gs, "$1") : s;
}

/** A brace expansion's results as a Word: several words, one, or (for a `~user` result) dynamic. */
function braceWord(alts: (string | null)[], glob: boolean, prefix?: string): Word {
  if (alts.includes(null))
    return prefix === undefined ? { value: null, glob } : { value: null, glob, prefix };
  if (alts.length === 1) return { value: alts[0]!, glob };
  return { value: null, glob, alts: alts as string[], known: true };
}

/**
 * One word from two adjacent parts: static values concatenate, brace alternatives multiply (within
 * `maxBraceWords`); anything else is dynamic, keeping the static prefix.
 */
function glue(a: Word, b: Word, ctx: Ctx): Word {
  const av = a.alts && a.known ? a.alts : a.value === null ? null : [a.value];
  const bv = b.alts && b.known ? b.alts : b.value === null ? null : [b.value];
  const glob = a.glob || b.glob;
  const quoted = a.quoted === true || b.quoted === true;
  if (av === null || bv === null) {
    const prefix = av?.length === 1 ? av[0] + (b.prefix ?? "") : a.prefix;
    return prefix === undefined ? { value: null, glob } : { value: null, glob, prefix };
  }
  if (av.length * bv.length > ctx.limits.maxBraceWords!) {
    addFloor(ctx, `shell-budget: brace expansion makes over ${ctx.limits.maxBraceWords} words`);
    return { value: null, glob };
  }
  const alts = av.flatMap((x) => bv.map((y) => x + y));
  return alts.length === 1
    ? { value: alts[0]!, glob, quoted }
    : { value: null, glob, alts, known: true, quoted };
}

/**
 * The static value of the argument under the cursor. Command substitutions inside it are walked
 * (their commands run), and their programs are added to `feeders`.
 */
function wordValue(cur: Cursor, ctx: Ctx, feeders?: string[]): Word {
  if (!enter(ctx)) return { value: null, glob: false };
  try {
    const before = ctx.secretEnv.n;
    const w = wordValueIn(cur, ctx, feeders);
    return ctx.secretEnv.n === before || w.secretEnv ? w : { ...w, secretEnv: true };
  } finally {
    ctx.budget.nesting--;
  }
}

function wordValueIn(cur: Cursor, ctx: Ctx, feeders?: string[]): Word {
  const t = ctx.g.types[cur.nodeTypeId]!;
  switch (t) {
    case "word": {
      const s = text(cur, ctx);
      const glob = GLOB_CHARS.test(s);
      if (unescapedBlank(s)) return { value: null, glob };
      if (mayBrace(s)) {
        const alts = expandBraces(s, ctx);
        if (alts === null) return { value: null, glob };
        return braceWord(alts, glob);
      }
      const v = tilde(s, unescapeWord(s), ctx);
      return { value: v, glob };
    }
    case "number":
    case "variable_name":
    case "heredoc_start":
      return { value: text(cur, ctx), glob: false };
    case "brace_expression": {
      // `{1..3}`, `{01..10..3}`: the numbers bash makes (words.ts). A longer one (`for i in
      // {1..1000}`) is numbers only known as a range: dynamic, and `{1..9999999999}` is a resources
      // floor (bash makes every word of the sequence before the command starts).
      const t = text(cur, ctx);
      const alts = braceExpand(t, ctx.limits.maxBraceWords!, ctx.budget);
      if (alts !== null) return braceWord(alts, false);
      if (ctx.budget.left < 0) outOfBudget(ctx, `over ${ctx.limits.maxWork} steps`);
      sequenceBudget(ctx, t);
      return { value: null, glob: false };
    }
    case "raw_string": {
      const s = text(cur, ctx);
      return { value: s.slice(1, -1), glob: false, quoted: true };
    }
    case "ansi_c_string": {
      const s = text(cur, ctx);
      addFloor(ctx, `obfuscated: ANSI-C quoting ${short(s)}`);
      // tree-sitter-bash ends `$'\\' '\'` at the second quote; bash at the first: not bash's value.
      if (ansiCEnd(s) !== s.length) return { value: null, glob: false };
      return { value: decodeAnsiC(s.slice(2, -1)), glob: false, quoted: true };
    }
    case "string":
    case "translated_string":
    case "concatenation": {
      let v = "";
      let dyn = false;
      let glob = false;
      let prefix: string | undefined;
      // The word as bash's brace expansion sees it: unquoted parts as written, quoted parts with
      // every character escaped (braces inside quotes do not expand).
      let raw = "";
      let braces = false;
      let first = true;
      let quoted = false;
      // Inside quotes, text between the children is content too: `" "` has no string_content (its
      // closing token is ` "`).
      let gap = cur.startIndex;
      const node = cur.startIndex;
      if (cur.gotoFirstChild()) {
        do {
          const ct = ctx.g.types[cur.nodeTypeId]!;
          if (t !== "concatenation") {
            const to = ct === '"' && cur.startIndex > node ? cur.endIndex - 1 : cur.startIndex;
            if (to > gap) {
              const part = unescapeDouble(ctx.line.slice(gap, to));
              v += part;
              raw += escapeAll(part);
              quoted = true;
            }
            gap = cur.endIndex;
          }
          if (ct === '"' || ct === '$"') continue;
          if (ct === "string_content") {
            const part = unescapeDouble(text(cur, ctx));
            v += part;
            raw += escapeAll(part);
            quoted = true;
            continue;
          }
          if ((ct === "word" || ct === "brace_expression") && t === "concatenation") {
            // An unquoted part (a `{1..3}` too): glob and brace characters count; `~` only at the
            // start of the word.
            const s = text(cur, ctx);
            if (GLOB_CHARS.test(s)) glob = true;
            if (s.includes("{")) braces = true;
            if (unescapedBlank(s)) {
              if (!dyn) prefix = v;
              dyn = true;
            }
            raw += s;
            const u = first ? tilde(s, unescapeWord(s), ctx) : unescapeWord(s);
            first = false;
            if (u === null) {
              if (!dyn) prefix = v;
              dyn = true;
            } else v += u;
            continue;
          }
          first = false;
          quoted = true;
          const part = wordValue(cur, ctx, feeders);
          if (part.value === null) {
            if (!dyn) prefix = v + (part.prefix ?? "");
            dyn = true;
          } else {
            v += part.value;
            raw += escapeAll(part.value);
          }
          if (t === "concatenation" && part.glob) glob = true;
        } while (cur.gotoNextSibling());
        cur.gotoParent();
      }
      if (t === "concatenation" && braces && mayBrace(raw)) {
        if (!dyn) {
          // Exact: quoted parts were escaped, so only unquoted braces expand.
          const alts = expandBraces(raw, ctx, unescapeAll);
          if (alts === null) return { value: null, glob };
          return { ...braceWord(alts, glob), quoted };
        }
        // Mixed with expansions: approximated (quotes dropped), only used as possible paths of a
        // dynamic word, so it can make a rule match but never allow.
        const alts = expandBraces(text(cur, ctx).replace(/["']/g, ""), ctx);
        if (alts === null) return { value: null, glob, prefix };
        return { value: null, glob, prefix, alts: alts.filter((a): a is string => a !== null) };
      }
      return dyn
        ? { value: null, glob, prefix }
        : { value: v, glob, quoted: quoted || t !== "concatenation" };
    }
    case "simple_expansion":
    case "expansion": {
      const s = text(cur, ctx);
      if (s === "$HOME" || s === "${HOME}") return { value: ctx.home, glob: false };
      const env = EXPANDED.exec(s);
      if (secretExpansion(s, env)) ctx.secretEnv.n++;
      // `${HISTFILE:=/dev/null}` assigns when the variable is unset (or empty): judged as `NAME=…`.
      if (env && s.charCodeAt(1) === 123 && /^\$\{[A-Za-z_][A-Za-z0-9_]*:?=/.test(s))
        envAssignment(ctx, env[1]!, null, ctx.via);
      if (ctx.vars) {
        const m = /^\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))$/.exec(s);
        const bound = m ? ctx.vars.get(m[1] ?? m[2]!) : undefined;
        if (bound) return bound;
      }
      if (s.length > 3 && s.charCodeAt(1) === 123) expansionArith(ctx, s);
      walkSubstitutions(cur, ctx, feeders);
      return { value: null, glob: false };
    }
    case "arithmetic_expansion": {
      // `$((x))`, `$[x]`: the names in it are evaluated (their commands judged), then the rest walked.
      const s = text(cur, ctx);
      arith(ctx, s.startsWith("$((") ? s.slice(3, -2) : s.slice(2, -1));
      walkSubstitutions(cur, ctx, feeders);
      return { value: null, glob: false };
    }
    case "command_substitution":
    case "process_substitution": {
      const start = ctx.out.length;
      // `$(<FILE)`: bash expands it to FILE's content, as `$(cat <FILE)` would: judged as that read.
      // Only a lone redirect of one word: `$(<a rm x)` runs rm and is walked as it is.
      const only = REDIRECT_ONLY.exec(text(cur, ctx));
      if (only) nested(ctx, `cat <${only[1]}`, ctx.via);
      else walkChildren(cur, { ...ctx, scope: { ...ctx.scope } });
      if (feeders) for (let i = start; i < ctx.out.length; i++) feeders.push(ctx.out[i]!.program);
      return { value: null, glob: false };
    }
    default:
      walkSubstitutions(cur, ctx, feeders);
      return { value: null, glob: false };
  }
}

/** Walks any command that hides inside an expansion (`${X:-$(rm -rf ~)}`, `$((…))`). */
function walkSubstitutions(cur: Cursor, ctx: Ctx, feeders?: string[]): void {
  if (!enter(ctx)) return;
  try {
    walkSubstitutionsIn(cur, ctx, feeders);
  } finally {
    ctx.budget.nesting--;
  }
}

function walkSubstitutionsIn(cur: Cursor, ctx: Ctx, feeders?: string[]): void {
  if (!cur.gotoFirstChild()) return;
  do {
    const id = cur.nodeTypeId;
    const t = ctx.g.types[id];
    if (t === "command_substitution" || t === "process_substitution") wordValue(cur, ctx, feeders);
    else if (!ctx.g.leaf[id]) walkSubstitutions(cur, ctx, feeders);
  } while (cur.gotoNextSibling());
  cur.gotoParent();
}
