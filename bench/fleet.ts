import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { SimAgent, simHeartbeat } from "./fleet-agent.js";
import { judge, type Metric, runStandalone, type Suite, type SuiteContext, stats } from "./harness.js";

/**
 * Fleet load: one collector process holds 500 simulated agents (real WebSocket connections from
 * this process, each with its own ed25519 key and a signed hello), each sending a heartbeat every
 * 2 s and one evidence record with it (250 heartbeats/s and 250 records/s in all). Measured on the
 * collector process: CPU (/proc/<pid>/stat utime+stime) and RSS (/proc/<pid>/status), and the
 * heartbeat-to-visible latency: from a heartbeat's send to `GET /v1/hosts/:id` showing it.
 * Baseline, same run, same collector: one agent on its own (heartbeat + record every 250 ms,
 * each heartbeat probed). Run twice: synchronous=FULL (the default: every records batch is one
 * fsync before its ack, on the collector's event loop) and NORMAL, because with 250 commits/s the
 * collector is bound by the disk's fsync latency, which the info block records (with the load
 * average and this load process's own event-loop delay) so a reader can judge the figures.
 */

const COLLECTOR_BIN = fileURLToPath(new URL("../../bin/forge-collector.js", import.meta.url));
const AGENTS = 500;
const PERIOD_MS = 2000;
/** One heartbeat in this many is followed until visible (bounds the probing load to ~10 GET/s). */
const PROBE_EVERY = 25;

function clockTicks(): number {
  const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
}

/** CPU seconds (user + system) the process has used. */
function cpuSeconds(pid: number, hz: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / hz; // fields 14 and 15 of proc(5)
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

async function startCollector(
  dir: string,
  sync: "FULL" | "NORMAL",
): Promise<{ child: ChildProcess; url: string; http: string }> {
  const child = spawn(
    process.execPath,
    [
      COLLECTOR_BIN,
      "run",
      "--database",
      `sqlite:${join(dir, "collector.db")}`,
      "--listen",
      "127.0.0.1:0",
      "--synchronous",
      sync,
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`collector exited ${code}`)));
  });
  return { child, ...(JSON.parse(line) as { url: string; http: string }) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls GET /v1/hosts/:id until its heartbeat is beat `beat` or a later one (a slow poll may only
 * ever see the next heartbeat; counting that as "never visible" would drop the slowest samples);
 * ms from `sentAt`, or NaN after 10 s.
 */
async function visible(http: string, hostId: string, beat: number, sentAt: number): Promise<number> {
  while (performance.now() - sentAt < 10_000) {
    try {
      const res = await fetch(`${http}/v1/hosts/${hostId}`);
      const h = (await res.json()) as { heartbeat?: { beat?: number } };
      if ((h.heartbeat?.beat ?? 0) >= beat) return performance.now() - sentAt;
    } catch {
      // A keep-alive connection the server closed as we reused it (ECONNRESET): poll again.
    }
    await sleep(5);
  }
  return Number.NaN;
}

interface Phase {
  latencyMs: number[];
  cpuPercent: number[];
  rssMiB: number[];
  heartbeats: number;
  records: number;
  lost: number;
}

/**
 * Runs `agents` (already connected) for `seconds`: each heartbeats every PERIOD_MS at its own
 * phase with one record; every PROBE_EVERY-th heartbeat is followed until visible.
 */
async function run(
  agents: SimAgent[],
  http: string,
  pid: number,
  seconds: number,
  signal: AbortSignal,
  periodMs = PERIOD_MS,
): Promise<Phase> {
  const hz = clockTicks();
  const out: Phase = { latencyMs: [], cpuPercent: [], rssMiB: [], heartbeats: 0, records: 0, lost: 0 };
  const probes: Promise<void>[] = [];
  const beats = new Map<SimAgent, number>();
  const timers = agents.map((a, i) =>
    setTimeout(
      () => {
        const tick = () => {
          if (!a.open) return;
          const n = ++out.heartbeats;
          const beat = (beats.get(a) ?? 0) + 1;
          beats.set(a, beat);
          a.records(1);
          out.records++;
          const sentAt = performance.now();
          a.heartbeat(simHeartbeat(n, { beat }));
          if (n % PROBE_EVERY === 0 || agents.length === 1) {
            probes.push(
              visible(http, a.hostId, beat, sentAt).then((ms) => {
                if (Number.isNaN(ms)) out.lost++;
                else out.latencyMs.push(ms);
              }),
            );
          }
        };
        tick();
        timers[i] = setInterval(tick, periodMs) as unknown as NodeJS.Timeout;
      },
      (i / agents.length) * periodMs,
    ),
  );
  let cpu0 = cpuSeconds(pid, hz);
  let t0 = performance.now();
  const end = t0 + seconds * 1000;
  while (performance.now() < end && !signal.aborted) {
    await sleep(1000);
    const cpu1 = cpuSeconds(pid, hz);
    const t1 = performance.now();
    out.cpuPercent.push((100 * (cpu1 - cpu0)) / ((t1 - t0) / 1000));
    out.rssMiB.push(rssMiB(pid));
    cpu0 = cpu1;
    t0 = t1;
  }
  for (const t of timers) clearInterval(t);
  await Promise.all(probes);
  return out;
}

async function connectAll(agents: SimAgent[], concurrency = 25): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < agents.length) await agents[next++]!.connect();
    }),
  );
}

/** fsync latency of the scratch disk right now (the collector's commits wait on it). */
function fsyncMs(dir: string): { median: number; p99: number } {
  const fd = openSync(join(dir, "fsync-probe"), "w");
  const t: number[] = [];
  try {
    for (let i = 0; i < 100; i++) {
      writeSync(fd, Buffer.alloc(4096, 120));
      const a = performance.now();
      fsyncSync(fd);
      t.push(performance.now() - a);
    }
  } finally {
    closeSync(fd);
  }
  const s = stats(t);
  return { median: round(s.median), p99: round(s.p99) };
}

const round = (v: number) => Math.round(v * 100) / 100;

interface Measured {
  base: Phase;
  load: Phase;
  info: Record<string, unknown>;
}

/** One collector configuration: the 1-agent baseline, then the fleet, on the same collector process. */
async function measure(
  ctx: SuiteContext,
  sync: "FULL" | "NORMAL",
  seconds: number,
  at: number,
): Promise<Measured> {
  const dir = join(ctx.tmpDir, sync);
  const c = await startCollector(dir, sync);
  const pid = c.child.pid!;
  const agents: SimAgent[] = [];
  const loop = monitorEventLoopDelay({ resolution: 10 });
  try {
    ctx.progress(at, `synchronous=${sync}: baseline, one agent`);
    const one = new SimAgent("bench-solo", c.url);
    agents.push(one);
    await one.connect();
    // Every 250 ms instead of 2 s, so the baseline has enough probes (each heartbeat is one).
    const base = await run([one], c.http, pid, Math.max(10, ctx.durationS * 2), ctx.signal, 250);
    ctx.progress(at + 0.1, `synchronous=${sync}: connecting ${AGENTS} agents`);
    const fleet = Array.from(
      { length: AGENTS },
      (_, i) => new SimAgent(`bench-${String(i).padStart(3, "0")}`, c.url),
    );
    agents.push(...fleet);
    const t0 = performance.now();
    await connectAll(fleet);
    const connectS = (performance.now() - t0) / 1000;
    ctx.progress(at + 0.15, `synchronous=${sync}: ${AGENTS} agents, ${seconds} s of heartbeats and records`);
    loop.enable();
    const load = await run(fleet, c.http, pid, seconds, ctx.signal);
    loop.disable();
    const status = (await (await fetch(`${c.http}/v1/fleet`)).json()) as { counts: Record<string, number> };
    return {
      base,
      load,
      info: {
        synchronous: sync,
        connect_all_s: round(connectS),
        heartbeats_sent: load.heartbeats,
        records_sent: load.records,
        records_acked: fleet.reduce((n, a) => n + a.acked, 0),
        not_visible_in_10s: load.lost,
        fleet_status: status.counts,
        load_process_loop_delay_p99_ms: round(loop.percentile(99) / 1e6),
      },
    };
  } finally {
    await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
    c.child.kill("SIGTERM");
    await new Promise((r) => c.child.once("exit", r));
  }
}

export const suite: Suite = async (ctx: SuiteContext) => {
  const seconds = Math.max(30, ctx.durationS * 6);
  const disk = fsyncMs(ctx.tmpDir);
  const full = await measure(ctx, "FULL", seconds, 0.02);
  const normal = ctx.signal.aborted ? null : await measure(ctx, "NORMAL", seconds, 0.5);

  const metric = (name: string, unit: string, a: number[], b: number[], notes?: string): Metric => {
    const s = stats(a);
    const bs = stats(b);
    const ratio = bs.median > 0 ? s.median / bs.median : undefined;
    return { name, unit, stats: s, baseline: { name: "1 agent", stats: bs }, ratio, notes };
  };
  const latency = (m: Measured, label: string) =>
    judge(
      metric(
        `heartbeat-to-visible, ${AGENTS} agents, ${label}`,
        "ms",
        m.load.latencyMs,
        m.base.latencyMs,
        `send → GET /v1/hosts/:id shows it (5 ms polls); ${m.load.lost} not visible within 10 s`,
      ),
      { text: "p99 < 1000 ms", stat: "p99", op: "<=", value: 1000 },
    );
  const metrics: Metric[] = [
    latency(full, "synchronous=FULL (default)"),
    metric(
      `collector CPU, ${AGENTS} agents, FULL`,
      "% of one core",
      full.load.cpuPercent,
      full.base.cpuPercent,
      "1 s samples of /proc/<pid>/stat",
    ),
    metric(`collector RSS, ${AGENTS} agents, FULL`, "MiB", full.load.rssMiB, full.base.rssMiB),
  ];
  if (normal !== null) {
    metrics.push(
      latency(normal, "synchronous=NORMAL"),
      metric(
        `collector CPU, ${AGENTS} agents, NORMAL`,
        "% of one core",
        normal.load.cpuPercent,
        normal.base.cpuPercent,
      ),
      metric(`collector RSS, ${AGENTS} agents, NORMAL`, "MiB", normal.load.rssMiB, normal.base.rssMiB),
    );
  }
  const info = {
    agents: AGENTS,
    heartbeat_period_ms: PERIOD_MS,
    records_per_heartbeat: 1,
    seconds,
    disk_fsync_ms: disk,
    load_average: loadavg().map(round),
    full: full.info,
    normal: normal?.info ?? null,
  };
  ctx.progress(1, JSON.stringify(info));
  return { suite: "fleet", metrics, partial: ctx.signal.aborted || undefined, info };
};

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone("fleet", suite);
