import { type ChildProcess, spawn } from "node:child_process";
import { createHash, createPrivateKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterEach, beforeAll, beforeEach, expect, it } from "vitest";
import { type Collector, startCollector } from "../../src/collector/server.js";
import { PRIVATE_KEY_FILE, verifyStore } from "../../src/evidence/index.js";
import { signCheckpoint } from "../../src/evidence/keys.js";
import { tamper } from "../evidence/helpers.js";
import { ensureBuilt, ROOT } from "./build.js";
import { allRecords, getJson } from "./helpers.js";

/**
 * Finding 7 (issue 10): an attacker holding the host key rewrites the local chain (a DENY becomes
 * an ALLOW), recomputes every hash and re-signs every checkpoint. Local verify cannot tell (the
 * documented limit of local tamper evidence); the collector's acked prefix is the anchor, so the
 * rewritten chain is refused with a close code and an alert, and the collector keeps the original.
 */

const AGENT = join(ROOT, "test", "fixtures", "acked-history-agent.mjs");
const HOST = "rewrite-host";
let dir: string;
let col: Collector;
const children = new Set<ChildProcess>();

beforeAll(() => ensureBuilt(), 120_000);
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "forge-acked-"));
  col = await startCollector({ database: `sqlite:${join(dir, "collector.db")}`, listen: "127.0.0.1:0" });
});
afterEach(async () => {
  for (const c of children) c.kill("SIGKILL");
  children.clear();
  await col?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the fixture until it prints its first line; returns that line and the child. */
async function agent(mode: "write" | "reconnect", n: number): Promise<{ line: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [AGENT, join(dir, "agent.db"), join(dir, "keys"), HOST, col.url, mode, String(n)],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  children.add(child);
  let stderr = "";
  child.stderr!.on("data", (d) => {
    stderr += d;
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`agent exited ${code}: ${stderr.slice(-800)}`)));
  });
  return { line, child };
}

/** The attacker's rewrite: flip seq 6 from DENY to ALLOW, re-hash from there, re-sign every checkpoint with the stolen key, and sign the new head. */
function rewriteWithKey(): void {
  const key = createPrivateKey(readFileSync(join(dir, "keys", PRIVATE_KEY_FILE), "utf8"));
  tamper(join(dir, "agent.db"), (db) => {
    const rows = db.prepare("SELECT seq, body, hash FROM records ORDER BY seq").all() as {
      seq: number;
      body: string;
      hash: string;
    }[];
    let prev = "0".repeat(64);
    for (const r of rows) {
      const body = r.seq === 6 ? r.body.replace('"evaluation":"DENY"', '"evaluation":"ALLOW"') : r.body;
      const hash = createHash("sha256")
        .update(prev + body)
        .digest("hex");
      db.prepare("UPDATE records SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?").run(
        body,
        prev,
        hash,
        r.seq,
      );
      prev = hash;
    }
    db.prepare("DELETE FROM checkpoints").run();
    const at = new Date().toISOString();
    for (const r of db.prepare("SELECT seq, hash FROM records ORDER BY seq").all() as {
      seq: number;
      hash: string;
    }[]) {
      const signature = signCheckpoint(key, { host_id: HOST, seq: r.seq, hash: r.hash });
      db.prepare("INSERT INTO checkpoints (seq, hash, signature, at) VALUES (?, ?, ?, ?)").run(
        r.seq,
        r.hash,
        signature,
        at,
      );
    }
    db.prepare("UPDATE meta SET value = 'closed' WHERE key = 'state'").run();
  });
}

it("refuses a chain rewritten and re-signed below the acked head, alerts, and keeps the acked original", async () => {
  const first = await agent("write", 20);
  expect(first.line).toBe("acked 20");
  first.child.kill("SIGKILL"); // acked at the collector, never pruned locally

  rewriteWithKey();
  const local = verifyStore(join(dir, "agent.db"), { keyDir: join(dir, "keys") });
  // With the key, the local forgery is perfect: local evidence cannot prove otherwise.
  expect(local).toMatchObject({ ok: true, records: 20 });

  // The agent reconnects at the collector's head, holding a different record there.
  const again = await agent("reconnect", 0);
  expect(again.line).toMatch(/^closed 4006 agent's chain differs from the history the collector acked/);
  const alerts = (await getJson(`${col.httpUrl}/v1/alerts`)).body.alerts as { code: string; seq: number }[];
  expect(alerts).toEqual([expect.objectContaining({ code: "acked-history-changed", seq: 20 })]);

  // Ahead of the head: the first new record cannot link to the acked head, refused as a fork.
  const ahead = await agent("reconnect", 3);
  expect(ahead.line).toMatch(/^closed 4006 /);
  const codes = ((await getJson(`${col.httpUrl}/v1/alerts`)).body.alerts as { code: string }[]).map(
    (a) => a.code,
  );
  expect(codes).toContain("chain-fork");

  // The collector still holds what it acked: seq 6 is the DENY, and nothing past 20 was taken.
  const held = await allRecords(col.httpUrl, HOST);
  expect(held.map((r) => r.seq)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
  expect(held[5]).toMatchObject({ evaluation: "DENY" });
});
