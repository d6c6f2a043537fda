import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { verifyRecords, verifyStore } from "../../src/evidence/index.js";
import { GENESIS_HASH } from "../../src/protocol/record.js";
import { CLI, ensureBuilt, openStore, rec, tamper, tempHome } from "./helpers.js";

let home: ReturnType<typeof tempHome>;

beforeAll(() => ensureBuilt());
beforeEach(async () => {
  home = tempHome();
  const s = openStore(home, { checkpointEvery: 10 });
  for (let i = 0; i < 30; i++) await s.append(rec(i));
  await s.close(); // checkpoints at 10, 20, 30
});
afterEach(() => home.cleanup());

/** Opens the file as an attacker would: drops the append-only triggers first. */

function cli(...args: string[]): {
  status: number | null;
  report: { ok: boolean; first_bad_seq: number | null; problems: { code: string }[] };
} {
  const r = spawnSync(process.execPath, [CLI, "verify", "--json", "--home", home.dir, ...args], {
    encoding: "utf8",
  });
  return { status: r.status, report: JSON.parse(r.stdout) };
}

function expectDetected(firstBad: number, code: string): void {
  const report = verifyStore(home.db, { keyDir: home.keys });
  expect(report.ok).toBe(false);
  expect(report.first_bad_seq).toBe(firstBad);
  expect(report.problems.map((p) => p.code)).toContain(code);
  const out = cli();
  expect(out.status).toBe(1);
  expect(out.report).toMatchObject({ ok: false, first_bad_seq: firstBad });
}

describe("forge-agent verify and verifyStore", () => {
  it("pass an intact store (exit 0), in JSON and in text", () => {
    expect(verifyStore(home.db, { keyDir: home.keys })).toMatchObject({
      ok: true,
      records: 30,
      checkpoints: 3,
      first_bad_seq: null,
      key_source: "key_dir",
    });
    const out = cli();
    expect(out.status).toBe(0);
    expect(out.report).toMatchObject({ ok: true, first_bad_seq: null });
    const text = execFileSync(process.execPath, [CLI, "verify", "--db", home.db], { encoding: "utf8" });
    expect(text).toMatch(/^ok: .*30 records.*3 checkpoints/);
    const env = spawnSync(process.execPath, [CLI, "verify"], {
      encoding: "utf8",
      env: { ...process.env, FORGE_HOME: home.dir },
    });
    expect(env.status).toBe(0);
  });

  it("detect an edited row", () => {
    tamper(home.db, (db) => {
      const { body } = db.prepare("SELECT body FROM records WHERE seq = 15").get() as { body: string };
      db.prepare("UPDATE records SET body = ? WHERE seq = 15").run(body.replace('"echo 14"', '"rm -rf /"'));
    });
    expectDetected(15, "hash_mismatch");
  });

  it("detect a deleted row", () => {
    tamper(home.db, (db) => db.prepare("DELETE FROM records WHERE seq = 15").run());
    expectDetected(15, "missing_records");
  });

  it("detect two swapped rows", () => {
    tamper(home.db, (db) => {
      db.prepare("UPDATE records SET seq = -1 WHERE seq = 15").run();
      db.prepare("UPDATE records SET seq = 15 WHERE seq = 16").run();
      db.prepare("UPDATE records SET seq = 16 WHERE seq = -1").run();
    });
    expectDetected(15, "seq_mismatch");
  });

  it("detect records deleted from the end, past a signed checkpoint", () => {
    tamper(home.db, (db) => db.prepare("DELETE FROM records WHERE seq > 25").run());
    expectDetected(26, "truncated");
  });

  it("detect a rewritten chain (every hash recomputed) through the signed checkpoints", () => {
    tamper(home.db, (db) => {
      const rows = db.prepare("SELECT seq, body FROM records WHERE seq >= 15 ORDER BY seq").all() as {
        seq: number;
        body: string;
      }[];
      let prev = (db.prepare("SELECT hash FROM records WHERE seq = 14").get() as { hash: string }).hash;
      for (const r of rows) {
        const body = r.seq === 15 ? r.body.replace('"echo 14"', '"rm -rf /"') : r.body;
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
    });
    expectDetected(20, "checkpoint_mismatch");
  });

  it("detect every checkpoint deleted, and the tail checkpoint deleted (finding 7)", () => {
    tamper(home.db, (db) => db.prepare("DELETE FROM checkpoints WHERE seq = 30").run());
    expectDetected(21, "tail_checkpoint_missing");
    tamper(home.db, (db) => db.prepare("DELETE FROM checkpoints").run());
    expectDetected(1, "tail_checkpoint_missing");
    // Marking the store "open" as well only changes the explanation: it still fails.
    tamper(home.db, (db) => db.prepare("UPDATE meta SET value = 'open' WHERE key = 'state'").run());
    expectDetected(1, "unsigned_tail");
  });

  it("report a store that was not closed (a crash) as an unsigned tail, clean again after a clean close", async () => {
    const s = openStore(home, { checkpointEvery: 10 });
    for (let i = 0; i < 5; i++) await s.append(rec(100 + i));
    // Not closed: as a SIGKILL would leave it (the crash tests do it for real).
    const report = verifyStore(home.db, { keyDir: home.keys });
    expect(report).toMatchObject({ ok: false, state: "open", first_bad_seq: 31 });
    expect(report.problems).toEqual([expect.objectContaining({ seq: 31, code: "unsigned_tail" })]);
    expect(report.problems[0]!.message).toMatch(/records 31\.\.35 .*not closed cleanly/);
    await s.close();
    expect(verifyStore(home.db, { keyDir: home.keys })).toMatchObject({ ok: true, state: "closed" });
  });

  it("detect a forged checkpoint signature", () => {
    tamper(home.db, (db) => {
      const { signature } = db.prepare("SELECT signature FROM checkpoints WHERE seq = 20").get() as {
        signature: string;
      };
      db.prepare("UPDATE checkpoints SET signature = ? WHERE seq = 10").run(signature);
    });
    expectDetected(10, "bad_checkpoint_signature");
  });

  it("detect unacked records pruned with a forged anchor", () => {
    tamper(home.db, (db) => {
      const { hash } = db.prepare("SELECT hash FROM records WHERE seq = 5").get() as { hash: string };
      db.prepare("DELETE FROM records WHERE seq <= 5").run();
      db.prepare("UPDATE meta SET value = '5' WHERE key IN ('base_seq', 'acked_seq')").run();
      db.prepare("UPDATE meta SET value = ? WHERE key = 'base_hash'").run(hash);
    });
    expectDetected(6, "unanchored_prefix");
  });

  it("list at most 1000 problems and count the rest when every row is bad", async () => {
    const s = openStore(home, { checkpointEvery: 100_000 });
    await Promise.all(Array.from({ length: 1200 }, (_, i) => s.append(rec(100 + i))));
    await s.close();
    tamper(home.db, (db) =>
      db.exec(`UPDATE records SET body = replace(body, '"latency_ms":0.05', '"latency_ms":9')`),
    );
    const report = verifyStore(home.db, { keyDir: home.keys });
    expect(report).toMatchObject({ ok: false, first_bad_seq: 1 });
    expect(report.problems.length).toBe(1000);
    expect(report.problems_omitted).toBeGreaterThan(200);
  });

  it("exit 1 with a coded error for a missing database, 2 for bad usage", () => {
    const missing = spawnSync(process.execPath, [CLI, "verify", "--db", `${home.dir}/nope.db`], {
      encoding: "utf8",
    });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/FORGE_NOT_FOUND/);
    const json = spawnSync(process.execPath, [CLI, "verify", "--json", "--db", `${home.dir}/nope.db`], {
      encoding: "utf8",
    });
    expect(json.status).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: "FORGE_NOT_FOUND" } });
    expect(spawnSync(process.execPath, [CLI, "verify", "--frobnicate"]).status).toBe(2);
  });
});

describe("verifyRecords", () => {
  it("accepts a chain segment and names the first bad seq of a broken one", async () => {
    const other = tempHome();
    try {
      const s = openStore(other);
      const recs = await Promise.all(Array.from({ length: 6 }, (_, i) => s.append(rec(i))));
      await s.close();
      expect(verifyRecords(recs, GENESIS_HASH).ok).toBe(true);
      expect(verifyRecords(recs.slice(2), recs[1]!.hash).ok).toBe(true);
      expect(verifyRecords(recs.slice(2), GENESIS_HASH)).toMatchObject({ ok: false, first_bad_seq: 3 });
      const edited = recs.map((r) => (r.seq === 4 ? { ...r, latency_ms: 99 } : r));
      expect(verifyRecords(edited, GENESIS_HASH)).toMatchObject({ ok: false, first_bad_seq: 4 });
      const gap = recs.filter((r) => r.seq !== 3);
      expect(verifyRecords(gap, GENESIS_HASH)).toMatchObject({ ok: false, first_bad_seq: 3 });
      const swapped = [recs[0]!, recs[2]!, recs[1]!, ...recs.slice(3)];
      expect(verifyRecords(swapped, GENESIS_HASH)).toMatchObject({ ok: false, first_bad_seq: 2 });
    } finally {
      other.cleanup();
    }
  });
});
