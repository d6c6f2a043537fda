// The CLIs' one spec (src/cli/spec.ts) drives the parsers, --help, "did you mean" and the shell
// completion: each is checked here against the built CLI, the completion by sourcing the script in
// a real bash and a real zsh.
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type CommandSpec, flagsOf, PROGRAMS, type Program, usageFlags } from "../../src/cli/spec.js";
import { ensureBuilt } from "../support/build.js";
import { findTool, missing } from "../support/tools.js";
import { until } from "../support/wait.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const BIN: Record<Program, string> = {
  "forge-agent": join(ROOT, "bin/forge-agent.js"),
  "forge-collector": join(ROOT, "bin/forge-collector.js"),
};

function run(prog: Program, args: string[]) {
  const r = spawnSync(process.execPath, [BIN[prog], ...args], { encoding: "utf8", cwd: ROOT });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const COMMANDS = (Object.entries(PROGRAMS) as [Program, Record<string, CommandSpec>][]).flatMap(
  ([prog, cmds]) => Object.entries(cmds).map(([name, cmd]) => [prog, name, cmd] as const),
);

beforeAll(() => ensureBuilt());

describe("the CLI spec", () => {
  it.each(COMMANDS)(
    "%s %s --help lists every flag it takes, and its synopsis names only those",
    (prog, name, cmd) => {
      const h = run(prog, [name, "--help"]);
      expect(h.code).toBe(0);
      expect(h.out).toMatch(new RegExp(`^usage: ${prog} ${name}`));
      const all = flagsOf(cmd);
      for (const [flag, f] of Object.entries(all)) {
        expect(h.out).toContain(`--${flag}${f.type === "string" ? ` ${f.value}` : ""}`);
        expect(h.out).toContain(f.help);
      }
      for (const sub of Object.keys(cmd.sub ?? {})) expect(h.out).toContain(`${prog} ${name} ${sub}:`);
      // Every --flag the synopsis shows is one the parser takes (the text cannot drift from the spec).
      expect(usageFlags(cmd).filter((f) => !(f in all))).toEqual([]);
    },
  );

  it("is the only place a flag is declared: no parser under src/cli has its own option table", () => {
    const dir = join(ROOT, "src/cli");
    const own = readdirSync(dir)
      .filter((f) => f.endsWith(".ts") && f !== "spec.ts")
      .filter((f) => /\btype: "(string|boolean)"/.test(readFileSync(join(dir, f), "utf8")));
    expect(own).toEqual([]);
  });

  it("answers an unknown command with did-you-mean, FORGE_UNKNOWN_COMMAND, exit 2", () => {
    const r = run("forge-agent", ["stauts"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/FORGE_UNKNOWN_COMMAND: unknown command 'stauts': did you mean 'status'\?/);
    const c = run("forge-collector", ["rnu"]);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/FORGE_UNKNOWN_COMMAND: .*did you mean 'run'\?/);
    const far = run("forge-agent", ["zzzzzzzz"]);
    expect(far.code).toBe(2);
    expect(far.err).toMatch(/known: run, .*status/);
    const sub = run("forge-agent", ["review", "aprove", "x"]);
    expect(sub.code).toBe(2);
    expect(sub.err).toMatch(/unknown subcommand 'aprove': did you mean 'approve'\?/);
  });

  it("answers an unknown flag with the closest one the command takes, FORGE_UNKNOWN_FLAG, exit 2", () => {
    const r = run("forge-agent", ["check", "--jsno", "--", "ls"]);
    expect(r.code).toBe(2);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/FORGE_UNKNOWN_FLAG: unknown flag '--jsno': did you mean '--json'\?/);
    expect(r.err).toMatch(/usage: forge-agent check/);
    // A flag of another command is unknown here: --strict is check's, not metrics'.
    expect(run("forge-agent", ["metrics", "--strict"]).err).toMatch(
      /FORGE_UNKNOWN_FLAG: unknown flag '--strict'/,
    );
    const c = run("forge-collector", ["policy", "sign", "x", "--kye", "k"]);
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/did you mean '--key'\?/);
    // After `--` words belong to the checked command: its --help is not ours.
    const after = run("forge-agent", ["check", "--json", "--", "ls", "--help"]);
    expect(JSON.parse(after.out).evaluation).toBeDefined();
  });
});

/** The completions a shell offers for `words` (the last one being completed). */
function bashComplete(script: string, words: string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const out = execFileSync(
    findTool("bash")!,
    [
      "--norc",
      "--noprofile",
      "-c",
      `source "$1" && COMP_WORDS=(${quoted}) && COMP_CWORD=${words.length - 1} && ` +
        `${words[0]!.startsWith("forge-agent") ? "__forge_agent_bash" : "__forge_collector_bash"} && ` +
        `printf '%s\\n' "\${COMPREPLY[@]}"; complete -p ${words[0]}`,
      "bash",
      script,
    ],
    { encoding: "utf8", cwd: ROOT },
  );
  return out.split("\n").filter(Boolean);
}

describe.skipIf(missing("bash"))("bash completion, sourced in bash", () => {
  let agent: string;
  let collector: string;
  beforeAll(() => {
    const dir = join(ROOT, ".test-tmp");
    execFileSync("mkdir", ["-p", dir]);
    agent = join(dir, "completion.bash");
    collector = join(dir, "completion-collector.bash");
    execFileSync("sh", ["-c", `node bin/forge-agent.js completion bash > ${agent}`], { cwd: ROOT });
    execFileSync("sh", ["-c", `node bin/forge-collector.js completion bash > ${collector}`], { cwd: ROOT });
  });

  it("registers itself and completes commands, subcommands, flags and flag values from the spec", () => {
    const top = bashComplete(agent, ["forge-agent", ""]);
    expect(top).toContain("complete -F __forge_agent_bash forge-agent");
    for (const c of Object.keys(PROGRAMS["forge-agent"])) expect(top).toContain(c);
    expect(bashComplete(agent, ["forge-agent", "st"]).slice(0, -1)).toEqual(["state", "status"]);
    expect(bashComplete(agent, ["forge-agent", "review", "ap"]).slice(0, -1)).toEqual(["approve"]);
    const flags = bashComplete(agent, ["forge-agent", "check", "--"]).slice(0, -1);
    expect(flags.sort()).toEqual(
      [...Object.keys(flagsOf(PROGRAMS["forge-agent"].check!)).map((f) => `--${f}`), "--help"].sort(),
    );
    expect(bashComplete(agent, ["forge-agent", "install", "--target", ""]).slice(0, -1)).toEqual([
      "launchd",
      "systemd",
    ]);
    // The subcommand's own flags: policy test takes --verbose, policy reload does not.
    expect(bashComplete(agent, ["forge-agent", "policy", "test", "--v"]).slice(0, -1)).toEqual(["--verbose"]);
    expect(bashComplete(agent, ["forge-agent", "policy", "reload", "--v"]).slice(0, -1)).toEqual([]);
    // A value that is a file name completes as one.
    expect(bashComplete(agent, ["forge-agent", "check", "--policy", "package.j"]).slice(0, -1)).toEqual([
      "package.json",
    ]);
    expect(bashComplete(collector, ["forge-collector", "tls", "rotate", "--d"]).slice(0, -1)).toEqual([
      "--days",
      "--dir",
    ]);
  });
});

describe.skipIf(missing("zsh"))("zsh completion, sourced in zsh", () => {
  it("registers a native _arguments completer with compdef", () => {
    const script = join(ROOT, ".test-tmp", "completion.zsh");
    execFileSync("sh", ["-c", `mkdir -p .test-tmp && node bin/forge-agent.js completion zsh > ${script}`], {
      cwd: ROOT,
    });
    const zsh = (body: string) =>
      execFileSync(
        findTool("zsh")!,
        [
          "-f",
          "-c",
          `autoload -Uz compinit && compinit -u -d "$2.zcompdump" && source "$1" && ${body}`,
          "zsh",
          script,
          script,
        ],
        { encoding: "utf8", cwd: ROOT },
      )
        .split("\n")
        .filter(Boolean);
    expect(zsh("print -r -- ${_comps[forge-agent]}")).toEqual(["__forge_agent_zsh"]);
    // zsh parses it (-n: syntax only), and no bash-only candidates function is left in it.
    execFileSync(findTool("zsh")!, ["-n", script]);
    expect(zsh("print -r -- ${+functions[__forge_agent_candidates]}")).toEqual(["0"]);
  });
});

/**
 * The completion as a person meets it: an interactive shell in tmux, the script sourced, a
 * partial command typed and Tab pressed; the screen must show the completed words.
 */
async function typedInTmux(shell: "bash" | "zsh", setup: string): Promise<void> {
  const tmp = join(ROOT, ".test-tmp");
  const sock = join(tmp, `tmux-${shell}.sock`);
  const tmux = (...args: string[]) =>
    execFileSync(findTool("tmux")!, ["-S", sock, ...args], { encoding: "utf8" });
  const argv = shell === "bash" ? "bash --norc --noprofile -i" : "zsh -f -i";
  tmux("new-session", "-d", "-s", shell, "-x", "160", "-y", "40", `cd '${tmp}' && PS1='$ ' exec ${argv}`);
  const screen = () => tmux("capture-pane", "-p", "-J", "-t", shell);
  try {
    tmux("send-keys", "-t", shell, `${setup} && echo sourced-ok`, "Enter");
    await until(
      () => /^sourced-ok$/m.test(screen()),
      () => `the script sourced in ${shell}:\n${screen()}`,
    );
    tmux("send-keys", "-t", shell, "forge-agent rev", "Tab");
    await until(
      () => /forge-agent review $/m.test(screen()),
      () => `review completed:\n${screen()}`,
    );
    tmux("send-keys", "-t", shell, "-l", "--", "--tok");
    tmux("send-keys", "-t", shell, "Tab");
    await until(
      () => /forge-agent review --token-file $/m.test(screen()),
      () => `--token-file completed:\n${screen()}`,
    );
    if (shell === "zsh") {
      // zsh lists each flag with its help text from the spec, and each subcommand with its summary.
      tmux("send-keys", "-t", shell, "C-u");
      tmux("send-keys", "-t", shell, "-l", "--", "forge-agent status --");
      tmux("send-keys", "-t", shell, "Tab");
      await until(
        () =>
          /^--json +-- print one JSON document on stdout instead of text$/m.test(screen()) &&
          /^--user +-- the per-user service \(launchd agent, systemd --user\)/m.test(screen()),
        () => `status's flags with their help:\n${screen()}`,
      );
      tmux("send-keys", "-t", shell, "C-u");
      tmux("send-keys", "-t", shell, "-l", "--", "forge-agent policy ");
      tmux("send-keys", "-t", shell, "Tab");
      await until(
        () => /^test +-- run the tests embedded in policy files or directories$/m.test(screen()),
        () => `policy's subcommands with their summaries:\n${screen()}`,
      );
      tmux("send-keys", "-t", shell, "C-u");
      tmux("send-keys", "-t", shell, "-l", "--", "forge-agent install --target ");
      tmux("send-keys", "-t", shell, "Tab");
      await until(
        () => /^launchd +systemd$/m.test(screen()),
        () => `--target's choices:\n${screen()}`,
      );
    }
  } finally {
    tmux("kill-server");
  }
}

describe.skipIf(missing("tmux"))("completion on a terminal: Tab in an interactive shell (tmux)", () => {
  it.skipIf(missing("bash"))("bash", async () => {
    await typedInTmux("bash", `source <('${process.execPath}' '${BIN["forge-agent"]}' completion bash)`);
  });
  it.skipIf(missing("zsh"))("zsh", async () => {
    await typedInTmux(
      "zsh",
      `autoload -Uz compinit && compinit -u -d ./zcompdump && source <('${process.execPath}' '${BIN["forge-agent"]}' completion zsh)`,
    );
  });
});
