import { dirname, join, resolve } from "node:path";
import { callAgent, defaultSocketPath, unwrap } from "../agent/client.js";
import { buildTrace, formatTrace, type Trace } from "../agent/trace.js";
import { Codes, hasForgeCode } from "../errors.js";
import type { StoredRecord } from "../protocol/record.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";

/**
 * `forge-agent trace SESSION_ID [--json]`: asks the running agent; when none answers, reads the
 * evidence file directly (--evidence, else beside --socket, else <FORGE_HOME or ./var>/evidence.db).
 */
export default async function trace(argv: string[], env: Env): Promise<number> {
  const { values, positionals } = parse(argv, {
    socket: { type: "string" },
    evidence: { type: "string" },
    "collector-url": { type: "string" },
    json: { type: "boolean" },
  });
  if (positionals.length !== 1) throw new UsageError("give exactly one SESSION_ID");
  const session = positionals[0]!;
  const socket = values.socket ?? defaultSocketPath(env);
  let t: Trace;
  try {
    t = unwrap<Trace>(await callAgent(socket, "GET", `/v1/sessions/${encodeURIComponent(session)}/trace`));
  } catch (err) {
    if (!hasForgeCode(err) || err.code !== Codes.AGENT_UNREACHABLE) throw err;
    // Without --evidence: the file beside the socket when --socket was given, else <FORGE_HOME>/evidence.db.
    const home =
      values.socket !== undefined ? dirname(resolve(values.socket)) : resolve(env.FORGE_HOME ?? "./var");
    const path = resolve(values.evidence ?? join(home, "evidence.db"));
    process.stderr.write(`forge-agent: no agent on ${socket}; reading ${path}\n`);
    const local = await readSessionFromFile(path, session);
    // Records the collector acked are pruned locally; fetch them back when we know where it is.
    const collector = values["collector-url"] ?? env.FORGE_COLLECTOR_URL;
    let archived: StoredRecord[] = [];
    if (collector) {
      const { collectorArchive } = await import("../agent/archive.js");
      const hostId = local.hostId;
      try {
        archived = await collectorArchive(collector, hostId)(session);
      } catch (err) {
        process.stderr.write(
          `forge-agent: collector ${collector} not reachable (${(err as Error).message}); local records only\n`,
        );
      }
    }
    const bySeq = new Map<number, StoredRecord>();
    for (const r of [...archived, ...local.records]) bySeq.set(r.seq, r);
    t = buildTrace(session, [...bySeq.values()]);
  }
  if (values.json) printJson(t);
  else process.stdout.write(`${formatTrace(t)}\n`);
  return t.steps.length > 0 ? 0 : 1;
}

/** Read-only look at the evidence file while the daemon is down. */
async function readSessionFromFile(path: string, session: string) {
  const { existsSync } = await import("node:fs");
  if (!existsSync(path)) {
    const { ForgeError } = await import("../errors.js");
    throw new ForgeError(Codes.NOT_FOUND, `no evidence file at ${path}: pass --evidence or set FORGE_HOME`);
  }
  // The store refuses a host id other than the file's own: read it first, read-only.
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(path, { readonly: true, fileMustExist: true });
  let hostId: string;
  try {
    hostId = (db.prepare("SELECT value FROM meta WHERE key = 'host_id'").get() as { value: string }).value;
  } finally {
    db.close();
  }
  const { EvidenceStore } = await import("../evidence/index.js");
  const store = EvidenceStore.open({ path, hostId, keyDir: join(dirname(path), "keys") });
  try {
    return { hostId, records: store.records({ session_id: session }) };
  } finally {
    await store.close();
  }
}
