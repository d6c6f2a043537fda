import { type Env, runCommand, version } from "./forge-agent.js";

const COMMANDS = {
  run: {
    summary: "run the cluster collector (WebSocket ingest, HTTP API, dashboard)",
    usage:
      "forge-collector run [--database sqlite:PATH|postgres://…] [--listen HOST:PORT] [--operators-file FILE] [--policy-dir DIR --policy-key PUB] [--tolerances FILE] [--drift FILE] [--tls-cert CERT --tls-key KEY]",
    load: () => import("./collector-run.js"),
  },
  policy: {
    summary: "sign a policy bundle, or make the signing key",
    usage:
      "forge-collector policy keygen [--out DIR] | policy sign FILE_OR_DIR --key KEY [--version N] [--id ID] [--out FILE] | policy verify FILE --pub KEY",
    load: () => import("./collector-policy.js"),
  },
  tls: {
    summary: "make the collector's self-signed TLS certificate and key (agents pin it), or rotate them",
    usage:
      "forge-collector tls init [--out DIR] [--name HOST]... [--days N] [--json] | tls rotate [--dir DIR] [--name HOST]... [--days N] [--json]",
    load: () => import("./collector-tls.js"),
  },
  operator: {
    summary: "add an operator (or change their password) in an operators file",
    usage:
      "forge-collector operator add NAME --file FILE   (the password is read from stdin, never from the command line)",
    load: () => import("./collector-operator.js"),
  },
};

/** Runs one forge-collector invocation and returns its exit code. */
export async function main(argv: string[], env: Env): Promise<number> {
  const [name, ...rest] = argv;
  if (name === "--version" || name === "-V") {
    process.stdout.write(`forge-collector ${version()}\n`);
    return 0;
  }
  const entry = name === undefined ? undefined : COMMANDS[name as keyof typeof COMMANDS];
  if (entry === undefined) {
    const list = Object.entries(COMMANDS).map(([k, e]) => `  ${k.padEnd(7)} ${e.summary}`);
    const text = `usage: forge-collector <command> [options]\n\ncommands:\n${list.join("\n")}\n`;
    const ok = name === "--help" || name === "-h";
    (ok ? process.stdout : process.stderr).write(
      ok ? text : `forge-collector: unknown command '${name ?? ""}'\n${text}`,
    );
    return ok ? 0 : 2;
  }
  if (rest[0] === "--help" || rest[0] === "-h") {
    process.stdout.write(`usage: ${entry.usage}\n`);
    return 0;
  }
  return runCommand(entry, rest, "forge-collector", env);
}
