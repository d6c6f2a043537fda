/**
 * The program tables the walk reads: shells, interpreters and their inline-code flags, the flags
 * that take a value, network programs, wrappers, builtins, and the variables that name commands.
 * Data only; what a program's words mean is decided in walk.ts and wrappers.ts.
 */

import type { CodeLanguage } from "../capabilities.js";
import { wordTable } from "../word-table.js";
import { SPECS } from "./specs.js";

export const SHELLS = new Set(["sh", "bash", "zsh", "dash", "ksh", "mksh", "fish", "csh", "tcsh", "ash"]);
/** Interpreters and the flags that take inline code. */
export const CODE_FLAGS: Record<string, string[]> = wordTable({
  python: ["-c"],
  perl: ["-e", "-E"],
  node: ["-e", "--eval", "-p", "--print"],
  deno: ["eval"],
  bun: ["-e", "--eval"],
  ruby: ["-e"],
  // gate54: -B/-R/-E run code before, per line of and after the input (php -h).
  php: ["-r", "-B", "-R", "-E", "--process-begin", "--process-code", "--process-end"],
  osascript: ["-e"],
  lua: ["-e"],
  awk: [],
  tclsh: [],
  R: ["-e"],
  Rscript: ["-e"],
  pwsh: ["-c", "-Command"],
  tsx: ["-e", "--eval", "-p", "--print"],
  "ts-node": ["-e", "--eval", "-p", "--print"],
  ghc: ["-e"],
  ghci: ["-e"],
  runghc: ["-e"],
  elixir: ["-e", "--eval", "-r"],
  iex: ["-e", "--eval"],
  erl: ["-eval", "-s", "-run"],
  julia: ["-e", "-E", "--eval", "--print"],
  groovy: ["-e"],
  scala: ["-e"],
  racket: ["-e", "--eval"],
  guile: ["-c"],
  clojure: ["-e", "--eval"],
  kotlinc: ["-e", "-expression", "-script"],
  mix: ["-e", "--eval"],
});
/**
 * REPLs that run what their standard input holds when no script file is named (gate54): the
 * program, and the subcommand that starts its REPL ("" for none). `ocaml -stdin`, `dotnet fsi
 * --readline-`, `echo CODE | kotlinc`: the code is judged as code read from a pipe.
 */
export const STDIN_REPLS: Readonly<Record<string, readonly string[]>> = wordTable({
  ocaml: [""],
  utop: [""],
  kotlinc: [""],
  kotlin: [""],
  ghci: [""],
  irb: [""],
  jshell: [""],
  groovysh: [""],
  scala: [""],
  sbcl: [""],
  guile: [""],
  racket: [""],
  julia: [""],
  erl: [""],
  iex: [""],
  clj: [""],
  clojure: [""],
  swift: ["repl"],
  dotnet: ["fsi", "script", "repl"],
});
export const INTERPRETERS = new Set([
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
  "tsx",
  "ts-node",
]);

/**
 * gate59: the language an interpreter runs a file as, whatever the file is called (`node x.py`
 * runs JavaScript); "unknown" for an interpreter of a language the gate has no reader for; null
 * for a program that is no interpreter (the file's own `#!` line or name decides).
 */
export function runLanguage(program: string): CodeLanguage | null {
  if (program === "python") return "python";
  if (program === "ruby") return "ruby";
  if (
    program === "node" ||
    program === "bun" ||
    program === "deno" ||
    program === "tsx" ||
    program === "ts-node"
  )
    return "js";
  if (SHELLS.has(program) || program === "source" || program === ".") return "shell";
  return INTERPRETERS.has(program) ? "unknown" : null;
}

/** Flags whose next word is their value, per program; the value is not an operand. */
export const VALUE_FLAGS: Record<string, Set<string>> = wordTable({
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
  exec: new Set(["-a"]),
  xcrun: new Set(["--sdk", "-sdk", "--toolchain", "-toolchain"]),
  // `osascript -l JavaScript FILE`: the language, then the script file it runs.
  osascript: new Set(["-l", "-s"]),
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
  // gate51: the toolchains whose spec's value table is the list (`helm -n prod list`: list is the subcommand).
  ...Object.fromEntries(
    ["terraform", "helm", "dvc", "dbt", "jupyter", "rake", "rspec"].map((p) => [
      p,
      new Set(Object.keys(SPECS[p]!.values!)),
    ]),
  ),
  // Interpreter and shell options that take a value before the script (`python -W ignore x.py`,
  // `bash -O extglob x.sh`): the script is the first operand after them.
  python: new Set(["-W", "-X", "--check-hash-based-pycs"]),
  // gate59: the options of node, deno and bun that take a value before the script (`node -r
  // dotenv/config app.js`, `deno run --ext js mod.txt`): the script is the operand after them.
  node: new Set(["-r", "--require", "--import", "--loader", "--experimental-loader", "-C", "--conditions"]),
  deno: new Set([
    "--ext",
    "-c",
    "--config",
    "--import-map",
    "--lock",
    "--cert",
    "--location",
    "--seed",
    "-L",
  ]),
  bun: new Set(["--cwd", "-c", "--config", "-r", "--preload", "--tsconfig-override", "-d", "--define"]),
  ...Object.fromEntries(
    ["sh", "bash", "zsh", "dash", "ksh", "mksh", "ash"].map((s) => [
      s,
      new Set(["-O", "-o", "--rcfile", "--init-file"]),
    ]),
  ),
});
/** Programs whose bare-host operands (`example.com`) are hosts. */
export const NET_PROGRAMS = new Set([
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
/**
 * gate60: a project's own wrapper of a build tool, run by its path (canonical, inside the
 * workspace): the Gradle and Maven wrappers (`./gradlew`, `./mvnw`, generated beside the build
 * files and checked in) and Rails' binstubs (`bin/rails`, `bin/rake`). Each starts the tool it
 * wraps on the project's own build files, the code `gradle test` and `rails test` run, so it is
 * judged as that tool, not as a program the gate cannot read (builtin:untrusted-program). One the
 * session wrote or changed, or the network brought, is a session artefact like any other; a write
 * to one is reviewed (the pack's code paths list $CWD/gradlew, $CWD/mvnw, $CWD/bin/{rails,rake}).
 * gate65: a virtualenv's entry points in the workspace (`.venv/bin/pytest`, `venv/bin/pip`: the
 * launchers pip wrote for the Python tools the gate knows) are those tools, as if run from PATH
 * with the virtualenv active; the pack's code paths list $CWD/{.venv,venv,env}/bin/**.
 */
export const PROJECT_WRAPPERS =
  /\/(?:gradlew|mvnw|bin\/rails|bin\/rake|(?:\.venv|venv|env)\/bin\/(?:python3?|pip3?|pytest|py\.test|ruff|black|isort|mypy|flake8|pylint))$/;
/**
 * Programs that run the code of the project they start in (its scripts, tests, build files, local
 * modules): after the network wrote into that tree, they run code nobody read.
 */
export const PROJECT_RUNNERS = new Set([
  ...["npm", "pnpm", "yarn", "bun", "npx", "pnpx", "bunx", "deno", "node", "tsx", "ts-node", "corepack"],
  ...["make", "gmake", "cmake", "ctest", "ninja", "meson", "scons", "bazel", "just", "task", "turbo", "nx"],
  ...["cargo", "go", "swift", "dotnet", "mvn", "mvnw", "gradle", "gradlew", "ant", "sbt", "lein", "mix"],
  ...["pytest", "py.test", "tox", "nox", "python", "python3", "uv", "poetry", "pdm", "hatch", "pip", "pip3"],
  ...[
    "rake",
    "bundle",
    "rspec",
    "ruby",
    "composer",
    "phpunit",
    "php",
    "jest",
    "vitest",
    "mocha",
    "playwright",
    // gate62: dbt renders the project's models and macros (Jinja) at parse, compile and ls.
    "dbt",
  ],
]);
/** Programs whose first operand is a host, dotted or not. */
export const HOST_FIRST = new Set(["ssh", "mosh", "telnet", "nc", "ncat", "netcat", "sftp", "ftp"]);
/** Wrappers that run the rest of their words as a command, and how to find where it starts. */
export const SIMPLE_WRAPPERS = new Set([
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
  "xcrun",
]);
/** Names the shell runs itself, whatever PATH says. */
export const SHELL_BUILTINS = new Set([
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
export const QUIET_DEVICES = new Set([
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

/** Variables whose value is a command some program will run. */
export const CMD_VARS = new Set([
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
/**
 * Arguments the caller adds to the command such a variable names (issue 19, gate48): git gives its
 * external diff every changed work-tree file (`GIT_EXTERNAL_DIFF='rm -f' git diff` deletes them),
 * and its editors the rebase todo (whose `exec` lines git runs) or the commit message. The command
 * is judged as run on them, not as the bare words of the value.
 */
export const CMD_VAR_ARGS: Readonly<Record<string, string>> = wordTable({
  GIT_EXTERNAL_DIFF: "./** ./** 0000000 100644 ./** 0000000 100644",
  GIT_SEQUENCE_EDITOR: ".git/rebase-merge/git-rebase-todo",
  GIT_EDITOR: ".git/rebase-merge/git-rebase-todo .git/COMMIT_EDITMSG",
  EDITOR: ".git/rebase-merge/git-rebase-todo .git/COMMIT_EDITMSG",
  VISUAL: ".git/rebase-merge/git-rebase-todo .git/COMMIT_EDITMSG",
});
/** Variables that make a program load or run code it otherwise would not. */
export const INJECT_VARS =
  /^(LD_[A-Z0-9_]+|DYLD_[A-Z_]+|BASH_ENV|ENV|NODE_OPTIONS|PERL5OPT|RUBYOPT|GIT_CONFIG_[A-Z0-9_]+|GIT_EXEC_PATH|ZDOTDIR|IFS|PROMPT_COMMAND|PS4|SHELLOPTS|BASHOPTS|LESSOPEN|LESSCLOSE)$/;
