import { readFileSync } from "node:fs";
import { Codes, hasForgeCode } from "../errors.js";
import { UsageError, unknown } from "./args.js";
import { type CommandSpec, commandHelp, PROGRAMS, type Program } from "./spec.js";

/** The process environment, read once by the bin/ entry point and handed down. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * A subcommand: gets the arguments after its name and the environment, returns the exit code
 * (0 ok, 1 failure, 2 usage).
 */
export type Command = (argv: string[], env: Env) => Promise<number>;

/** How each command of a program is loaded (its flags, usage and help live in spec.ts). */
export type Loaders = Readonly<Record<string, () => Promise<{ default: Command }>>>;

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8"));
  return pkg.version as string;
}

const TAGLINE: Record<Program, string> = {
  "forge-agent": "forge-agent: a governed edge inference agent",
  "forge-collector": "forge-collector: the cluster collector (ingest, fleet API, dashboard)",
};

/** `PROG --help`: every command with its summary (the lines test/architecture/docs.test.ts reads). */
export function programHelp(prog: Program): string {
  const spec = PROGRAMS[prog];
  const width = Math.max(...Object.keys(spec).map((k) => k.length));
  const lines = Object.entries(spec).map(([k, e]) => `  ${k.padEnd(width)}  ${e.summary}`);
  return [
    TAGLINE[prog],
    "",
    `usage: ${prog} <command> [options]`,
    "",
    "commands:",
    ...lines,
    "",
    `options: --help, --version. '${prog} <command> --help' lists every flag a command takes.`,
    prog === "forge-agent"
      ? "exit codes: 0 ok, 1 failure, 2 bad usage; check also 3 DENY, 4 ESCALATE with --strict"
      : "exit codes: 0 ok, 1 failure, 2 bad usage",
  ].join("\n");
}

/** True when --help/-h comes before any `--` (after it, words belong to the checked command). */
function asksHelp(argv: string[]): boolean {
  for (const a of argv) {
    if (a === "--") return false;
    if (a === "--help" || a === "-h") return true;
  }
  return false;
}

/** Runs one invocation of `prog` and returns its exit code. */
export async function dispatch(prog: Program, loaders: Loaders, argv: string[], env: Env): Promise<number> {
  const spec = PROGRAMS[prog];
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${programHelp(prog)}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    process.stdout.write(`${prog} ${version()}\n`);
    return 0;
  }
  const cmd = spec[name];
  const load = loaders[name];
  if (cmd === undefined || load === undefined) {
    const e = unknown("command", name, Object.keys(spec));
    process.stderr.write(`${prog}: ${e.code}: ${e.message}\nsee '${prog} --help'\n`);
    return 2;
  }
  if (asksHelp(rest)) {
    process.stdout.write(`${commandHelp(prog, name, cmd)}\n`);
    return 0;
  }
  if (cmd.sub !== undefined && rest[0] !== undefined && !rest[0].startsWith("-") && !(rest[0] in cmd.sub)) {
    const e = unknown("subcommand", rest[0], Object.keys(cmd.sub));
    process.stderr.write(`${prog} ${name}: ${e.code}: ${e.message}\nusage: ${cmd.usage}\n`);
    return 2;
  }
  return runCommand(prog, name, cmd, load, rest, env);
}

/** Loads and runs a command, mapping usage errors to exit 2 and coded errors to exit 1. */
async function runCommand(
  prog: Program,
  name: string,
  cmd: CommandSpec,
  load: () => Promise<{ default: Command }>,
  argv: string[],
  env: Env,
): Promise<number> {
  try {
    const m = await load();
    return await m.default(argv, env);
  } catch (err) {
    if (err instanceof UsageError || (hasForgeCode(err) && err.code === Codes.USAGE)) {
      const code = err.code === Codes.USAGE ? "" : `${err.code}: `;
      process.stderr.write(
        `${prog}: ${code}${err.message}\nusage: ${cmd.usage}\n('${prog} ${name} --help' lists every flag)\n`,
      );
      return 2;
    }
    const code = hasForgeCode(err) ? `${err.code}: ` : "";
    process.stderr.write(`${prog}: ${code}${(err as Error).message ?? String(err)}\n`);
    return 1;
  }
}
