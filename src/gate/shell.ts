/**
 * Shell lines → every simple command they would run, with tree-sitter-bash.
 *
 * The tree comes from tree-sitter's C runtime in our addon (a flat array per line) or, when the
 * addon is unavailable, from web-tree-sitter; one walk reads both through the same cursor
 * operations (flat-tree.ts) and slices the source string, so no Node objects are allocated.
 * Anything the parser cannot pin down statically (a command name from a variable, `$'\x72m'`,
 * a `bash -c "$X"`, inline interpreter code, parse errors, limits exceeded) is reported in
 * `floors`: the gate never lets such a line be ALLOW.
 */
import { createRequire } from "node:module";
import { Language, Parser } from "web-tree-sitter";
import { Codes, ForgeError } from "../errors.js";
import type { NativeShell } from "../platform/native.js";
import { type Cursor, loadNativeParser, type ParsedLine } from "./flat-tree.js";
import { canonicalHost } from "./hosts.js";
import { hostOf, normalisePath } from "./paths.js";

/** One argument word: its static value, or null when it is only known at run time. */
export interface Word {
  value: string | null;
  /** Unquoted glob characters: the value is a pattern, not a name. */
  glob: boolean;
  /** For a dynamic word, the static text before the first dynamic part (`https://h/?k=$(…)`). */
  prefix?: string;
  /** Brace expansion: the words it expands to (`{/,x}` → `/`, `x`). */
  alts?: string[];
  /** The expansion is fully static: the alternatives replace the word (`a{b,c}` → `ab ac`). */
  known?: boolean;
}

/** A word as the words it stands for: brace expansions become several static words. */
function spread(w: Word, into: Word[]): void {
  if (w.alts && w.known) for (const a of w.alts) into.push({ value: a, glob: GLOB_CHARS.test(a) });
  else into.push(w);
}

export interface SimpleCommand {
  /** Basename of the command name ("" when dynamic). */
  program: string;
  /** The name as written, normalised against cwd when it contains a slash; null otherwise. */
  path: string | null;
  words: Word[];
  /** `-rf` → `-r`, `-f` and `-rf`; `--force=x` → `--force`. */
  flags: Set<string>;
  /** Non-flag words that are not the value of a known value-taking flag. */
  operands: Word[];
  /** Every file the command names, absolute: operands, `k=/path` values, redirect targets. */
  paths: string[];
  /** Output redirect targets (a redirect target is a write). */
  writes: string[];
  hosts: string[];
  /** Programs whose output reaches this command: earlier pipeline stages, process substitutions. */
  feeders: string[];
  /** Wrappers this command runs under (sudo, env, xargs, bash -c …), outermost first. */
  via: string[];
  /** Some word (or the name) is only known at run time. */
  dynamic: boolean;
  /** Some redirect target is only known at run time. */
  dynamicWrites: boolean;
  /** Inline interpreter code (`python -c`, `node -e`, heredoc to python): at least ESCALATE. */
  code: boolean;
  /** Working directory used for relative paths. */
  cwd: string;
  /** Short text for reasons and the session's recent list. */
  text: string;
}

export interface ShellParse {
  commands: SimpleCommand[];
  /** Reasons this line can be no better than ESCALATE (empty when fully static). */
  floors: string[];
}

export interface ShellLimits {
  /** Longest accepted line, in characters (default 16384). */
  maxLength: number;
  /** Most simple commands per line, wrappers included (default 256). */
  maxCommands: number;
  /** Deepest re-parse nesting (`bash -c "eval '…'"`), default 6. */
  maxDepth: number;
}

export const DEFAULT_LIMITS: ShellLimits = { maxLength: 16384, maxCommands: 256, maxDepth: 6 };

/**
 * Which parser produces the trees: "native" is tree-sitter's C runtime inside our addon, returning
 * a flat array per line (src/gate/flat-tree.ts); "wasm" is web-tree-sitter, the reference, used
 * when the addon is unavailable. Both run the same grammar (tree-sitter-bash) and the same walk.
 */
export type ShellBackend = "native" | "wasm";

interface Backend {
  name: ShellBackend;
  /** null when the parser returned no tree. */
  parse(line: string): ParsedLine | null;
}

let active: Backend | null = null;
let wasmLoaded: Backend | undefined;
const backends: { native?: Backend; wasm?: Promise<Backend> } = {};
/** Why "auto" did not pick the native parser (undefined when it did, or was not asked). */
let nativeUnavailable: string | undefined;

/**
 * Per grammar symbol id: its name, and whether it is named / a leaf with nothing to walk. One
 * `nodeTypeId` read per node replaces separate `nodeType` and `nodeIsNamed` calls into the parser.
 */
const TYPES: string[] = new Array(65536);
const NAMED = new Uint8Array(65536);
const LEAF = new Uint8Array(65536);
const LEAF_NAMES = new Set([
  "word",
  "comment",
  "variable_name",
  "number",
  "raw_string",
  "ansi_c_string",
  "string_content",
  "heredoc_content",
  "file_descriptor",
  "test_operator",
  "regex",
  "special_variable_name",
  "heredoc_start",
  "heredoc_end",
  "extglob_pattern",
]);
/** The symbol table the tables were built from: a second parser must have the same one. */
let grammarKey: string | null = null;

/** Builds the tables from a grammar's symbols; a second parser's symbols must match exactly. */
function kindTables(names: readonly (string | null | undefined)[], named: (id: number) => boolean): void {
  const key = JSON.stringify(names.map((n, id) => (n == null ? null : [n, named(id)])));
  if (grammarKey !== null) {
    if (key !== grammarKey)
      throw new Error("its bash grammar's symbol ids differ from the parser already loaded");
    return;
  }
  TYPES.fill("ERROR");
  NAMED.fill(1); // ERROR (0xffff) and anything unknown: named, walked
  LEAF.fill(0);
  for (let id = 0; id < names.length; id++) {
    const name = names[id];
    if (name == null) continue;
    TYPES[id] = name;
    const isNamed = named(id);
    NAMED[id] = isNamed ? 1 : 0;
    LEAF[id] = !isNamed || LEAF_NAMES.has(name) ? 1 : 0;
  }
  grammarKey = key;
}

const noNative = (): NativeShell => {
  throw new ForgeError(Codes.NATIVE_UNAVAILABLE, "no native shell parser was passed to initShell");
};

function loadNative(binding: () => NativeShell): Backend {
  if (!backends.native) {
    const p = loadNativeParser(binding);
    kindTables(p.grammar.names, (id) => p.grammar.named[id] === true);
    backends.native = { name: "native", parse: p.parse };
  }
  return backends.native;
}

function loadWasm(): Promise<Backend> {
  backends.wasm ??= (async (): Promise<Backend> => {
    const require = createRequire(import.meta.url);
    await Parser.init();
    const lang = await Language.load(require.resolve("tree-sitter-bash/tree-sitter-bash.wasm"));
    kindTables(lang.types, (id) => lang.nodeTypeIsNamed(id));
    const p = new Parser();
    p.setLanguage(lang);
    const parse = (line: string): ParsedLine | null => {
      const tree = p.parse(line);
      if (!tree) return null;
      return { hasError: tree.rootNode.hasError, walk: () => tree.walk(), delete: () => tree.delete() };
    };
    wasmLoaded = { name: "wasm", parse };
    return wasmLoaded;
  })().catch((err) => {
    backends.wasm = undefined;
    throw err;
  });
  return backends.wasm;
}

/**
 * Loads a parser once and makes it the one parseShell uses. "auto" (the default) prefers the
 * native parser and falls back to web-tree-sitter when the addon is unavailable. `native` is the
 * addon's parser binding (platform/native.ts nativeShell), passed in by whoever builds the gate
 * (initGate does); without it only web-tree-sitter is loaded. Resolves to the parser in use;
 * concurrent and later calls share the load.
 */
export async function initShell(
  which: ShellBackend | "auto" = "auto",
  native: () => NativeShell = noNative,
): Promise<ShellBackend> {
  try {
    if (which === "auto" && active) return active.name;
    if (which !== "wasm") {
      try {
        active = loadNative(native);
        return active.name;
      } catch (err) {
        if (which === "native") throw err;
        nativeUnavailable = (err as Error).message;
      }
    }
    active = await loadWasm();
    return active.name;
  } catch (err) {
    throw new ForgeError(
      Codes.GATE_ERROR,
      `cannot load the ${which === "auto" ? "" : `${which} `}bash parser: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

/** Switches parseShell to a parser initShell already loaded (tests and benchmarks compare the two). */
export function useShellBackend(which: ShellBackend): void {
  const b = which === "native" ? backends.native : wasmLoaded;
  if (!b)
    throw new ForgeError(
      Codes.GATE_ERROR,
      `the ${which} bash parser is not loaded: await initShell("${which}") first`,
    );
  active = b;
}

export function shellReady(): boolean {
  return active !== null;
}

/** The parser parseShell uses (null before initShell), and why the native one is not, if so. */
export function shellBackend(): { backend: ShellBackend | null; nativeUnavailable?: string } {
  return nativeUnavailable === undefined || active?.name === "native"
    ? { backend: active?.name ?? null }
    : { backend: active?.name ?? null, nativeUnavailable };
}

const SHELLS = new Set(["sh", "bash", "zsh", "dash", "ksh", "mksh", "fish", "csh", "tcsh", "ash"]);
/** Interpreters and the flags that take inline code. */
const CODE_FLAGS: Record<string, string[]> = {
  python: ["-c"],
  perl: ["-e", "-E"],
  node: ["-e", "--eval", "-p", "--print"],
  deno: ["eval"],
  bun: ["-e", "--eval"],
  ruby: ["-e"],
  php: ["-r"],
  osascript: ["-e"],
  lua: ["-e"],
  awk: [],
  tclsh: [],
  R: ["-e"],
  Rscript: ["-e"],
  pwsh: ["-c", "-Command"],
};
const INTERPRETERS = new Set([
  "python",
  "perl",
  "node",
  "ruby",
  "php",
  "osascript",
  "lua",
  "bun",
  "deno",
  "pwsh",
  "Rscript",
]);

/** Flags whose next word is their value, per program; the value is not an operand. */
const VALUE_FLAGS: Record<string, Set<string>> = {
  git: new Set([
    "-C",
    "-c",
    "--git-dir",
    "--work-tree",
    "--namespace",
    "-m",
    "-F",
    "-b",
    "-o",
    "--format",
    "-n",
  ]),
  sudo: new Set(["-u", "-g", "-C", "-h", "-p", "-U", "-r", "-t", "-D", "-R", "-T"]),
  doas: new Set(["-u", "-C"]),
  env: new Set(["-u", "-C", "-S", "--unset", "--chdir", "--split-string"]),
  timeout: new Set(["-s", "-k", "--signal", "--kill-after"]),
  nice: new Set(["-n", "--adjustment"]),
  ionice: new Set(["-c", "-n", "-p"]),
  xargs: new Set(["-n", "-I", "-L", "-P", "-d", "-E", "-s", "-a", "-i", "--max-args", "--delimiter"]),
  stdbuf: new Set(["-i", "-o", "-e"]),
  ssh: new Set([
    "-i",
    "-p",
    "-l",
    "-o",
    "-F",
    "-J",
    "-L",
    "-R",
    "-D",
    "-b",
    "-c",
    "-e",
    "-m",
    "-O",
    "-S",
    "-W",
    "-w",
    "-E",
    "-B",
    "-Q",
  ]),
  scp: new Set(["-i", "-P", "-o", "-F", "-J", "-l", "-c", "-S"]),
  curl: new Set([
    "-o",
    "-d",
    "-H",
    "-X",
    "-u",
    "-A",
    "-e",
    "-F",
    "-T",
    "-x",
    "-m",
    "-w",
    "-b",
    "-c",
    "-K",
    "-E",
    "-r",
    "-z",
    "--data",
    "--data-binary",
    "--data-raw",
    "--data-urlencode",
    "--header",
    "--request",
    "--user",
    "--output",
    "--upload-file",
    "--form",
    "--proxy",
    "--max-time",
    "--write-out",
    "--cookie",
    "--cookie-jar",
    "--config",
    "--connect-timeout",
    "--retry",
    "--user-agent",
    "--referer",
    "--json",
    "--cert",
    "--key",
    "--cacert",
    "--resolve",
  ]),
  wget: new Set([
    "-O",
    "-o",
    "-P",
    "-U",
    "-t",
    "-T",
    "-e",
    "--post-data",
    "--post-file",
    "--body-data",
    "--body-file",
    "--header",
    "--method",
    "--output-document",
    "--user-agent",
  ]),
  nc: new Set(["-p", "-s", "-w", "-i", "-X", "-x", "-e", "-c"]),
  rsync: new Set(["-e", "--rsh", "--exclude", "--include", "--filter", "-f"]),
  find: new Set([]),
  tar: new Set(["-f", "-C", "--file", "--directory"]),
  chown: new Set([]),
  npm: new Set(["--prefix", "-w", "--workspace"]),
};
/** Programs whose bare-host operands (`example.com`) are hosts. */
const NET_PROGRAMS = new Set([
  "curl",
  "wget",
  "nc",
  "ncat",
  "netcat",
  "telnet",
  "ssh",
  "scp",
  "sftp",
  "rsync",
  "ftp",
  "http",
  "https",
  "xh",
  "socat",
  "mosh",
]);
/** Programs whose first operand is a host, dotted or not. */
const HOST_FIRST = new Set(["ssh", "mosh", "telnet", "nc", "ncat", "netcat", "sftp", "ftp"]);
/** Wrappers that run the rest of their words as a command, and how to find where it starts. */
const SIMPLE_WRAPPERS = new Set([
  "sudo",
  "doas",
  "nohup",
  "nice",
  "ionice",
  "time",
  "command",
  "builtin",
  "exec",
  "stdbuf",
  "caffeinate",
  "chrt",
  "taskset",
  "unbuffer",
  "watch",
  "arch",
  "gtimeout",
  "timeout",
  "env",
  "xargs",
  "busybox",
]);
/** Names the shell runs itself, whatever PATH says. */
const SHELL_BUILTINS = new Set([
  "cd",
  "echo",
  "printf",
  "export",
  "set",
  "unset",
  "read",
  "test",
  "[",
  "true",
  "false",
  "exit",
  "return",
  "shift",
  "wait",
  "pwd",
  ":",
  "local",
  "eval",
  "exec",
  "command",
  "builtin",
  "type",
]);
const QUIET_DEVICES = new Set([
  "/dev/null",
  "/dev/stdout",
  "/dev/stderr",
  "/dev/tty",
  "/dev/fd/1",
  "/dev/fd/2",
]);

/** Strips a version suffix so `python3.12`, `python3` and `python` share rules. */
export function programFamily(name: string): string {
  const m = /^(python|perl|ruby|php|node|lua|pip)[0-9.]*$/.exec(name);
  if (m) return m[1]!;
  return name === "gawk" || name === "mawk" || name === "nawk" ? "awk" : name;
}

/** The working directory as the line runs: `cd` changes it for the commands after it. */
interface Scope {
  cwd: string;
  /** A `cd` to a directory only known at run time happened: relative paths are unknown. */
  unknown: boolean;
  /** The line changed PATH (`PATH=… cmd`, `export PATH=…`): programs named without a slash are unknown. */
  path?: string;
}

interface Ctx {
  line: string;
  scope: Scope;
  home: string;
  depth: number;
  via: string[];
  feeders: string[];
  /** Redirect targets (as written) inherited from an enclosing `{ …; } > file`. */
  writes: string[];
  reads: string[];
  out: SimpleCommand[];
  floors: string[];
  limits: ShellLimits;
}

/** Parses a shell line into its simple commands. Synchronous; needs `initShell()` first. */
export function parseShell(
  line: string,
  cwd: string,
  home: string,
  limits: ShellLimits = DEFAULT_LIMITS,
  env?: Readonly<Record<string, string>>,
): ShellParse {
  if (!active)
    throw new ForgeError(Codes.GATE_ERROR, "the shell parser is not loaded: await initGate() first");
  const out: SimpleCommand[] = [];
  const floors: string[] = [];
  const ctx: Ctx = {
    line,
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
  };
  // The action's environment reaches every command of the line: PAGER=…, LD_PRELOAD=… are judged.
  if (env) for (const [k, v] of Object.entries(env)) envAssignment(ctx, k, v, ["env"]);
  parseInto(line, ctx);
  return { commands: out, floors };
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
  const tree = active!.parse(line);
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

/** Visits the node under the cursor; leaves the cursor where it found it. */
function walkNode(cur: Cursor, ctx: Ctx): void {
  const id = cur.nodeTypeId;
  if (LEAF[id]) return;
  switch (TYPES[id]) {
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
    if (!NAMED[cur.nodeTypeId]) continue;
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
  reads: string[];
  heredoc: string | null;
  /** Statements after a heredoc's start on the same line (`cat <<EOF | sh`), as cursors to walk. */
  trailing?: Cursor[];
}

function redirectedStatement(cur: Cursor, ctx: Ctx): void {
  const r: Redirects = { writes: [], reads: [], heredoc: null };
  // First pass: the redirects (they may follow the body); second pass: the body.
  if (!cur.gotoFirstChild()) return;
  do {
    if (isRedirect(TYPES[cur.nodeTypeId]!)) redirect(cur, ctx, r);
  } while (cur.gotoNextSibling());
  cur.gotoParent();
  cur.gotoFirstChild();
  const inner: Ctx = { ...ctx, writes: [...ctx.writes, ...r.writes], reads: [...ctx.reads, ...r.reads] };
  let body = false;
  do {
    const id = cur.nodeTypeId;
    const t = TYPES[id]!;
    if (isRedirect(t)) continue;
    body = true;
    if (t === "command") commandNode(cur, inner, r);
    else if (NAMED[id]) walkNode(cur, inner);
  } while (cur.gotoNextSibling());
  cur.gotoParent();
  // `> ~/.zshrc` alone truncates a file: judge it as the null command `:` with that redirect.
  if (!body) emit(ctx, { value: ":", glob: false }, [], r, text(cur, ctx), []);
  trailing(ctx, r, null);
}

function isRedirect(type: string): boolean {
  return type === "file_redirect" || type === "heredoc_redirect" || type === "herestring_redirect";
}

/** Reads one redirect node into `r`; walks command substitutions inside it. */
function redirect(cur: Cursor, ctx: Ctx, r: Redirects): void {
  const type = TYPES[cur.nodeTypeId]!;
  if (!cur.gotoFirstChild()) return;
  let op = "";
  do {
    const id = cur.nodeTypeId;
    const t = TYPES[id]!;
    if (!NAMED[id]) {
      if (op === "") op = t;
      continue;
    }
    if (type === "heredoc_redirect") {
      if (t === "heredoc_body") r.heredoc = heredocText(cur, ctx);
      else if (isRedirect(t)) redirect(cur, ctx, r);
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
      continue;
    }
    if (op === ">&" || op === "<&" || op === ">&-" || op === "<&-") {
      if (w.value !== null && /^\d+-?$|^-$/.test(w.value)) continue;
    }
    if (w.value === null) {
      r.writes.push("");
      continue;
    }
    // Kept as written: relative targets resolve when the command is emitted, after any `cd` before
    // it (tree-sitter-bash attaches `a && b > f` redirects to the whole list).
    if (op.includes(">")) r.writes.push(w.value);
    else r.reads.push(w.value);
  } while (cur.gotoNextSibling());
  cur.gotoParent();
}

/**
 * The body's text as written. Substitutions in an unquoted body run in the outer shell, so they
 * are walked here; a `$X` left in the text re-parses as a dynamic word in the inner shell.
 */
function heredocText(cur: Cursor, ctx: Ctx): string {
  walkSubstitutions(cur, ctx);
  return text(cur, ctx);
}

function commandNode(cur: Cursor, ctx: Ctx, outer?: Redirects): void {
  const words: Word[] = [];
  const r: Redirects = { writes: [], reads: [], heredoc: outer?.heredoc ?? null, trailing: outer?.trailing };
  if (outer) outer.trailing = undefined;
  let name: Word | null = null;
  const start = cur.startIndex;
  const end = cur.endIndex;
  const subFeeders: string[] = [];
  if (!cur.gotoFirstChild()) return;
  do {
    const id = cur.nodeTypeId;
    if (!NAMED[id]) continue;
    const t = TYPES[id]!;
    if (t === "variable_assignment") {
      // `X=$(cmd) prog`: the substitution runs; `PAGER=cmd git log` makes git run cmd.
      const a = assignment(cur, ctx);
      envAssignment(ctx, a.name, a.value, [...ctx.via, "env"]);
      continue;
    }
    if (isRedirect(t)) {
      redirect(cur, ctx, r);
      continue;
    }
    if (t === "command_name") {
      cur.gotoFirstChild();
      const parts: Word[] = [];
      spread(wordValue(cur, ctx, subFeeders), parts);
      cur.gotoParent();
      name = parts[0]!;
      words.push(...parts.slice(1));
      continue;
    }
    spread(wordValue(cur, ctx, subFeeders), words);
  } while (cur.gotoNextSibling());
  cur.gotoParent();
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
      if (TYPES[c.nodeTypeId] === "pipeline") {
        const feeders = program ? [...ctx.feeders, program] : [...ctx.feeders];
        if (c.gotoFirstChild()) {
          do if (NAMED[c.nodeTypeId]) walkNode(c, { ...ctx, feeders });
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
  if (!cur.gotoFirstChild()) return;
  do {
    const id = cur.nodeTypeId;
    if (!NAMED[id]) {
      if (name === "") name = TYPES[id]!;
      continue;
    }
    if (TYPES[id] === "variable_assignment") {
      // The builtin only sets a variable: its value names no file, so the raw text stands in for it.
      // Substitutions inside it still run and are judged on their own; `export PAGER=cmd` is judged.
      const a = assignment(cur, ctx);
      if (name === "export" || name === "declare" || name === "typeset")
        envAssignment(ctx, a.name, a.value, ["export"]);
      words.push({ value: text(cur, ctx), glob: false });
    } else words.push(wordValue(cur, ctx, feeders));
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
    return;
  }
  const raw = name.value;
  let program = "";
  let path: string | null = null;
  if (raw === null || raw === "") {
    addFloor(ctx, `dynamic-command: the command name in '${short(cmdText)}' is only known at run time`);
  } else {
    const slash = raw.lastIndexOf("/");
    program = programFamily(slash >= 0 ? raw.slice(slash + 1) : raw);
    if (slash >= 0) path = normalisePath(raw, ctx.scope.cwd, ctx.home);
    else if (ctx.scope.path !== undefined && !SHELL_BUILTINS.has(program))
      addFloor(
        ctx,
        `program-lookup: '${program}' is looked up through PATH=${short(ctx.scope.path)}, which this line set: the gate cannot tell which program runs`,
      );
    if (name.glob) addFloor(ctx, `dynamic-command: the command name '${raw}' is a glob`);
  }
  const valueFlags = VALUE_FLAGS[program];
  const flags = new Set<string>();
  const operands: Word[] = [];
  const paths: string[] = [];
  for (const raw of [...ctx.reads, ...r.reads]) addPath(paths, raw, ctx);
  const writes: string[] = [];
  for (const raw of [...ctx.writes, ...r.writes]) {
    if (raw === "") {
      writes.push("");
      continue;
    }
    const p = normalisePath(raw, ctx.scope.cwd, ctx.home);
    if (!QUIET_DEVICES.has(p) && !writes.includes(p)) writes.push(p);
  }
  const hosts: string[] = [];
  let dynamic = raw === null;
  let endOfFlags = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const v = w.value;
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
    if (!endOfFlags && v.length > 1 && v[0] === "-") {
      addFlags(flags, v);
      const eq = v.indexOf("=");
      if (eq > 0) addPath(paths, v.slice(eq + 1), ctx);
      else if (valueFlags?.has(v) && i + 1 < words.length) {
        const next = words[++i]!;
        if (next.value === null) dynamic = true;
        else {
          addPath(paths, next.value, ctx);
          const h = /^[a-z][a-z0-9+.-]*:\/\//i.test(next.value) ? hostOf(next.value) : null;
          if (h) hosts.push(h);
        }
      }
      continue;
    }
    operands.push(w);
    addPath(paths, v, ctx);
    if (w.glob) addPath(paths, globDir(v), ctx);
    if (NET_PROGRAMS.has(program) || /^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
      const h = hostOf(v);
      if (h && !hosts.includes(h)) hosts.push(h);
    }
  }
  if (HOST_FIRST.has(program)) {
    const first = operands[0]?.value;
    if (first) {
      const h = canonicalHost(first.replace(/^[^@]*@/, "").replace(/:(?!.*\]).*$/, ""));
      if (h && !hosts.includes(h)) hosts.push(h);
    }
  }
  if (program === "ln" && (flags.has("-s") || flags.has("--symbolic"))) linkTargets(paths, operands, ctx);
  for (const w of writes) if (w !== "" && !paths.includes(w)) paths.push(w);
  const dynamicWrites = writes.includes("") || ctx.scope.unknown;
  if (dynamicWrites || (ctx.scope.unknown && words.length > 0)) dynamic = true;
  const code = isInlineCode(program, words, r.heredoc !== null);
  const cmd: SimpleCommand = {
    program,
    path,
    words,
    flags,
    operands,
    paths,
    writes: writes.filter((w) => w !== ""),
    hosts,
    feeders: subFeeders.length ? [...ctx.feeders, ...subFeeders] : ctx.feeders,
    via: ctx.via,
    dynamic,
    dynamicWrites,
    code,
    cwd: ctx.scope.cwd,
    text: short(cmdText),
  };
  ctx.out.push(cmd);
  if (code) addFloor(ctx, `inline-code: '${short(cmdText)}' runs ${program} code given inline`);
  if (program === "cd" || program === "pushd" || program === "popd" || program === "chdir")
    changeDir(ctx, cmd);
  if (program !== "") recurse(ctx, cmd, r.heredoc);
}

/**
 * `ln -s TARGET LINK`: the kernel resolves a relative TARGET against the link's directory, not the
 * cwd. LINK may be an existing directory (the link then goes inside it), so both are judged.
 */
function linkTargets(paths: string[], operands: Word[], ctx: Ctx): void {
  const vals = operands.map((o) => o.value);
  if (vals.length === 0 || vals.some((v) => v === null)) return;
  const last = vals.length >= 2 ? normalisePath(vals[vals.length - 1]!, ctx.scope.cwd, ctx.home) : null;
  const dirs = last === null ? [ctx.scope.cwd] : [last.slice(0, last.lastIndexOf("/")) || "/", last];
  const targets = vals.length >= 2 ? vals.slice(0, -1) : vals;
  for (const t of targets) {
    if (t!.startsWith("/") || t!.startsWith("~")) continue;
    for (const d of dirs) {
      const p = normalisePath(t!, d, ctx.home);
      if (!paths.includes(p)) paths.push(p);
    }
  }
}

function changeDir(ctx: Ctx, cmd: SimpleCommand): void {
  const target = cmd.operands[0];
  if (cmd.program === "popd" || (target !== undefined && (target.value === null || target.value === "-"))) {
    ctx.scope.unknown = true;
    return;
  }
  ctx.scope.cwd = target === undefined ? ctx.home : normalisePath(target.value!, ctx.scope.cwd, ctx.home);
}

function short(s: string): string {
  if (s.length <= 120 && !/\s\s|[\t\n\r]/.test(s)) return s;
  const one = s.replace(/\s+/g, " ").trim();
  return one.length > 120 ? `${one.slice(0, 117)}...` : one;
}

/** The directory a glob word expands inside: `/*` → `/`, `~/.ssh/id_*` → `~/.ssh`, `*.ts` → `.`. */
function globDir(v: string): string {
  const g = v.search(/[*?[]/);
  const slash = v.lastIndexOf("/", g);
  return slash < 0 ? "." : slash === 0 ? "/" : v.slice(0, slash);
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

/** Adds `v` as a path; `@file` (curl) names `file`, and `k=v` / `k=@v` also names `v`. */
function addPath(paths: string[], v: string, ctx: Ctx): void {
  if (v === "" || v === "-") return;
  const p = normalisePath(v.startsWith("@") && v.length > 1 ? v.slice(1) : v, ctx.scope.cwd, ctx.home);
  if (!paths.includes(p)) paths.push(p);
  const eq = v.indexOf("=");
  if (eq > 0 && eq < v.length - 1) addPath(paths, v.slice(eq + 1), ctx);
}

function isInlineCode(program: string, words: Word[], heredoc: boolean): boolean {
  const flags = CODE_FLAGS[program];
  if (flags === undefined) return false;
  // awk programs can run commands: system(), print | "cmd", "cmd" | getline.
  if (program === "awk")
    return words.some((w) => w.value !== null && /\bsystem\s*\(|\||\bgetline\b/.test(w.value));
  if (program === "tclsh") return false;
  if (heredoc && INTERPRETERS.has(program)) return true;
  for (const w of words) {
    const v = w.value;
    if (v === null) continue;
    if (flags.includes(v)) return true;
    // `-c` bundled with other short flags: `python -Sc`, `perl -ne`.
    if (/^-[A-Za-z]+$/.test(v) && flags.some((f) => f.length === 2 && v.includes(f[1]!))) return true;
    if (v === "-") return INTERPRETERS.has(program) && heredoc;
  }
  return false;
}

/** `env NAME=value …` assignments seen by the last wrappedStart call (judged by recurse). */
let pendingEnv: [string, string][] = [];

/** Variables whose value is a command some program will run. */
const CMD_VARS = new Set([
  "PAGER",
  "GIT_PAGER",
  "MANPAGER",
  "GIT_SSH_COMMAND",
  "GIT_SSH",
  "GIT_EDITOR",
  "EDITOR",
  "VISUAL",
  "GIT_EXTERNAL_DIFF",
  "GIT_ASKPASS",
  "SSH_ASKPASS",
  "SUDO_ASKPASS",
  "BROWSER",
  "GIT_SEQUENCE_EDITOR",
  "RSYNC_RSH",
  "SYSTEMD_PAGER",
]);
/** Variables that make a program load or run code it otherwise would not. */
const INJECT_VARS =
  /^(LD_[A-Z0-9_]+|DYLD_[A-Z_]+|BASH_ENV|ENV|NODE_OPTIONS|PERL5OPT|RUBYOPT|GIT_CONFIG_[A-Z0-9_]+|GIT_EXEC_PATH|ZDOTDIR|IFS|PROMPT_COMMAND|PS4|SHELLOPTS|BASHOPTS|LESSOPEN|LESSCLOSE)$/;

/** Name and value of the `variable_assignment` under the cursor (substitutions in it are walked). */
function assignment(cur: Cursor, ctx: Ctx): { name: string; value: string | null } {
  let name = "";
  let value: string | null = "";
  let seenEq = false;
  if (cur.gotoFirstChild()) {
    do {
      const id = cur.nodeTypeId;
      if (!NAMED[id]) {
        if (TYPES[id] === "=" || TYPES[id] === "+=") seenEq = true;
        continue;
      }
      if (!seenEq) name = text(cur, ctx);
      else value = wordValue(cur, ctx).value;
    } while (cur.gotoNextSibling());
    cur.gotoParent();
  }
  return { name, value };
}

function envAssignment(ctx: Ctx, name: string, value: string | null, via: string[]): void {
  if (name === "PATH") {
    ctx.scope.path = value ?? "(only known at run time)";
  } else if (CMD_VARS.has(name)) {
    if (value === null) addFloor(ctx, `dynamic-command: ${name} names a command only known at run time`);
    else if (value !== "") nested(ctx, value, via);
  } else if (INJECT_VARS.test(name)) {
    addFloor(ctx, `code-injection: ${name}=… changes what a program loads or runs`);
  }
}

/** Index of the first word that is the wrapped command, or -1. */
function wrappedStart(program: string, words: Word[]): number {
  pendingEnv = [];
  const vf = VALUE_FLAGS[program];
  let i = 0;
  if (program === "timeout" || program === "gtimeout") {
    // timeout [opts] DURATION CMD
    while (i < words.length && words[i]!.value?.startsWith("-")) i += vf?.has(words[i]!.value!) ? 2 : 1;
    return i + 1 < words.length ? i + 1 : -1;
  }
  if (program === "watch") {
    while (i < words.length && words[i]!.value?.startsWith("-"))
      i += /^-[nd]$/.test(words[i]!.value!) ? 2 : 1;
    return i < words.length ? i : -1;
  }
  for (; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) return i;
    if (v === "--") return i + 1 < words.length ? i + 1 : -1;
    if (v.startsWith("-") && v.length > 1) {
      if (vf?.has(v)) i++;
      continue;
    }
    if (program === "env" && /^[A-Za-z_][A-Za-z0-9_]*=/.test(v)) {
      const eq = v.indexOf("=");
      pendingEnv.push([v.slice(0, eq), v.slice(eq + 1)]);
      continue;
    }
    if (program === "nice" && /^[+-]?\d+$/.test(v)) continue;
    return i;
  }
  return -1;
}

/** Finds the commands a wrapper or interpreter would run, and adds them. */
function recurse(ctx: Ctx, cmd: SimpleCommand, heredoc: string | null): void {
  const { program, words } = cmd;
  const via = [...ctx.via, program];
  if (SHELLS.has(program)) {
    const ci = shellScriptIndex(words);
    if (ci >= 0) {
      const script = words[ci]!;
      if (script.value === null) {
        addFloor(ctx, `dynamic-command: '${cmd.text}' runs a script only known at run time`);
      } else nested(ctx, script.value, via);
      return;
    }
    if (heredoc !== null) nested(ctx, heredoc, via);
    else if (cmd.operands.length === 0 && cmd.feeders.length > 0) {
      addFloor(ctx, `dynamic-command: '${cmd.text}' runs a script read from a pipe`);
    }
    return;
  }
  if (program === "eval") {
    if (words.some((w) => w.value === null)) {
      addFloor(ctx, `dynamic-command: '${cmd.text}' evaluates text only known at run time`);
      return;
    }
    nested(ctx, words.map((w) => w.value).join(" "), via);
    return;
  }
  if (INTERPRETERS.has(program) && cmd.operands.length === 0 && cmd.feeders.length > 0 && heredoc === null) {
    addFloor(ctx, `dynamic-command: '${cmd.text}' runs code read from a pipe`);
    return;
  }
  if (program === "source" || program === ".") return; // a script file; policy judges the path
  if (SIMPLE_WRAPPERS.has(program)) {
    const i = wrappedStart(program, words);
    for (const [k, v] of pendingEnv) envAssignment(ctx, k, v, via);
    if (i < 0) return;
    const inner = words.slice(i);
    if (program === "xargs") inner.push({ value: null, glob: false });
    if (program === "env") {
      const split = words.findIndex((w) => w.value === "-S" || w.value === "--split-string");
      if (split >= 0 && words[split + 1]?.value) {
        nested(ctx, words[split + 1]!.value!, via);
        return;
      }
    }
    if (program === "watch" && inner.length === 1 && inner[0]!.value !== null) {
      nested(ctx, inner[0]!.value, via);
      return;
    }
    sub(ctx, inner, via, cmd);
    return;
  }
  if (program === "find") {
    for (let i = 0; i < words.length; i++) {
      const v = words[i]!.value;
      if (v === "-exec" || v === "-execdir" || v === "-ok" || v === "-okdir") {
        let j = i + 1;
        while (j < words.length && words[j]!.value !== ";" && words[j]!.value !== "+") j++;
        const inner = words.slice(i + 1, j).map((w) => (w.value === "{}" ? { value: null, glob: false } : w));
        if (!inner.some((w) => w.value === null)) inner.push({ value: null, glob: false });
        sub(ctx, inner, via, cmd);
        i = j;
      }
    }
    return;
  }
  if (program === "git") {
    for (let i = 0; i + 1 < words.length; i++) {
      if (words[i]!.value !== "-c") continue;
      const kv = words[i + 1]!.value;
      if (kv === null) {
        addFloor(ctx, `dynamic-command: '${cmd.text}' sets git config only known at run time`);
        continue;
      }
      const m = /^core\.(sshCommand|pager|editor|fsmonitor|hooksPath)=(.*)$/is.exec(kv);
      if (m && m[1]!.toLowerCase() !== "hookspath") nested(ctx, m[2]!, via);
      else if (/^(alias\.[^=]+=!|credential\.helper=!|core\.hookspath=)/i.test(kv)) {
        addFloor(ctx, `dynamic-command: '${cmd.text}' configures git to run a program`);
      }
    }
    return;
  }
  if (program === "rsync") {
    // rsync -e CMD runs CMD as its remote shell.
    for (let i = 0; i + 1 < words.length; i++) {
      const v = words[i]!.value;
      if (v !== "-e" && v !== "--rsh") continue;
      const c = words[i + 1]!.value;
      if (c === null)
        addFloor(ctx, `dynamic-command: '${cmd.text}' runs a remote shell only known at run time`);
      else nested(ctx, c, via);
    }
    return;
  }
  if (program === "ssh") {
    // ssh [opts] HOST [CMD...]: the remote command runs too, and policy applies to it.
    const vf = VALUE_FLAGS.ssh!;
    let i = 0;
    while (i < words.length && words[i]!.value?.startsWith("-")) i += vf.has(words[i]!.value!) ? 2 : 1;
    if (i + 1 < words.length) {
      const rest = words.slice(i + 1);
      if (rest.some((w) => w.value === null))
        addFloor(ctx, `dynamic-command: '${cmd.text}' runs a remote command only known at run time`);
      else nested(ctx, rest.map((w) => w.value).join(" "), via);
    }
  }
}

function shellScriptIndex(words: Word[]): number {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) return -1;
    if (v === "--") return -1;
    if (/^-[A-Za-z]*c[A-Za-z]*$/.test(v) || v === "--command") return i + 1 < words.length ? i + 1 : -1;
    if (!v.startsWith("-") && !v.startsWith("+")) return -1;
  }
  return -1;
}

function nested(ctx: Ctx, script: string, via: string[]): void {
  parseInto(script, { ...ctx, depth: ctx.depth + 1, via, writes: [], reads: [], scope: { ...ctx.scope } });
}

function sub(ctx: Ctx, inner: Word[], via: string[], outer: SimpleCommand): void {
  if (inner.length === 0) return;
  if (ctx.depth + 1 > ctx.limits.maxDepth) {
    addFloor(ctx, `shell-too-deep: nesting over ${ctx.limits.maxDepth}`);
    return;
  }
  const r: Redirects = { writes: outer.writes, reads: [], heredoc: null };
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

const GLOB_CHARS = /(?<!\\)[*?[]/;
/** An unescaped `{` that is not `${`: a possible brace expansion. */
const BRACE = /(^|[^\\$])\{[^}]*,/;

/**
 * The static value of the argument under the cursor. Command substitutions inside it are walked
 * (their commands run), and their programs are added to `feeders`.
 */
function wordValue(cur: Cursor, ctx: Ctx, feeders?: string[]): Word {
  const t = TYPES[cur.nodeTypeId]!;
  switch (t) {
    case "word": {
      const s = text(cur, ctx);
      const glob = GLOB_CHARS.test(s);
      if (BRACE.test(s)) {
        const alts = braceExpand(s, 32).map((a) => {
          const u = unescapeWord(a);
          return u === "~" || u.startsWith("~/") ? ctx.home + u.slice(1) : u;
        });
        if (alts.length > 1) return { value: null, glob, alts, known: true };
      }
      let v = unescapeWord(s);
      if (v === "~" || v.startsWith("~/")) v = ctx.home + v.slice(1);
      else if (v.startsWith("~")) return { value: null, glob }; // ~user
      return { value: v, glob };
    }
    case "number":
    case "variable_name":
    case "heredoc_start":
      return { value: text(cur, ctx), glob: false };
    case "raw_string": {
      const s = text(cur, ctx);
      return { value: s.slice(1, -1), glob: false };
    }
    case "ansi_c_string": {
      const s = text(cur, ctx);
      addFloor(ctx, `obfuscated: ANSI-C quoting ${short(s)}`);
      return { value: decodeAnsiC(s.slice(2, -1)), glob: false };
    }
    case "string":
    case "translated_string":
    case "concatenation": {
      let v = "";
      let dyn = false;
      let glob = false;
      let prefix: string | undefined;
      // Brace expansion happens only for braces outside quotes, i.e. in unquoted `word` parts.
      let braceWord = false;
      let allWords = true;
      if (cur.gotoFirstChild()) {
        do {
          const ct = TYPES[cur.nodeTypeId]!;
          if (ct === '"' || ct === '$"') continue;
          if (ct === "word") {
            if (!braceWord && text(cur, ctx).includes("{")) braceWord = true;
          } else allWords = false;
          if (ct === "string_content") {
            v += unescapeDouble(text(cur, ctx));
            continue;
          }
          const part = wordValue(cur, ctx, feeders);
          if (part.value === null) {
            if (!dyn) prefix = v + (part.prefix ?? "");
            dyn = true;
          } else v += part.value;
          if (t === "concatenation" && part.glob) glob = true;
        } while (cur.gotoNextSibling());
        cur.gotoParent();
      }
      if (t === "concatenation" && braceWord && BRACE.test(text(cur, ctx))) {
        // Brace expansion (`{/,}`, `a{b,c}`). With only unquoted parts the expansion is exact;
        // mixed with quotes or expansions it is approximated (quotes dropped) and only used as
        // possible paths of a dynamic word, so it can make a rule match but never allow.
        const exact = allWords && !dyn;
        const alts = braceExpand(text(cur, ctx).replace(/["']/g, ""), 32).map((a) => {
          const u = unescapeWord(a);
          return u === "~" || u.startsWith("~/") ? ctx.home + u.slice(1) : u;
        });
        return exact ? { value: null, glob, alts, known: true } : { value: null, glob, prefix, alts };
      }
      return dyn ? { value: null, glob, prefix } : { value: v, glob };
    }
    case "simple_expansion":
    case "expansion": {
      const s = text(cur, ctx);
      if (s === "$HOME" || s === "${HOME}") return { value: ctx.home, glob: false };
      walkSubstitutions(cur, ctx, feeders);
      return { value: null, glob: false };
    }
    case "command_substitution":
    case "process_substitution": {
      const start = ctx.out.length;
      walkChildren(cur, { ...ctx, scope: { ...ctx.scope } });
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
  if (!cur.gotoFirstChild()) return;
  do {
    const id = cur.nodeTypeId;
    const t = TYPES[id];
    if (t === "command_substitution" || t === "process_substitution") wordValue(cur, ctx, feeders);
    else if (!LEAF[id]) walkSubstitutions(cur, ctx, feeders);
  } while (cur.gotoNextSibling());
  cur.gotoParent();
}

/** Bash brace expansion of `s` (alternatives only, not `{a..b}`), at most `max` results. */
export function braceExpand(s: string, max: number): string[] {
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
        const parts: string[] = [];
        let from = open + 1;
        for (const k of [...commas, i]) {
          parts.push(s.slice(from, k));
          from = k + 1;
        }
        const out: string[] = [];
        for (const part of parts) {
          for (const e of braceExpand(head + part + tail, max)) {
            if (out.length >= max) return out;
            out.push(e);
          }
        }
        return out;
      }
    }
  }
  return [s];
}

function unescapeWord(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\\n/g, "").replace(/\\(.)/gs, "$1");
}

function unescapeDouble(s: string): string {
  if (!s.includes("\\")) return s;
  return s.replace(/\\\n/g, "").replace(/\\([$`"\\])/g, "$1");
}

function decodeAnsiC(s: string): string {
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
      };
      return map[c] ?? c;
    },
  );
}
