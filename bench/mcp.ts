/**
 * MCP gateway: the added latency per tools/call. The SDK's client calls `echo` on the real
 * `@modelcontextprotocol/server-everything` (stdio) directly, and through the governed gateway, in
 * alternating rounds, each gateway against a daemon with the default pack (mcp__*__echo is allowed):
 * - in-process, linked to its client by the SDK's in-memory transport, daemon with FULL sync (the
 *   store's default): the gateway's own cost — the durable ALLOW on the socket, the forward, the
 *   result report;
 * - the same against a daemon with `evidence.synchronous: NORMAL` (committed, not fsynced per
 *   commit): the same work without the per-call fsync;
 * - over Streamable HTTP: `forge-agent mcp --listen` in its own process, as an HTTP client such as
 *   Claude Code runs it (FULL), against its own baseline: the same client over Streamable HTTP to
 *   server-everything's own HTTP transport, also its own process (both sides of an HTTP hop, and
 *   a process of their own for the server side, in both figures).
 * Target (issue 16): added latency <= 1 ms median.
 *
 * Where the time goes is measured in the same rounds: one durable commit alone (the floor: the
 * ALLOW must be durable before the call is forwarded, so a sequential client pays one commit per
 * call whatever the gateway does; the result record rides on the next one), one proposal alone
 * (POST /v1/actions: the socket hop, the gate, the commit), and the CPU this process (gateway and
 * daemon together, both in-process) spends per gateway call.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { loadavg } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { pino } from "pino";
import { callAgent } from "../src/agent/client.js";
import { loadConfig } from "../src/agent/config.js";
import { type AgentHandle, startAgent } from "../src/agent/daemon.js";
import { EvidenceStore } from "../src/evidence/index.js";
import { govern } from "../src/integrations/governed.js";
import { McpGateway } from "../src/integrations/mcp-gateway.js";
import { record } from "./evidence.js";
import { judge, type Metric, runStandalone, type Stats, type Suite, sampleAsync, stats } from "./harness.js";

const ROUNDS = 5;
const ECHO = { message: "bench" };

export const suite: Suite = async (ctx) => {
  const require = createRequire(import.meta.url);
  const everything = require.resolve("@modelcontextprotocol/server-everything/dist/index.js");
  const daemon = (name: string, synchronous?: "NORMAL") => {
    const config = loadConfig({
      object: {
        home: join(ctx.tmpDir, name),
        backend: "none",
        log_level: "silent",
        ...(synchronous ? { evidence: { synchronous } } : {}),
      },
      cwd: ctx.tmpDir,
      hostname: "bench",
    });
    return startAgent(config, { logger: pino({ level: "silent" }) });
  };
  const full = await daemon("agent");
  const normal = await daemon("agent-normal", "NORMAL");
  const floorStore = EvidenceStore.open({
    path: join(ctx.tmpDir, "floor.db"),
    keyDir: join(ctx.tmpDir, "floor-keys"),
    hostId: "bench-floor",
  });
  let floorN = 0;
  const commitOne = async () => {
    await floorStore.append(record(floorN++));
  };
  const server = { command: process.execPath, args: [everything, "stdio"], env: {}, timeout_ms: 60_000 };
  const gateway = (agent: AgentHandle, session: string) =>
    new McpGateway({ everything: server }, { socket: agent.socketPath, session, waitMs: 0, log: () => {} });
  const direct = new Client({ name: "bench-direct", version: "1" });
  const directHttp = new Client({ name: "bench-direct-http", version: "1" });
  const port = await freePort();
  const httpServer = spawn(process.execPath, [everything, "streamableHttp"], {
    env: { ...process.env, PORT: String(port) },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const gFull = gateway(full, "bench-mcp");
  const gNormal = gateway(normal, "bench-mcp-normal");
  const servers = join(ctx.tmpDir, "servers.json");
  writeFileSync(servers, JSON.stringify({ mcpServers: { everything: server } }));
  // bench/mcp.ts runs from dist/bench/: the CLI is the repository's bin/forge-agent.js.
  const cli = fileURLToPath(new URL("../../bin/forge-agent.js", import.meta.url));
  const listen = (agent: AgentHandle, session: string) =>
    spawn(
      process.execPath,
      [
        cli,
        "mcp",
        "--config",
        servers,
        "--socket",
        agent.socketPath,
        "--session",
        session,
        "--listen",
        "127.0.0.1:0",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
  const gHttp = listen(full, "bench-mcp-http");
  const gHttpNormal = listen(normal, "bench-mcp-http-normal");
  const cFull = new Client({ name: "bench-gateway", version: "1" });
  const cNormal = new Client({ name: "bench-gateway-normal", version: "1" });
  const cHttp = new Client({ name: "bench-gateway-http", version: "1" });
  const cHttpNormal = new Client({ name: "bench-gateway-http-normal", version: "1" });
  try {
    await direct.connect(
      new StdioClientTransport({ command: server.command, args: server.args, stderr: "ignore" }),
    );
    for (const [g, c] of [
      [gFull, cFull],
      [gNormal, cNormal],
    ] as const) {
      const [agentSide, gatewaySide] = InMemoryTransport.createLinkedPair();
      await g.connect(gatewaySide);
      await c.connect(agentSide);
    }
    await said(httpServer, "server-everything (HTTP)", /listening on port/);
    await directHttp.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
    for (const [g, c] of [
      [gHttp, cHttp],
      [gHttpNormal, cHttpNormal],
    ] as const) {
      const listening = await said(g, "forge-agent mcp --listen", /on (http:\/\/127\.0\.0\.1:\d+\/mcp)/);
      await c.connect(new StreamableHTTPClientTransport(new URL(listening[1]!)));
    }
    const callDirect = () => direct.callTool({ name: "echo", arguments: ECHO });
    const callDirectHttp = () => directHttp.callTool({ name: "echo", arguments: ECHO });
    const via = (c: Client) => async () => {
      const r = await c.callTool({ name: "everything.echo", arguments: ECHO });
      if (r.isError) throw new Error(`the gateway refused echo: ${JSON.stringify(r.content)}`);
    };
    const proposeOne = async () => {
      const d = await govern(
        "bench-propose",
        { kind: "tool", name: "mcp__everything__echo", arguments: ECHO },
        {
          socket: full.socketPath,
          waitMs: 0,
        },
      );
      if (!d.allow) throw new Error(d.reason);
    };
    for (const c of [cFull, cNormal, cHttp, cHttpNormal]) await via(c)();
    const seconds = Math.max(1, ctx.durationS);
    const us: Record<
      "direct" | "directHttp" | "full" | "normal" | "http" | "httpNormal" | "commit" | "propose",
      number[]
    > = {
      direct: [],
      directHttp: [],
      full: [],
      normal: [],
      http: [],
      httpNormal: [],
      commit: [],
      propose: [],
    };
    // The daemon's group commits per gateway call (its /v1/health): the design's sync count.
    const commits = async () =>
      ((await callAgent(full.socketPath, "GET", "/v1/health")).body as { evidence: { commits: number } })
        .evidence.commits;
    let viaCommits = 0;
    let viaCalls = 0;
    let cpuUs = 0;
    const load = [loadavg()[0]!];
    for (let r = 0; r < ROUNDS && !ctx.signal.aborted; r++) {
      ctx.progress((0.9 * r) / ROUNDS, `round ${r + 1}/${ROUNDS}: direct, the gateways, the floor`);
      const warmup = r === 0 ? 100 : 10;
      const slice = seconds / ROUNDS;
      const run = (fn: () => Promise<unknown>, s = slice) =>
        sampleAsync(fn, { seconds: s, warmup, signal: ctx.signal });
      us.direct.push(...(await run(callDirect)));
      const c0 = await commits();
      const cpu0 = process.cpuUsage();
      const f = await run(via(cFull));
      const cpu = process.cpuUsage(cpu0);
      cpuUs += cpu.user + cpu.system;
      us.full.push(...f);
      viaCommits += (await commits()) - c0;
      viaCalls += f.length + warmup;
      us.normal.push(...(await run(via(cNormal))));
      us.directHttp.push(...(await run(callDirectHttp)));
      us.http.push(...(await run(via(cHttp))));
      us.httpNormal.push(...(await run(via(cHttpNormal))));
      us.propose.push(...(await run(proposeOne, slice / 2)));
      us.commit.push(...(await run(commitOne, slice / 2)));
      load.push(loadavg()[0]!);
    }
    const s = Object.fromEntries(
      Object.entries(us).map(([k, v]) => [k, stats(v.map((u) => u / 1000))]),
    ) as Record<keyof typeof us, Stats>;
    const base = { name: "client → server-everything direct (stdio)", stats: s.direct };
    const baseHttp = { name: "client → server-everything direct (Streamable HTTP)", stats: s.directHttp };
    const added = (name: string, v: Stats, notes: string, b = base): Metric =>
      judge(
        {
          name,
          unit: "ms",
          stats: { ...v, median: v.median - b.stats.median },
          baseline: b,
          ratio: v.median / b.stats.median,
          ratio_of: "gateway median / direct median",
          notes: `gateway median − direct median (other stats are the gateway's own); ${notes}`,
        },
        { text: "median <= 1 ms", stat: "median", op: "<=", value: 1 },
      );
    ctx.progress(1, "done");
    return {
      suite: "mcp",
      metrics: [
        added("added latency per tools/call (FULL sync)", s.full, "in-memory transport toward the client"),
        added(
          "added latency per tools/call (synchronous NORMAL)",
          s.normal,
          "the same work without the per-commit fsync",
        ),
        added(
          "added latency per tools/call over Streamable HTTP (FULL)",
          s.http,
          "forge-agent mcp --listen in its own process, vs the client over HTTP to the server's own HTTP transport",
          baseHttp,
        ),
        added(
          "added latency per tools/call over Streamable HTTP (synchronous NORMAL)",
          s.httpNormal,
          "the same, without the per-commit fsync",
          baseHttp,
        ),
        { name: "direct baseline (stdio)", unit: "ms", stats: base.stats },
        { name: "direct baseline (Streamable HTTP)", unit: "ms", stats: baseHttp.stats },
        { name: "one durable commit alone (store append, same disk, FULL)", unit: "ms", stats: s.commit },
        {
          name: "one proposal alone (POST /v1/actions, durable ALLOW, FULL)",
          unit: "ms",
          stats: s.propose,
        },
        {
          name: "added latency beyond the one durable commit (FULL)",
          unit: "ms",
          stats: { ...s.full, median: s.full.median - base.stats.median - s.commit.median },
          notes: "added median − the median of one commit: the gateway, the socket hop and the daemon's CPU",
        },
        {
          name: "CPU per gateway call (this process: gateway + daemon, FULL)",
          unit: "ms",
          stats: (() => {
            const v = cpuUs / 1000 / Math.max(1, viaCalls);
            return { n: viaCalls, median: v, p99: v, min: v, max: v };
          })(),
          notes: "process.cpuUsage over the FULL rounds ÷ calls (a mean)",
        },
      ],
      info: {
        server: "@modelcontextprotocol/server-everything echo, stdio",
        gateway:
          "in-process; SDK in-memory transport or Streamable HTTP toward the client; stdio toward the server",
        policy: "default pack",
        daemon_commits_per_call: (viaCommits / Math.max(1, viaCalls)).toFixed(3),
        load_avg_1m: load.map((l) => l.toFixed(2)).join(" → "),
      },
    };
  } finally {
    for (const c of [cFull, cNormal, cHttp, cHttpNormal, directHttp]) await c.close().catch(() => {});
    httpServer.kill();
    for (const g of [gFull, gNormal]) await g.close().catch(() => {});
    gHttp.kill();
    gHttpNormal.kill();
    await direct.close().catch(() => {});
    await full.close();
    await normal.close();
    await floorStore.close();
  }
};

/** Waits until the child's stderr matches `what` (its match), or fails when the child exits first. */
async function said(child: ReturnType<typeof spawn>, name: string, what: RegExp): Promise<RegExpExecArray> {
  let text = "";
  child.stderr!.on("data", (b: Buffer) => {
    text += b;
  });
  for (;;) {
    const m = what.exec(text);
    if (m) return m;
    if (child.exitCode !== null) throw new Error(`${name} exited: ${text}`);
    await Promise.race([once(child.stderr!, "data"), once(child, "exit")]);
  }
}

/** A loopback port nothing listens on now (server-everything takes its port from PORT). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as { port: number };
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

if (import.meta.url === `file://${process.argv[1]}`) await runStandalone("mcp", suite);
