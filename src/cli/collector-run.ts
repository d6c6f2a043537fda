import { readFileSync } from "node:fs";
import pino from "pino";
import { parse as parseYaml } from "yaml";
import { fleetPlugin } from "../collector/fleet-plugin.js";
import { type Operator, parseOperator, parseOperatorsFile } from "../collector/operators.js";
import { startCollector } from "../collector/server.js";
import { intFlag, parse, UsageError } from "./args.js";

/**
 * forge-collector run [--database sqlite:PATH|postgres://…] [--listen HOST:PORT] [--require-registered]
 *   [--register-host ID=PEMFILE]… [--revoke-host ID]… [--synchronous FULL|NORMAL] [--operators-file FILE]
 * Admin routes (register/revoke over HTTP) are enabled when FORGE_COLLECTOR_ADMIN_TOKEN is set.
 * Runs until SIGTERM/SIGINT, then closes cleanly (in-flight batches commit and ack first).
 */
export default async function (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    database: {
      type: "string",
      default: process.env.FORGE_COLLECTOR_DATABASE ?? "sqlite:./var/collector.db",
    },
    listen: { type: "string", default: process.env.FORGE_COLLECTOR_LISTEN ?? "127.0.0.1:8787" },
    "require-registered": { type: "boolean", default: false },
    "max-pinned-hosts": { type: "string" },
    "register-host": { type: "string", multiple: true, default: [] },
    "revoke-host": { type: "string", multiple: true, default: [] },
    synchronous: { type: "string" },
    operator: { type: "string", multiple: true, default: [] },
    "operators-file": { type: "string", default: process.env.FORGE_COLLECTOR_OPERATORS_FILE },
    "policy-dir": { type: "string" },
    "policy-key": { type: "string" },
    tolerances: { type: "string" },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (values.operator.length > 0) {
    // A secret on the command line is in /proc/PID/cmdline, which every local user can read.
    throw new UsageError(
      "--operator NAME=SECRET is gone: a password on the command line is readable by every local user. Add operators to a file with 'forge-collector operator add NAME --file FILE' (password on stdin) and pass --operators-file FILE (or FORGE_COLLECTOR_OPERATORS_FILE), or set FORGE_COLLECTOR_OPERATORS=name=secret,…",
    );
  }
  const sync = values.synchronous?.toUpperCase();
  if (sync !== undefined && sync !== "FULL" && sync !== "NORMAL") {
    throw new UsageError("--synchronous must be FULL or NORMAL");
  }
  const registerHosts: Record<string, string> = {};
  for (const spec of values["register-host"]) {
    const eq = spec.indexOf("=");
    if (eq <= 0) throw new UsageError(`--register-host wants ID=PEMFILE, got '${spec}'`);
    const file = spec.slice(eq + 1);
    let pem: string;
    try {
      pem = readFileSync(file, "utf8");
    } catch (err) {
      throw new UsageError(`--register-host ${spec}: cannot read ${file}: ${(err as Error).message}`);
    }
    if (!pem.includes("BEGIN PUBLIC KEY"))
      throw new UsageError(`--register-host ${spec}: ${file} is not an SPKI PEM`);
    registerHosts[spec.slice(0, eq)] = pem;
  }

  const fleet = fleetFromFlags(values);
  const logger = pino({ name: "forge-collector" }, pino.destination(2));
  const collector = await startCollector({
    plugins: [fleet.plugin],
    database: values.database,
    listen: values.listen,
    requireRegistered: values["require-registered"],
    maxPinnedHosts: intFlag(values["max-pinned-hosts"], "max-pinned-hosts", 1000, 0),
    registerHosts,
    revokeHosts: values["revoke-host"],
    adminToken: process.env.FORGE_COLLECTOR_ADMIN_TOKEN || null,
    synchronous: sync as "FULL" | "NORMAL" | undefined,
    logger,
  });
  // One line on stdout so scripts and tests learn the bound address (port 0 picks one).
  process.stdout.write(`${JSON.stringify({ url: collector.url, http: collector.httpUrl })}\n`);
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  logger.info({ signal }, "shutting down");
  await collector.close();
  fleet.close();
  return 0;
}

/**
 * The fleet parts (docs/fleet.md): operators from --operators-file FILE (scrypt hashes) and
 * FORGE_COLLECTOR_OPERATORS ("a=s1,b=s2", hashed at start), signed bundles from --policy-dir
 * (verified with --policy-key), tolerances from --tolerances FILE (YAML/JSON).
 */
function fleetFromFlags(values: {
  "operators-file"?: string;
  "policy-dir"?: string;
  "policy-key"?: string;
  tolerances?: string;
}) {
  const operators: Operator[] = (process.env.FORGE_COLLECTOR_OPERATORS ?? "")
    .split(",")
    .filter(Boolean)
    .map(parseOperator);
  const read = (flag: string, file: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch (err) {
      throw new UsageError(`--${flag} ${file}: ${(err as Error).message}`);
    }
  };
  if (values["policy-key"] !== undefined && values["policy-dir"] === undefined)
    throw new UsageError("--policy-key needs --policy-dir");
  const file = values["operators-file"];
  if (file !== undefined) operators.push(...parseOperatorsFile(read("operators-file", file), file));
  return fleetPlugin({
    operators,
    metricsToken: process.env.FORGE_COLLECTOR_METRICS_TOKEN || null,
    policyDir: values["policy-dir"],
    policyKeyPem: values["policy-key"] === undefined ? undefined : read("policy-key", values["policy-key"]),
    tolerances:
      values.tolerances === undefined ? undefined : parseYaml(read("tolerances", values.tolerances)),
  });
}
