import { readFileSync } from "node:fs";
import pino from "pino";
import { startCollector } from "../collector/server.js";
import { parse, UsageError } from "./args.js";

/**
 * forge-collector run [--database sqlite:PATH|postgres://…] [--listen HOST:PORT] [--require-registered]
 *   [--register-host ID=PEMFILE]… [--revoke-host ID]… [--synchronous FULL|NORMAL]
 * Admin routes (register/revoke over HTTP) are enabled when FORGE_COLLECTOR_ADMIN_TOKEN is set.
 * Runs until SIGTERM/SIGINT, then closes cleanly (in-flight batches commit and ack first).
 */
export default async function (argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {
    database: { type: "string", default: process.env.FORGE_COLLECTOR_DATABASE ?? "sqlite:./var/collector.db" },
    listen: { type: "string", default: process.env.FORGE_COLLECTOR_LISTEN ?? "127.0.0.1:8787" },
    "require-registered": { type: "boolean", default: false },
    "register-host": { type: "string", multiple: true, default: [] },
    "revoke-host": { type: "string", multiple: true, default: [] },
    synchronous: { type: "string" },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
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
    if (!pem.includes("BEGIN PUBLIC KEY")) throw new UsageError(`--register-host ${spec}: ${file} is not an SPKI PEM`);
    registerHosts[spec.slice(0, eq)] = pem;
  }

  const logger = pino({ name: "forge-collector" }, pino.destination(2));
  const collector = await startCollector({
    database: values.database,
    listen: values.listen,
    requireRegistered: values["require-registered"],
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
  return 0;
}
