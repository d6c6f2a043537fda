import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { agentPaths, callAgent, defaultSocketPath, unwrap } from "../agent/client.js";
import { buildTrace, formatTrace, mergeCopies, missingShipped, type Trace } from "../agent/trace.js";
import { Codes, hasForgeCode } from "../errors.js";
import { publicKeyFromPem } from "../protocol/collector-auth.js";
import type { StoredRecord } from "../protocol/record.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { AGENT } from "./spec.js";

/**
 * `forge-agent trace SESSION_ID [--json]`: asks the running agent; when none answers, reads the
 * evidence file directly (--evidence, else beside --socket, else <home>/evidence.db, the home found as agentPaths finds it)
 * and fetches what the collector acked (and this host pruned) back from the collector, signed with
 * this host's key (or --collector-token-file, an operator's secret). A trace that may be missing
 * records says so, in JSON (`sources.incomplete`) and in the human output.
 */
export default async function trace(argv: string[], env: Env): Promise<number> {
  const { values, positionals } = parse(argv, AGENT.trace.flags);
  if (positionals.length !== 1) throw new UsageError("give exactly one SESSION_ID");
  const session = positionals[0]!;
  const socket = values.socket ?? defaultSocketPath(env);
  let t: Trace;
  try {
    t = unwrap<Trace>(await callAgent(socket, "GET", `/v1/sessions/${encodeURIComponent(session)}/trace`));
  } catch (err) {
    if (!hasForgeCode(err) || err.code !== Codes.AGENT_UNREACHABLE) throw err;
    // Without --evidence: the file beside the socket when --socket was given, else the agent's home's.
    const home = values.socket !== undefined ? dirname(resolve(values.socket)) : agentPaths(env).home;
    const path = resolve(values.evidence ?? join(home, "evidence.db"));
    process.stderr.write(`forge-agent: no agent on ${socket}; reading ${path}\n`);
    const collector = values["collector-url"] ?? env.FORGE_COLLECTOR_URL;
    const tokenFile = values["collector-token-file"];
    // Under wss:// the read goes over https to the pinned key: --collector-key, else the agent's first-use pin.
    const keyFile = resolve(values["collector-key"] ?? join(home, "collector-key.pem"));
    t = await withStore(path, async (store, hostId) => {
      const local = store.records({ session_id: session });
      // Records the collector acked are pruned locally; fetch them back when we know where it is.
      let archived: StoredRecord[] = [];
      let incomplete: string | undefined;
      if (collector) {
        const { collectorArchive } = await import("../agent/archive.js");
        try {
          archived = await collectorArchive({
            url: collector,
            hostId,
            sign: (data) => store.sign(data),
            trust: { pinned: () => pinnedKeyFile(keyFile) },
            ...(tokenFile ? { tokenFile: resolve(tokenFile) } : {}),
          })(session);
        } catch (err) {
          incomplete = missingShipped(err);
        }
      } else if (store.ackedSeq() > 0) {
        incomplete =
          "records the collector acked were pruned here: pass --collector-url (or set FORGE_COLLECTOR_URL) to read them back";
      }
      return {
        ...buildTrace(session, mergeCopies(archived, local)),
        sources: sources(local, archived, incomplete),
      };
    });
  }
  if (values.json) printJson(t);
  else process.stdout.write(`${formatTrace(t)}\n`);
  return t.steps.length > 0 ? 0 : 1;
}

/** The collector key in `path` (a PEM certificate or SPKI key), or null when there is no such file. */
function pinnedKeyFile(path: string) {
  if (!existsSync(path)) return null;
  return publicKeyFromPem(readFileSync(path, "utf8"));
}

function sources(local: StoredRecord[], archived: StoredRecord[], incomplete: string | undefined) {
  return {
    local: local.length,
    collector: archived.length,
    ...(incomplete === undefined ? {} : { incomplete }),
  };
}

/** Opens the evidence file while the daemon is down (its host id read first, read-only), for `use`. */
async function withStore<T>(
  path: string,
  use: (store: import("../evidence/index.js").EvidenceStore, hostId: string) => Promise<T>,
): Promise<T> {
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
    return await use(store, hostId);
  } finally {
    await store.close();
  }
}
