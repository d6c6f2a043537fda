import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStorage } from "../../src/collector/sqlite-storage.js";
import { chainRecordOf } from "../../src/protocol/text-batch.js";
import { TestHost } from "./helpers.js";

// The SQLite collector writes through one writer thread; these check what its callers rely on.
describe("SqliteStorage's writer thread", () => {
  const dirs: string[] = [];
  const fresh = () => {
    const d = mkdtempSync(join(tmpdir(), "forge-cwriter-"));
    dirs.push(d);
    return join(d, "c.db");
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it("commits what it resolved (another connection reads it), keeps each host's chain, and returns the caller's records", async () => {
    const path = fresh();
    const s = SqliteStorage.open(path);
    const hosts = [new TestHost("w-a"), new TestHost("w-b")];
    for (const h of hosts) {
      await s.pinHost(h.hostId, h.pem, h.epoch);
      h.extend(40);
    }
    const batches = hosts.flatMap((h) =>
      [0, 10, 20, 30].map((i) => [h, h.chain.slice(i, i + 10).map(chainRecordOf)] as const),
    );
    // Posted in one turn (one group commit for all), several batches of each host in order.
    const checks = await Promise.all(batches.map(([h, recs]) => s.ingest(h.hostId, recs)));
    checks.forEach((c, i) => {
      expect(c.problem).toBeNull();
      // The very objects passed in (their decoded fields are what drift reads).
      expect(c.fresh).toHaveLength(10);
      for (const [k, r] of c.fresh.entries()) expect(r).toBe(batches[i]![1][k]);
    });
    // A re-sent batch is a duplicate (nothing fresh); an edited one is refused with the valid prefix.
    const again = await s.ingest(hosts[0]!.hostId, hosts[0]!.chain.slice(5, 15).map(chainRecordOf));
    expect(again).toMatchObject({ fresh: [], problem: null, head: { seq: 40 } });
    const other = new Database(path, { readonly: true });
    try {
      for (const h of hosts) {
        const rows = other
          .prepare("SELECT seq FROM records WHERE host_id = ? ORDER BY seq")
          .all(h.hostId) as { seq: number }[];
        expect(rows.map((r) => r.seq)).toEqual(h.chain.map((r) => r.seq));
        expect(await s.records({ host_id: h.hostId, limit: 100 })).toEqual(h.chain);
      }
    } finally {
      other.close();
    }
    await s.close();
  });

  it("fails every write once the writer thread is gone, and close() still returns", async () => {
    const s = SqliteStorage.open(fresh());
    const h = new TestHost("w-dead");
    await s.pinHost(h.hostId, h.pem, h.epoch);
    h.extend(5);
    await (s as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await expect(s.ingest(h.hostId, h.chain.map(chainRecordOf))).rejects.toThrow(/writer thread exited/);
    await expect(s.touchHost(h.hostId, 1)).rejects.toThrow(/writer thread exited/);
    expect((await s.getHost(h.hostId))!.head_seq).toBe(0);
    await s.close();
  });
});
