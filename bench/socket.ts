/**
 * Socket round trip: POST /v1/actions for a structured ALLOW (file.read under the default policy
 * pack; the verdict returns only after its pending row is committed, synchronous=FULL) beside a
 * bare node:http echo server on another Unix socket, measured in the same run with the same
 * keep-alive client and the same body. Both servers share this process with the client, so both
 * figures include the client's own cost. Also reported: a DENY (chained record), the gate alone,
 * and the disk's floor: the same pending row committed straight through better-sqlite3 (same
 * schema, WAL, synchronous=FULL, one row per transaction) on the same filesystem. Echo, ALLOW and
 * floor are sampled in alternating rounds, so a change in the machine's load hits all three alike.
 * Target (issue 5): p99 <= 1 ms for the ALLOW round trip, durable record included.
 */
import { randomUUID } from "node:crypto";
import { createServer, Agent as HttpAgent, request } from "node:http";
import { loadavg } from "node:os";
import { join } from "node:path";
import { PerformanceObserver, performance } from "node:perf_hooks";
import Database from "better-sqlite3";
import { pino } from "pino";
import { loadConfig } from "../src/agent/config.js";
import { startAgent } from "../src/agent/daemon.js";
import { SCHEMA_SQL } from "../src/evidence/schema.js";
import { judge, type Metric, runStandalone, type Suite, sampleAsync, sampleSync, stats } from "./harness.js";
import { CONCURRENT, compareWriters } from "./socket-writer.js";

const ROUNDS = 5;

/** Connections the client opened, by socket path: keep-alive means one each for the whole run. */
const opened = new Map<string, Set<unknown>>();

function post(agent: HttpAgent, socketPath: string, path: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath,
        path,
        method: "POST",
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        res.on("end", () =>
          res.statusCode === 200 ? resolve(text) : reject(new Error(`HTTP ${res.statusCode}: ${text}`)),
        );
      },
    );
    req.on("socket", (s) => {
      const set = opened.get(socketPath) ?? new Set();
      opened.set(socketPath, set.add(s));
    });
    req.on("error", reject);
    req.end(body);
  });
}

export const suite: Suite = async (ctx) => {
  opened.clear();
  const home = join(ctx.tmpDir, "agent");
  const config = loadConfig({
    object: {
      home,
      backend: "none",
      log_level: "silent",
      executors: { cwd: ctx.tmpDir },
    },
    cwd: ctx.tmpDir,
    hostname: "bench",
  });
  const agent = await startAgent(config, { logger: pino({ level: "silent" }) });
  const echoPath = join(ctx.tmpDir, "echo.sock");
  const echo = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const b = Buffer.concat(chunks);
      res.writeHead(200, { "content-type": "application/json", "content-length": b.length });
      res.end(b);
    });
  });
  await new Promise<void>((r) => echo.listen(echoPath, r));
  const client = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const seconds = Math.max(1, ctx.durationS);
  const allowBody = (i: number) =>
    JSON.stringify({
      session_id: `bench-${i & 63}`,
      proposed_action: { kind: "file.read", path: "README.md" },
    });
  const denyBody = (i: number) =>
    JSON.stringify({
      session_id: `bench-${i & 63}`,
      proposed_action: { kind: "shell", command: "rm -rf ~" },
    });

  try {
    // Sanity: the verdicts are what the metric names say.
    const a = JSON.parse(await post(client, agent.socketPath, "/v1/actions", allowBody(0)));
    const d = JSON.parse(await post(client, agent.socketPath, "/v1/actions", denyBody(0)));
    if (a.evaluation !== "ALLOW" || a.recorded !== true)
      throw new Error(`expected a recorded ALLOW, got ${JSON.stringify(a)}`);
    if (d.evaluation !== "DENY" || d.recorded !== true)
      throw new Error(`expected a recorded DENY, got ${JSON.stringify(d)}`);

    // The disk's floor: the agent's own pending row, committed alone with the store's schema and
    // pragmas, on a connection of our own (a copy of the file's row; the agent's file is only read).
    const peek = new Database(config.evidence.path, { readonly: true });
    const rowText = (peek.prepare("SELECT record FROM pending LIMIT 1").get() as { record: string }).record;
    peek.close();
    const floorDb = new Database(join(ctx.tmpDir, "floor.sqlite"));
    floorDb.pragma("journal_mode = WAL");
    floorDb.pragma("synchronous = FULL");
    floorDb.exec(SCHEMA_SQL);
    const put = floorDb.prepare(
      "INSERT OR REPLACE INTO pending (action_id, session_id, state, record, deadline_ms, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
    );
    const commitOne = floorDb.transaction(() =>
      put.run(randomUUID(), "bench", "allowed", rowText, Date.now() + 300_000, Date.now()),
    ).immediate;

    // Load-independent figures beside the times: CPU (this process: client, daemon, writer) and
    // scavenges per round trip, over the same windows (warm-up included in both counts).
    const gcAt: number[] = [];
    const gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcAt.push(e.startTime);
    });
    gcObserver.observe({ entryTypes: ["gc"] });
    const echoCost = { cpuUs: 0, ops: 0, windows: [] as [number, number][] };
    const allowCost = { cpuUs: 0, ops: 0, windows: [] as [number, number][] };
    const counted = async (c: typeof allowCost, warmup: number, run: () => Promise<number[]>) => {
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const us = await run();
      const cpu = process.cpuUsage(cpu0);
      c.windows.push([t0, performance.now()]);
      c.cpuUs += cpu.user + cpu.system;
      c.ops += warmup + us.length;
      return us;
    };
    const scavengesPer1k = (c: typeof allowCost) =>
      (1000 * gcAt.filter((t) => c.windows.some(([a, b]) => t >= a && t <= b)).length) / c.ops;
    const load = [loadavg()[0]!];
    const echoUs: number[] = [];
    const allowUs: number[] = [];
    const floorUs: number[] = [];
    const gateMs: number[] = [];
    const slice = seconds / ROUNDS;
    try {
      for (let r = 0; r < ROUNDS && !ctx.signal.aborted; r++) {
        ctx.progress(0.05 + (0.55 * r) / ROUNDS, `round ${r + 1}/${ROUNDS}: echo, ALLOW, SQLite floor`);
        const warmup = r === 0 ? 300 : 20;
        echoUs.push(
          ...(await counted(echoCost, warmup, () =>
            sampleAsync((i) => post(client, echoPath, "/v1/actions", allowBody(i)), {
              seconds: slice,
              warmup,
              signal: ctx.signal,
            }),
          )),
        );
        const roundGate: number[] = [];
        const us = await counted(allowCost, warmup, () =>
          sampleAsync(
            async (i) => {
              const res = JSON.parse(await post(client, agent.socketPath, "/v1/actions", allowBody(i)));
              roundGate.push(res.latency_ms);
            },
            { seconds: slice, warmup, signal: ctx.signal },
          ),
        );
        allowUs.push(...us);
        gateMs.push(...roundGate.slice(-us.length));
        floorUs.push(...sampleSync(() => commitOne(), { seconds: slice, warmup, signal: ctx.signal }));
        load.push(loadavg()[0]!);
      }
    } finally {
      floorDb.close();
      // Entries are delivered after the fact: let the last ones arrive before counting.
      await new Promise((r) => setImmediate(r));
      gcObserver.disconnect();
    }
    ctx.progress(0.6, "POST /v1/actions DENY");
    const denyUs = await sampleAsync((i) => post(client, agent.socketPath, "/v1/actions", denyBody(i)), {
      seconds,
      warmup: 100,
      signal: ctx.signal,
    });
    // The same ALLOW with synchronous=NORMAL (WAL, no fsync per commit): shows what the fsync costs.
    ctx.progress(0.8, "POST /v1/actions ALLOW, synchronous=NORMAL");
    const normal = await startAgent(
      loadConfig({
        object: {
          home: join(ctx.tmpDir, "agent-normal"),
          backend: "none",
          log_level: "silent",
          executors: { cwd: ctx.tmpDir },
          evidence: { synchronous: "NORMAL" },
        },
        cwd: ctx.tmpDir,
        hostname: "bench",
      }),
      { logger: pino({ level: "silent" }) },
    );
    let normalUs: number[];
    try {
      normalUs = await sampleAsync((i) => post(client, normal.socketPath, "/v1/actions", allowBody(i)), {
        seconds,
        warmup: 300,
        signal: ctx.signal,
      });
    } finally {
      await normal.close();
    }

    // Target 2's proposed fix, measured before building it: the writer on a worker thread.
    ctx.progress(0.85, "SQLite writer: worker thread vs main thread");
    const writers = await compareWriters({
      dir: ctx.tmpDir,
      record: rowText,
      rounds: ROUNDS,
      seconds: 2 * seconds,
      signal: ctx.signal,
    });

    const toMs = (us: number[]) => us.map((u) => u / 1000);
    const writerMetric = (clients: 1 | typeof CONCURRENT): Metric => {
      const s = clients === 1 ? writers.sequential : writers.concurrent;
      const who = clients === 1 ? "1 client" : `${clients} clients in flight`;
      const m: Metric = {
        name: `HTTP + FULL commit, SQLite writer on a worker thread, ${who}`,
        unit: "ms",
        stats: stats(toMs(s.worker)),
        baseline: { name: `the same, writer on the main thread, ${who}`, stats: stats(toMs(s.main)) },
        notes:
          clients === 1
            ? `issue 18 target 2's proposed fix, as a minimal server: below 1 the worker wins; one commit (transaction + fsync, as its thread sees it) ${writers.commitMs.worker.toFixed(2)} ms on the worker, ${writers.commitMs.main.toFixed(2)} ms on the main thread`
            : `group commit: ${writers.rowsPerCommit.worker.toFixed(1)} rows per commit on the worker, ${writers.rowsPerCommit.main.toFixed(1)} on the main thread`,
      };
      m.ratio = m.stats.median / m.baseline!.stats.median;
      m.ratio_of = "median / main-thread writer median";
      return m;
    };
    const base = { name: "bare HTTP-over-UDS echo", stats: stats(toMs(echoUs)) };
    const allow: Metric = {
      name: "POST /v1/actions ALLOW (durable pending row)",
      unit: "ms",
      stats: stats(toMs(allowUs)),
      baseline: base,
    };
    allow.ratio = allow.stats.median / base.stats.median;
    allow.ratio_of = "median / echo median";
    const deny: Metric = {
      name: "POST /v1/actions DENY (chained record)",
      unit: "ms",
      stats: stats(toMs(denyUs)),
      baseline: base,
    };
    deny.ratio = deny.stats.median / base.stats.median;
    deny.ratio_of = "median / echo median";
    const allowNormal: Metric = {
      name: "POST /v1/actions ALLOW, synchronous=NORMAL",
      unit: "ms",
      stats: stats(toMs(normalUs)),
      baseline: base,
      notes: "not judged: the store's default is FULL",
    };
    allowNormal.ratio = allowNormal.stats.median / base.stats.median;
    allowNormal.ratio_of = "median / echo median";
    const gate: Metric = {
      name: "gate inside the ALLOW round trip",
      unit: "ms",
      stats: stats(gateMs),
      notes: "the decision's latency_ms",
    };
    const allowCpu: Metric = {
      name: "CPU per ALLOW round trip (client, daemon and writer threads)",
      unit: "us",
      stats: stats([allowCost.cpuUs / allowCost.ops]),
      baseline: {
        name: "CPU per echo round trip (client and echo server)",
        stats: stats([echoCost.cpuUs / echoCost.ops]),
      },
      notes: `scavenges per 1,000 round trips: ALLOW ${scavengesPer1k(allowCost).toFixed(1)}, echo ${scavengesPer1k(echoCost).toFixed(1)} (load-independent beside the times: a scavenge in a round trip is one of what puts it in the tail)`,
    };
    allowCpu.ratio = allowCpu.stats.median / allowCpu.baseline!.stats.median;
    allowCpu.ratio_of = "ALLOW / echo";
    const floor: Metric = {
      name: "SQLite FULL commit of the same pending row",
      unit: "ms",
      stats: stats(toMs(floorUs)),
      notes: "the disk's floor: better-sqlite3 alone, no HTTP, no agent",
    };
    ctx.progress(1, "done");
    return {
      suite: "socket",
      metrics: [
        judge(allow, { text: "p99 <= 1 ms", stat: "p99", op: "<=", value: 1 }),
        allowCpu,
        allowNormal,
        deny,
        floor,
        gate,
        { name: "echo baseline", unit: "ms", stats: base.stats },
        writerMetric(1),
        writerMetric(CONCURRENT),
      ],
      info: {
        synchronous: config.evidence.synchronous ?? "FULL (store default)",
        evidence: config.evidence.path,
        policy: "default pack",
        client: "same process, keep-alive, 1 connection, sequential",
        // Keep-alive at work: how many connections the client opened to each server in the run.
        connections: {
          echo: opened.get(echoPath)?.size ?? 0,
          allow: opened.get(agent.socketPath)?.size ?? 0,
        },
        rounds: `${ROUNDS} alternating rounds of echo, ALLOW, SQLite floor`,
        pending_row_bytes: Buffer.byteLength(rowText),
        load_avg_1m: load.map((l) => l.toFixed(2)).join(" → "),
      },
    };
  } finally {
    client.destroy();
    await new Promise((r) => echo.close(r));
    await agent.close();
  }
};

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone("socket", suite);
