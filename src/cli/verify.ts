import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { agentPaths } from "../agent/client.js";
import { hasForgeCode } from "../errors.js";
import { type VerifyReport, verifyStore } from "../evidence/index.js";
import { parse, printJson } from "./args.js";
import type { Env } from "./forge-agent.js";
import { AGENT } from "./spec.js";

/**
 * forge-agent verify [--json] [--home DIR | --db PATH] [--keys DIR]
 * Recomputes the local hash chain and checkpoint signatures; exit 0 when intact, 1 when not.
 * The evidence file is <home>/evidence.db and the host key <home>/keys/ (home: --home, else as
 * the daemon resolves it: FORGE_HOME, the config file, the per-user default).
 */
export default async function verify(argv: string[], env: Env): Promise<number> {
  const { values } = parse(argv, AGENT.verify.flags, false);
  const home = values.home === undefined ? agentPaths(env).home : resolve(values.home);
  const dbPath = resolve(values.db ?? join(home, "evidence.db"));
  // With --db alone, the keys are expected beside the database, as under a home directory.
  const keyDir =
    values.keys ??
    (values.db !== undefined && values.home === undefined
      ? join(dirname(dbPath), "keys")
      : join(home, "keys"));
  let report: VerifyReport;
  try {
    report = verifyStore(dbPath, existsSync(keyDir) ? { keyDir } : {});
  } catch (err) {
    // --json promises one JSON document on stdout, failures included.
    if (values.json && hasForgeCode(err)) {
      printJson({ db: dbPath, ok: false, error: { code: err.code, message: err.message } });
      return 1;
    }
    throw err;
  }
  if (values.json) {
    printJson({ db: dbPath, ...report });
  } else if (report.ok) {
    process.stdout.write(
      `ok: ${dbPath}: ${report.records} records (chain through seq ${report.last_seq}), ${report.checkpoints} checkpoints verified (key from ${report.key_source})\n`,
    );
  } else {
    process.stdout.write(`FAILED: ${dbPath}: first bad seq ${report.first_bad_seq}\n`);
    for (const p of report.problems.slice(0, 20))
      process.stdout.write(`  seq ${p.seq}: ${p.code}: ${p.message}\n`);
    if (report.problems.length > 20) process.stdout.write(`  … ${report.problems.length - 20} more\n`);
  }
  return report.ok ? 0 : 1;
}
