import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { openStorage } from "../src/collector/storage.js";
import { EvidenceStore } from "../src/evidence/index.js";
import { Shipper } from "../src/evidence/shipper.js";
import {
  GENESIS_HASH,
  type RecordInput,
  recordBodyJson,
  recordHash,
  type StoredRecord,
} from "../src/protocol/record.js";
import { decodeRecordsMessage, encodeTextBatch } from "../src/protocol/text-batch.js";
import { judge, type Metric, runStandalone, type Suite, type SuiteContext, stats } from "./harness.js";

/**
 * Shipping: end-to-end records/s from agent append (64 producers, durable store) to collector
 * commit, over loopback WebSocket, into a SQLite collector and a PostgreSQL collector (each a
 * child process, as in production). Baseline, same run: the collector storage's own ingest rate
 * (chain check + commit of 512-record batches) called directly, without the agent or the network.
 */

const COLLECTOR_BIN = fileURLToPath(new URL("../../bin/forge-collector.js", import.meta.url));
const PRODUCERS = 64;
const BATCH = 512;

function input(i: number): RecordInput {
  return {
    kind: "action",
    session_id: `bench-${i % 16}`,
    action_id: `a-${i}`,
    timestamp: new Date().toISOString(),
    prompt_hash: null,
    proposed_action: { type: "shell", command: `ls -la /tmp/${i}`, cwd: "/home/agent" },
    evaluation: "ALLOW",
    policy_matched: { bundle: { id: "default", version: 1, sha256: "ab".repeat(32) }, rules: [] },
    composition_state: { labels: ["read"], counters: { actions: i } },
    execution_result: { exit_code: 0 },
    principal_review: null,
    latency_ms: 0.02,
  };
}

function chain(hostId: string, n: number): StoredRecord[] {
  const out: StoredRecord[] = [];
  let prev = GENESIS_HASH;
  for (let i = 0; i < n; i++) {
    const body = { ...input(i), host_id: hostId, seq: i + 1 };
    const hash = recordHash(prev, body);
    out.push({ ...body, prev_hash: prev, hash });
    prev = hash;
  }
  return out;
}

/** A chain as the `records` frames the shipper sends a protocol-4 collector (its own encoder). */
function textFrames(hostId: string, n: number): string[] {
  const frames: string[] = [];
  const rows = chain(hostId, n).map(({ prev_hash, hash, ...body }) => ({
    seq: body.seq,
    prev_hash,
    hash,
    body: recordBodyJson(body),
  }));
  for (let i = 0; i < n; i += BATCH)
    frames.push(encodeTextBatch(rows.slice(i, i + BATCH), Number.POSITIVE_INFINITY, "bodies").frame);
  return frames;
}

/**
 * The collector's own ingest rate without agent or network, records/s per trial: each 512-record
 * frame parsed, decoded (schema, canonical check) and ingested (chain check + commit), as the
 * collector does per message.
 */
async function baseline(database: string, trials: number, n: number): Promise<number[]> {
  const storage = await openStorage(database);
  const rates: number[] = [];
  try {
    for (let t = 0; t < trials; t++) {
      const host = `base-${randomUUID()}`;
      const frames = textFrames(host, n);
      await storage.pinHost(host, "-", "e");
      const t0 = performance.now();
      for (const f of frames) {
        const d = decodeRecordsMessage(JSON.parse(f));
        if (!d.ok) throw new Error(d.reason);
        const check = await storage.ingest(host, d.records);
        if (check.problem !== null) throw new Error(check.problem.message);
      }
      rates.push(n / ((performance.now() - t0) / 1000));
    }
  } finally {
    await storage.close();
  }
  return rates;
}

async function startCollectorProcess(database: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [COLLECTOR_BIN, "run", "--database", database, "--listen", "127.0.0.1:0"],
    {
      stdio: ["ignore", "pipe", "ignore"],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`collector exited ${code}`)));
  });
  return { child, url: (JSON.parse(line) as { url: string }).url };
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
function procCpuSeconds(pid: number | undefined): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** CPU cost of one trial, so figures stay comparable when other work shares the cores. */
interface Trial {
  rate: number;
  agentCpuUsPerRecord: number;
  collectorCpuUsPerRecord: number;
}

/**
 * One trial. "pipeline": n records appended by 64 producers while the shipper runs; "drain": n
 * records already committed in the agent store (collector unreachable while they were written),
 * then the shipper starts. Both end when the collector acked all n (acks follow the commit).
 */
async function endToEnd(
  ctx: SuiteContext,
  collector: { url: string; child: ChildProcess },
  n: number,
  trial: string,
  mode: "pipeline" | "drain",
): Promise<Trial> {
  const url = collector.url;
  const dir = join(ctx.tmpDir, trial);
  const store = EvidenceStore.open({
    path: join(dir, "agent.db"),
    keyDir: join(dir, "keys"),
    hostId: `bench-${trial}`,
  });
  const shipper = new Shipper({ store, url, backoff: { initialMs: 10, maxMs: 200 } });
  const produce = async () => {
    let next = 0;
    await Promise.all(
      Array.from({ length: PRODUCERS }, async () => {
        while (next < n) await store.append(input(next++));
      }),
    );
  };
  try {
    if (mode === "drain") await produce();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const col0 = procCpuSeconds(collector.child.pid);
    shipper.start();
    if (mode === "pipeline") await produce();
    while (shipper.status().lastAckedSeq < n) await new Promise((r) => setTimeout(r, 1));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      rate: n / seconds,
      agentCpuUsPerRecord: (cpu.user + cpu.system) / n,
      collectorCpuUsPerRecord: ((procCpuSeconds(collector.child.pid) - col0) * 1e6) / n,
    };
  } finally {
    await shipper.stop();
    await store.close();
  }
}

/** Drain and pipeline metrics for one collector database, beside its storage-ingest baseline. */
async function measure(
  ctx: SuiteContext,
  label: string,
  database: string,
  n: number,
  trials: number,
): Promise<Metric[]> {
  const base = stats(await baseline(database, trials, n));
  const col = await startCollectorProcess(database);
  const out: Metric[] = [];
  try {
    for (const mode of ["drain", "pipeline"] as const) {
      const runs: Trial[] = [];
      for (let t = 0; t < trials && !ctx.signal.aborted; t++) {
        ctx.progress(0, `${label} ${mode} trial ${t + 1}/${trials}`);
        runs.push(await endToEnd(ctx, col, n, `${label}-${mode}-${t}`, mode));
      }
      const s = stats(runs.map((r) => r.rate));
      const agentUs = stats(runs.map((r) => r.agentCpuUsPerRecord)).median;
      const colUs = stats(runs.map((r) => r.collectorCpuUsPerRecord)).median;
      const cpu = `CPU per record: agent ${agentUs.toFixed(1)} us, collector ${colUs.toFixed(1)} us (=> ${Math.round(1e6 / colUs)} records/s per collector core)`;
      out.push({
        name:
          mode === "drain"
            ? `shipped into ${label} (agent backlog drain)`
            : `append+ship into ${label} (pipeline)`,
        unit: "records/s",
        stats: s,
        baseline: { name: "collector decode + storage ingest, no network", stats: base },
        ratio: s.median / base.median,
        ratio_of: "end-to-end median / collector-ingest median",
        notes: `${
          mode === "drain"
            ? `${n} committed records shipped from the agent store and committed by the collector (child process)`
            : `${n} records, ${PRODUCERS} producers appending (agent synchronous=FULL) while shipping`
        }; ${cpu}`,
      });
    }
  } finally {
    col.child.kill("SIGTERM");
    await new Promise((r) => col.child.once("exit", r));
  }
  return out;
}

/** The suite; `pgUrl` (a server the suite may create a database on) enables the PostgreSQL metric. */
export function shippingSuite(opts: { pgUrl?: string | null } = {}): Suite {
  return async (ctx) => {
    const n = Math.min(100_000, Math.max(20_000, Math.round(ctx.durationS * 40_000)));
    const loadBefore = loadavg()[0]!;
    const trials = 3;
    const metrics: Metric[] = [];
    const [drain, pipeline] = await measure(
      ctx,
      "SQLite collector",
      `sqlite:${join(ctx.tmpDir, "c.db")}`,
      n,
      trials,
    );
    metrics.push(judge(drain!, { text: ">= 50000 records/s", stat: "median", op: ">=", value: 50_000 }));
    metrics.push(pipeline!);
    let skippedPg: string | undefined;
    if (opts.pgUrl) {
      const pg = (await import("pg")).default;
      const name = `forge_bench_${randomUUID().replace(/-/g, "").slice(0, 10)}`;
      const admin = new pg.Client({ connectionString: opts.pgUrl });
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
      const u = new URL(opts.pgUrl);
      u.pathname = `/${name}`;
      try {
        const [pgDrain, pgPipeline] = await measure(ctx, "PostgreSQL collector", u.toString(), n, trials);
        metrics.push(
          judge(pgDrain!, { text: ">= 50000 records/s", stat: "median", op: ">=", value: 50_000 }),
          pgPipeline!,
        );
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      }
    } else {
      skippedPg = "PostgreSQL metric skipped: no server configured (set BENCH_PG_URL or FORGE_TEST_PG_URL)";
    }
    const info: Record<string, unknown> = {
      records_per_trial: n,
      trials,
      load_average_1m: { before: loadBefore, after: loadavg()[0] },
    };
    if (skippedPg) info.postgres = skippedPg;
    return { suite: "shipping", metrics, info };
  };
}

export const suite: Suite = shippingSuite();

if (import.meta.url === `file://${process.argv[1]}`) {
  const pgUrl = process.env.BENCH_PG_URL ?? process.env.FORGE_TEST_PG_URL ?? null;
  if (!pgUrl) process.stderr.write("shipping: PostgreSQL skipped: no BENCH_PG_URL / FORGE_TEST_PG_URL\n");
  const inner = shippingSuite({ pgUrl });
  // The table has no room for notes: print them (CPU per record, load) first.
  await runStandalone("shipping", async (ctx) => {
    const r = await inner(ctx);
    for (const m of r.metrics) process.stdout.write(`${m.name}: ${m.notes}\n`);
    process.stdout.write(`info: ${JSON.stringify(r.info)}\n`);
    return r;
  });
}
