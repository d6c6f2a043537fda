/**
 * `forge-agent completion bash|zsh` (and `forge-collector completion …`): the shell completion
 * script, generated from spec.ts, so it offers exactly the commands, subcommands and flags the
 * parsers take. bash: one sh function computes the candidates, handed to `complete -F`; zsh: a
 * native `_arguments` completer, so each command's summary and each flag's help show in the menu.
 *
 *   bash: eval "$(forge-agent completion bash)"     (or save it under bash-completion's completions/)
 *   zsh:  eval "$(forge-agent completion zsh)"      (after compinit; or save it as _forge-agent on $fpath)
 */
import { shellQuote } from "../gate/shell/words.js";
import { UsageError } from "./args.js";
import type { Command } from "./dispatch.js";
import { type CommandSpec, type FlagSpec, type Flags, flagsOf, PROGRAMS, type Program } from "./spec.js";

/** The sh function name for a program: forge-agent -> __forge_agent. */
function fn(prog: Program): string {
  return `__${prog.replace(/-/g, "_")}`;
}

/** The part both shells share: `<fn>_candidates WORD...` prints one candidate a line, or __files__. */
function core(prog: Program): string {
  const spec = PROGRAMS[prog];
  const f = fn(prog);
  const subs: string[] = [];
  const flags: string[] = [];
  const values: string[] = [];
  for (const [name, cmd] of Object.entries(spec) as [string, CommandSpec][]) {
    if (cmd.sub) subs.push(`    ${shellQuote(name)}) echo ${shellQuote(Object.keys(cmd.sub).join(" "))} ;;`);
    const keys: [string, string | undefined][] = [
      [`${name}/`, undefined],
      ...Object.keys(cmd.sub ?? {}).map((x): [string, string] => [`${name}/${x}`, x]),
    ];
    for (const [key, sub] of keys) {
      const set = flagsOf(cmd, sub);
      const names = [...Object.keys(set).map((n) => `--${n}`), "--help"];
      for (const fl of Object.values(set)) if (fl.short) names.push(`-${fl.short}`);
      flags.push(`    ${shellQuote(key)}) echo ${shellQuote(names.join(" "))} ;;`);
      for (const [n, fl] of Object.entries(set)) {
        if (fl.type !== "string") continue;
        const out = fl.choices ? `echo ${shellQuote(fl.choices.join(" "))}` : "echo __files__";
        values.push(`    ${shellQuote(`${key} --${n}`)}) ${out}; return 0 ;;`);
      }
    }
  }
  return `# ${prog} shell completion, generated from its command spec (${prog} completion bash|zsh).
${f}_subs() {
  case $1 in
${subs.join("\n")}
  esac
}
${f}_flags() {
  case $1 in
${flags.join("\n")}
  esac
}
# The value a flag takes: its choices, or __files__ (a file name); nothing for a flag without one.
${f}_value() {
  case $1 in
${values.join("\n")}
  esac
  return 1
}
# ${f}_candidates WORD...: the words after '${prog}'; the last is the one being completed.
${f}_candidates() {
  local cmd="" sub="" prev="" cur="" w="" list="" IFS=$' \t\n'
  [ -n "\${ZSH_VERSION-}" ] && setopt localoptions shwordsplit
  while [ $# -gt 1 ]; do
    w=$1
    shift
    if [ "$w" = "--" ] && [ -n "$cmd" ]; then echo __files__; return 0; fi
    if [ -z "$cmd" ]; then
      case $w in -*) ;; *) cmd=$w ;; esac
    elif [ -z "$sub" ] && [ -n "$(${f}_subs "$cmd")" ]; then
      case " $(${f}_subs "$cmd") " in *" $w "*) sub=$w ;; esac
    fi
    prev=$w
  done
  cur=$1
  if [ -n "$cmd" ] && [ -n "$prev" ]; then
    list=$(${f}_value "$cmd/$sub $prev") && {
      [ "$list" = __files__ ] && { echo __files__; return 0; }
      for w in $list; do case $w in "$cur"*) echo "$w" ;; esac; done
      return 0
    }
  fi
  if [ -z "$cmd" ]; then
    list=${shellQuote(Object.keys(spec).join(" "))}
    case $cur in -*) list="--help --version" ;; esac
  else
    case $cur in
      -*) list=$(${f}_flags "$cmd/$sub") ;;
      *)
        if [ -z "$sub" ] && [ -n "$(${f}_subs "$cmd")" ]; then list=$(${f}_subs "$cmd"); else
          echo __files__
          return 0
        fi
        ;;
    esac
  fi
  for w in $list; do case $w in "$cur"*) echo "$w" ;; esac; done
}`;
}

/** The bash script: `complete -F` over the shared candidates. */
export function bashScript(prog: Program): string {
  const f = fn(prog);
  return `${core(prog)}
${f}_bash() {
  local IFS=$'\\n' c
  c=($(${f}_candidates "\${COMP_WORDS[@]:1:COMP_CWORD}"))
  if [ "\${c[0]}" = __files__ ]; then
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "\${COMP_WORDS[COMP_CWORD]}"))
  else
    COMPREPLY=("\${c[@]}")
  fi
}
complete -F ${f}_bash ${prog}
`;
}

/** Text inside a zsh `_arguments` or `_describe` spec: \\ [ ] : escaped, one line. */
function zq(text: string): string {
  return text.replace(/\s+/g, " ").replace(/[\\[\]:]/g, (c) => `\\${c}`);
}

/** One flag as `_arguments` specs (its short form too), each with the flag's help text. */
function zshFlag(name: string, f: FlagSpec): string[] {
  const choices = f.choices ? ` (${f.choices.join(" ")})` : "";
  const v = f.value ?? "VALUE";
  // Choices, else a directory, a file, or (an ID, a number, text) only the value's name as a hint.
  const action = f.choices
    ? `(${f.choices.join(" ")})`
    : /DIR/.test(v)
      ? "_files -/"
      : /FILE|PATH|PEM/.test(v)
        ? "_files"
        : " ";
  const value = f.type === "string" ? `:${zq(v)}:${action}` : "";
  const rep = f.multiple ? "*" : "";
  const desc = `[${zq(f.help + (f.type === "boolean" ? "" : choices))}]`;
  const forms = [`--${name}`, ...(f.short ? [`-${f.short}`] : [])];
  return forms.map((form) => shellQuote(`${rep}${form}${desc}${value}`));
}

/** `_arguments` specs of a flag set, --help included. */
function zshFlags(set: Flags): string {
  const specs = Object.entries(set).flatMap(([n, f]) => zshFlag(n, f));
  specs.push(shellQuote("--help[show this command's help and every flag it takes]"));
  return specs.join(" ");
}

/** `_describe` entries: name:summary. */
function zshList(entries: [string, string][]): string {
  return entries.map(([n, summary]) => shellQuote(`${zq(n)}:${zq(summary)}`)).join(" ");
}

/**
 * The zsh script: a native `_arguments` completer generated from the spec, so the menu shows each
 * command's summary and each flag's help beside it (needs compinit). `-S`: after `--`, file names.
 */
export function zshScript(prog: Program): string {
  const spec = PROGRAMS[prog];
  const f = fn(prog);
  const cases: string[] = [];
  for (const [name, cmd] of Object.entries(spec) as [string, CommandSpec][]) {
    if (cmd.sub === undefined) {
      cases.push(`    ${shellQuote(name)}) _arguments -S ${zshFlags(cmd.flags)} '*:file:_files' && ret=0 ;;`);
      continue;
    }
    const subs = Object.entries(cmd.sub).map(([n, x]): [string, string] => [n, x.summary]);
    const subCases = Object.keys(cmd.sub).map(
      (x) =>
        `          ${shellQuote(x)}) _arguments -S ${zshFlags(flagsOf(cmd, x))} '*:file:_files' && ret=0 ;;`,
    );
    cases.push(`    ${shellQuote(name)})
      _arguments -C -S ${zshFlags(flagsOf(cmd))} '1:subcommand:->sub' '*::arg:->subargs' && ret=0
      case $state in
        sub) subs=(${zshList(subs)}); _describe -t subcommands ${shellQuote(`${prog} ${name} subcommand`)} subs && ret=0 ;;
        subargs)
          case $words[1] in
${subCases.join("\n")}
            *) _files && ret=0 ;;
          esac
          ;;
      esac
      ;;`);
  }
  const cmds = Object.entries(spec).map(([n, c]): [string, string] => [n, (c as CommandSpec).summary]);
  return `#compdef ${prog}
# ${prog} zsh completion, generated from its command spec (${prog} completion zsh).
${f}_zsh() {
  local curcontext="$curcontext" state line ret=1
  local -a cmds subs
  typeset -A opt_args
  _arguments -C '(- *)--help[list the commands]' '(- *)--version[print the version]' '1:command:->cmd' '*::arg:->args' && ret=0
  case $state in
    cmd) cmds=(${zshList(cmds)}); _describe -t commands ${shellQuote(`${prog} command`)} cmds && ret=0 ;;
    args)
      case $words[1] in
${cases.join("\n")}
        *) _files && ret=0 ;;
      esac
      ;;
  esac
  return ret
}
if (( \${+functions[compdef]} )); then
  compdef ${f}_zsh ${prog}
else
  print -u2 "${prog} completion: run 'autoload -Uz compinit && compinit' first"
fi
`;
}

/** The `completion` command of a program. */
export function command(prog: Program): Command {
  return async (argv) => {
    const [shell, ...extra] = argv;
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (shell === "bash") process.stdout.write(bashScript(prog));
    else if (shell === "zsh") process.stdout.write(zshScript(prog));
    else
      throw new UsageError(
        shell === undefined ? "give bash or zsh" : `no completion for '${shell}': bash or zsh`,
      );
    return 0;
  };
}
