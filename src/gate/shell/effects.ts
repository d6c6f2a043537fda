/**
 * A simple command's effects from its program's spec (specs.ts): the paths it writes, the files it
 * reads, the hosts it talks to, and what makes it unknown (a flag the spec does not know, code or a
 * command handed to it). The walk adds them to the command, so the pack's write, persistence,
 * secret and host rules judge what the command does, not what it is called.
 */
import { canonicalHost } from "../hosts.js";
import { hostOf } from "../paths.js";
import { injectsEnv } from "../protect.js";
import { CMD_VARS, INJECT_VARS } from "./programs.js";
import {
  CMAKE_E,
  GIT_CODE_SUBS,
  GIT_GLOBAL,
  GIT_INERT_KEYS,
  GIT_SUB,
  longPrefix,
  type ProgramSpec,
  type Role,
  SPEC_ALIASES,
  SPECS,
} from "./specs.js";
import type { Word } from "./types.js";
import { CONTAINER_BOOL, CONTAINER_VALUES, containerRun, wrappedStart } from "./wrappers.js";

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
  /** A file mode it sets has the setuid or setgid bit (`chmod u+s`, `install -m 4755`), or may have it. */
  setid: boolean;
  /**
   * The directory it writes files into that its input names, not its words (`git apply`, `patch`,
   * `tar x`, `unzip`, `cpio -i`): fed from the network, that tree holds code nobody read. `/` when the
   * directory is only known at run time (it could be anywhere).
   */
  tree: string | null;
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
  };
  switch (program) {
    case "git":
      gitEffects(words, ctx, fx);
      return fx;
    case "sed":
    case "gsed":
      sedEffects(words, ctx, fx);
      return fx;
    case "cpio":
      if (words.some((w) => w.value !== null && (/^-[a-zA-Z]*i/.test(w.value) || w.value === "--extract")))
        fx.tree = dirFlag(words, ["-D", "--directory"]);
      return fx;
    case "7z":
    case "7za":
    case "7zz":
      if (words[0]?.value === "x" || words[0]?.value === "e") {
        const o = words.find((w) => w.value?.startsWith("-o"));
        fx.tree = o === undefined ? "." : (o.value?.slice(2) ?? "/");
      }
      return fx;
    case "tar":
    case "gtar":
    case "bsdtar":
      tarEffects(words, ctx, fx);
      return fx;
    case "dd":
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
      // `go run mod@version`, `go install mod@version`: fetches code nobody has read and builds it.
      if (
        (words[0]?.value === "run" || words[0]?.value === "install") &&
        words.slice(1).some((w) => w.value?.includes("@"))
      )
        floor(fx, `code-runner: '${ctx.text}' fetches a module and runs or installs it`);
      break;
    case "hash":
      if (words.some((w) => w.value === null || /^-[a-z]*p/.test(w.value)))
        floor(fx, `shell-definition: '${ctx.text}' maps a command name to a program of its choosing`);
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
      // Arithmetic contexts expand `a[$(…)]` subscripts: `let 'x=$(id)'`, `declare -i x='a[$(id)]'`.
      const arith = program === "let" || words.some((w) => w.value !== null && /^-[a-zA-Z]*i/.test(w.value));
      if (arith && words.some((w) => w.value === null || /\$\(|`|\[/.test(w.value)))
        floor(fx, `code: '${ctx.text}' evaluates arithmetic that can run a substitution`);
      if (program !== "let" && words.some((w) => w.value !== null && /^-[a-zA-Z]*f/.test(w.value)))
        floor(fx, `shell-definition: '${ctx.text}' changes shell functions`);
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
    case "readarray": {
      // `read PROMPT_COMMAND <<< …`: the variables read into are judged like `NAME=…`.
      for (let i = 0; i < words.length; i++) {
        const v = words[i]!.value;
        if (v !== null && /^-[a-zA-Z]*[adpntuNCcsO]$/.test(v) && !/^-[rse]+$/.test(v)) {
          i++;
          continue;
        }
        if (v?.startsWith("-")) continue;
        if (
          v === null ||
          CMD_VARS.has(v) ||
          INJECT_VARS.test(v) ||
          injectsEnv(v) ||
          /^(PS[0-4]|HIST\w*)$/.test(v)
        )
          floor(
            fx,
            `code-injection: '${ctx.text}' reads input into ${v ?? "a variable only known at run time"}, which names code to run`,
          );
      }
      return fx;
    }
    case "printenv":
      // One variable: a secret when its name says so (`printenv AWS_SECRET_ACCESS_KEY`).
      if (words.some((w) => w.value === null || SECRET_NAME.test(w.value))) fx.reads.push(ENVIRON);
      return fx;
    case "umask": {
      // A mask that lets group or others write makes every later file writable by them.
      const m = words.find((w) => w.value === null || !w.value.startsWith("-"));
      if (m !== undefined && (m.value === null || !/^0*[0-7]?[2367][2367]$/.test(m.value)))
        floor(fx, `shell-state: '${ctx.text}' lets other users write the files made after it`);
      return fx;
    }
    case "seq":
      for (const w of words)
        if (w.value === null || /^[+-]?(inf|infinity|nan)$/i.test(w.value) || hugeNumber(w.value))
          floor(fx, `resources: '${ctx.text}' counts without a useful bound`);
      return fx;
    case "xargs":
      for (let i = 0; i < words.length; i++) {
        const v = words[i]!.value;
        const n = v === "-P" ? words[i + 1]?.value : v?.startsWith("--max-procs=") ? v.slice(12) : undefined;
        if (n !== undefined && (n === null || n === "0" || Number(n) > 64))
          floor(fx, `resources: '${ctx.text}' starts an unbounded number of processes (-P ${n ?? "?"})`);
      }
      return fx;
    case "docker":
    case "podman":
    case "nerdctl":
      containerEffects(words, ctx, fx);
      return fx;
    case "python": {
      // `python -m http.server`: a listener that serves the workspace to whoever connects.
      const m = words.findIndex((w) => w.value === "-m");
      const mod = m >= 0 ? words[m + 1]?.value : undefined;
      if (mod === null || (mod && LISTENER_MODULES.has(mod)))
        floor(fx, `network-listener: '${ctx.text}' serves files or mail to the network (-m ${mod ?? "?"})`);
      if (fx.floors.length > 0) return fx;
      break;
    }
    case "yes":
      // BSD yes takes no flags: `yes --version` prints "--version" forever, so no argv of yes is a
      // version query (the pack's version-queries rule matches the argv alone).
      floor(fx, `resources: '${ctx.text}' prints its arguments forever (yes takes no flags)`);
      return fx;
    case "http":
    case "https":
    case "xh":
    case "xhs": {
      // httpie/xh: a write method or request items (`k=v`, `k:=json`, `f@file`) send data.
      const ops = words.filter((w) => w.value === null || !w.value.startsWith("-"));
      const first = ops[0]?.value;
      const items = ops.slice(first && /^[A-Z]+$/.test(first) ? 2 : 1);
      if (
        (first && /^(POST|PUT|PATCH|DELETE)$/.test(first)) ||
        items.some((w) => w.value === null || /^[^=:@]+(==|:=|=|@|:=@|=@)/.test(w.value))
      )
        floor(fx, `network-upload: '${ctx.text}' sends data (a write method or request items)`);
      return fx;
    }
  }
  const spec = specOf(program);
  if (!spec) return null;
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
    case "printf":
      printfEffects(words, ctx, fx);
      break;
    case "curl":
      curlWriteOut(words, ctx, fx);
      break;
    case "wget":
      wgetDefaultOutput(words, ctx, fx);
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
      if (!words.some((w) => w.value !== null && /^-[a-zA-Z]*[lptvZ]/.test(w.value)))
        fx.tree = dirFlag(words, ["-d"]);
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
  }
  return fx;
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

/** The process environment, as a path: printing it reads a secret store (policies list `/proc/*\/environ`). */
export const ENVIRON = "/proc/self/environ";
/** Variable names that hold credentials: `printenv NAME` and `echo "$NAME"` read a secret (one list). */
export const SECRET_NAME = /KEY|TOKEN|SECRET|PASS|CRED|AUTH|SESSION|COOKIE|PRIVATE|CERT/i;

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
  if (modes.some((m) => m === null || parseMode(m)?.setid === true)) fx.setid = true;
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
  let end = false;
  // `yq -i`, `plutil -insert …` without `-o`: the files read are rewritten.
  let inPlace = false;
  let notInPlace = false;
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
      if (spec.target?.includes(flag)) targeted = true;
      roles.forEach((r, k) => {
        let val: string | null;
        if (k === 0 && attached !== undefined) val = attached;
        else if (i + 1 < words.length) val = words[++i]!.value;
        else return;
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
        else if (full !== undefined) name = full;
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
  if (roles === "copy") {
    operands.forEach((o, k) => {
      const last = k === operands.length - 1 && operands.length > 1 && !targeted;
      apply(last ? "write" : "read", "operand", o.value, ctx, fx);
    });
    return;
  }
  operands.forEach((o, k) => {
    const r = Array.isArray(roles) ? roles[Math.min(k, roles.length - 1)]! : roles;
    if (r === "host" && o.value !== null && !/^[a-z][a-z0-9+.-]*:\/\//i.test(o.value)) return;
    apply(r, "operand", o.value, ctx, fx);
    if (r === "read" && inPlace && !notInPlace) apply("write", "in place", o.value, ctx, fx);
  });
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
function gitEffects(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  let i = 0;
  const configKey = (kv: string | null, flag: string) => {
    if (kv === null || !GIT_INERT_KEYS.test(kv))
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
      continue;
    }
    if (GIT_GLOBAL.long?.includes(name)) continue;
    if (/^-[pPhv]+$/.test(v)) continue;
    floor(fx, `unknown-flag: '${ctx.text}': '${name}' is not a git option the gate knows`);
  }
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
      k = rest.findIndex((v) => v?.startsWith("--directory=") === true);
      if (k >= 0) fx.tree = `${fx.tree}/${rest[k]!.slice(12)}`;
    }
  }
  const codeSub = GIT_CODE_SUBS[sub];
  if (codeSub !== undefined) {
    const next = words.slice(i + 1).find((w) => w.value === null || !w.value.startsWith("-"));
    if (codeSub === null || next === undefined || next.value === null || next.value === codeSub)
      floor(fx, `code-runner: '${ctx.text}' runs commands (git ${sub}${codeSub ? ` ${codeSub}` : ""})`);
  }
  gitOperands(sub, words.slice(i + 1), ctx, fx);
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

/** A repository named by URL or path rather than by a configured remote. */
const REPO_URL = /^([a-z][a-z0-9+.-]*:\/\/|[^@/\s]+@[^:/\s]+:|[./~])/i;

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
  if (sub === "worktree" && ops[0] === "add") apply("write", "worktree add", ops[1] ?? null, ctx, fx);
  else if (sub === "clone" && ops.length >= 1) {
    const url = ops[0];
    const dir =
      ops[1] ??
      (url
        ? url
            .replace(/\/+$/, "")
            .replace(/\.git$/, "")
            .replace(/^.*[/:]/, "")
        : null);
    apply("write", "clone", dir || null, ctx, fx);
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
  const ops = words.slice(1).filter((w) => w.value === null || !w.value.startsWith("-"));
  if (role === "copy") {
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
 * `kill`: process ids in canonical form, so the pack's PID rules see `01`, `+1` and `' 1'` as `1`
 * (the words are rewritten in place); process group 0 is every process of the caller's group.
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
    if (!end && (v === "-s" || v === "-n")) {
      i++;
      continue;
    }
    const m = /^\s*([+-]?)0*(\d+)\s*$/.exec(v);
    if (!m) continue;
    // A flag-looking `-9` before `--` is a signal, unless it is `-1` after the signal.
    if (!end && m[1] === "-" && i === 0 && words.length > 1) continue;
    const pid = `${m[1] === "-" ? "-" : ""}${Number(m[2])}`;
    w.value = pid;
    if (pid === "0" || pid === "-0")
      floor(fx, `signals: '${ctx.text}' signals every process of the caller's process group`);
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
    // `-P`: members keep their absolute names (and `..`): they land anywhere.
    if (absolute) fx.dynamicWrite = true;
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
      continue;
    }
    if (v === "--") {
      end = true;
      continue;
    }
    if (v.startsWith("--in-place") || /^-i/.test(v) || (/^-[nErsuz]+i/.test(v) && !v.includes("e"))) {
      inPlace = true;
      continue;
    }
    if (v === "--sandbox") sandbox = true;
    if (SED_BOOL.has(v) || /^-[nErsuz]+$/.test(v)) continue;
    if (v === "-e" || v === "--expression") {
      scripts.push(words[++i]?.value ?? null);
      continue;
    }
    if (v.startsWith("--expression=")) {
      scripts.push(v.slice(13));
      continue;
    }
    if (/^-[nErsuz]*e/.test(v)) {
      const rest = v.slice(v.indexOf("e") + 1);
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
  if (scripts.length === 0) scripts.push(files.shift() ?? "");
  for (const s of scripts) {
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
 */
export function sedScript(s: string): { writes: string[]; reads: string[]; exec: boolean; loops: boolean } {
  const out = { writes: [] as string[], reads: [] as string[], exec: false, loops: false };
  // Labels seen so far, and whether the command being read has an address: `:a;s/^/x/;ba` jumps
  // back with no address and no input read in between, so it never ends.
  const labels = new Set<string>();
  let addressed = false;
  let reads = false;
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
        if (d === undefined || !delimited(d) || !delimited(d)) return { ...out, exec: true };
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
      case "c":
        toEol();
        break;
      case "b":
      case "t":
      case "T":
      case ":": {
        const from = i;
        while (i < n && s[i] !== ";" && s[i] !== "\n") i++;
        const label = s.slice(from, i).trim();
        if (c === ":") {
          labels.add(label);
          reads = false;
        } else if (c === "b" && !addressed && label !== "" && labels.has(label) && !reads) out.loops = true;
        break;
      }
      case "q":
      case "Q":
      case "l":
      case "L":
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
        reads = true;
        break;
      case "p":
      case "P":
      case "x":
      case "z":
      case "F":
        break;
      default:
        // A command the reader does not know: it might be one that runs something.
        return { ...out, exec: true };
    }
  }
  return out;
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
    if (!fromFile && program === undefined) program = v;
    else fx.reads.push(v);
  }
  if (program === null)
    floor(fx, `dynamic-command: '${ctx.text}': the awk program is only known at run time`);
  else if (program !== undefined && /\b(ENVIRON|PROCINFO)\b/.test(program)) fx.reads.push(ENVIRON);
}

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
  for (const m of filter.matchAll(/\brange\s*\(([^)]*)\)/g))
    if (m[1]!.split(/[;,]/).some((a) => hugeNumber(a.trim()) || /[a-z$]/i.test(a.trim())))
      floor(fx, `resources: '${ctx.text}': the jq filter makes a range without a useful bound`);
  if (/\b(import|include)\b/.test(filter)) floor(fx, `code: '${ctx.text}': the jq filter loads modules`);
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

/** curl `-w '%output{FILE}…'` (7.83+) writes the rest of the format to FILE. */
function curlWriteOut(words: Word[], ctx: EffectsCtx, fx: Effects): void {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    const fmt =
      v === "-w" || v === "--write-out"
        ? words[i + 1]?.value
        : v?.startsWith("--write-out=")
          ? v.slice(12)
          : v?.startsWith("-w") && v.length > 2
            ? v.slice(2)
            : undefined;
    if (fmt === undefined) continue;
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
  const ops = words.filter((w) => w.value === null || !w.value.startsWith("-"));
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
    return;
  }
  if (s !== "run" && s !== "create") return;
  const end = image < 0 ? words.length : image;
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
    if (val === undefined) continue;
    const mountFrom = (src: string) => {
      if (/^[./~]/.test(src) && !ctx.inWorkspace(src))
        floor(fx, `containers: '${ctx.text}' mounts the host's '${src}' into the container`);
    };
    if (val === null) {
      if (name !== "--name" && name !== "-p" && name !== "--publish")
        floor(fx, `dynamic-command: '${ctx.text}': the value of ${name} is only known at run time`);
    } else if (name === "-v" || name === "--volume") mountFrom(val.split(":")[0]!);
    else if (name === "--mount") {
      const m = /(?:^|,)(?:source|src)=([^,]*)/.exec(val);
      if (m) mountFrom(m[1]!);
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
}
