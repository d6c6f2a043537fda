import { readFileSync } from "node:fs";
import { Codes, hasForgeCode } from "../errors.js";
import { UsageError } from "./args.js";

/** The process environment, read once by the bin/ entry point and handed down. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * A subcommand: gets the arguments after its name and the environment, returns the exit code
 * (0 ok, 1 failure, 2 usage).
 */
export type Command = (argv: string[], env: Env) => Promise<number>;

interface Entry {
  summary: string;
  usage: string;
  load: () => Promise<{ default: Command }>;
}

const COMMANDS: Record<string, Entry> = {
  run: {
    summary: "run the daemon in the foreground (launchd/systemd run this)",
    usage: "forge-agent run [--config FILE]",
    load: () => import("./run.js"),
  },
  check: {
    summary: "ask the gate about a command, an action or a batch",
    usage:
      "forge-agent check [--policy FILE] [--session ID] [--principal ID] [--cwd DIR] [--workspace DIR]... [--strict] [--json] -- COMMAND...\n" +
      "  forge-agent check [--policy FILE] [--strict] [--json] --action '<json action>'\n" +
      "  forge-agent check [--policy FILE] [--json] --batch FILE\n" +
      "  exit: 0 ALLOW (or ESCALATE), 3 DENY, 4 ESCALATE with --strict, 1 failure, 2 bad usage; --batch exits 0",
    load: () => import("./check.js"),
  },
  policy: {
    summary: "run the tests embedded in policy files; confirm a widening reload",
    usage:
      "forge-agent policy test FILE...\n  forge-agent policy reload --confirm [--socket PATH] [--token-file FILE]",
    load: () => import("./policy.js"),
  },
  review: {
    summary: "list, approve or deny pending escalations",
    usage:
      "forge-agent review list | approve ID | deny ID [--reason TEXT] [--token-file FILE] [--socket PATH] [--json] [--wait SECONDS]\n" +
      "  forge-agent review watch [--notify] [--interval-ms MS] [--reason TEXT] [--token-file FILE] [--socket PATH]\n" +
      "  ID may be a unique prefix of a pending action's ID, as git takes a commit's; an approved\n" +
      "  execute:true action is followed (at most --wait, default 60 s) and its result shown.\n" +
      "  watch: a live list (a approve, d deny, q quit); --notify (or FORGE_REVIEW_NOTIFY=1) raises a\n" +
      "  desktop notification (notify-send, osascript) for each new escalation",
    load: () => import("./review.js"),
  },
  trace: {
    summary: "reconstruct a session from its evidence",
    usage:
      "forge-agent trace SESSION_ID [--json] [--socket PATH] [--evidence FILE] [--collector-url URL [--collector-token-file FILE]]",
    load: () => import("./trace.js"),
  },
  state: {
    summary: "show the gate's composition state (labels, who set them), or ask to clear it (reviewed)",
    usage:
      "forge-agent state show [--session ID] [--principal P] [--json] [--socket PATH]\n" +
      "  forge-agent state clear [--session ID] [--principal P] [--json] [--socket PATH]\n" +
      "  clear is a governed action: it waits for a reviewer; a principal can never clear its own state",
    load: () => import("./state.js"),
  },
  drift: {
    summary: "reconnaissance: which signals drifted from their reference, and why",
    usage: "forge-agent drift [--json] [--signal NAME] [--since T] [--socket PATH]",
    load: () => import("./drift.js"),
  },
  train: {
    summary: "a governed training run (exit 0 DONE, 1 HALTED/FAILED, 2 bad job)",
    usage: "forge-agent train JOB.yaml [--resume] [--json] [--home DIR] [--config FILE]",
    load: () => import("./train.js"),
  },
  eval: {
    summary: "evaluate a registry model on a registry suite; push the signed result",
    usage: "forge-agent eval --model REF --suite REF [--json] [--home DIR] [--config FILE] [--insecure]",
    load: () => import("./eval.js"),
  },
  promote: {
    summary: "a governed promotion of a model digest to a stage (may ESCALATE)",
    usage:
      "forge-agent promote REF --stage NAME [--reason TEXT] [--json] | promote REF --history [--json]  [--home DIR] [--insecure]",
    load: () => import("./promote.js"),
  },
  lineage: {
    summary: "from an action back to its model, eval, training run and dataset; or forward from a digest",
    usage:
      "forge-agent lineage ACTION_ID|MODEL_DIGEST [--json] [--collector URL [--token-file FILE]] [--home DIR] [--config FILE]",
    load: () => import("./lineage.js"),
  },
  verify: {
    summary: "verify the local hash chain and checkpoints",
    usage: "forge-agent verify [--json]",
    load: () => import("./verify.js"),
  },
  hook: {
    summary: "Claude Code PreToolUse/PostToolUse hook: asks the daemon, answers allow/deny/ask",
    usage: "forge-agent hook claude-code [--socket PATH] [--escalate ask|wait] [--wait-ms MS]",
    load: () => import("./hook.js"),
  },
  mcp: {
    summary: "governed MCP gateway: stdio toward the agent, every tools/call gated by the daemon",
    usage:
      "forge-agent mcp --config servers.json [--socket PATH] [--session ID] [--wait-ms MS] [--hide-denied [--policy-poll-ms MS]] [--listen HOST:PORT]",
    load: () => import("./mcp.js"),
  },
  metrics: {
    summary: "one platform sample: CPU %, W per rail, memory, temperature",
    usage: "forge-agent metrics [--json] [--interval MS]",
    load: () => import("./metrics.js"),
  },
  install: {
    summary: "install the service (launchd on macOS, systemd on Linux)",
    usage: "forge-agent install [--user] [--dry-run] [--target launchd|systemd]",
    load: () => import("./service.js").then((m) => ({ default: m.install })),
  },
  uninstall: {
    summary: "remove the service",
    usage: "forge-agent uninstall [--user] [--dry-run] [--target launchd|systemd]",
    load: () => import("./service.js").then((m) => ({ default: m.uninstall })),
  },
  status: {
    summary: "show the service's state",
    usage: "forge-agent status [--user] [--dry-run] [--target launchd|systemd]",
    load: () => import("./service.js").then((m) => ({ default: m.status })),
  },
  registry: {
    summary: "push, pull, list and inspect OCI artifacts (models, datasets, templates, eval corpora)",
    usage:
      "forge-agent registry push PATH --type KIND REF [--subject REF@DIGEST] [--annotation K=V]... [--json]\n" +
      "  forge-agent registry pull REF[@DIGEST] [--output DIR] [--json]\n" +
      "  forge-agent registry ls HOST/REPO [--json] | inspect REF [--json] | referrers REF [--type KIND] [--json]\n" +
      "  forge-agent registry login HOST --username USER --password-stdin\n" +
      "  common: [--home DIR] [--config FILE] [--insecure (loopback only)] [--auth-file FILE]\n" +
      "  KIND: model|dataset|prompt-template|eval-corpus|eval-result|provenance|signature",
    load: () => import("./registry.js"),
  },
  bench: {
    summary: "run the on-device benchmark suites",
    usage:
      "forge-agent bench [--suite gate,socket,evidence,inference,metrics|shipping|fleet|registry|drift] [--model SPEC] [--backend llama|ollama|openai]\n" +
      "  [--duration S] [--json FILE|-] [--home DIR] [--config FILE] [--inference-host URL] [--no-record]",
    load: () => import("./bench.js"),
  },
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
  return pkg.version as string;
}

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = Object.entries(COMMANDS).map(([k, e]) => `  ${k.padEnd(width)}  ${e.summary}`);
  return [
    "forge-agent: a governed edge inference agent",
    "",
    "usage: forge-agent <command> [options]",
    "",
    "commands:",
    ...lines,
    "",
    "options: --help, --version. 'forge-agent <command> --help' shows a command's usage.",
    "exit codes: 0 ok, 1 failure, 2 bad usage; check also 3 DENY, 4 ESCALATE with --strict",
  ].join("\n");
}

/** Runs one forge-agent invocation and returns its exit code. */
export async function main(argv: string[], env: Env): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${help()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    process.stdout.write(`forge-agent ${version()}\n`);
    return 0;
  }
  const entry = COMMANDS[name];
  if (entry === undefined) {
    process.stderr.write(`forge-agent: unknown command '${name}'\n\n${help()}\n`);
    return 2;
  }
  if (rest[0] === "--help" || rest[0] === "-h") {
    process.stdout.write(`usage: ${entry.usage}\n`);
    return 0;
  }
  return runCommand(entry, rest, "forge-agent", env);
}

/** Loads and runs a command, mapping usage errors to exit 2 and coded errors to exit 1. */
export async function runCommand(entry: Entry, argv: string[], prog: string, env: Env): Promise<number> {
  try {
    const cmd = await entry.load();
    return await cmd.default(argv, env);
  } catch (err) {
    if (err instanceof UsageError || (hasForgeCode(err) && err.code === Codes.USAGE)) {
      process.stderr.write(`${prog}: ${err.message}\nusage: ${entry.usage}\n`);
      return 2;
    }
    const code = hasForgeCode(err) ? `${err.code}: ` : "";
    process.stderr.write(`${prog}: ${code}${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
}
