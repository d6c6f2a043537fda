import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { EvidenceStore, type StoreOptions } from "../../src/evidence/index.js";
import type { RecordInput } from "../../src/protocol/record.js";

/** A valid action record; `i` makes action ids unique. */
export function rec(i: number, over: Partial<RecordInput> = {}): RecordInput {
  return {
    kind: "action",
    session_id: `s${i % 3}`,
    action_id: `a${i}`,
    timestamp: new Date(1_700_000_000_000 + i).toISOString(),
    prompt_hash: null,
    proposed_action: { type: "shell", command: `echo ${i}`, cwd: "/tmp" },
    evaluation: "ALLOW",
    policy_matched: { bundle: { id: "default", version: 1, sha256: "ab".repeat(32) }, rules: [] },
    composition_state: { labels: ["read"], counters: { n: i } },
    execution_result: null,
    principal_review: null,
    latency_ms: 0.05,
    ...over,
  };
}

/** A temp directory holding evidence.db and keys/; `cleanup` removes it. */
export function tempHome(): { dir: string; db: string; keys: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "forge-evidence-"));
  return {
    dir,
    db: join(dir, "evidence.db"),
    keys: join(dir, "keys"),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export function openStore(
  home: { db: string; keys: string },
  opts: Partial<StoreOptions> = {},
): EvidenceStore {
  return EvidenceStore.open({ path: home.db, keyDir: home.keys, hostId: "host-a", ...opts });
}

/** Resolves with the error a promise rejects with; fails if it resolves. */
export async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await p;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error("expected a rejection, got a value");
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CLI = join(ROOT, "bin", "forge-agent.js");
export const DIST_EVIDENCE = join(ROOT, "dist", "src", "evidence", "index.js");

export { ensureBuilt } from "../support/build.js";

/** Edits a store's SQLite file as an attacker with file access would: drop the guard triggers, then write. */
export function tamper(path: string, fn: (db: Database.Database) => void): void {
  const db = new Database(path);
  try {
    const triggers = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as {
      name: string;
    }[];
    for (const { name } of triggers) db.exec(`DROP TRIGGER ${name}`);
    fn(db);
  } finally {
    db.close();
  }
}
