/**
 * How the agent's drift monitor used to be fed, kept as the baseline of bench/drift.ts's
 * CPU-per-commit figure and of test/agent/drift-feed.test.ts: after each commit, read the
 * records after a cursor back from the store (`unshipped`, one SELECT and a JSON.parse each).
 * The agent now takes each commit's records from the store as committed (`onCommit`).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AgentDrift, type AgentDriftSources } from "../src/agent/drift.js";
import { Rng } from "../src/drift/random.js";
import type { RecordLike } from "../src/drift/signals.js";
import { EvidenceStore } from "../src/evidence/store.js";
import type { RecordInput, StoredRecord } from "../src/protocol/record.js";
import { actionRecord, BASE, inferenceRecord } from "./drift-streams.js";
import { type Metric, pairedRatio, runStandalone, stats } from "./harness.js";

/** An `onCommit`-shaped source that re-reads every commit's records from the store. */
export function rereadCommits(store: EvidenceStore) {
  return (listener: (records: readonly StoredRecord[]) => void): (() => void) => {
    let cursor = store.lastSeq();
    return store.onAppend((last) => {
      const records: StoredRecord[] = [];
      while (cursor < last) {
        const batch = store.unshipped(cursor, 1000);
        if (batch.length === 0) {
          cursor = last;
          break;
        }
        for (const rec of batch) {
          cursor = rec.seq;
          records.push(rec);
        }
      }
      listener(records);
    });
  };
}

/** What a daemon commit costs in CPU with drift fed each way, against no drift, in the same rounds. */
export async function commitCost(o: { seconds: number; signal?: AbortSignal }): Promise<Metric[]> {
  const dir = mkdtempSync(join(tmpdir(), "bench-drift-feed-"));
  const quiet = { warn() {}, info() {} };
  const rng = new Rng(7);
  const record = (i: number): RecordInput => {
    const { seq: _seq, ...r } = (i % 2 === 0 ? actionRecord : inferenceRecord)(rng, i, BASE) as RecordLike & {
      seq?: number;
    };
    // The stream's rule ids as the store's records carry them (with effect and risk).
    const rules = (r.policy_matched?.rules ?? []).map((x) => ({
      rule_id: x.rule_id,
      effect: "deny",
      risk: 5,
    }));
    return {
      ...r,
      policy_matched: { bundle: null, rules },
      action_id: `a${i}`,
      prompt_hash: null,
      composition_state: null,
    } as RecordInput;
  };
  type Arm = { name: string; store: EvidenceStore; drift: AgentDrift | null; n: number; cpuUs: number[] };
  const arm = (name: string, feed: ((s: EvidenceStore) => AgentDriftSources["onCommit"]) | null): Arm => {
    // NORMAL: the sync is time waited, not CPU; the figure is CPU.
    const store = EvidenceStore.open({
      path: join(dir, `${name}.db`),
      hostId: "bench",
      keyDir: join(dir, "keys"),
      synchronous: "NORMAL",
    });
    const drift =
      feed === null
        ? null
        : new AgentDrift({
            hostId: "bench",
            config: {},
            policySha: () => "bench",
            onCommit: feed(store),
            append: (rec) => store.append(rec),
            logger: quiet,
          });
    drift?.start();
    return { name, store, drift, n: 0, cpuUs: [] };
  };
  const arms = [arm("none", null), arm("reread", rereadCommits), arm("commit", (s) => (l) => s.onCommit(l))];
  const commits = async (a: Arm, k: number) => {
    for (let i = 0; i < k; i++) await a.store.append(record(a.n++));
    await a.drift?.settled();
  };
  const BATCH = 200;
  try {
    // Warm: the reference (1000 values by default) learned, so every record is a tested one.
    for (const a of arms) await commits(a, 1500);
    const end = performance.now() + o.seconds * 1000;
    for (let round = 0; round < 200 && !o.signal?.aborted; round++) {
      if (round >= 5 && performance.now() > end) break;
      // Rotate the order, so no arm always runs right after another's garbage.
      for (let j = 0; j < arms.length; j++) {
        const a = arms[(round + j) % arms.length]!;
        const c0 = process.cpuUsage();
        await commits(a, BATCH);
        const c = process.cpuUsage(c0);
        a.cpuUs.push((c.user + c.system) / BATCH);
      }
    }
  } finally {
    for (const a of arms) {
      await a.drift?.stop();
      await a.store.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const [none, reread, commit] = arms as [Arm, Arm, Arm];
  const added = (a: Arm) => a.cpuUs.map((v, i) => v - none.cpuUs[i]!);
  const rereadAdded = stats(added(reread));
  const commitAdded = stats(added(commit));
  const note = `${none.cpuUs.length} rounds of ${BATCH} one-record commits per side, sides rotated; default drift config, warm (1500 records first)`;
  return [
    {
      name: "CPU per commit with drift, fed from the commit (onCommit)",
      unit: "us",
      stats: stats(commit.cpuUs),
      baseline: {
        name: "drift fed by re-reading the store after each commit (before)",
        stats: stats(reread.cpuUs),
      },
      ratio: pairedRatio(commit.cpuUs, reread.cpuUs, (v) => v),
      ratio_of: "median over rounds of onCommit/re-read (paired)",
      notes: note,
    },
    {
      name: "drift's CPU per commit, fed from the commit (paired, over no drift)",
      unit: "us",
      stats: commitAdded,
      baseline: { name: "the same, fed by re-reading the store", stats: rereadAdded },
      ratio: commitAdded.median / rereadAdded.median,
      ratio_of: "median onCommit / median re-read",
      notes: `a commit with no drift: median ${stats(none.cpuUs).median.toFixed(1)} us`,
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`)
  await runStandalone("drift-feed", async (ctx) => ({
    suite: "drift-feed",
    metrics: await commitCost({ seconds: ctx.durationS, signal: ctx.signal }),
  }));
