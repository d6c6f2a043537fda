import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
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
 * each heartbeat probed). A heartbeat queued behind its connection's records batch waits for that
 * batch's commit (synchronous=FULL: one fsync), which is most of the latency.
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

async function startCollector(dir: string): Promise<{ child: ChildProcess; url: string; http: string }> {
  const child = spawn(
    process.execPath,
    [COLLECTOR_BIN, "run", "--database", `sqlite:${join(dir, "collector.db")}`, "--listen", "127.0.0.1:0"],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`collector exited ${code}`)));
  });
  return { child, ...(JSON.parse(line) as { url: string; http: string }) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls GET /v1/hosts/:id until its heartbeat carries `probe`; ms from `sentAt`, or NaN after 10 s. */
async function visible(http: string, hostId: string, probe: number, sentAt: number): Promise<number> {
  while (performance.now() - sentAt < 10_000) {
    const res = await fetch(`${http}/v1/hosts/${hostId}`);
    const h = (await res.json()) as { heartbeat?: { probe?: number } };
    if (h.heartbeat?.probe === probe) return performance.now() - sentAt;
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
  let probeId = 0;
  const timers = agents.map((a, i) =>
    setTimeout(
      () => {
        const beat = () => {
          if (!a.open) return;
          const n = ++out.heartbeats;
          a.records(1);
          out.records++;
          if (n % PROBE_EVERY === 0 || agents.length === 1) {
            const probe = ++probeId;
            const sentAt = performance.now();
            a.heartbeat(simHeartbeat(n, { probe }));
            probes.push(
              visible(http, a.hostId, probe, sentAt).then((ms) => {
                if (Number.isNaN(ms)) out.lost++;
                else out.latencyMs.push(ms);
              }),
            );
          } else a.heartbeat(simHeartbeat(n));
        };
        beat();
        timers[i] = setInterval(beat, periodMs) as unknown as NodeJS.Timeout;
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

export const suite: Suite = async (ctx: SuiteContext) => {
  const seconds = Math.max(30, ctx.durationS * 6);
  const c = await startCollector(ctx.tmpDir);
  const pid = c.child.pid!;
  const agents: SimAgent[] = [];
  try {
    ctx.progress(0.02, "baseline: one agent");
    const one = new SimAgent("bench-solo", c.url);
    agents.push(one);
    await one.connect();
    // Every 250 ms instead of 2 s, so the baseline has enough probes (each heartbeat is one).
    const base = await run([one], c.http, pid, Math.max(10, ctx.durationS * 2), ctx.signal, 250);

    ctx.progress(0.3, `connecting ${AGENTS} agents`);
    const fleet = Array.from(
      { length: AGENTS },
      (_, i) => new SimAgent(`bench-${String(i).padStart(3, "0")}`, c.url),
    );
    agents.push(...fleet);
    const t0 = performance.now();
    await connectAll(fleet);
    const connectS = (performance.now() - t0) / 1000;
    ctx.progress(0.4, `${AGENTS} agents: ${seconds} s of heartbeats and records`);
    const load = await run(fleet, c.http, pid, seconds, ctx.signal);
    const acked = fleet.reduce((n, a) => n + a.acked, 0);
    const status = (await (await fetch(`${c.http}/v1/fleet`)).json()) as { counts: Record<string, number> };

    const metric = (name: string, unit: string, a: number[], b: number[], notes?: string): Metric => {
      const s = stats(a);
      const bs = stats(b);
      const ratio = bs.median > 0 ? s.median / bs.median : undefined;
      return { name, unit, stats: s, baseline: { name: "1 agent", stats: bs }, ratio, notes };
    };
    const metrics: Metric[] = [
      judge(
        metric(
          `heartbeat-to-visible, ${AGENTS} agents`,
          "ms",
          load.latencyMs,
          base.latencyMs,
          `send → GET /v1/hosts/:id shows it (5 ms polls); ${load.lost} not visible within 10 s`,
        ),
        { text: "p99 < 1000 ms", stat: "p99", op: "<=", value: 1000 },
      ),
      metric(
        `collector CPU, ${AGENTS} agents`,
        "% of one core",
        load.cpuPercent,
        base.cpuPercent,
        "1 s samples of /proc/<pid>/stat",
      ),
      metric(`collector RSS, ${AGENTS} agents`, "MiB", load.rssMiB, base.rssMiB),
    ];
    const info = {
      agents: AGENTS,
      heartbeat_period_ms: PERIOD_MS,
      seconds,
      connect_all_s: Math.round(connectS * 10) / 10,
      heartbeats_sent: load.heartbeats,
      records_sent: load.records,
      records_acked: acked,
      fleet_status: status.counts,
      probes: load.latencyMs.length,
    };
    ctx.progress(1, JSON.stringify(info));
    return {
      suite: "fleet",
      metrics,
      partial: ctx.signal.aborted || undefined,
      info,
    };
  } finally {
    await Promise.all(agents.map((a) => a.close().catch(() => undefined)));
    c.child.kill("SIGTERM");
    await new Promise((r) => c.child.once("exit", r));
  }
};

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone("fleet", suite);
