import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PgStorage } from "../../src/collector/pg-storage.js";
import { chainRecordOf } from "../../src/protocol/text-batch.js";
import { freshPgDatabase, input, pgUrl, TestHost } from "./helpers.js";

const PG = pgUrl();

// The one-round-trip path trusts nothing it remembers: two storages over one database, each with
// a head hint the other makes stale, must store every record once and agree on the head.
describe.skipIf(PG === null)("PgStorage ingest with a stale head hint", () => {
  let db: Awaited<ReturnType<typeof freshPgDatabase>>;
  let a: PgStorage;
  let b: PgStorage;
  beforeAll(async () => {
    db = await freshPgDatabase(PG!, "forge_ingest");
    a = await PgStorage.open(db.url);
    b = await PgStorage.open(db.url);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await db?.drop();
  });

  it("falls back to the locked path when another collector moved the head, dedups, and never forks", async () => {
    const h = new TestHost("stale-hint");
    await a.pinHost(h.hostId, "-", "e");
    const batch = (from: number, n: number) => h.chain.slice(from - 1, from - 1 + n).map(chainRecordOf);
    h.extend(30);
    // a: 1..10 (general path, then its hint is 10).
    expect((await a.ingest(h.hostId, batch(1, 10))).head.seq).toBe(10);
    // b: 11..20; a's hint is now stale.
    expect((await b.ingest(h.hostId, batch(11, 10))).head.seq).toBe(20);
    // a re-sends 11..20 (what follows its hint): the function finds head 20, writes nothing, and
    // the general path sees duplicates of stored records.
    const again = await a.ingest(h.hostId, batch(11, 10));
    expect(again).toMatchObject({ fresh: [], problem: null, head: { seq: 20 } });
    // a continues from the real head; b's hint (20) is stale too, and b's edited 21 is refused.
    expect((await a.ingest(h.hostId, batch(21, 5))).head.seq).toBe(25);
    const edited = { ...batch(21, 1)[0]!, hash: "0".repeat(64) };
    const fork = await b.ingest(h.hostId, [edited]);
    expect(fork.problem?.code).toBe("hash-mismatch");
    expect(fork.head.seq).toBe(25);
    // b then ships 26..30 on the fast path of its refreshed hint.
    expect((await b.ingest(h.hostId, batch(26, 5))).head.seq).toBe(30);
    const stored = await a.records({ host_id: h.hostId, limit: 100 });
    expect(stored.map((r) => r.seq)).toEqual(h.chain.map((r) => r.seq));
    expect(stored).toEqual(h.chain);
  });

  it("stores bodies and sessions with newlines, quotes, backslashes, commas and non-ASCII text exactly (the COPY path)", async () => {
    const h = new TestHost("awkward-text");
    await a.pinHost(h.hostId, "-", "e");
    const odd = ["a\nb", 'say "hi", then \\ and \\n', "tab\tcr\r", "ünïcødé ✓ \u2028 𝄞", "{}[],\n\n"];
    h.append(
      odd.map((text, i) => ({
        ...input(`s,${i}\n"x"`, i),
        proposed_action: { type: "shell", command: text },
      })),
    );
    h.extend(3);
    const recs = h.chain.map(chainRecordOf);
    // First batch on the general path, the rest on the one-round-trip path (a's hint).
    expect((await a.ingest(h.hostId, recs.slice(0, 2))).head.seq).toBe(2);
    const check = await a.ingest(h.hostId, recs.slice(2));
    expect(check).toMatchObject({ problem: null, head: { seq: h.chain.length } });
    expect(check.fresh).toHaveLength(h.chain.length - 2);
    expect(await a.records({ host_id: h.hostId, limit: 100 })).toEqual(h.chain);
    const s = await a.sessions({ host_id: h.hostId, limit: 100 });
    expect(s.map((x) => x.session_id).sort()).toEqual([...new Set(h.chain.map((r) => r.session_id))].sort());
  });

  it("a stored row above the head (a fault) fails the whole batch and writes nothing, instead of being skipped", async () => {
    const h = new TestHost("row-above-head");
    await a.pinHost(h.hostId, "-", "e");
    h.extend(10);
    const recs = h.chain.map(chainRecordOf);
    expect((await a.ingest(h.hostId, recs.slice(0, 5))).head.seq).toBe(5);
    // A row for seq 6 that no head move covers, with content other than the chain's record 6.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query(
        "INSERT INTO records (host_id, seq, hash, session_id, ts_ms, body) VALUES ($1, 6, 'x', 's', 0, '{}')",
        [h.hostId],
      );
    } finally {
      await c.end();
    }
    // On the one-round-trip path (a's hint is 5) and on the locked path (b has no hint).
    await expect(a.ingest(h.hostId, recs.slice(5))).rejects.toThrow(/duplicate key/);
    await expect(b.ingest(h.hostId, recs.slice(5))).rejects.toThrow(/duplicate key/);
    expect((await a.getHost(h.hostId))!.head_seq).toBe(5);
    const stored = await a.records({ host_id: h.hostId, limit: 100 });
    // The chain's 1..5 and the injected row (body '{}'), none of 7..10.
    expect(stored).toEqual([...h.chain.slice(0, 5), {}]);
  });
});
