/**
 * The CLIs' one declarative spec: every command of `forge-agent` and `forge-collector`, its
 * subcommands, every flag it takes (whether it takes a value, the value's name, its help text).
 * The parsers (args.ts `parse`), `--help`, "did you mean" for an unknown command or flag, and the
 * bash/zsh completion (completion.ts) all read it, so none of them can drift from another.
 */
import { ARTIFACT_KINDS } from "../registry/media-types.js";

export interface FlagSpec {
  /** "string": the flag takes a value; "boolean": it does not. */
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  readonly short?: string;
  readonly default?: boolean | string;
  /** The value's name in help (FILE, DIR, MS …). */
  readonly value?: string;
  /** The values completion offers (an enum); otherwise a value completes as a file name. */
  readonly choices?: readonly string[];
  readonly help: string;
}

export type Flags = Readonly<Record<string, FlagSpec>>;

export interface SubSpec {
  readonly summary: string;
  /** This subcommand's own flags (with the command's `flags`, the whole set it takes). */
  readonly flags: Flags;
}

export interface CommandSpec {
  readonly summary: string;
  /** The synopsis lines (the first after "usage: "); every --flag named here is declared below. */
  readonly usage: string;
  /** Flags every subcommand takes (or the command's, when it has none). */
  readonly flags: Flags;
  readonly sub?: Readonly<Record<string, SubSpec>>;
}

type Extra = Omit<FlagSpec, "type" | "help" | "value">;

/** A flag that takes a value. */
function s<const E extends Extra = Record<never, never>>(help: string, value: string, extra?: E) {
  return { type: "string", value, help, ...(extra as E) } as {
    type: "string";
    value: string;
    help: string;
  } & E;
}

/** A flag that takes none. */
function b<const E extends Extra = Record<never, never>>(help: string, extra?: E) {
  return { type: "boolean", help, ...(extra as E) } as { type: "boolean"; help: string } & E;
}

const JSON_FLAG = { json: b("print one JSON document on stdout instead of text") } as const;
const SOCKET = {
  socket: s(
    "the agent's Unix socket (default: found from FORGE_HOME, the config, the per-user home)",
    "PATH",
  ),
} as const;
const HOME = {
  home: s("the agent's state directory (default: FORGE_HOME, the config's home, the per-user home)", "DIR"),
} as const;
const CONFIG = {
  config: s("the agent's config file (default: FORGE_CONFIG, else the per-user config.yaml)", "FILE"),
} as const;
const TOKEN_FILE = {
  "token-file": s("the review token (default: FORGE_REVIEW_TOKEN_FILE, else <home>/review.token)", "FILE"),
} as const;
const REGISTRY_COMMON = {
  ...JSON_FLAG,
  ...HOME,
  ...CONFIG,
  insecure: b("plain HTTP to a loopback registry (refused for any other host)"),
  "auth-file": s(
    "Docker-style registry auth file (default: the config's, <home>/registry-auth.json, ~/.docker/config.json)",
    "FILE",
  ),
} as const;
const LIFECYCLE = {
  json: b("print one JSON document on stdout instead of text", { default: false }),
  ...HOME,
  ...CONFIG,
  insecure: REGISTRY_COMMON.insecure,
  "auth-file": REGISTRY_COMMON["auth-file"],
} as const;
const SERVICE = {
  user: b("the per-user service (launchd agent, systemd --user) instead of the system one"),
  "dry-run": b("print the files and commands, change nothing"),
  target: s("the service manager (default: this platform's)", "NAME", { choices: ["launchd", "systemd"] }),
  ...HOME,
  ...CONFIG,
  env: s("an environment variable for the service, NAME=VALUE", "NAME=VALUE", { multiple: true }),
  ...JSON_FLAG,
} as const;
const KINDS = ARTIFACT_KINDS;

function completion(prog: string) {
  return {
    summary: `print the shell completion script: eval "$(${prog} completion bash)" (or zsh)`,
    usage: `${prog} completion bash|zsh`,
    flags: {},
    sub: {
      bash: { summary: "the bash completion script", flags: {} },
      zsh: { summary: "the zsh completion script", flags: {} },
    },
  } as const;
}

/** forge-agent's commands, in the order `forge-agent --help` lists them. */
export const AGENT = {
  run: {
    summary: "run the daemon in the foreground (launchd/systemd run this)",
    usage: "forge-agent run [--config FILE] [--home DIR] [--socket PATH] [--policy FILE] [--model SPEC]",
    flags: {
      ...CONFIG,
      ...HOME,
      socket: s("the Unix socket to serve (default <home>/agent.sock)", "PATH"),
      policy: s("a policy file or directory (default: the built-in pack)", "FILE"),
      "collector-url": s("the collector, ws:// or wss:// (unset: records stay local)", "URL"),
      backend: s("the inference backend", "NAME", { choices: ["llama", "ollama", "openai", "none"] }),
      model: s("a GGUF path (llama), a model name (ollama/openai), or oci://…", "SPEC"),
      "host-id": s("this host's ID in records (default: the hostname)", "ID"),
      "log-level": s("the log level", "LEVEL", {
        choices: ["fatal", "error", "warn", "info", "debug", "trace", "silent"],
      }),
    },
  },
  init: {
    summary: "write a commented config template (the per-user config.yaml, or --out FILE)",
    usage: "forge-agent init [--out FILE] [--force] [--json]",
    flags: {
      out: s("where to write it (default: FORGE_CONFIG, else the per-user config.yaml)", "FILE"),
      force: b("overwrite an existing file"),
      ...JSON_FLAG,
    },
  },
  doctor: {
    summary: "check this host: Node, the addon, policy, socket, agent, collector, disk, model, backend",
    usage:
      "forge-agent doctor [--json] [--socket PATH] [--home DIR] [--config FILE]\n" +
      "  exit: 0 every check passed (warnings allowed), 1 a check failed",
    flags: { ...JSON_FLAG, ...SOCKET, ...HOME, ...CONFIG },
  },
  check: {
    summary: "ask the gate about a command, an action or a batch",
    usage:
      "forge-agent check [--policy FILE] [--session ID] [--principal ID] [--cwd DIR] [--workspace DIR]... [--strict] [--json] -- COMMAND...\n" +
      "  forge-agent check [--policy FILE] [--strict] [--json] --action '<json action>'\n" +
      "  forge-agent check [--policy FILE] [--json] --batch FILE\n" +
      "  exit: 0 ALLOW (or ESCALATE), 3 DENY, 4 ESCALATE with --strict, 1 failure, 2 bad usage; --batch exits 0",
    flags: {
      policy: s("a policy file or directory (default: the built-in pack)", "FILE"),
      session: s("the session the command belongs to (composition state)", "ID"),
      principal: s("who proposes it", "ID"),
      cwd: s("the directory the command runs in", "DIR"),
      workspace: s("a workspace root the gate judges paths against", "DIR", { multiple: true }),
      ...JSON_FLAG,
      action: s("a structured action as JSON instead of a command", "JSON"),
      batch: s("a JSON-lines file of actions, one decision a line", "FILE"),
      strict: b("exit 4 on ESCALATE (default: 0)"),
    },
  },
  policy: {
    summary: "run the tests embedded in policy files; confirm a widening reload",
    usage:
      "forge-agent policy test FILE...\n  forge-agent policy reload --confirm [--socket PATH] [--token-file FILE]",
    flags: {},
    sub: {
      test: {
        summary: "run the tests embedded in policy files or directories",
        flags: { ...JSON_FLAG, verbose: b("print every case, not only failures", { short: "v" }) },
      },
      reload: {
        summary: "apply a policy file the agent refused to reload because it widens what is allowed",
        flags: {
          confirm: b("required: a reviewer applies the policy file as it is now"),
          ...SOCKET,
          ...TOKEN_FILE,
          ...JSON_FLAG,
        },
      },
    },
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
    flags: {
      ...SOCKET,
      ...TOKEN_FILE,
      reason: s("the reason recorded with the decision", "TEXT"),
      ...JSON_FLAG,
      wait: s("how long to follow an approved execute:true action (default 60)", "SECONDS"),
      "interval-ms": s("watch: how often the list is refreshed (default 1000)", "MS"),
      notify: b("watch: a desktop notification for each new escalation"),
    },
    sub: {
      list: { summary: "the pending escalations", flags: {} },
      approve: { summary: "approve one (ID or a unique prefix)", flags: {} },
      deny: { summary: "deny one (ID or a unique prefix)", flags: {} },
      watch: { summary: "a live list: a approve, d deny, q quit", flags: {} },
    },
  },
  trace: {
    summary: "reconstruct a session from its evidence",
    usage:
      "forge-agent trace SESSION_ID [--json] [--socket PATH] [--evidence FILE] [--collector-url URL [--collector-token-file FILE] [--collector-key FILE]]",
    flags: {
      ...SOCKET,
      evidence: s("read this evidence file directly when no agent answers", "FILE"),
      "collector-url": s("also read the records the collector holds", "URL"),
      "collector-token-file": s("an operator's secret for the collector (default: this host's key)", "FILE"),
      "collector-key": s("the collector's pinned key (default: <home>/collector-key.pem)", "FILE"),
      ...JSON_FLAG,
    },
  },
  state: {
    summary: "show the gate's composition state (labels, who set them), or ask to clear it (reviewed)",
    usage:
      "forge-agent state show [--session ID] [--principal P] [--json] [--socket PATH]\n" +
      "  forge-agent state clear [--session ID] [--principal P] [--json] [--socket PATH]\n" +
      "  clear is a governed action: it waits for a reviewer; a principal can never clear its own state",
    flags: {
      ...SOCKET,
      session: s("one session's state", "ID"),
      principal: s("one principal's state", "P"),
      ...JSON_FLAG,
    },
    sub: {
      show: { summary: "the composition state", flags: {} },
      clear: { summary: "ask a reviewer to clear it", flags: {} },
    },
  },
  session: {
    summary: "declare a session's workspace roots on the running agent (once, before its first action)",
    usage:
      "forge-agent session workspace SESSION ROOT... [--json] [--socket PATH]\n" +
      "  exit 0 declared, 3 refused (outside the configured workspaces, already declared or acted), 1 no agent",
    flags: { ...SOCKET, ...JSON_FLAG },
    sub: {
      workspace: { summary: "declare the roots the session's actions are judged and run in", flags: {} },
    },
  },
  drift: {
    summary: "reconnaissance: which signals drifted from their reference, and why",
    usage: "forge-agent drift [--json] [--signal NAME] [--since T] [--socket PATH]",
    flags: {
      ...SOCKET,
      signal: s("one signal only", "NAME"),
      since: s("only since T (RFC 3339 or epoch ms)", "T"),
      ...JSON_FLAG,
    },
  },
  train: {
    summary: "a governed training run (exit 0 DONE, 1 HALTED/FAILED, 2 bad job)",
    usage: "forge-agent train JOB.yaml [--resume] [--json] [--home DIR] [--config FILE]",
    flags: {
      resume: b("resume from the last checkpoint", { default: false }),
      ...LIFECYCLE,
    },
  },
  eval: {
    summary: "evaluate a registry model on a registry suite; push the signed result",
    usage: "forge-agent eval --model REF --suite REF [--json] [--home DIR] [--config FILE] [--insecure]",
    flags: {
      ...LIFECYCLE,
      model: s("the model (oci://…)", "REF"),
      suite: s("the eval suite (oci://…)", "REF"),
    },
  },
  promote: {
    summary: "a governed promotion of a model digest to a stage (may ESCALATE)",
    usage:
      "forge-agent promote REF --stage NAME [--reason TEXT] [--json] | promote REF --history [--json]  [--home DIR] [--insecure]",
    flags: {
      ...LIFECYCLE,
      stage: s("the stage to promote to", "NAME"),
      reason: s("the reason recorded with it", "TEXT"),
      history: b("print the model's promotions instead", { default: false }),
    },
  },
  lineage: {
    summary: "from an action back to its model, eval, training run and dataset; or forward from a digest",
    usage:
      "forge-agent lineage ACTION_ID|MODEL_DIGEST [--json] [--collector URL [--token-file FILE] [--collector-key FILE]] [--home DIR] [--config FILE]",
    flags: {
      json: LIFECYCLE.json,
      ...HOME,
      ...CONFIG,
      collector: s("ask the collector instead of the local store", "URL"),
      "token-file": s("an operator's secret for the collector", "FILE"),
      "collector-key": s("the collector's pinned key (default: the agent's pin)", "FILE"),
    },
  },
  verify: {
    summary: "verify the local hash chain and checkpoints",
    usage: "forge-agent verify [--json] [--home DIR] [--db FILE [--keys DIR]]",
    flags: {
      json: LIFECYCLE.json,
      ...HOME,
      db: s("the evidence database (default <home>/evidence.db)", "FILE"),
      keys: s("the key directory (default: beside --db, else <home>/keys)", "DIR"),
    },
  },
  hook: {
    summary: "Claude Code PreToolUse/PostToolUse hook: asks the daemon, answers allow/deny/ask",
    usage: "forge-agent hook claude-code [--socket PATH] [--escalate ask|wait] [--wait-ms MS]",
    flags: {
      ...SOCKET,
      escalate: s("on ESCALATE: ask Claude Code's user, or wait for a reviewer", "MODE", {
        choices: ["ask", "wait"],
      }),
      "wait-ms": s("how long to wait for a reviewer (default 300000)", "MS"),
    },
    sub: { "claude-code": { summary: "the Claude Code hook (stdin: the hook's JSON)", flags: {} } },
  },
  mcp: {
    summary: "governed MCP gateway: stdio toward the agent, every tools/call gated by the daemon",
    usage:
      "forge-agent mcp --config servers.json [--socket PATH] [--session ID] [--wait-ms MS] [--hide-denied [--policy-poll-ms MS]] [--listen HOST:PORT]",
    flags: {
      config: s("the MCP servers to front (servers.json)", "FILE"),
      ...SOCKET,
      session: s("the session its calls belong to (default: a new one)", "ID"),
      "wait-ms": s("how long a call waits for a reviewer", "MS"),
      "hide-denied": b("drop tools the policy denies outright from tools/list"),
      "policy-poll-ms": s("with --hide-denied: how often the policy digest is polled (default 2000)", "MS"),
      listen: s("also serve Streamable HTTP on loopback", "HOST:PORT"),
    },
  },
  metrics: {
    summary: "one platform sample: CPU %, W per rail, memory, temperature",
    usage: "forge-agent metrics [--json] [--interval MS]",
    flags: { ...JSON_FLAG, interval: s("the sampling interval (default 1000)", "MS") },
  },
  install: {
    summary: "install the service (launchd on macOS, systemd on Linux)",
    usage:
      "forge-agent install [--user] [--dry-run] [--target launchd|systemd] [--home DIR] [--config FILE] [--env K=V]...",
    flags: SERVICE,
  },
  uninstall: {
    summary: "remove the service",
    usage: "forge-agent uninstall [--user] [--dry-run] [--target launchd|systemd]",
    flags: SERVICE,
  },
  status: {
    summary: "whether an agent is running (socket, policy, collector, model), and the service's state",
    usage:
      "forge-agent status [--socket PATH] [--home DIR] [--config FILE] [--user] [--target launchd|systemd] [--json]",
    flags: { ...SERVICE, ...SOCKET },
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
    flags: {},
    sub: {
      push: {
        summary: "push a file or directory as an artifact (a governed model.push)",
        flags: {
          ...REGISTRY_COMMON,
          type: s("the artifact kind", "KIND", { choices: KINDS }),
          subject: s("the artifact this one refers to", "REF@DIGEST"),
          annotation: s("an annotation", "K=V", { multiple: true }),
        },
      },
      pull: {
        summary: "pull an artifact, verified against its digest (a governed model.pull)",
        flags: { ...REGISTRY_COMMON, output: s("where to write it", "DIR") },
      },
      ls: { summary: "the tags of a repository", flags: REGISTRY_COMMON },
      inspect: { summary: "an artifact's manifest and files", flags: REGISTRY_COMMON },
      referrers: {
        summary: "the artifacts that refer to one",
        flags: { ...REGISTRY_COMMON, type: s("only this kind", "KIND", { choices: KINDS }) },
      },
      login: {
        summary: "store a registry credential (the password on stdin)",
        flags: {
          ...HOME,
          ...CONFIG,
          username: s("the user name", "USER"),
          "password-stdin": b("read the password from stdin (the only way)"),
          ...JSON_FLAG,
        },
      },
    },
  },
  bench: {
    summary: "run the on-device benchmark suites",
    usage:
      "forge-agent bench [--suite gate,socket,evidence,inference,metrics|shipping|fleet|registry|drift] [--model SPEC] [--backend llama|ollama|openai]\n" +
      "  [--duration S] [--repeat N] [--json FILE|-] [--home DIR] [--config FILE] [--inference-host URL] [--no-record]",
    flags: {
      suite: s("comma-separated suites (default: gate,socket,evidence,inference,metrics)", "LIST"),
      model: s("the model to measure", "SPEC"),
      backend: s("the inference backend", "NAME", { choices: ["llama", "ollama", "openai"] }),
      duration: s("seconds per measurement (default 3)", "S"),
      repeat: s("runs per suite (default 3)", "N"),
      json: s("write the JSON report to FILE (- for stdout)", "FILE"),
      ...HOME,
      ...CONFIG,
      "inference-host": s("the ollama/openai server's base URL", "URL"),
      "no-record": b("do not append the report as a benchmark evidence record", { default: false }),
    },
  },
  completion: completion("forge-agent"),
} as const;

/** forge-collector's commands. */
export const COLLECTOR = {
  run: {
    summary: "run the cluster collector (WebSocket ingest, HTTP API, dashboard)",
    usage:
      "forge-collector run [--database sqlite:PATH|postgres://…] [--listen HOST:PORT] [--operators-file FILE] [--policy-dir DIR --policy-key PUB] [--tolerances FILE] [--drift FILE] [--tls-cert CERT --tls-key KEY | --identity-key FILE]",
    flags: {
      config: s("the collector's config file", "FILE"),
      database: s(
        "sqlite:PATH or postgres://… (default sqlite:~/.local/share/forge-collector/collector.db, $XDG_DATA_HOME honoured)",
        "URL",
      ),
      listen: s("where to listen (default 127.0.0.1:8787)", "HOST:PORT"),
      "require-registered": b("refuse hosts that are not registered"),
      "register-host": s("register a host's key", "ID=PEMFILE", { multiple: true }),
      "revoke-host": s("revoke a host", "ID", { multiple: true }),
      synchronous: s("SQLite synchronous", "MODE", { choices: ["FULL", "NORMAL"] }),
      operator: s("gone: a secret on the command line is readable by every local user", "NAME=SECRET", {
        multiple: true,
      }),
      "operators-file": s("the operators file ('forge-collector operator add')", "FILE"),
      "max-pinned-hosts": s("how many first-use host keys to pin", "N"),
      "policy-dir": s("signed policy bundles to serve", "DIR"),
      "policy-key": s("the bundle signing public key", "PUB"),
      "tls-cert": s("TLS certificate (serve wss:// and https://)", "CERT"),
      "tls-key": s("TLS private key", "KEY"),
      "identity-key": s(
        "without TLS: the signing key file agents pin (default beside a SQLite database; for PostgreSQL identity.key in the data directory)",
        "FILE",
      ),
      tolerances: s("fleet tolerances file", "FILE"),
      drift: s("drift configuration file", "FILE"),
    },
  },
  policy: {
    summary: "sign a policy bundle, or make the signing key",
    usage:
      "forge-collector policy keygen [--out DIR] | policy sign FILE_OR_DIR --key KEY [--version N] [--id ID] [--out FILE] | policy verify FILE --pub KEY",
    flags: {},
    sub: {
      keygen: {
        summary: "make the bundle signing key pair",
        flags: { out: s("where to write the pair (default .)", "DIR"), ...JSON_FLAG },
      },
      sign: {
        summary: "sign a policy file or directory into a bundle",
        flags: {
          key: s("the private key from 'policy keygen'", "KEY"),
          version: s("the bundle's version", "N"),
          id: s("the bundle's ID", "ID"),
          out: s("where to write the bundle", "FILE"),
          ...JSON_FLAG,
        },
      },
      verify: {
        summary: "verify a signed bundle",
        flags: {
          pub: s("the public key agents pin", "KEY"),
          "current-version": s("refuse a version not above this", "N"),
          ...JSON_FLAG,
        },
      },
    },
  },
  tls: {
    summary: "make the collector's self-signed TLS certificate and key (agents pin it), or rotate them",
    usage:
      "forge-collector tls init [--out DIR] [--name HOST]... [--days N] [--json] | tls rotate [--dir DIR] [--name HOST]... [--days N] [--json]",
    flags: {
      name: s("a name the certificate is valid for", "HOST", { multiple: true }),
      days: s("validity in days", "N"),
      ...JSON_FLAG,
    },
    sub: {
      init: { summary: "a new pair", flags: { out: s("where to write it (default .)", "DIR") } },
      rotate: {
        summary: "a new pair signed by the old one",
        flags: { dir: s("the directory holding the pair (default .)", "DIR") },
      },
    },
  },
  operator: {
    summary: "add an operator (or change their password) in an operators file",
    usage:
      "forge-collector operator add NAME --file FILE   (the password is read from stdin, never from the command line)",
    flags: { file: s("the operators file", "FILE") },
    sub: { add: { summary: "add or update an operator", flags: {} } },
  },
  completion: completion("forge-collector"),
} as const;

// Both tables are CommandSpec tables (declared `as const` for parseArgs' typed values, checked here).
const _agent: Readonly<Record<string, CommandSpec>> = AGENT;
const _collector: Readonly<Record<string, CommandSpec>> = COLLECTOR;
void _agent;
void _collector;

export type Program = "forge-agent" | "forge-collector";

export const PROGRAMS: Readonly<Record<Program, Readonly<Record<string, CommandSpec>>>> = {
  "forge-agent": AGENT,
  "forge-collector": COLLECTOR,
};

/** The whole set of flags `cmd` takes, or `cmd sub` when given. */
export function flagsOf(cmd: CommandSpec, sub?: string): Flags {
  if (sub !== undefined && cmd.sub?.[sub] !== undefined) return { ...cmd.flags, ...cmd.sub[sub].flags };
  if (cmd.sub === undefined) return cmd.flags;
  // Without a subcommand: every flag any of them takes (help, completion before the subcommand).
  return Object.assign({}, cmd.flags, ...Object.values(cmd.sub).map((x) => x.flags));
}

function flagLine(name: string, f: FlagSpec): [string, string] {
  const head = `${f.short ? `-${f.short}, ` : ""}--${name}${f.type === "string" ? ` ${f.value ?? "VALUE"}` : ""}`;
  const tail = f.choices ? ` (${f.choices.join("|")})` : "";
  return [head, `${f.help}${tail}${f.multiple ? " (repeatable)" : ""}`];
}

function table(rows: [string, string][], indent: string): string[] {
  const w = Math.max(...rows.map((r) => r[0].length));
  return rows.map(([a, z]) => `${indent}${a.padEnd(w)}  ${z}`);
}

/** `PROG CMD --help`: the synopsis, then every flag the command (and each subcommand) takes. */
export function commandHelp(prog: Program, name: string, cmd: CommandSpec): string {
  const out = [`usage: ${cmd.usage}`, "", cmd.summary];
  const own = Object.entries(cmd.flags);
  if (cmd.sub) {
    out.push("", "subcommands:");
    for (const [sn, sub] of Object.entries(cmd.sub)) {
      out.push(`  ${prog} ${name} ${sn}: ${sub.summary}`);
      const rows = Object.entries(sub.flags).map(([f, spec]) => flagLine(f, spec));
      if (rows.length > 0) out.push(...table(rows, "      "));
    }
  }
  out.push("", cmd.sub && own.length > 0 ? "flags (every subcommand):" : "flags:");
  out.push(...table([...own.map(([f, spec]) => flagLine(f, spec)), ["-h, --help", "this help"]], "  "));
  return out.join("\n");
}

/** Every `--flag` the synopsis names (for the test that keeps synopsis and spec in step). */
export function usageFlags(cmd: CommandSpec): string[] {
  return [...new Set([...cmd.usage.matchAll(/--([a-z][a-z0-9-]*)/g)].map((m) => m[1]!))];
}
