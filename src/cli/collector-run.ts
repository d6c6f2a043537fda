import { type CollectorFlags, loadCollectorConfig } from "../collector/config.js";
import { driftPlugin } from "../collector/drift.js";
import { fleetPlugin } from "../collector/fleet-plugin.js";
import { startCollector } from "../collector/server.js";
import type { DriftConfigInput } from "../drift/config.js";
import { processLogger } from "../platform/log.js";
import { parse, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { COLLECTOR } from "./spec.js";

/**
 * forge-collector run [--config FILE] [--database sqlite:PATH|postgres://…] [--listen HOST:PORT]
 *   [--require-registered] [--register-host ID=PEMFILE]… [--revoke-host ID]… [--synchronous FULL|NORMAL]
 *   [--operators-file FILE] [--max-pinned-hosts N] [--policy-dir DIR [--policy-key PUB]] [--tolerances FILE] [--drift FILE]
 *   [--tls-cert CERT --tls-key KEY | --identity-key FILE]
 * The configuration (src/collector/config.ts): file, then FORGE_COLLECTOR_*, then these flags.
 * Admin routes (register/revoke over HTTP) are enabled when admin_token (FORGE_COLLECTOR_ADMIN_TOKEN) is set.
 * Runs until SIGTERM/SIGINT, then closes cleanly (in-flight batches commit and ack first).
 */
export default async function (argv: string[], env: Env): Promise<number> {
  const { values, positionals } = parse(argv, COLLECTOR.run.flags);
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  if (values.operator !== undefined && values.operator.length > 0) {
    // A secret on the command line is in /proc/PID/cmdline, which every local user can read.
    throw new UsageError(
      "--operator NAME=SECRET is gone: a password on the command line is readable by every local user. Add operators to a file with 'forge-collector operator add NAME --file FILE' (password on stdin) and pass --operators-file FILE (or FORGE_COLLECTOR_OPERATORS_FILE), or set FORGE_COLLECTOR_OPERATORS=name=secret,…",
    );
  }
  const { "register-host": register, operator: _gone, ...rest } = values;
  const flags: CollectorFlags = { ...rest };
  if (register !== undefined) flags["register-host"] = registerHostFlags(register);
  const config = loadCollectorConfig({ flags, env });

  const fleet = fleetPlugin({
    operators: [...config.operators],
    policyDir: config.policy_dir,
    policyKeyPem: config.policy_key_pem,
    tolerances: config.tolerances,
    metricsToken: config.metrics_token ?? null,
    reviewRoles: config.review_roles,
  });
  // After the fleet plugin: drift follows the records and heartbeat handlers installed before it.
  const drift = driftPlugin({ config: config.drift as DriftConfigInput | undefined });
  const logger = processLogger({ name: "forge-collector" }, 2);
  const collector = await startCollector({
    plugins: [fleet.plugin, drift.plugin],
    database: config.database,
    listen: config.listen,
    requireRegistered: config.require_registered,
    maxPinnedHosts: config.max_pinned_hosts,
    registerHosts: config.register_hosts,
    revokeHosts: [...config.revoke_hosts],
    adminToken: config.admin_token ?? null,
    synchronous: config.synchronous,
    tls: config.tls,
    ...(config.identity_key !== undefined ? { identityKeyFile: config.identity_key } : {}),
    logger,
  });
  // One line on stdout so scripts and tests learn the bound address (port 0 picks one).
  process.stdout.write(
    `${JSON.stringify({ url: collector.url, http: collector.httpUrl, fingerprint: collector.identity.fingerprint })}\n`,
  );
  // And one for a person, on stderr beside the JSON log lines.
  const signIn =
    config.operators.length > 0
      ? `${config.operators.length} operator(s) can sign in`
      : "no operators configured, nobody can sign in: see the warning above";
  process.stderr.write(
    `forge-collector: dashboard ${collector.httpUrl}/ (${signIn}); agents connect to ${collector.url}\n`,
  );
  const signal = await new Promise<string>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  logger.info({ signal }, "shutting down");
  await collector.close();
  fleet.close();
  return 0;
}

/** `--register-host ID=PEMFILE`, repeatable: ID → PEM file. */
function registerHostFlags(specs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    if (eq <= 0) throw new UsageError(`--register-host wants ID=PEMFILE, got '${spec}'`);
    out[spec.slice(0, eq)] = spec.slice(eq + 1);
  }
  return out;
}
