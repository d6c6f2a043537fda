// The agent's drift monitor takes each commit's records from the store as committed (onCommit)
// instead of reading them back after every commit. Both feeds, on the same real store file and the
// same record sequence (commits of 1..7 records), give the same drift output, before and after a
// restart of the store (both monitors start again from the head, as a restarted daemon does).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { rereadCommits } from "../../bench/drift-feed.js";
import { AgentDrift } from "../../src/agent/drift.js";
import { EvidenceStore } from "../../src/evidence/store.js";
import type { RecordInput, StoredRecord } from "../../src/protocol/record.js";

const DRIFT = { reference: { kind: "first", n: 60 }, window: 40, every: 20, split_by: [] };
const quiet = { warn() {}, info() {} };
const dir = mkdtempSync(join(tmpdir(), "drift-feed-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A deterministic stream: action kinds and inference TTFTs, shifted from record `shiftAt` on. */
function stream(n: number, shiftAt: number, start: number): RecordInput[] {
  const out: RecordInput[] = [];
  let x = 12345 + start;
  const next = () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
  for (let i = 0; i < n; i++) {
    const shifted = i >= shiftAt;
    const timestamp = new Date(Date.UTC(2026, 11, 1) + (start + i) * 1000).toISOString();
    if (i % 4 === 3) {
      out.push({
        kind: "inference",
        session_id: `chat:s${i % 5}`,
        action_id: `i${start + i}`,
        timestamp,
        prompt_hash: null,
        proposed_action: { kind: "inference", model: "tiny" },
        evaluation: null,
        policy_matched: { bundle: null, rules: [] },
        composition_state: null,
        execution_result: {
          model: "tiny",
          done_reason: "stop",
          timing: { ttft_ms: (shifted ? 300 : 100) + next() * 30, tokens_per_s: 200 + next() * 20 },
        },
        principal_review: null,
        latency_ms: 500,
        principal: "uid:501",
      });
      continue;
    }
    const r = next();
    const kind = shifted ? (r < 0.7 ? "file.write" : "shell") : r < 0.7 ? "shell" : "http";
    out.push({
      kind: "action",
      session_id: `claude-code:s${i % 7}`,
      action_id: `a${start + i}`,
      timestamp,
      prompt_hash: null,
      proposed_action: kind === "shell" ? { kind, command: "git status" } : { kind, path: "/tmp/x" },
      evaluation: r < 0.1 ? "DENY" : "ALLOW",
      policy_matched: { bundle: null, rules: [] },
      composition_state: { labels: [], counters: { n: i } },
      execution_result: null,
      principal_review: null,
      latency_ms: 0.05 + next() / 100,
      principal: "uid:501 pid:1000",
    });
  }
  return out;
}

type Source = (listener: (records: readonly StoredRecord[]) => void) => () => void;

function monitors(store: EvidenceStore) {
  const make = (onCommit: Source) => {
    const d = new AgentDrift({
      hostId: "h",
      config: DRIFT,
      policySha: () => "sha-1",
      onCommit,
      append: (rec) => store.append(rec),
      logger: quiet,
    });
    d.start();
    return d;
  };
  return { reread: make(rereadCommits(store)), incremental: make((l) => store.onCommit(l)) };
}

/** Appends `recs` in commits of 1..7 records (appends of one turn share a commit). */
async function feed(store: EvidenceStore, recs: RecordInput[], ms: ReturnType<typeof monitors>) {
  for (let i = 0, size = 1; i < recs.length; i += size, size = (size % 7) + 1)
    await Promise.all(recs.slice(i, i + size).map((r) => store.append(r)));
  await ms.reread.settled();
  await ms.incremental.settled();
}

const open = () => EvidenceStore.open({ path: join(dir, "ev.db"), hostId: "h", keyDir: join(dir, "keys") });

describe("drift fed from the commit's records", () => {
  it("gives the same signals, rounds and events as re-reading the store, across a restart", async () => {
    let store = open();
    let ms = monitors(store);
    await feed(store, stream(300, 150, 0), ms);
    const before = { reread: ms.reread.view(), incremental: ms.incremental.view() };
    expect(before.incremental).toEqual(before.reread);
    const stats = before.incremental.stats as { records: number; rounds: number };
    expect(stats.records).toBe(300);
    expect(stats.rounds).toBeGreaterThan(0);
    const events = before.incremental.events as { event: string; signal?: string; seq_at: number }[];
    expect(events.filter((e) => e.event === "finding").map((e) => e.signal)).toContain("action.kind");
    await ms.reread.stop();
    await ms.incremental.stop();
    await store.close();

    // The daemon restarts: a new store on the same file, both monitors start from its head.
    store = open();
    ms = monitors(store);
    await feed(store, stream(240, 120, 1000), ms);
    const after = { reread: ms.reread.view(), incremental: ms.incremental.view() };
    expect(after.incremental).toEqual(after.reread);
    expect((after.incremental.stats as { records: number }).records).toBe(240);
    const found = (after.incremental.events as { event: string; seq_at: number }[]).filter(
      (e) => e.event === "finding",
    );
    expect(found.length).toBeGreaterThan(0);
    // Only records committed after the restart: every event is past the old head.
    expect(Math.min(...found.map((e) => e.seq_at))).toBeGreaterThan(300);
    await ms.reread.stop();
    await ms.incremental.stop();
    await store.close();
  });

  it("hands each committed record to onCommit once, in seq order, as stored", async () => {
    const store = EvidenceStore.open({ path: join(dir, "one.db"), hostId: "h", keyDir: join(dir, "keys") });
    const seen: StoredRecord[] = [];
    const off = store.onCommit((recs) => seen.push(...recs));
    await feed(store, stream(50, 50, 0), {
      reread: { settled: async () => {} },
      incremental: { settled: async () => {} },
    } as unknown as ReturnType<typeof monitors>);
    off();
    expect(seen.map((r) => r.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // What the store hands over is what a read gives back.
    expect(JSON.parse(JSON.stringify(seen))).toEqual(store.unshipped(0, 100));
    await store.close();
  });
});
