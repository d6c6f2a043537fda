import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { createRequire } from "node:module";
import { connect, createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { McpGateway } from "../../src/integrations/mcp-gateway.js";
import {
  CLI,
  pendingReview,
  REPO,
  reviewAs,
  startTestAgent,
  type TestAgent,
  tempHome,
} from "../agent/helpers.js";
import { until } from "../support/wait.js";

/**
 * `forge-agent mcp` as an agent runs it: the SDK's own client launches the gateway as a child
 * process on stdio; the gateway launches real MCP servers from npm (filesystem, everything) and a
 * crashing fixture; a real daemon on its socket decides every call.
 */
const require = createRequire(import.meta.url);
const FS_SERVER = require.resolve("@modelcontextprotocol/server-filesystem/dist/index.js");
const EVERYTHING = require.resolve("@modelcontextprotocol/server-everything/dist/index.js");
const CRASHER = join(REPO, "test", "fixtures", "mcp-crash-server.mjs");

const POLICY = `
bundle: { id: mcp-test, version: 1 }
defaults: { effect: deny }
rules:
  - id: fs-read
    match: { kind: tool, tool: ["mcp__fs__read_text_file", "mcp__fs__list_directory"] }
    effect: allow
  - id: fs-write
    match: { kind: tool, tool: "mcp__fs__write_file" }
    effect: deny
  - id: echo-ok
    match: { kind: tool, tool: ["mcp__everything__echo", "mcp__everything__resources/read"] }
    effect: allow
  - id: sum-review
    match: { kind: tool, tool: "mcp__everything__get-sum" }
    effect: escalate
  - id: crash-ok
    match: { kind: tool, tool: "mcp__crashy__*" }
    effect: allow
  - id: file-read
    match: { kind: file.read }
    effect: allow
`;

interface Gateway {
  client: Client;
  stderr: () => string;
}

async function startGateway(
  config: unknown,
  socket: string,
  session: string,
  home: string,
  extra: string[] = [],
): Promise<Gateway> {
  const file = join(home, `${session}.json`);
  writeFileSync(file, JSON.stringify(config));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI, "mcp", "--config", file, "--socket", socket, "--session", session, ...extra],
    stderr: "pipe",
  });
  let err = "";
  transport.stderr?.on("data", (b: Buffer) => {
    err += b;
  });
  const client = new Client({ name: "gateway-test", version: "1.0.0" });
  await client.connect(transport);
  return { client, stderr: () => err };
}

/** The text of a tools/call result; the SDK's result type also admits the legacy `toolResult` form. */
const text = (r: object): string => {
  if (!("content" in r) || !Array.isArray(r.content)) throw new Error("the result has no content array");
  return (r.content as { type: string; text?: string }[]).map((c) => c.text ?? "").join("");
};

/** A servers.json with server-everything alone, in `home`. */
function everythingConfig(home: string): string {
  const file = join(home, "servers.json");
  writeFileSync(
    file,
    JSON.stringify({
      mcpServers: { everything: { command: process.execPath, args: [EVERYTHING, "stdio"] } },
    }),
  );
  return file;
}

/** Runs the CLI to its exit: the exit code and stderr. */
function runCli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (b: Buffer) => {
      stderr += b;
    });
    p.on("close", (code) => resolve({ code, stderr }));
  });
}

describe("forge-agent mcp (governed MCP gateway)", () => {
  let t: TestAgent;
  let work: string;
  let g: Gateway;
  beforeAll(async () => {
    const home = tempHome("fa-mcp-");
    writeFileSync(join(home, "policy.yaml"), POLICY);
    t = await startTestAgent({ policy: join(home, "policy.yaml") }, home);
    work = join(home, "work");
    mkdirSync(work);
    writeFileSync(join(work, "notes.txt"), "hello from the workspace\n");
    g = await startGateway(
      {
        mcpServers: {
          fs: { command: process.execPath, args: [FS_SERVER, work] },
          everything: { command: process.execPath, args: [EVERYTHING, "stdio"] },
          crashy: { command: process.execPath, args: [CRASHER] },
        },
      },
      t.agent.socketPath,
      "mcp-main",
      home,
    );
  });
  afterAll(async () => {
    await g?.client.close();
    await t.stop();
  });
  const steps = async (session: string) =>
    (await t.client.get(`/v1/sessions/${session}/trace`)).body.steps as {
      action_id: string;
      state: string;
      evaluation: string;
      proposed_action: { kind: string; name?: string; arguments?: Record<string, unknown> };
      execution_result?: { status: string; result?: Record<string, unknown> };
    }[];

  it("lists every server's tools, namespaced <server>.<tool>", async () => {
    const { tools } = await g.client.listTools();
    const names = tools.map((x) => x.name);
    expect(names).toEqual(expect.arrayContaining(["fs.read_text_file", "fs.write_file", "everything.echo"]));
    expect(names.every((n) => /^(fs|everything|crashy)\./.test(n))).toBe(true);
  });

  it("ALLOW forwards the call, and the record is final with the result's digest", async () => {
    const r = await g.client.callTool({
      name: "fs.read_text_file",
      arguments: { path: join(work, "notes.txt") },
    });
    expect(r.isError).toBeFalsy();
    expect(text(r)).toContain("hello from the workspace");
    const echo = await g.client.callTool({ name: "everything.echo", arguments: { message: "hi there" } });
    expect(text(echo)).toContain("hi there");
    // The result is reported off the call's path: wait for the record to become final.
    const read = await until(async () => {
      const x = (await steps("mcp-main")).find((y) => y.proposed_action.name === "mcp__fs__read_text_file");
      return x?.state === "final" ? x : undefined;
    }, "the read's final record");
    expect(read).toMatchObject({
      evaluation: "ALLOW",
      state: "final",
      proposed_action: { kind: "tool", arguments: { path: join(work, "notes.txt") } },
      execution_result: {
        status: "reported",
        result: expect.objectContaining({ status: "ok", reported_by: "forge-agent mcp" }),
      },
    });
    expect(read.execution_result!.result!.result_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("DENY returns a tool error result whose text says why, and the server is never called", async () => {
    const target = join(work, "evil.txt");
    const r = await g.client.callTool({ name: "fs.write_file", arguments: { path: target, content: "x" } });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/forge-agent DENY \(fs-write\).*\[action /);
    expect(() => readFileSync(target)).toThrow();
    // Not in the policy at all: the default deny.
    const other = await g.client.callTool({
      name: "fs.move_file",
      arguments: { source: join(work, "notes.txt"), destination: join(work, "moved.txt") },
    });
    expect(other.isError).toBe(true);
    expect(readFileSync(join(work, "notes.txt"), "utf8")).toContain("hello");
  });

  it("ESCALATE holds the call, with progress notifications, until a reviewer approves", async () => {
    const progress: unknown[] = [];
    const held = g.client.callTool({ name: "everything.get-sum", arguments: { a: 2, b: 3 } }, undefined, {
      onprogress: (p) => progress.push(p),
      timeout: 120_000,
    });
    const review = await pendingReview(t, "mcp-main", "the gateway's escalation in the review queue");
    await until(async () => progress.length > 0, "a progress notification while the call waits");
    // The review endpoint on this branch: a root peer on the socket is a reviewer.
    const ok = await reviewAs(t, review.action_id, "approve", "fine");
    expect(ok.code).toBe(0);
    const r = await held;
    expect(r.isError).toBeFalsy();
    expect(text(r)).toContain("5");
    expect(progress[0]).toMatchObject({ message: expect.stringContaining(review.action_id) });
  });

  it("ESCALATE denied by the reviewer is a tool error naming the review", async () => {
    const held = g.client.callTool({ name: "everything.get-sum", arguments: { a: 1, b: 1 } });
    const review = await pendingReview(t, "mcp-main", "the second escalation");
    await reviewAs(t, review.action_id, "deny", "not now");
    const r = await held;
    expect(r.isError).toBe(true);
    expect(text(r)).toContain("not now");
  });

  it("a server that dies mid-call gives a clear tool error, and is restarted on its next call", async () => {
    const first = await g.client.callTool({ name: "crashy.ping" });
    const pid = text(first).split(" ")[1];
    const crash = await g.client.callTool({ name: "crashy.crash" });
    expect(crash.isError).toBe(true);
    expect(text(crash)).toContain("MCP server 'crashy' failed on crash");
    const again = await g.client.callTool({ name: "crashy.ping" });
    expect(text(again)).toMatch(/^pong \d+$/);
    expect(text(again)).not.toBe(`pong ${pid}`);
    const crashed = await until(async () => {
      const x = (await steps("mcp-main")).find((y) => y.proposed_action.name === "mcp__crashy__crash");
      return x?.state === "final" ? x : undefined;
    }, "the crashed call's final record");
    expect(crashed.execution_result).toMatchObject({
      status: "reported",
      result: expect.objectContaining({ status: "failed" }),
    });
  });

  it("resources/read is gated too (a non-file URI as mcp__<server>__resources/read)", async () => {
    const { resources } = await g.client.listResources();
    expect(resources.length).toBeGreaterThan(0);
    const uri = resources[0]!.uri;
    const r = await g.client.readResource({ uri });
    expect(r.contents.length).toBeGreaterThan(0);
    const s = await steps("mcp-main");
    expect(s.some((x) => x.proposed_action.name === "mcp__everything__resources/read")).toBe(true);
  });

  it("--hide-denied leaves out what the policy denies outright, records nothing, and still gates the call", async () => {
    const home = tempHome("fa-mcp-hide-");
    const hiding = await startGateway(
      { mcpServers: { fs: { command: process.execPath, args: [FS_SERVER, work] } } },
      t.agent.socketPath,
      "mcp-hide",
      home,
      ["--hide-denied"],
    );
    try {
      const before = (await t.client.get("/v1/health")).body.evidence.lastSeq;
      const names = (await hiding.client.listTools()).tools.map((x) => x.name);
      // fs-write denies write_file by name: hidden. move_file falls to the default deny, which an
      // argument-matching rule could have allowed: listed.
      expect(names).not.toContain("fs.write_file");
      expect(names).toEqual(expect.arrayContaining(["fs.read_text_file", "fs.move_file"]));
      expect((await t.client.get("/v1/health")).body.evidence.lastSeq).toBe(before);
      const r = await hiding.client.callTool({
        name: "fs.write_file",
        arguments: { path: join(work, "hidden.txt"), content: "x" },
      });
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/DENY \(fs-write\)/);
    } finally {
      await hiding.client.close();
    }
  });

  it("an unknown tool is a JSON-RPC error naming the servers", async () => {
    await expect(g.client.callTool({ name: "nope.tool" })).rejects.toThrow(/unknown tool 'nope.tool'.*fs/);
  });

  it("the daemon down: every call is denied with how to start it", async () => {
    const home = tempHome("fa-mcp-down-");
    const down = await startGateway(
      { mcpServers: { everything: { command: process.execPath, args: [EVERYTHING, "stdio"] } } },
      join(home, "nothing.sock"),
      "mcp-down",
      home,
    );
    try {
      const r = await down.client.callTool({ name: "everything.echo", arguments: { message: "x" } });
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/not running.*forge-agent run/);
    } finally {
      await down.client.close();
    }
  });

  it("a bad config is a clear error before anything starts", async () => {
    const home = tempHome("fa-mcp-bad-");
    const file = join(home, "bad.json");
    writeFileSync(file, JSON.stringify({ mcpServers: { "bad name": { command: "x" } } }));
    const out = await runCli(["mcp", "--config", file]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/FORGE_CONFIG_INVALID|server names are letters/);
  });
});

describe("forge-agent mcp --hide-denied across a policy reload", () => {
  it("sends notifications/tools/list_changed, and the next tools/list follows the new policy", async () => {
    const home = tempHome("fa-mcp-reload-");
    const policy = join(home, "policy.yaml");
    writeFileSync(policy, POLICY);
    const t = await startTestAgent({ policy }, home);
    const work = join(home, "work");
    mkdirSync(work);
    const g = await startGateway(
      { mcpServers: { fs: { command: process.execPath, args: [FS_SERVER, work] } } },
      t.agent.socketPath,
      "mcp-reload",
      home,
      ["--hide-denied", "--policy-poll-ms", "50"],
    );
    try {
      let changed = 0;
      g.client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        changed++;
      });
      expect(g.client.getServerCapabilities()?.tools).toEqual({ listChanged: true });
      const before = (await g.client.listTools()).tools.map((x) => x.name);
      expect(before).toContain("fs.move_file");
      expect(before).not.toContain("fs.write_file");
      // The same policy read again (same digest): nothing to tell.
      expect(t.agent.reloadPolicy()).toMatchObject({ ok: true });
      // A narrower one: move_file is now denied by name, so it leaves the list.
      writeFileSync(
        policy,
        POLICY.replace(
          "rules:\n",
          "rules:\n  - id: no-move\n    match: { kind: tool, tool: mcp__fs__move_file }\n    effect: deny\n",
        ),
      );
      expect(t.agent.reloadPolicy()).toMatchObject({ ok: true });
      await until(() => changed > 0, "tools/list_changed after the reload");
      const after = (await g.client.listTools()).tools.map((x) => x.name);
      expect(after).not.toContain("fs.move_file");
      expect(after).toContain("fs.read_text_file");
      expect(changed).toBe(1);
      expect(g.stderr()).toMatch(/policy changed \([0-9a-f]{12}\): tools\/list_changed sent/);
    } finally {
      await g.client.close();
      await t.stop();
    }
  });
});

describe("forge-agent mcp with the default policy pack", () => {
  let t: TestAgent;
  let g: Gateway;
  let work: string;
  beforeAll(async () => {
    const home = tempHome("fa-mcp-pack-");
    t = await startTestAgent({ policy: join(REPO, "policies", "default.yaml") }, home);
    // The pack's workspace includes /tmp/**, where the temp home is.
    work = join(home, "work");
    mkdirSync(work);
    g = await startGateway(
      { mcpServers: { fs: { command: process.execPath, args: [FS_SERVER, work, "/etc"] } } },
      t.agent.socketPath,
      "mcp-pack",
      home,
    );
  });
  afterAll(async () => {
    await g?.client.close();
    await t.stop();
  });

  it("writes inside the workspace pass; outside it the pack's rule denies before the server sees it", async () => {
    const inside = await g.client.callTool({
      name: "fs.write_file",
      arguments: { path: join(work, "ok.txt"), content: "fine" },
    });
    expect(inside.isError).toBeFalsy();
    expect(readFileSync(join(work, "ok.txt"), "utf8")).toBe("fine");
    const outside = await g.client.callTool({
      name: "fs.write_file",
      arguments: { path: "/etc/forge-agent-mcp-test", content: "x" },
    });
    expect(outside.isError).toBe(true);
    expect(text(outside)).toMatch(/DENY \(mcp-fs-write-outside-workspace\)/);
  });
});

describe("forge-agent mcp with malformed JSON-RPC from the agent", () => {
  it("a garbage line is dropped, and the next well-formed request is answered", async () => {
    const home = tempHome("fa-mcp-junk-");
    const file = everythingConfig(home);
    const p = spawn(process.execPath, [CLI, "mcp", "--config", file, "--socket", join(home, "none.sock")], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    p.stdout.on("data", (b: Buffer) => {
      out += b;
    });
    p.stderr.resume();
    try {
      p.stdin.write("{this is not json\n");
      p.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 7, method: "no/such/method" })}\n`);
      p.stdin.write(
        `${JSON.stringify({
          jsonrpc: "2.0",
          id: 8,
          method: "initialize",
          params: {
            protocolVersion: "2025-06-18",
            capabilities: {},
            clientInfo: { name: "raw", version: "1" },
          },
        })}\n`,
      );
      const lines = await until(async () => {
        const l = out
          .split("\n")
          .filter(Boolean)
          .map((x) => JSON.parse(x) as { id?: number; error?: { code: number }; result?: unknown });
        return l.some((x) => x.id === 8) ? l : undefined;
      }, "the answer to initialize after the garbage");
      expect(lines.find((x) => x.id === 7)?.error?.code).toBe(-32601);
      expect(lines.find((x) => x.id === 8)?.result).toMatchObject({
        serverInfo: { name: "forge-agent-mcp-gateway" },
      });
      // Nothing but JSON-RPC on stdout: every line above parsed.
    } finally {
      p.kill("SIGKILL");
      await new Promise((r) => p.once("close", r));
    }
  });
});

describe("forge-agent mcp --listen (Streamable HTTP toward the agent, loopback)", () => {
  let t: TestAgent;
  let p: ChildProcess;
  let url: string;
  let stderr = "";
  beforeAll(async () => {
    const home = tempHome("fa-mcp-http-");
    writeFileSync(join(home, "policy.yaml"), POLICY);
    t = await startTestAgent({ policy: join(home, "policy.yaml") }, home);
    const file = everythingConfig(home);
    p = spawn(
      process.execPath,
      [
        CLI,
        "mcp",
        "--config",
        file,
        "--socket",
        t.agent.socketPath,
        "--session",
        "mcp-http",
        "--listen",
        "127.0.0.1:0",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    p.stderr!.on("data", (b: Buffer) => {
      stderr += b;
    });
    url = await until(
      async () => /on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr)?.[1],
      "the gateway's URL",
    );
  });
  afterAll(async () => {
    if (p && p.exitCode === null) {
      p.kill("SIGTERM");
      await new Promise((r) => p.once("close", r));
    }
    await t?.stop();
  });
  const connect = async () => {
    const c = new Client({ name: "http-test", version: "1.0.0" });
    await c.connect(new StreamableHTTPClientTransport(new URL(url)));
    return c;
  };
  const raw = (headers: Record<string, string>, body: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const u = new URL(url);
      const req = request(
        {
          host: u.hostname,
          port: u.port,
          path: u.pathname,
          method: "POST",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            ...headers,
          },
        },
        (res) => {
          let b = "";
          res.on("data", (c: Buffer) => {
            b += c;
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: b }));
        },
      );
      req.on("error", reject);
      req.end(body);
    });

  it("the SDK's client lists and calls through it; allowed, denied and escalated calls are gated", async () => {
    const a = await connect();
    const b = await connect();
    try {
      const names = (await a.listTools()).tools.map((x) => x.name);
      expect(names).toContain("everything.echo");
      const ok = await a.callTool({ name: "everything.echo", arguments: { message: "over http" } });
      expect(text(ok)).toContain("over http");
      // A second session at the same time, on the same upstream.
      const denied = await b.callTool({ name: "everything.get-env" });
      expect(denied.isError).toBe(true);
      expect(text(denied)).toMatch(/forge-agent DENY/);
      const held = b.callTool({ name: "everything.get-sum", arguments: { a: 4, b: 5 } });
      const review = await pendingReview(t, "mcp-http", "the HTTP session's escalation");
      expect((await reviewAs(t, review.action_id, "approve")).code).toBe(0);
      expect(text(await held)).toContain("9");
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("refuses another Host header (DNS rebinding), unknown sessions, and malformed JSON", async () => {
    const init = JSON.stringify({
      jsonrpc: "2.0",
      id: 1,
      method: "initialize",
      params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } },
    });
    const port = new URL(url).port;
    expect((await raw({ host: `evil.example:${port}` }, init)).status).toBe(403);
    const unknown = await raw({ "mcp-session-id": "no-such-session" }, init);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatch(/unknown MCP session/);
    const junk = await raw({}, "{this is not json");
    expect(junk.status).toBe(400);
    expect(JSON.parse(junk.body).error.code).toBe(-32700);
    // Still serving after all that.
    const c = await connect();
    expect((await c.listTools()).tools.length).toBeGreaterThan(0);
    await c.close();
  });

  it("will not listen beyond loopback", async () => {
    const home = tempHome("fa-mcp-http-bad-");
    const file = everythingConfig(home);
    const out = await runCli(["mcp", "--config", file, "--listen", "0.0.0.0:0"]);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/loopback only/);
  });
});

describe("forge-agent mcp: a result report the daemon lost before its commit", () => {
  /**
   * A gateway whose daemon socket is a relay that passes everything through, except that the
   * first `drop` result reports kill their connection before the daemon reads them (a daemon that
   * died before committing the report, as the gateway sees it).
   */
  async function lossyGateway(session: string, drop: number) {
    const home = tempHome("fa-mcp-lost-");
    writeFileSync(join(home, "policy.yaml"), POLICY);
    const t = await startTestAgent({ policy: join(home, "policy.yaml") }, home);
    const relay = join(home, "relay.sock");
    let dropped = 0;
    const proxy = createNetServer((downstream) => {
      const upstream = connect(t.agent.socketPath);
      downstream.on("data", (b: Buffer) => {
        if (dropped < drop && /^POST \/v1\/actions\/[^ ]+\/result/m.test(b.toString("latin1"))) {
          dropped++;
          downstream.destroy();
          upstream.destroy();
          return;
        }
        upstream.write(b);
      });
      upstream.on("data", (b: Buffer) => downstream.write(b));
      downstream.on("error", () => upstream.destroy());
      upstream.on("error", () => downstream.destroy());
      downstream.on("close", () => upstream.destroy());
      upstream.on("close", () => downstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(relay, resolve));
    const logs: string[] = [];
    const gateway = new McpGateway(
      { everything: { command: process.execPath, args: [EVERYTHING, "stdio"], env: {}, timeout_ms: 60_000 } },
      { socket: relay, session, waitMs: 0, log: (l) => void logs.push(l) },
    );
    const client = new Client({ name: "lost-report", version: "1" });
    const [agentSide, gatewaySide] = InMemoryTransport.createLinkedPair();
    await gateway.connect(gatewaySide);
    await client.connect(agentSide);
    const steps = async () =>
      (await t.client.get(`/v1/sessions/${session}/trace`)).body.steps as {
        state: string;
        execution_result?: { status: string; result?: Record<string, unknown> };
      }[];
    return {
      t,
      gateway,
      client,
      logs,
      steps,
      dropped: () => dropped,
      async stop() {
        await client.close();
        await gateway.close();
        proxy.close();
        await t.stop();
      },
    };
  }

  it("is sent again until it lands: the record ends final with the result's digest", async () => {
    const g = await lossyGateway("mcp-lost", 1);
    try {
      const r = await g.client.callTool({ name: "everything.echo", arguments: { message: "keep me" } });
      expect(text(r)).toContain("keep me");
      const step = await until(async () => {
        const first = (await g.steps())[0];
        return first?.state === "final" ? first : undefined;
      }, "the echo's final record");
      expect(g.dropped()).toBe(1);
      expect(step.execution_result).toMatchObject({
        status: "reported",
        result: { status: "ok", reported_by: "forge-agent mcp", content_items: 1 },
      });
      expect(step.execution_result!.result!.result_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(g.logs.filter((l) => l.includes("not recorded"))).toEqual([]);
    } finally {
      await g.stop();
    }
  });

  it("a gateway closing while the daemon cannot take the report says so; the action stays pending", async () => {
    const g = await lossyGateway("mcp-lost-close", Number.POSITIVE_INFINITY);
    try {
      const r = await g.client.callTool({ name: "everything.echo", arguments: { message: "late" } });
      expect(text(r)).toContain("late");
      await until(async () => g.dropped() >= 2, "a report sent again");
      await g.gateway.close();
      expect(g.logs.some((l) => /not recorded.*gateway closing: the action stays pending/.test(l))).toBe(
        true,
      );
      expect((await g.steps()).map((x) => x.state)).toEqual(["allowed"]);
    } finally {
      await g.stop();
    }
  });
});
