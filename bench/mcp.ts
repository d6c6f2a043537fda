/**
 * MCP gateway: the added latency per tools/call. The SDK's client calls `echo` on the real
 * `@modelcontextprotocol/server-everything` (stdio) directly, and through the governed gateway
 * (in-process, linked to its client by the SDK's in-memory transport, so the figure is the
 * gateway's own cost: the durable ALLOW on the socket, the forward, and the result report),
 * in alternating rounds against one daemon with the default pack (mcp__*__echo is allowed).
 * Target (issue 16): added latency <= 1 ms median.
 *
 * The floor: the ALLOW must be durable before the call is forwarded, so a sequential client pays
 * one group commit per call whatever the gateway does (the result record rides on the next one).
 * That commit is measured in the same rounds, on the same disk, with the daemon's synchronous mode:
 * one append to a store of its own.
 */
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { pino } from "pino";
import { callAgent } from "../src/agent/client.js";
import { loadConfig } from "../src/agent/config.js";
import { startAgent } from "../src/agent/daemon.js";
import { EvidenceStore } from "../src/evidence/index.js";
import { McpGateway } from "../src/integrations/mcp-gateway.js";
import { record } from "./evidence.js";
import { judge, type Metric, runStandalone, type Suite, sampleAsync, stats } from "./harness.js";

const ROUNDS = 5;

export const suite: Suite = async (ctx) => {
  const require = createRequire(import.meta.url);
  const everything = require.resolve("@modelcontextprotocol/server-everything/dist/index.js");
  const config = loadConfig({
    object: { home: join(ctx.tmpDir, "agent"), backend: "none", log_level: "silent" },
    cwd: ctx.tmpDir,
    hostname: "bench",
  });
  const agent = await startAgent(config, { logger: pino({ level: "silent" }) });
  const floorStore = EvidenceStore.open({
    path: join(ctx.tmpDir, "floor.db"),
    keyDir: join(ctx.tmpDir, "floor-keys"),
    hostId: "bench-floor",
    ...(config.evidence.synchronous ? { synchronous: config.evidence.synchronous } : {}),
  });
  let floorN = 0;
  const commitOne = async () => {
    await floorStore.append(record(floorN++));
  };
  const server = { command: process.execPath, args: [everything, "stdio"], env: {}, timeout_ms: 60_000 };
  const direct = new Client({ name: "bench-direct", version: "1" });
  const viaClient = new Client({ name: "bench-gateway", version: "1" });
  const gateway = new McpGateway(
    { everything: server },
    { socket: agent.socketPath, session: "bench-mcp", waitMs: 0, log: () => {} },
  );
  try {
    await direct.connect(
      new StdioClientTransport({ command: server.command, args: server.args, stderr: "ignore" }),
    );
    const [agentSide, gatewaySide] = InMemoryTransport.createLinkedPair();
    await gateway.connect(gatewaySide);
    await viaClient.connect(agentSide);
    const callDirect = () => direct.callTool({ name: "echo", arguments: { message: "bench" } });
    const callVia = async () => {
      const r = await viaClient.callTool({ name: "everything.echo", arguments: { message: "bench" } });
      if (r.isError) throw new Error(`the gateway refused echo: ${JSON.stringify(r.content)}`);
    };
    await callVia();
    const seconds = Math.max(1, ctx.durationS);
    const directUs: number[] = [];
    const viaUs: number[] = [];
    const commitUs: number[] = [];
    // The daemon's group commits per gateway call (its /v1/health): the design's sync count.
    const commits = async () =>
      ((await callAgent(agent.socketPath, "GET", "/v1/health")).body as { evidence: { commits: number } })
        .evidence.commits;
    let viaCommits = 0;
    let viaCalls = 0;
    const load = [loadavg()[0]!];
    for (let r = 0; r < ROUNDS && !ctx.signal.aborted; r++) {
      ctx.progress((0.9 * r) / ROUNDS, `round ${r + 1}/${ROUNDS}: direct, through the gateway`);
      const warmup = r === 0 ? 100 : 10;
      const slice = seconds / ROUNDS;
      directUs.push(...(await sampleAsync(callDirect, { seconds: slice, warmup, signal: ctx.signal })));
      const c0 = await commits();
      const via = await sampleAsync(callVia, { seconds: slice, warmup, signal: ctx.signal });
      viaUs.push(...via);
      viaCommits += (await commits()) - c0;
      viaCalls += via.length + warmup;
      commitUs.push(...(await sampleAsync(commitOne, { seconds: slice / 2, warmup, signal: ctx.signal })));
      load.push(loadavg()[0]!);
    }
    const toMs = (us: number[]) => us.map((u) => u / 1000);
    const base = { name: "client → server-everything direct (stdio)", stats: stats(toMs(directUs)) };
    const via: Metric = {
      name: "tools/call through the gateway (durable ALLOW; result record on the next commit)",
      unit: "ms",
      stats: stats(toMs(viaUs)),
      baseline: base,
    };
    via.ratio = via.stats.median / base.stats.median;
    via.ratio_of = "median / direct median";
    const added: Metric = {
      name: "added latency per tools/call",
      unit: "ms",
      stats: { ...via.stats, median: via.stats.median - base.stats.median },
      notes: "gateway median − direct median; other stats are the gateway's own",
    };
    const commit = stats(toMs(commitUs));
    const beyondFloor: Metric = {
      name: "added latency beyond the one durable commit",
      unit: "ms",
      stats: { ...via.stats, median: via.stats.median - base.stats.median - commit.median },
      notes: "added median − the median of one group commit; what the gateway and the socket hop cost",
    };
    ctx.progress(1, "done");
    return {
      suite: "mcp",
      metrics: [
        judge(added, { text: "median <= 1 ms", stat: "median", op: "<=", value: 1 }),
        via,
        { name: "direct baseline", unit: "ms", stats: base.stats },
        {
          name: "floor: one durable commit (store append, same disk, same run)",
          unit: "ms",
          stats: commit,
        },
        beyondFloor,
      ],
      info: {
        server: "@modelcontextprotocol/server-everything echo, stdio",
        gateway: "in-process, SDK in-memory transport toward the client; stdio toward the server",
        policy: "default pack",
        synchronous: config.evidence.synchronous ?? "FULL (store default)",
        daemon_commits_per_call: (viaCommits / Math.max(1, viaCalls)).toFixed(3),
        load_avg_1m: load.map((l) => l.toFixed(2)).join(" → "),
      },
    };
  } finally {
    await viaClient.close().catch(() => {});
    await gateway.close().catch(() => {});
    await direct.close().catch(() => {});
    await agent.close();
    await floorStore.close();
  }
};

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone("mcp", suite);
