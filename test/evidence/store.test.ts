import { generateKeyPairSync, verify } from "node:crypto";
import { chmodSync, mkdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Codes } from "../../src/errors.js";
import {
  type EvidenceStore,
  PendingActionSchema,
  PRIVATE_KEY_FILE,
  verifyRecords,
  verifyStore,
} from "../../src/evidence/index.js";
import { canonicalJson } from "../../src/protocol/canonical.js";
import { verifyCheckpoint } from "../../src/protocol/checkpoint.js";
import {
  draftJson,
  encodeRecord,
  GENESIS_HASH,
  RecordInput,
  recordBodyJson,
} from "../../src/protocol/record.js";
import { buildInput as build, recordInputArbitrary as input } from "../support/record-arbitrary.js";
import { until } from "../support/wait.js";
import { openStore, rec, rejection, tempHome } from "./helpers.js";

let home: ReturnType<typeof tempHome>;
const open: EvidenceStore[] = [];
function store(opts: Parameters<typeof openStore>[1] = {}): EvidenceStore {
  const s = openStore(home, opts);
  open.push(s);
  return s;
}

beforeEach(() => {
  home = tempHome();
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  home.cleanup();
});

describe("append and the chain", () => {
  it("chains records with gap-free seq from 1 and hashes that verify", async () => {
    const s = store();
    const out = await Promise.all(Array.from({ length: 50 }, (_, i) => s.append(rec(i))));
    expect(out.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(out[0]!.prev_hash).toBe(GENESIS_HASH);
    expect(out[0]!.host_id).toBe("host-a");
    expect(verifyRecords(out, GENESIS_HASH)).toEqual({ ok: true, first_bad_seq: null });
    expect(s.get(7)).toEqual(out[6]);
    expect(s.lastSeq()).toBe(50);
    expect(s.records({ session_id: "s1" }).map((r) => r.seq)).toEqual(
      out.filter((r) => r.session_id === "s1").map((r) => r.seq),
    );
    expect(s.records({ action_id: "a9" })).toEqual([out[9]]);
    expect(s.records({ after_seq: 45, limit: 2 }).map((r) => r.seq)).toEqual([46, 47]);
    expect(s.unshipped(48, 10).map((r) => r.seq)).toEqual([49, 50]);
  });

  it("refuses invalid records with FORGE_EVIDENCE_INVALID and consumes no seq", async () => {
    const s = store();
    await s.append(rec(1));
    const bad = await rejection(s.append({ ...rec(2), evaluation: "MAYBE" } as never));
    expect(bad.code).toBe(Codes.EVIDENCE_INVALID);
    expect(bad.message).toMatch(/evaluation/);
    const extra = await rejection(s.append({ ...rec(2), efect: 1 } as never));
    expect(extra.code).toBe(Codes.EVIDENCE_INVALID);
    // Passes zod (proposed_action is free-form) but cannot be canonicalised: fails alone, in the batch.
    const [nan, ok] = await Promise.allSettled([
      s.append(rec(3, { proposed_action: { n: Number.NaN } })),
      s.append(rec(4)),
    ]);
    expect(nan.status).toBe("rejected");
    expect((nan as PromiseRejectedResult).reason.code).toBe(Codes.EVIDENCE_INVALID);
    expect((ok as PromiseFulfilledResult<{ seq: number }>).value.seq).toBe(2);
    const big = await rejection(
      store({ path: join(home.dir, "b.db"), maxRecordBytes: 2000 }).append(
        rec(5, { prompt: "x".repeat(5000) }),
      ),
    );
    expect(big.code).toBe(Codes.EVIDENCE_INVALID);
    await s.close();
    expect(verifyStore(home.db).ok).toBe(true);
  });

  it("keeps seq gap-free and never reused across restarts, pruning, and pruning everything", async () => {
    let s = store();
    for (let i = 0; i < 5; i++) await s.append(rec(i));
    const epoch = s.epoch;
    await s.close();
    s = store();
    expect(s.epoch).toBe(epoch);
    expect((await s.append(rec(5))).seq).toBe(6);
    await s.markAcked(6); // prunes every row
    expect(s.records({}).length).toBe(0);
    await s.close();
    s = store();
    expect(s.lastSeq()).toBe(6);
    expect(s.ackedSeq()).toBe(6);
    const r7 = await s.append(rec(7));
    expect(r7.seq).toBe(7);
    await s.close();
    const report = verifyStore(home.db, { keyDir: home.keys });
    expect(report).toMatchObject({ ok: true, records: 1, last_seq: 7 });
    // A wiped store is a new epoch (the collector sees a new chain, not a rewritten one).
    rmSync(home.db);
    expect(store().epoch).not.toBe(epoch);
  });

  it("fails closed when a second writer opens the same file: its stale appends cannot fork the chain", async () => {
    const a = store();
    const b = store();
    await a.append(rec(1));
    const err = await rejection(b.append(rec(2)));
    expect(err.code).toBe(Codes.EVIDENCE_UNAVAILABLE);
    expect(err.message).toMatch(/extend the chain/);
    expect((await a.append(rec(3))).seq).toBe(2);
    await b.close();
    await a.close();
    expect(verifyStore(home.db)).toMatchObject({ ok: true, records: 2 });
  });

  it("refuses a database that belongs to another host", async () => {
    const s = store();
    await s.close();
    expect(() => openStore(home, { hostId: "host-b" })).toThrow(
      expect.objectContaining({ code: Codes.CONFLICT }),
    );
  });

  it("refuses a key that did not sign this database, a bad synchronous value, and a file that is not SQLite", async () => {
    await store().close();
    open.pop();
    rmSync(home.keys, { recursive: true });
    expect(() => openStore(home)).toThrow(
      expect.objectContaining({ code: Codes.CONFLICT, message: expect.stringMatching(/different host key/) }),
    );
    expect(() =>
      openStore({ db: join(home.dir, "s.db"), keys: join(home.dir, "k3") }, { synchronous: "OFF" as never }),
    ).toThrow(expect.objectContaining({ code: Codes.EVIDENCE_INVALID }));
    const junk = join(home.dir, "junk.db");
    writeFileSync(
      junk,
      "this is not a database, it is a long enough line of text to fill a header.".repeat(20),
    );
    expect(() => openStore({ db: junk, keys: join(home.dir, "k2") })).toThrow(
      expect.objectContaining({
        code: Codes.EVIDENCE_UNAVAILABLE,
        message: expect.stringMatching(/SQLITE_NOTADB/),
      }),
    );
  });

  it("finds records by action_id across index buckets, with every filter, after pruning, and in files made with the old index", async () => {
    let s = store({ checkpointEvery: 1_000_000 });
    // 3000 records span three 1024-seq buckets; each action id recurs every 1000 records.
    const id = (i: number) => ({
      action_id: `a${i % 1000}`,
      kind: i % 2 ? ("action" as const) : ("inference" as const),
    });
    await Promise.all(Array.from({ length: 3000 }, (_, i) => s.append(rec(i, id(i)))));
    const seqsOf = (q: Parameters<EvidenceStore["records"]>[0]) => s.records(q).map((r) => r.seq);
    // rec(i) is seq i + 1; a7 is i = 7, 1007, 2007.
    expect(seqsOf({ action_id: "a7" })).toEqual([8, 1008, 2008]);
    expect(seqsOf({ action_id: "a7", after_seq: 8 })).toEqual([1008, 2008]);
    expect(seqsOf({ action_id: "a7", limit: 1 })).toEqual([8]);
    expect(seqsOf({ action_id: "a8", kind: "action" })).toEqual([]);
    expect(seqsOf({ action_id: "a9", kind: "action", session_id: "s0" })).toEqual([10]);
    expect(seqsOf({ action_id: "nope" })).toEqual([]);
    expect(s.records({ action_id: "a999" }).map((r) => r.action_id)).toEqual(["a999", "a999", "a999"]);
    await s.markAcked(1500);
    expect(seqsOf({ action_id: "a7" })).toEqual([2008]);
    expect(seqsOf({ action_id: "a600" })).toEqual([1601, 2601]);
    await s.close();
    open.pop();

    // A file from schema version 1 (plain action_id index) is migrated on open.
    const raw = new Database(home.db);
    raw.exec("DROP INDEX records_action_bucket; CREATE INDEX records_action ON records(action_id)");
    raw.prepare("UPDATE meta SET value = '1' WHERE key = 'schema_version'").run();
    raw.close();
    s = store();
    expect(seqsOf({ action_id: "a7" })).toEqual([2008]);
    expect((await s.append(rec(5000, { action_id: "a7" }))).seq).toBe(3001);
    expect(seqsOf({ action_id: "a7" })).toEqual([2008, 3001]);
    await s.close();
    open.pop();
    const after = new Database(home.db, { readonly: true });
    try {
      const indexes = after
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'records'")
        .all();
      expect(indexes).toEqual([{ name: "records_action_bucket" }]);
      expect(after.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({
        value: "2",
      });
    } finally {
      after.close();
    }
    expect(verifyStore(home.db, { keyDir: home.keys })).toMatchObject({ ok: true, last_seq: 3001 });
  });

  it("wakes onAppend listeners after each commit, until unsubscribed", async () => {
    const s = store();
    const seen: number[] = [];
    const off = s.onAppend((n) => seen.push(n));
    await Promise.all([s.append(rec(1)), s.append(rec(2))]);
    await s.append(rec(3));
    off();
    await s.append(rec(4));
    expect(seen).toEqual([2, 3]);
  });
});

describe("group commit", () => {
  it("batches concurrent appends into far fewer transactions than appends", async () => {
    const s = store();
    await Promise.all(Array.from({ length: 200 }, (_, i) => s.append(rec(i))));
    expect(s.stats().appended).toBe(200);
    expect(s.stats().commits).toBeLessThanOrEqual(2);
    // 16 producers, each awaiting its own append: batches of up to 16.
    const before = s.stats().commits;
    await Promise.all(
      Array.from({ length: 16 }, async (_, p) => {
        for (let i = 0; i < 20; i++) await s.append(rec(1000 + p * 100 + i));
      }),
    );
    const commits = s.stats().commits - before;
    expect(commits).toBeLessThan(320 / 4);
    expect(commits).toBeGreaterThanOrEqual(20);
  });

  it("a turn longer than a chunk is still one transaction, however the writer received it", async () => {
    const s = store();
    await s.append(rec(0));
    const before = s.stats().commits;
    // 200 ops in one turn go to the writer in chunks, which it writes as they come: one commit.
    const all = await Promise.all(Array.from({ length: 200 }, (_, i) => s.append(rec(i + 1))));
    expect(s.stats().commits - before).toBe(1);
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 2));
    expect(verifyRecords(s.records({}), GENESIS_HASH).ok).toBe(true);
  });

  it("a synchronous call in the middle of a chunked turn ends that turn first: no wait on itself", async () => {
    const s = store();
    for (let i = 0; i < 20; i++) await s.append(rec(i));
    const before = s.stats().commits;
    // Chunks of this turn are with the writer, which answers calls only between transactions.
    const first = Array.from({ length: 40 }, (_, i) => s.append(rec(100 + i)));
    await s.markAcked(10);
    expect(s.ackedSeq()).toBe(10);
    const rest = Array.from({ length: 5 }, (_, i) => s.append(rec(200 + i)));
    const seqs = (await Promise.all([...first, ...rest])).map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: 45 }, (_, i) => i + 21));
    // The 40 before the call, then the 5 after it.
    expect(s.stats().commits - before).toBe(2);
    expect(s.records({}).map((r) => r.seq)).toEqual(Array.from({ length: 55 }, (_, i) => i + 11));
  });

  it("caps one transaction at 4096 ops and carries the rest to the next turn", async () => {
    const s = store();
    const all = await Promise.all(Array.from({ length: 10_000 }, (_, i) => s.append(rec(i))));
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: 10_000 }, (_, i) => i + 1));
    expect(s.stats().commits).toBe(3);
  });

  it("commits once per append when appends are sequential (the counter counts commits)", async () => {
    const s = store();
    for (let i = 0; i < 10; i++) await s.append(rec(i));
    expect(s.stats().commits).toBe(10);
  });

  it("a record that cannot be encoded fails alone: 190 innocent ops in its batch commit (finding 8)", async () => {
    const s = store();
    // Built from text: JSON.stringify itself overflows the stack on this object.
    const deep = JSON.parse(`${'{"a":'.repeat(5000)}1${"}".repeat(5000)}`);
    const draft = (id: string, over: Partial<RecordInput> = {}) => ({
      action_id: id,
      session_id: "s1",
      state: "allowed" as const,
      record: rec(0, { action_id: id, ...over }),
      deadline_ms: null,
      created_ms: 1,
    });
    await s.putPending(draft("to-resolve"));
    // One turn of the event loop: appends, pending puts and a resolve share one batch with the bad ones.
    const innocent = Array.from({ length: 190 }, (_, i) =>
      i % 2 === 0 ? s.append(rec(i)) : s.putPending(draft(`p${i}`)),
    );
    const resolved = s.resolvePending("to-resolve", rec(0, { action_id: "to-resolve" }));
    const bad = [
      s.append(rec(9000, { proposed_action: deep })),
      s.putPending(draft("deep", { proposed_action: deep })),
      s.putPending(draft("inf", { proposed_action: { n: JSON.parse("1e400") } })),
      s.resolvePending("to-resolve-deep", rec(0, { execution_result: deep })),
    ];
    const before = s.stats().commits;
    const out = await Promise.allSettled([...innocent, resolved, ...bad]);
    expect(out.slice(0, 191).filter((r) => r.status === "rejected")).toEqual([]);
    const errors = out
      .slice(191)
      .map((r) => (r.status === "rejected" ? (r.reason as { code: string }).code : "ok"));
    expect(errors).toEqual([
      Codes.EVIDENCE_INVALID,
      Codes.EVIDENCE_INVALID,
      Codes.EVIDENCE_INVALID,
      Codes.NOT_FOUND,
    ]);
    expect(String((out[191] as PromiseRejectedResult).reason)).toMatch(/nested deeper than 256 levels/);
    expect(String((out[193] as PromiseRejectedResult).reason)).toMatch(/non-finite/);
    expect(s.stats().commits - before).toBe(1); // no retry needed: the bad ones never wrote
    expect(s.lastSeq()).toBe(96);
    expect(
      s
        .listPending()
        .map((p) => p.action_id)
        .sort(),
    ).toEqual(Array.from({ length: 95 }, (_, i) => `p${2 * i + 1}`).sort());
  });

  it("when SQLite refuses one op, the batch is retried op by op and only that op fails", async () => {
    const s = store();
    await s.append(rec(0));
    // A second connection installs a trigger that makes SQLite itself refuse one pending row: an
    // error that only shows once the batch is already writing.
    const other = new Database(home.db);
    other.exec(
      "CREATE TRIGGER poison BEFORE INSERT ON pending WHEN NEW.action_id = 'poison' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END",
    );
    other.close();
    const before = s.stats().commits;
    const ops = Array.from({ length: 40 }, (_, i) => s.append(rec(i + 1)));
    const poison = s.putPending({
      action_id: "poison",
      session_id: "s1",
      state: "allowed",
      record: rec(99, { action_id: "poison" }),
      deadline_ms: null,
      created_ms: 1,
    });
    const later = Array.from({ length: 10 }, (_, i) => s.append(rec(i + 100)));
    const out = await Promise.allSettled([...ops, poison, ...later]);
    expect(out.filter((r) => r.status === "rejected").length).toBe(1);
    const err = (out[40] as PromiseRejectedResult).reason as Error & { code: string };
    expect(err.code).toBe(Codes.EVIDENCE_UNAVAILABLE);
    expect(err.message).toMatch(/poisoned row/);
    // One failed batch, then 51 single commits; the innocent records keep their order.
    expect(s.stats().commits - before).toBe(50);
    const seqs = out.filter((r) => r.status === "fulfilled").map((r) => (r.value as { seq: number }).seq);
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 2));
    expect(s.records({}).map((r) => r.action_id)).toEqual([
      "a0",
      ...Array.from({ length: 40 }, (_, i) => `a${i + 1}`),
      ...Array.from({ length: 10 }, (_, i) => `a${i + 100}`),
    ]);
    // The next batch goes back to one commit.
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.append(rec(i + 200))));
    expect(s.stats().commits - before).toBe(51);
  });

  it("close() flushes appends still queued, and later appends fail FORGE_EVIDENCE_CLOSED", async () => {
    const s = openStore(home);
    const queued = Array.from({ length: 30 }, (_, i) => s.append(rec(i)));
    await s.close();
    expect((await Promise.all(queued)).map((r) => r.seq).at(-1)).toBe(30);
    expect((await rejection(s.append(rec(99)))).code).toBe(Codes.EVIDENCE_CLOSED);
    expect(() => s.get(1)).toThrow(expect.objectContaining({ code: Codes.EVIDENCE_CLOSED }));
    expect(() => s.unshipped(0, 10)).toThrow(expect.objectContaining({ code: Codes.EVIDENCE_CLOSED }));
    await expect(s.markAcked(1)).rejects.toMatchObject({ code: Codes.EVIDENCE_CLOSED });
    const report = verifyStore(home.db, { keyDir: home.keys });
    expect(report).toMatchObject({ ok: true, records: 30 });
    // close() signs a final checkpoint at the head, so truncating the tail would be caught.
    expect(report.checkpoints).toBe(1);
  });
});

describe("the writer thread", () => {
  it("fails every write in flight closed when it dies, refuses later writes with a stable code, loses no committed record", async () => {
    const alerts: { code: string }[] = [];
    const s = store({ onAlert: (a) => alerts.push(a) });
    await s.ready();
    for (let i = 0; i < 5; i++) await s.append(rec(i));
    const inFlight = Array.from({ length: 50 }, (_, i) => s.append(rec(100 + i)));
    // The only way to make a healthy writer die from outside: terminate its thread.
    await (s as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    const out = await Promise.allSettled(inFlight);
    const committed = out.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    for (const r of out)
      if (r.status === "rejected")
        expect(r.reason).toMatchObject({ code: Codes.EVIDENCE_UNAVAILABLE, details: { writer: "failed" } });
    expect(await rejection(s.append(rec(200)))).toMatchObject({ code: Codes.EVIDENCE_UNAVAILABLE });
    expect(
      await rejection(
        s.putPending({
          action_id: "p",
          session_id: "s1",
          state: "allowed",
          record: rec(0),
          deadline_ms: null,
          created_ms: 1,
        }),
      ),
    ).toMatchObject({ code: Codes.EVIDENCE_UNAVAILABLE });
    await expect(s.markAcked(1)).rejects.toMatchObject({ code: Codes.EVIDENCE_UNAVAILABLE });
    expect(alerts.map((a) => a.code)).toContain(Codes.EVIDENCE_UNAVAILABLE);
    await s.close();
    // Everything that resolved is in the chain, gap-free, after a reopen.
    const again = store();
    const all = again.records({});
    expect(all.map((r) => r.seq)).toEqual(Array.from({ length: all.length }, (_, i) => i + 1));
    expect(all.length).toBeGreaterThanOrEqual(5 + committed.length);
    for (const c of committed) expect(all[c.seq - 1]!.hash).toBe(c.hash);
    expect(
      verifyStore(home.db, { keyDir: home.keys }).problems.filter((p) => p.code !== "unsigned_tail"),
    ).toEqual([]);
  });
});

describe("append-only schema", () => {
  it("refuses UPDATE and DELETE of chained rows from any connection, allows pruning only of acked rows", async () => {
    const s = store();
    for (let i = 0; i < 10; i++) await s.append(rec(i));
    await s.markAcked(4);
    const raw = new Database(home.db);
    try {
      expect(() => raw.prepare("UPDATE records SET body = '{}' WHERE seq = 6").run()).toThrow(/append-only/);
      expect(() => raw.prepare("UPDATE records SET hash = 'x' WHERE seq = 6").run()).toThrow(/append-only/);
      expect(() => raw.prepare("DELETE FROM records WHERE seq = 10").run()).toThrow(/only acked rows/);
      expect(() => raw.prepare("DELETE FROM records").run()).toThrow(/only acked rows/);
      expect(() => raw.prepare("UPDATE meta SET value = '100' WHERE key = 'acked_seq'").run()).not.toThrow();
      // Once "acked", deletion is permitted: the gate is the acked high-water mark, nothing else.
      expect(raw.prepare("DELETE FROM records WHERE seq = 5").run().changes).toBe(1);
      expect(() => raw.prepare("UPDATE meta SET value = '3' WHERE key = 'acked_seq'").run()).toThrow(
        /never go backwards/,
      );
      expect(() => raw.prepare("DELETE FROM meta WHERE key = 'acked_seq'").run()).toThrow(
        /cannot be deleted/,
      );
      expect(() => raw.prepare("UPDATE meta SET value = 'evil' WHERE key = 'host_id'").run()).toThrow(
        /fixed/,
      );
      expect(() => raw.prepare("DELETE FROM checkpoints").run()).toThrow(/append-only/);
      const last = raw.prepare("SELECT hash FROM records WHERE seq = 10").get() as { hash: string };
      const ins = raw.prepare(
        "INSERT INTO records (seq, kind, session_id, action_id, body, prev_hash, hash) VALUES (?, 'action', 's', 'a', '{}', ?, ?)",
      );
      expect(() => ins.run(12, last.hash, "f".repeat(64))).toThrow(/extend the chain/);
      expect(() => ins.run(11, GENESIS_HASH, "f".repeat(64))).toThrow(/extend the chain/);
    } finally {
      raw.close();
    }
  });

  it("can be verified by a reader while the store is open and writing", async () => {
    const s = store({ checkpointEvery: 5 });
    const writes = Array.from({ length: 12 }, (_, i) => s.append(rec(i)));
    await Promise.all(writes);
    expect(verifyStore(home.db, { keyDir: home.keys })).toMatchObject({
      ok: true,
      records: 12,
      checkpoints: 1,
    });
    await s.append(rec(99));
    // Seq 13 is not signed yet: an open store's tail is reported as such, and nothing else is wrong.
    expect(verifyStore(home.db, { keyDir: home.keys })).toMatchObject({
      ok: false,
      records: 13,
      state: "open",
      problems: [{ seq: 13, code: "unsigned_tail" }],
    });
    await s.close();
    expect(verifyStore(home.db, { keyDir: home.keys })).toMatchObject({
      ok: true,
      records: 13,
      state: "closed",
    });
  });

  it("markAcked leaves the prune to the writer thread: ackedSeq moves once it committed, acks only move forward, the watermark is durable", async () => {
    const s = store({ checkpointEvery: 1000 });
    for (let i = 0; i < 20; i++) await s.append(rec(i));
    const first = s.markAcked(12);
    // Posted before the first one committed, so only the writer can tell it is older.
    const older = s.markAcked(5);
    const appended = s.append(rec(20));
    expect(s.ackedSeq()).toBe(0);
    expect(s.records({}).length).toBe(20);
    await Promise.all([first, older]);
    expect(s.ackedSeq()).toBe(12);
    expect((await appended).seq).toBe(21);
    expect(s.records({}).map((r) => r.seq)).toEqual(Array.from({ length: 9 }, (_, i) => i + 13));
    expect(s.checkpoints().map((c) => c.seq)).toContain(12);
    await s.close();
    const again = store();
    expect(again.ackedSeq()).toBe(12);
    expect(again.records({})[0]!.seq).toBe(13);
    await again.close();
    expect(verifyStore(home.db, { keyDir: home.keys })).toMatchObject({ ok: true, first_bad_seq: null });
  });

  it("markAcked prunes exactly the acked rows and keeps the rest verifiable", async () => {
    const s = store({ checkpointEvery: 1000 });
    for (let i = 0; i < 20; i++) await s.append(rec(i));
    await s.markAcked(8);
    expect(s.records({}).map((r) => r.seq)).toEqual(Array.from({ length: 12 }, (_, i) => i + 9));
    expect(s.ackedSeq()).toBe(8);
    expect(s.stats()).toMatchObject({ lastSeq: 20, ackedSeq: 8, backlog: 12 });
    await s.markAcked(3); // older ack: no-op
    expect(s.ackedSeq()).toBe(8);
    await expect(s.markAcked(21)).rejects.toMatchObject({ code: Codes.CONFLICT });
    await expect(s.markAcked(-1)).rejects.toMatchObject({ code: Codes.EVIDENCE_INVALID });
    // The prune point is anchored by a signed checkpoint.
    expect(s.checkpoints().map((c) => c.seq)).toContain(8);
    await s.close();
    expect(verifyStore(home.db, { keyDir: home.keys })).toMatchObject({
      ok: true,
      records: 12,
      last_seq: 20,
    });
  });
});

describe("pending actions", () => {
  const pending = (id: string, state: "allowed" | "escalated" = "escalated") => ({
    action_id: id,
    session_id: "s1",
    state,
    record: rec(1, { action_id: id, evaluation: "ESCALATE" }),
    deadline_ms: 1_800_000_000_000,
    created_ms: 1_700_000_000_000,
  });

  it("survive a reopen, update, and resolve into the chain in one transaction", async () => {
    let s = openStore(home);
    await s.putPending(pending("p1"));
    await s.putPending(pending("p2", "allowed"));
    await s.updatePending("p1", { deadline_ms: null });
    await s.close();
    s = store();
    expect(s.listPending().map((p) => p.action_id)).toEqual(["p1", "p2"]);
    expect(s.getPending("p1")).toMatchObject({ state: "escalated", deadline_ms: null });
    expect(s.stats().pending).toBe(2);
    const final = rec(1, {
      action_id: "p1",
      evaluation: "ESCALATE",
      principal_review: {
        decision: "approve",
        reviewer: "operator:alice",
        at: "2026-01-01T00:00:00.000Z",
        reason: null,
      },
    });
    const stored = await s.resolvePending("p1", final);
    expect(stored.seq).toBe(1);
    expect(s.getPending("p1")).toBeUndefined();
    expect(s.get(1)?.principal_review?.reviewer).toBe("operator:alice");
  });

  it("a deferred resolve starts no commit: it shares the next one, or commits at its deadline or close", async () => {
    const s = store();
    await s.putPending(pending("p1", "allowed"));
    await s.putPending(pending("p2", "allowed"));
    await s.putPending(pending("p3", "allowed"));
    const before = s.stats().commits;
    let settled = false;
    const first = s.resolvePending("p1", rec(1, { action_id: "p1" }), 600_000).finally(() => {
      settled = true;
    });
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    expect(s.getPending("p1")).toBeDefined();
    // The next op's commit takes the deferred one along: two ops, one transaction (one sync).
    await s.putPending(pending("p4", "allowed"));
    expect((await first).seq).toBe(1);
    expect(s.getPending("p1")).toBeUndefined();
    expect(s.stats().commits).toBe(before + 1);
    // Alone, it commits when its deferral runs out.
    expect((await s.resolvePending("p2", rec(2, { action_id: "p2" }), 5)).seq).toBe(2);
    // close() commits what is still deferred.
    const last = s.resolvePending("p3", rec(3, { action_id: "p3" }), 600_000);
    await s.close();
    expect((await last).seq).toBe(3);
  });

  it("store the draft zod would (its stripped copy when it strips), and refuse what zod refuses", async () => {
    const s = store();
    const plain = pending("plain", "allowed");
    // A nested key zod strips (policy_matched.x): off the fast path, so zod's copy is stored.
    const odd = {
      ...pending("odd", "allowed"),
      record: { ...rec(2, { action_id: "odd" }), policy_matched: { bundle: null, rules: [], x: 1 } },
    };
    const seen: string[] = [];
    s.onPending((p) => seen.push(p.action_id));
    await s.putPending(plain);
    await s.putPending(odd as never);
    expect(s.getPending("plain")).toEqual(PendingActionSchema.parse(plain));
    expect(s.getPending("odd")).toEqual(PendingActionSchema.parse(odd));
    expect(s.getPending("odd")!.record.policy_matched).toEqual({ bundle: null, rules: [] });
    expect(seen).toEqual(["plain", "odd"]);
    // What zod refuses, with zod's path in the message, whichever field is wrong.
    const bad: [string, unknown][] = [
      ["created_ms", { ...pending("b1"), created_ms: 1.5 }],
      ["deadline_ms", { ...pending("b2"), deadline_ms: -1 }],
      ["action_id", { ...pending("b3"), action_id: "" }],
      ["(root)", { ...pending("b4"), extra: 1 }],
      ["record.kind", { ...pending("b5"), record: rec(1, { kind: "bogus" as never }) }],
      ["record.latency_ms", { ...pending("b6"), record: rec(1, { latency_ms: -1 }) }],
    ];
    for (const [field, p] of bad) {
      const err = await rejection(s.putPending(p as never));
      expect(err.code).toBe(Codes.EVIDENCE_INVALID);
      expect(err.message).toContain(field);
    }
    expect(s.listPending().map((p) => p.action_id)).toEqual(["odd", "plain"].sort());
  });

  it("refuse unknown ids with FORGE_NOT_FOUND without consuming a seq", async () => {
    const s = store();
    expect((await rejection(s.resolvePending("nope", rec(1)))).code).toBe(Codes.NOT_FOUND);
    expect((await rejection(s.updatePending("nope", { state: "allowed" }))).code).toBe(Codes.NOT_FOUND);
    expect((await rejection(s.putPending({ ...pending("x"), state: "done" } as never))).code).toBe(
      Codes.EVIDENCE_INVALID,
    );
    expect((await s.append(rec(2))).seq).toBe(1);
  });
});

describe("checkpoints and the host key", () => {
  it("signs a checkpoint every N records, verifiable with the host key; the key file is 0600", async () => {
    const s = store({ checkpointEvery: 10 });
    for (let i = 0; i < 25; i++) await s.append(rec(i));
    const cps = s.checkpoints();
    expect(cps.map((c) => c.seq)).toEqual([10, 20]);
    for (const c of cps) {
      expect(c.hash).toBe(s.get(c.seq)!.hash);
      expect(verifyCheckpoint(c, s.publicKeyPem)).toBe(true);
    }
    expect(verifyCheckpoint({ ...cps[0]!, seq: 11 }, s.publicKeyPem)).toBe(false);
    expect(verifyCheckpoint({ ...cps[0]!, hash: cps[1]!.hash }, s.publicKeyPem)).toBe(false);
    expect(verifyCheckpoint({ ...cps[0]!, signature: "garbage" }, s.publicKeyPem)).toBe(false);
    expect(statSync(join(home.keys, PRIVATE_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(home.keys).mode & 0o777).toBe(0o700);
    const signature = s.sign(Buffer.from("hello"));
    expect(verify(null, Buffer.from("hello"), s.publicKeyPem, signature)).toBe(true);
  });

  it("signs on a timer when fewer than N records arrived", async () => {
    const s = store({ checkpointEvery: 1000, checkpointSeconds: 0.05 });
    await s.append(rec(1));
    await s.append(rec(2));
    await until(() => s.checkpoints().length > 0, "the timer's checkpoint");
    expect(s.checkpoints().map((c) => c.seq)).toEqual([2]);
  });

  it("keeps the same key across reopen and refuses a key file others can read", async () => {
    const pem = store().publicKeyPem;
    await open.pop()!.close();
    expect(store().publicKeyPem).toBe(pem);
    await open.pop()!.close();
    chmodSync(join(home.keys, PRIVATE_KEY_FILE), 0o644);
    expect(() => openStore(home)).toThrow(expect.objectContaining({ code: Codes.KEY_INSECURE }));
  });

  it("refuses a key file that is not an ed25519 key", () => {
    const other = tempHome();
    try {
      const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      mkdirSync(other.keys, { mode: 0o700 });
      writeFileSync(join(other.keys, PRIVATE_KEY_FILE), privateKey.export({ type: "pkcs8", format: "pem" }), {
        mode: 0o600,
      });
      expect(() => openStore(other)).toThrow(/ed25519/);
    } finally {
      other.cleanup();
    }
  });
});

describe("bounded buffer", () => {
  it("fails appends with FORGE_EVIDENCE_FULL beyond maxUnackedRecords, alerts once, recovers after an ack", async () => {
    const alerts: { code: string }[] = [];
    const s = store({ maxUnackedRecords: 10, onAlert: (a) => alerts.push(a) });
    const settled = await Promise.allSettled(Array.from({ length: 13 }, (_, i) => s.append(rec(i))));
    expect(settled.filter((r) => r.status === "fulfilled").length).toBe(10);
    const refused = settled.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    expect(refused.map((r) => r.reason.code)).toEqual([
      Codes.EVIDENCE_FULL,
      Codes.EVIDENCE_FULL,
      Codes.EVIDENCE_FULL,
    ]);
    expect((await rejection(s.resolvePending("x", rec(1)))).code).toBe(Codes.EVIDENCE_FULL);
    expect(alerts.map((a) => a.code)).toEqual([Codes.EVIDENCE_FULL]);
    await s.markAcked(4);
    expect(alerts.map((a) => a.code)).toEqual([Codes.EVIDENCE_FULL, Codes.EVIDENCE_RECOVERED]);
    const more = await Promise.all(Array.from({ length: 4 }, (_, i) => s.append(rec(100 + i))));
    expect(more.map((r) => r.seq)).toEqual([11, 12, 13, 14]);
    expect((await rejection(s.append(rec(200)))).code).toBe(Codes.EVIDENCE_FULL);
  });

  it("maps SQLITE_FULL to FORGE_EVIDENCE_UNAVAILABLE with no partial state, and resumes when space returns", async () => {
    const alerts: { code: string }[] = [];
    const s = store({ maxPageCount: 40, checkpointEvery: 1_000_000, onAlert: (a) => alerts.push(a) });
    const big = (i: number) => rec(i, { prompt: "p".repeat(1500) });
    let ok = 0;
    let failure: (Error & { code?: string }) | undefined;
    for (let i = 0; i < 500 && !failure; i++) {
      // Batches of 8, so a failing batch holds records that would otherwise have fitted.
      const res = await Promise.allSettled(Array.from({ length: 8 }, (_, j) => s.append(big(i * 8 + j))));
      for (const r of res) {
        if (r.status === "fulfilled") ok++;
        else failure ??= r.reason;
      }
    }
    expect(failure?.code).toBe(Codes.EVIDENCE_UNAVAILABLE);
    expect(failure?.message).toMatch(/SQLITE_FULL/);
    expect(alerts.map((a) => a.code)).toEqual([Codes.EVIDENCE_UNAVAILABLE]);
    expect(ok).toBeGreaterThan(0);
    // A failed batch is retried op by op, so its records that still fit are committed; the chain stays gap-free.
    expect(s.lastSeq()).toBe(ok);
    // Open and past its last checkpoint: the unsigned tail is the only finding.
    expect(verifyStore(home.db).problems.map((p) => p.code)).toEqual(["unsigned_tail"]);

    // Fill to the last page with single appends, so nothing more fits at all.
    const fill = async () => {
      for (let i = 0; i < 1000; i++) {
        const [r] = await Promise.allSettled([s.append(big(50_000 + i))]);
        if (r!.status === "rejected") return r.reason as Error & { code?: string };
      }
      throw new Error("the store never filled up");
    };
    expect((await fill()).code).toBe(Codes.EVIDENCE_UNAVAILABLE);
    expect(alerts.at(-1)?.code).toBe(Codes.EVIDENCE_UNAVAILABLE);
    expect((await rejection(s.append(big(9999)))).code).toBe(Codes.EVIDENCE_UNAVAILABLE);
    const full = s.lastSeq();

    // Space returns by pruning acked rows: their pages are reused.
    await s.markAcked(full - 4);
    const after = await s.append(big(10_000));
    expect(after.seq).toBe(full + 1);
    expect(alerts.at(-1)?.code).toBe(Codes.EVIDENCE_RECOVERED);

    // … or by raising the limit.
    expect((await fill()).code).toBe(Codes.EVIDENCE_UNAVAILABLE);
    s.setMaxPageCount(100_000);
    const again = await s.append(big(30_000));
    expect(again.seq).toBe(s.lastSeq());
    expect(alerts.at(-1)?.code).toBe(Codes.EVIDENCE_RECOVERED);
    await s.close();
    expect(verifyStore(home.db, { keyDir: home.keys })).toMatchObject({
      ok: true,
      first_bad_seq: null,
      last_seq: again.seq,
    });
  });
});

describe("the validation boundary (encodeRecord: zod's verdict, one serialisation)", () => {
  it("accepts exactly what zod accepts, and writes the body recordBodyJson writes for zod's output", () => {
    let valid = 0;
    let fast = 0;
    fc.assert(
      fc.property(input, (raw) => {
        const value = build(raw);
        const zod = RecordInput.safeParse(value);
        let enc: ReturnType<typeof encodeRecord> | undefined;
        let thrown: unknown;
        try {
          enc = encodeRecord(value, "host-a");
        } catch (err) {
          thrown = err;
        }
        if (!zod.success) {
          expect(thrown).toBeInstanceOf(Error);
          expect((thrown as Error).name).toBe("ZodError");
          return;
        }
        let expected: string | undefined;
        try {
          expected = recordBodyJson({ ...zod.data, host_id: "host-a", seq: 42 });
        } catch {
          // A free-form field zod accepts but JSON cannot hold (NaN): the store refuses it too.
          expect(thrown).toBeInstanceOf(TypeError);
          return;
        }
        valid++;
        expect(thrown).toBeUndefined();
        expect(`${enc!.before}42${enc!.after}`).toBe(expected);
        const { seq, prev_hash, hash, ...record } = enc!.record;
        expect(record).toEqual({ ...zod.data, host_id: "host-a" });
        // A pending row's draft text, cut from the body: zod's output, canonical, no host_id or seq.
        expect(draftJson(enc!)).toBe(canonicalJson(zod.data));
        if (enc!.host !== undefined) fast++;
      }),
      { numRuns: 3000 },
    );
    // Not a vacuous comparison: a good share of the inputs were valid records, most on the fast path.
    expect(valid).toBeGreaterThan(100);
    expect(fast).toBeGreaterThan(50);
  });

  it("copies the record's fields at append(): a caller reusing its object afterwards changes neither the body nor the hash", async () => {
    const s = store();
    const input = rec(1);
    const pending = s.append(input);
    input.session_id = "other";
    input.evaluation = "DENY";
    const stored = await pending;
    expect(stored).toMatchObject({ session_id: "s1", evaluation: "ALLOW" });
    expect(s.get(1)).toEqual(stored);
    expect(verifyRecords([s.get(1)!], GENESIS_HASH).ok).toBe(true);
  });
});
