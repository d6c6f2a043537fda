/**
 * Wrappers, nested shells and programs that run other commands: which words or text of a simple
 * command are themselves a command (`sudo X`, `bash -c '…'`, `find -exec`, `git -c core.pager=…`,
 * `ssh host CMD`). Decides only; the walk (walk.ts) parses and judges what it is handed (`Runner`).
 */
import { dockerfileRuns } from "../capabilities.js";
import { wordTable } from "../word-table.js";
import { INTERPRETERS, SHELLS, SIMPLE_WRAPPERS, STDIN_REPLS, VALUE_FLAGS } from "./programs.js";
import { RUNS_COMMAND, RUNS_PACKAGE } from "./specs.js";
import type { SimpleCommand, Word } from "./types.js";

/** What the walk does with a command found inside another one. */
export interface Runner {
  /** Wrappers the command runs under, outermost first. */
  readonly via: string[];
  /** The line can be no better than ESCALATE, for `reason`. */
  floor(reason: string): void;
  /**
   * `script` is shell text run by the command: parse and judge it. `sameShell`: it runs in this
   * shell (eval), so its `cd` moves the cwd of the commands after it.
   */
  nested(script: string, via: string[], sameShell?: boolean): void;
  /** `inner` (words of the command) is a command run by `outer`. */
  sub(inner: Word[], via: string[], outer: SimpleCommand): void;
  /** `NAME=value` in the environment of what runs next. */
  env(name: string, value: string | null, via: string[]): void;
}

/** The REPL starts (its subcommand, if it has one, is first) with no script file, or `-`: it reads its standard input. */
function replOnStdin(subs: readonly string[], operands: Word[]): boolean {
  const first = operands[0]?.value;
  const sub = first !== undefined && first !== null && subs.includes(first) ? 1 : 0;
  if (sub === 0 && !subs.includes("")) return false;
  return operands.slice(sub).every((o) => o.value === "-");
}

/** deno's and bun's subcommands whose first operand is the script (or `-`, its standard input) they run. */
const SCRIPT_SUBS: Readonly<Record<string, ReadonlySet<string>>> = wordTable({
  deno: new Set(["run", "serve"]),
  bun: new Set(["run"]),
});
/**
 * deno's and bun's other subcommands: they run no script operand (a package, a task, the tests,
 * a formatter); a first operand that is none of them is the script itself (`deno x.ts`, `bun x.ts`).
 */
const OTHER_SUBS: Readonly<Record<string, ReadonlySet<string>>> = wordTable({
  deno: new Set(
    "add bench cache check clean compile completions coverage doc eval fmt help info init install jupyter lint lsp outdated publish remove repl task test types uninstall upgrade vendor x".split(
      " ",
    ),
  ),
  bun: new Set(
    "a add audit build c create exec i info init install link outdated patch pm publish remove repl rm test unlink update upgrade why x".split(
      " ",
    ),
  ),
});

/**
 * gate59: the index in `operands` of the script an interpreter runs (`python3 x.py`, `deno run -A
 * x.ts`, `bun x.ts`): `operands.length` when it names none (it reads its standard input, as with
 * `-`), -1 when the command runs no script operand (`deno fmt`, `bun install`).
 */
export function scriptOperand(program: string, operands: readonly Word[]): number {
  const subs = SCRIPT_SUBS[program];
  if (subs === undefined) return 0;
  const first = operands[0]?.value;
  if (first === undefined) return program === "deno" ? -1 : 0;
  if (first === null) return -1;
  if (subs.has(first)) return 1;
  return OTHER_SUBS[program]!.has(first) ? -1 : 0;
}

/** The interpreter reads its code from its standard input: no script operand, or `-`. */
export function codeOnStdin(program: string, operands: readonly Word[]): boolean {
  const at = scriptOperand(program, operands);
  if (at < 0) return false;
  const v = operands[at]?.value;
  return v === undefined || v === "-";
}

/** Index of the first word that is the wrapped command (or -1), and the `env NAME=value` assignments before it. */
export function wrappedStart(program: string, words: Word[]): { start: number; env: [string, string][] } {
  const env: [string, string][] = [];
  const vf = VALUE_FLAGS[program];
  let i = 0;
  if (program === "timeout" || program === "gtimeout") {
    // timeout [opts] DURATION CMD
    while (i < words.length && words[i]!.value?.startsWith("-")) i += vf?.has(words[i]!.value!) ? 2 : 1;
    return { start: i + 1 < words.length ? i + 1 : -1, env };
  }
  if (program === "watch") {
    while (i < words.length && words[i]!.value?.startsWith("-"))
      i += /^-[nd]$/.test(words[i]!.value!) ? 2 : 1;
    return { start: i < words.length ? i : -1, env };
  }
  for (; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) return { start: i, env };
    if (v === "--") return { start: i + 1 < words.length ? i + 1 : -1, env };
    if (v.startsWith("-") && v.length > 1) {
      if (vf?.has(v)) i++;
      continue;
    }
    if (program === "env" && /^[A-Za-z_][A-Za-z0-9_]*=/.test(v)) {
      const eq = v.indexOf("=");
      env.push([v.slice(0, eq), v.slice(eq + 1)]);
      continue;
    }
    if (program === "nice" && /^[+-]?\d+$/.test(v)) continue;
    return { start: i, env };
  }
  return { start: -1, env };
}

/** Finds the commands a wrapper or interpreter would run, and adds them. */
export function recurse(run: Runner, cmd: SimpleCommand, heredoc: string | null): void {
  const { program, words } = cmd;
  const via = [...run.via, program];
  if (SHELLS.has(program)) {
    // `bash '-crm -rf ~'`: an option word that is not plain letters is not one the gate can read.
    const odd = words.find((w) => w.value !== null && /^[-+][A-Za-z]*[^A-Za-z-]/.test(w.value));
    if (odd && shellScriptIndex(words) < 0)
      run.floor(`dynamic-command: '${cmd.text}': the shell option '${odd.value}' is not one the gate reads`);
    const ci = shellScriptIndex(words);
    if (ci >= 0) {
      const script = words[ci]!;
      if (script.value === null) {
        run.floor(`dynamic-command: '${cmd.text}' runs a script only known at run time`);
      } else run.nested(script.value, via);
      return;
    }
    if (heredoc !== null) run.nested(heredoc, via);
    else if (cmd.operands.length === 0 && cmd.feeders.length > 0) {
      run.floor(`dynamic-command: '${cmd.text}' runs a script read from a pipe`);
    }
    return;
  }
  if (program === "emulate") {
    // `emulate [-lLR] MODE [flags…] -c CODE` (zsh): CODE runs in this shell, under MODE's options.
    for (let i = 0; i < words.length; i++) {
      const v = words[i]!.value;
      if (v === null) {
        run.floor(`dynamic-command: '${cmd.text}' takes words only known at run time (one could be -c CODE)`);
        return;
      }
      if (!/^-[a-zA-Z]*c[a-zA-Z]*$/.test(v)) continue;
      const code = words[i + 1]?.value;
      if (code === null || code === undefined)
        run.floor(`dynamic-command: '${cmd.text}' runs code only known at run time`);
      else run.nested(code, via, true);
      return;
    }
    return;
  }
  if (program === "eval") {
    if (words.some((w) => w.value === null)) {
      run.floor(`dynamic-command: '${cmd.text}' evaluates text only known at run time`);
      return;
    }
    run.nested(words.map((w) => w.value).join(" "), via, true);
    return;
  }
  if (
    INTERPRETERS.has(program) &&
    codeOnStdin(program, cmd.operands) &&
    cmd.feeders.length > 0 &&
    heredoc === null
  ) {
    run.floor(`dynamic-command: '${cmd.text}' runs code read from a pipe`);
    return;
  }
  const repl = STDIN_REPLS[program];
  if (repl !== undefined && (cmd.feeders.length > 0 || heredoc !== null) && replOnStdin(repl, cmd.operands)) {
    run.floor(
      `dynamic-command: '${cmd.text}' runs code read from its standard input (a REPL with no script file)`,
    );
    return;
  }
  if (program === "source" || program === ".") {
    // A script file (policy judges the path), unless it is the command's input: code from a pipe.
    const f = cmd.operands[0]?.value;
    if (f !== undefined && (f === null || /^\/dev\/(stdin|fd\/\d+)$|^\/proc\/(self|\d+)\/fd\/\d+$/.test(f)))
      run.floor(`dynamic-command: '${cmd.text}' runs code read from its input`);
    return;
  }
  if (program === "trap" || program === "alias") {
    // `trap 'CMD' SIG` runs CMD later; `alias ls='CMD'` makes a later `ls` run CMD: both judged now.
    for (const w of words) {
      const v = w.value;
      if (v === null) {
        run.floor(`dynamic-command: '${cmd.text}' defines a command only known at run time`);
        continue;
      }
      if (v.startsWith("-")) continue;
      if (program === "trap") {
        run.nested(v, via);
        break;
      }
      const eq = v.indexOf("=");
      if (eq > 0) {
        run.floor(`shell-definition: '${cmd.text}' makes '${v.slice(0, eq)}' run another command`);
        run.nested(v.slice(eq + 1), via);
      }
    }
    return;
  }
  if (SIMPLE_WRAPPERS.has(program)) {
    const { start: i, env } = wrappedStart(program, words);
    for (const [k, v] of env) run.env(k, v, via);
    if (program === "env" && envSplit(run, cmd, via)) return;
    if (i < 0) return;
    const inner = words.slice(i);
    if (program === "xargs") inner.push({ value: null, glob: false });
    if (program === "watch" && inner.length === 1 && inner[0]!.value !== null) {
      run.nested(inner[0]!.value, via);
      return;
    }
    run.sub(inner, via, cmd);
    return;
  }
  // `bun exec 'CMD'`: Bun Shell runs the string as a shell line.
  if (program === "bun" && words[0]?.value === "exec") {
    const rest = words.slice(1);
    if (rest.some((w) => w.value === null))
      run.floor(`dynamic-command: '${cmd.text}': the command bun exec runs is only known at run time`);
    else if (rest.length > 0) run.nested(rest.map((w) => w.value).join(" "), via);
    return;
  }
  if (packageRunner(run, cmd, via)) return;
  if (program === "docker" || program === "podman" || program === "nerdctl") {
    // The container's command is judged too (its network reaches the same hosts).
    const { sub, image } = containerRun(words);
    if (image >= 0 && image + 1 < words.length) run.sub(words.slice(image + 1), via, cmd);
    const c = sub >= 0 && words[sub]!.value === "compose" ? composeCommand(words, sub) : -1;
    if (c >= 0) run.sub(words.slice(c), via, cmd);
    // `docker build -f- . <<EOF`: the heredoc is the Dockerfile; its RUN lines run as shell.
    if (heredoc !== null && sub >= 0 && words.slice(sub).some((w) => w.value === "build")) {
      const runs = dockerfileRuns(heredoc);
      if (typeof runs === "string") run.floor(`containers: '${cmd.text}' builds a Dockerfile where ${runs}`);
      else for (const line of runs) run.nested(line, via);
    }
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
        run.sub(inner, via, cmd);
        i = j;
      }
    }
    return;
  }
  if (program === "fd" || program === "fdfind") {
    // `fd -x CMD…`, `fd -X CMD…` (to `;` or the end): CMD runs once per result, or once on all.
    for (let i = 0; i < words.length; i++) {
      const v = words[i]!.value;
      if (v === null) continue;
      const eq = /^--exec(-batch)?=/.exec(v);
      if (!eq && v !== "-x" && v !== "-X" && v !== "--exec" && v !== "--exec-batch") continue;
      let j = i + 1;
      while (j < words.length && words[j]!.value !== ";") j++;
      const inner = [
        ...(eq ? [{ value: v.slice(eq[0].length), glob: false }] : []),
        ...words
          .slice(i + 1, j)
          .map((w) => (w.value !== null && /\{[/.]*\}/.test(w.value) ? { value: null, glob: false } : w)),
      ];
      if (!inner.some((w) => w.value === null)) inner.push({ value: null, glob: false });
      run.sub(inner, via, cmd);
      i = j;
    }
    return;
  }
  if (program === "git") {
    for (let i = 0; i + 1 < words.length; i++) {
      if (words[i]!.value !== "-c") continue;
      const kv = words[i + 1]!.value;
      if (kv === null) {
        run.floor(`dynamic-command: '${cmd.text}' sets git config only known at run time`);
        continue;
      }
      const m = /^core\.(sshCommand|pager|editor|fsmonitor|hooksPath)=(.*)$/is.exec(kv);
      if (m && m[1]!.toLowerCase() !== "hookspath") run.nested(m[2]!, via);
      else if (/^(alias\.[^=]+=!|credential\.helper=!|core\.hookspath=)/i.test(kv)) {
        run.floor(`dynamic-command: '${cmd.text}' configures git to run a program`);
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
      if (c === null) run.floor(`dynamic-command: '${cmd.text}' runs a remote shell only known at run time`);
      else run.nested(c, via);
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
        run.floor(`dynamic-command: '${cmd.text}' runs a remote command only known at run time`);
      else run.nested(rest.map((w) => w.value).join(" "), via);
    }
  }
}

export function shellScriptIndex(words: Word[]): number {
  for (let i = 0; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) return -1;
    if (v === "--") return -1;
    if (/^-[A-Za-z]*c[A-Za-z]*$/.test(v) || v === "--command") return i + 1 < words.length ? i + 1 : -1;
    if (!v.startsWith("-") && !v.startsWith("+")) return -1;
  }
  return -1;
}

/** docker/podman global flags that take a value. */
const CONTAINER_GLOBAL = new Set([
  "-H",
  "--host",
  "--context",
  "-c",
  "--config",
  "-l",
  "--log-level",
  "--tlscacert",
  "--tlscert",
  "--tlskey",
]);
/** `run`/`create` flags that take a value (the rest of the known flags take none). */
export const CONTAINER_VALUES = new Set([
  "-v",
  "--volume",
  "--mount",
  "-e",
  "--env",
  "--env-file",
  "--name",
  "-p",
  "--publish",
  "-w",
  "--workdir",
  "--network",
  "--net",
  "-u",
  "--user",
  "--entrypoint",
  "--platform",
  "-l",
  "--label",
  "--label-file",
  "--restart",
  "--cgroupns",
  "--pid",
  "--ipc",
  "--uts",
  "--userns",
  "--cap-add",
  "--cap-drop",
  "--security-opt",
  "--device",
  "-m",
  "--memory",
  "--memory-swap",
  "--cpus",
  "--cpu-shares",
  "--hostname",
  "-h",
  "--add-host",
  "--dns",
  "--log-driver",
  "--log-opt",
  "--tmpfs",
  "--shm-size",
  "--ulimit",
  "--gpus",
  "--pull",
  "--stop-signal",
  "--stop-timeout",
  "--health-cmd",
  "--health-interval",
  "--volumes-from",
  "--link",
  "--expose",
  "--cidfile",
  "--runtime",
  "--group-add",
  "--sysctl",
  "--network-alias",
  "--ip",
  "--mac-address",
  "--attach",
  "-a",
  "--detach-keys",
  "--pids-limit",
  "--cgroup-parent",
  "--init-path",
]);
export const CONTAINER_BOOL = new Set([
  "-d",
  "--detach",
  "--rm",
  "-i",
  "--interactive",
  "-t",
  "--tty",
  "--privileged",
  "--init",
  "--read-only",
  "-P",
  "--publish-all",
  "--no-healthcheck",
  "-q",
  "--quiet",
  "--sig-proxy",
  "--oom-kill-disable",
  "--help",
]);
/**
 * `docker run|create [flags] IMAGE [CMD…]`: where the command starts (or -1), the parse shared by
 * the effects (mounts, namespaces, restart policy) and the walk (the command is judged too).
 */
export function containerRun(words: Word[]): { sub: number; image: number } {
  let i = 0;
  while (i < words.length) {
    const v = words[i]!.value;
    if (v === null || !v.startsWith("-")) break;
    i += CONTAINER_GLOBAL.has(v) ? 2 : 1;
  }
  const sub = i < words.length ? i : -1;
  const s = words[sub]?.value;
  if (s !== "run" && s !== "create") return { sub, image: -1 };
  for (i = sub + 1; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) return { sub, image: i };
    if (v === "--") return { sub, image: i + 1 < words.length ? i + 1 : -1 };
    if (!v.startsWith("-") || v === "-") return { sub, image: i };
    if (
      !v.includes("=") &&
      (CONTAINER_VALUES.has(v) || (/^-[a-zA-Z]*[vepwulmah]$/.test(v) && !CONTAINER_BOOL.has(v)))
    )
      i++;
  }
  return { sub, image: -1 };
}

/** `docker compose` global flags that take a value (before the subcommand). */
const COMPOSE_GLOBAL = new Set([
  "-f",
  "--file",
  "-p",
  "--project-name",
  "--project-directory",
  "--env-file",
  "--profile",
  "--ansi",
  "--parallel",
  "--progress",
]);

/** The index of `docker compose`'s subcommand (`up`, `down`, `exec` …), or -1. */
export function composeSub(words: Word[], compose: number): number {
  for (let i = compose + 1; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) return -1;
    if (!v.startsWith("-")) return i;
    if (!v.includes("=") && COMPOSE_GLOBAL.has(v)) i++;
  }
  return -1;
}

/** `docker compose exec|run` options that take a value (before the service). */
const COMPOSE_RUN_VALUES = new Set(
  "-u --user --index -e --env -w --workdir --name --entrypoint -l --label -p --publish -v --volume --pull --cap-add --cap-drop".split(
    " ",
  ),
);

/**
 * `docker compose [globals] exec|run [opts] SERVICE CMD…`: where CMD starts (-1 when there is none),
 * so the walk judges the command the container runs as `docker run IMAGE CMD…` is judged.
 */
function composeCommand(words: Word[], compose: number): number {
  const sub = composeSub(words, compose);
  const s = sub < 0 ? undefined : words[sub]!.value;
  if (s !== "exec" && s !== "run") return -1;
  for (let i = sub + 1; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null || !v.startsWith("-")) return v === null || i + 1 >= words.length ? -1 : i + 1;
    if (v === "--") return i + 2 < words.length ? i + 2 : -1;
    if (!v.includes("=") && COMPOSE_RUN_VALUES.has(v)) i++;
  }
  return -1;
}

/**
 * Package managers that run a command (`npm exec X`, `uv run X`, `bundle exec X`, `npx X`): X is
 * judged as its own command; `--package=`/`-p` (a package fetched to run) and `dlx` are unknown.
 * True when the command was one of them.
 */
function packageRunner(run: Runner, cmd: SimpleCommand, via: string[]): boolean {
  const { program, words } = cmd;
  const npx = program === "npx" || program === "pnpx" || program === "bunx";
  let i = 0;
  if (!npx) {
    const subs = RUNS_COMMAND[program];
    const pkgs = RUNS_PACKAGE[program];
    if (!subs && !pkgs) return false;
    while (i < words.length && words[i]!.value?.startsWith("-")) i++;
    const sub = words[i]?.value;
    if (sub === null) return false;
    if (sub !== undefined && pkgs?.includes(sub)) {
      run.floor(`code-runner: '${cmd.text}' fetches and runs a package nobody has read (${program} ${sub})`);
      return true;
    }
    if (sub === undefined || !subs?.includes(sub)) return false;
    i++;
  }
  // Options of the runner itself, up to the command (or `--`).
  for (; i < words.length; i++) {
    const v = words[i]!.value;
    if (v === null) break;
    if (v === "--") {
      i++;
      break;
    }
    if (!v.startsWith("-")) break;
    // uv's `-p` is `--python` (gate59: its interpreter, judged by effects.ts), not a package.
    const uvPython = program === "uv" && /^-p(=|$)/.test(v);
    if (!uvPython && /^(--package|-p|--with|--from|--call|-c)(=|$)/.test(v)) {
      run.floor(`code-runner: '${cmd.text}' runs code from a package or string given in ${v.split("=")[0]}`);
      return true;
    }
    // Runner options that take a value: `-n ENV`, `--name ENV`, `--prefix DIR`, `-w WS`.
    if (uvPython || /^(-n|--name|--prefix|-w|--workspace|--python|--env-file|--directory|--project)$/.test(v))
      i += v.includes("=") ? 0 : 1;
  }
  const inner = words.slice(i);
  if (inner.length === 0) return true;
  run.sub(inner, via, cmd);
  return true;
}

/** `env -S 'cmd args'`, `--split-string='…'`, `-S'…'`: the string is a command line. True when found. */
function envSplit(run: Runner, cmd: SimpleCommand, via: string[]): boolean {
  const words = cmd.words;
  for (let k = 0; k < words.length; k++) {
    const v = words[k]!.value;
    if (v === null) continue;
    if (!v.startsWith("-")) return false;
    const attached = v.startsWith("--split-string=") ? v.slice(15) : /^-S./.test(v) ? v.slice(2) : null;
    const script = attached ?? (v === "-S" || v === "--split-string" ? words[k + 1]?.value : undefined);
    if (script === undefined) continue;
    if (script === null) run.floor(`dynamic-command: '${cmd.text}' splits a command only known at run time`);
    else {
      const rest = words.slice(k + (attached === null ? 2 : 1));
      if (rest.some((w) => w.value === null))
        run.floor(`dynamic-command: '${cmd.text}' passes words only known at run time`);
      run.nested([script, ...rest.map((w) => w.value ?? "")].join(" "), via);
    }
    return true;
  }
  return false;
}
