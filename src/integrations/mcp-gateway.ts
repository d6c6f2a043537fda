import { createHash, randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  createServer,
  type Server as HttpServer,
  type IncomingMessage,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema,
  type CallToolResult,
  ErrorCode,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  type Resource,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { Codes, ForgeError } from "../errors.js";
import type { Action } from "../gate/actions.js";
import { type Decision, deniedOutright, govern, policyDigest, reportResult } from "./governed.js";

/**
 * The governed MCP gateway: one MCP server toward the agent, MCP clients toward the configured
 * servers. The agent sees tools named `<server>.<tool>`; every tools/call is a `tool` action named
 * `mcp__<server>__<tool>` (Claude Code's naming, so one policy rule covers the hook and the gateway);
 * every resources/read of a file: URI is a `file.read`, other URIs a `tool` action
 * `mcp__<server>__resources/read`. Nothing is
 * forwarded before the daemon's decision; a DENY is a tool error result the model can read.
 */

/** How long a result record may wait to share the daemon's next group commit, ms. */
const REPORT_DEFER_MS = 50;
/** Waits between the attempts of a report the daemon could not take (down, restarting), ms. */
const REPORT_RETRY_MS = [100, 250, 500, 1_000, 2_000, 5_000];

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const StdioEntry = z.strictObject({
  command: z.string().min(1),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().min(1).optional(),
  timeout_ms: z.number().int().positive().default(60_000),
});
const HttpEntry = z.strictObject({
  url: z.url(),
  timeout_ms: z.number().int().positive().default(60_000),
});
const Entry = z.union([StdioEntry, HttpEntry]);
const Servers = z.record(z.string().regex(NAME, "server names are letters, digits, _ and - (1-64)"), Entry);
/** `mcpServers` is the key Claude Desktop / Claude Code / Cursor configs use; `servers` ours. */
const GatewayFile = z
  .strictObject({ servers: Servers.optional(), mcpServers: Servers.optional() })
  .refine((f) => Object.keys({ ...f.servers, ...f.mcpServers }).length > 0, "no servers configured");
export type ServerEntry = z.infer<typeof Entry>;

export function loadGatewayConfig(file: string): Record<string, ServerEntry> {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new ForgeError(Codes.CONFIG_INVALID, `${file}: ${(err as Error).message}`);
  }
  const r = GatewayFile.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new ForgeError(
      Codes.CONFIG_INVALID,
      `${file}: ${i.path.join(".") || "file"}: ${i.message} (expected {"mcpServers": {"NAME": {"command": "...", "args": [...]}}} or {"url": "http://..."})`,
    );
  }
  return { ...r.data.servers, ...r.data.mcpServers };
}

export interface GatewayOptions {
  socket: string;
  /** The session the records carry. */
  session: string;
  /** How long an ESCALATE waits for review, ms. */
  waitMs: number;
  /** Diagnostics (stderr: stdout is the protocol). */
  log: (line: string) => void;
  /** Leave out of tools/list the tools the policy denies outright (a dry run per tool). */
  hideDenied?: boolean;
  /**
   * With hideDenied: how often the daemon's policy digest is read, ms (default 2000). When it
   * changed since the last tools/list, each agent gets `notifications/tools/list_changed`.
   */
  policyPollMs?: number;
}

interface Upstream {
  name: string;
  entry: ServerEntry;
  client: Client;
}

export class McpGateway {
  /** One MCP server per agent connection (stdio: one; Streamable HTTP: one per session). */
  private readonly agents = new Set<Server>();
  private readonly upstreams = new Map<string, Upstream>();
  /** Result reports on their way to the daemon. */
  private readonly reports = new Set<Promise<void>>();
  private http: HttpServer | undefined;
  /** The policy digest the agents' last tools/list was computed under (hideDenied only). */
  private listedUnder: string | undefined;
  private policyWatch: NodeJS.Timeout | undefined;
  /** Set by close(): reports stop being retried. */
  private closing = false;
  /** Wakes the reports waiting to retry, so close() does not wait out their pause. */
  private readonly wake = new Set<() => void>();

  constructor(
    private readonly servers: Record<string, ServerEntry>,
    private readonly o: GatewayOptions,
  ) {}

  get session(): string {
    return this.o.session;
  }

  /** Connects every configured server, then serves the agent on `agentSide` (stdio, in-memory). */
  async connect(agentSide: Transport): Promise<void> {
    await this.startAll();
    await this.agentServer().connect(agentSide);
    this.watchPolicy();
  }

  /**
   * Serves the agent over Streamable HTTP at `http://HOST:PORT/mcp`, loopback only (the Host
   * header is checked too, against DNS rebinding). Port 0 picks one; resolves with the URL.
   */
  async listen(host: string, port: number): Promise<string> {
    if (!LOOPBACK.has(host))
      throw new ForgeError(
        Codes.CONFIG_INVALID,
        `--listen ${host}:${port}: the gateway listens on loopback only (127.0.0.1, ::1 or localhost)`,
      );
    await this.startAll();
    const sessions = new Map<string, StreamableHTTPServerTransport>();
    const server = createServer((req, res) => {
      void this.serveHttp(req, res, sessions, allowed).catch((err) => {
        this.o.log(`HTTP ${req.method} ${req.url}: ${(err as Error).message}`);
        if (!res.headersSent) jsonRpcError(res, 500, ErrorCode.InternalError, "gateway error");
      });
    });
    this.http = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    this.watchPolicy();
    const bound = (server.address() as AddressInfo).port;
    const allowed = [`127.0.0.1:${bound}`, `localhost:${bound}`, `[::1]:${bound}`];
    const shown = host.includes(":") ? `[${host}]` : host;
    return `http://${shown}:${bound}/mcp`;
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const w of this.wake) w();
    clearInterval(this.policyWatch);
    this.policyWatch = undefined;
    if (this.http !== undefined) {
      const http = this.http;
      this.http = undefined;
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
    await Promise.allSettled([...this.agents].map((a) => a.close()));
    await Promise.allSettled([...this.reports]);
    await Promise.allSettled([...this.upstreams.values()].map((u) => u.client.close()));
  }

  private async startAll(): Promise<void> {
    for (const [name, entry] of Object.entries(this.servers))
      if (!this.upstreams.has(name)) await this.start(name, entry);
  }

  private agentServer(): Server {
    const server = new Server(
      { name: "forge-agent-mcp-gateway", version: "0.1.0" },
      { capabilities: { tools: this.o.hideDenied ? { listChanged: true } : {}, resources: {} } },
    );
    server.setRequestHandler(ListToolsRequestSchema, () => this.listTools());
    server.setRequestHandler(CallToolRequestSchema, (req, extra) =>
      this.callTool(req.params.name, req.params.arguments ?? {}, req.params._meta?.progressToken, (n) =>
        extra.sendNotification(n),
      ),
    );
    server.setRequestHandler(ListResourcesRequestSchema, () => this.listResources());
    server.setRequestHandler(ReadResourceRequestSchema, (req) => this.readResource(req.params.uri));
    this.agents.add(server);
    server.onclose = () => this.agents.delete(server);
    return server;
  }

  /** One HTTP request: to its session's transport, or (an initialize) to a new session. */
  private async serveHttp(
    req: IncomingMessage,
    res: ServerResponse,
    sessions: Map<string, StreamableHTTPServerTransport>,
    allowedHosts: string[],
  ): Promise<void> {
    if (new URL(req.url ?? "/", "http://gateway").pathname !== "/mcp")
      return jsonRpcError(res, 404, ErrorCode.InvalidRequest, "the MCP endpoint is /mcp");
    const sid = req.headers["mcp-session-id"];
    if (typeof sid === "string") {
      const known = sessions.get(sid);
      if (known === undefined)
        return jsonRpcError(
          res,
          404,
          ErrorCode.InvalidRequest,
          `unknown MCP session ${sid}: initialize again`,
        );
      return await known.handleRequest(req, res);
    }
    // No session yet: the transport answers anything but an initialize with 400 itself.
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, transport),
      onsessionclosed: (id) => void sessions.delete(id),
      enableDnsRebindingProtection: true,
      allowedHosts,
    });
    const server = this.agentServer();
    await server.connect(transport);
    await transport.handleRequest(req, res);
    if (transport.sessionId === undefined) await server.close();
  }

  private async start(name: string, entry: ServerEntry): Promise<Upstream> {
    const client = new Client({ name: "forge-agent-mcp-gateway", version: "0.1.0" });
    const transport =
      "url" in entry
        ? new StreamableHTTPClientTransport(new URL(entry.url))
        : new StdioClientTransport({
            command: entry.command,
            args: entry.args,
            env: { ...getDefaultEnvironment(), ...entry.env },
            ...(entry.cwd ? { cwd: entry.cwd } : {}),
            stderr: "inherit",
          });
    try {
      await client.connect(transport);
    } catch (err) {
      throw new ForgeError(
        Codes.MCP_SERVER_FAILED,
        `MCP server '${name}' did not start (${"url" in entry ? entry.url : entry.command}): ${(err as Error).message}`,
      );
    }
    const up: Upstream = { name, entry, client };
    // A server that exits is restarted on its next use (restart policy: once per call).
    client.onclose = () => {
      if (this.upstreams.get(name) === up) this.upstreams.delete(name);
      this.o.log(`MCP server '${name}' closed; it restarts on its next call`);
    };
    this.upstreams.set(name, up);
    return up;
  }

  private async upstream(name: string): Promise<Upstream> {
    const up = this.upstreams.get(name);
    if (up) return up;
    const entry = this.servers[name];
    if (entry === undefined) throw new McpError(ErrorCode.InvalidParams, `no MCP server '${name}'`);
    return await this.start(name, entry);
  }

  /**
   * With hideDenied, what tools/list shows depends on the policy: a reload (a new digest) after a
   * listing tells every agent to list again. A daemon that cannot answer changes nothing.
   */
  private watchPolicy(): void {
    if (!this.o.hideDenied || this.policyWatch !== undefined) return;
    let busy = false;
    this.policyWatch = setInterval(async () => {
      if (busy || this.listedUnder === undefined) return;
      busy = true;
      try {
        const now = await policyDigest(this.o.socket);
        if (now === undefined || now === this.listedUnder) return;
        this.listedUnder = now;
        this.o.log(`policy changed (${now.slice(0, 12)}): tools/list_changed sent`);
        await Promise.allSettled([...this.agents].map((a) => a.sendToolListChanged()));
      } finally {
        busy = false;
      }
    }, this.o.policyPollMs ?? 2000);
    this.policyWatch.unref();
  }

  private async listTools(): Promise<{ tools: Tool[] }> {
    if (this.o.hideDenied) this.listedUnder = (await policyDigest(this.o.socket)) ?? this.listedUnder;
    const tools: Tool[] = [];
    for (const name of Object.keys(this.servers)) {
      const up = await this.upstream(name);
      if (!up.client.getServerCapabilities()?.tools) continue;
      let cursor: string | undefined;
      do {
        const page = await up.client.listTools(cursor ? { cursor } : {});
        for (const t of page.tools) {
          if (this.o.hideDenied && (await this.hidden(name, t.name))) continue;
          tools.push({ ...t, name: `${name}.${t.name}` });
        }
        cursor = page.nextCursor;
      } while (cursor);
    }
    return { tools };
  }

  /** A tool the policy denies whatever its arguments; a daemon that cannot say hides nothing. */
  private async hidden(server: string, tool: string): Promise<boolean> {
    const action: Action = { kind: "tool", name: gateName(server, tool), arguments: {} };
    const denied = await deniedOutright(this.o.socket, this.o.session, action);
    if (denied === undefined)
      this.o.log(`cannot ask the daemon about ${action.name}: listed (calls are still gated)`);
    return denied === true;
  }

  private split(qualified: string): [string, string] {
    const dot = qualified.indexOf(".");
    if (dot <= 0 || this.servers[qualified.slice(0, dot)] === undefined)
      throw new McpError(
        ErrorCode.InvalidParams,
        `unknown tool '${qualified}': gateway tools are named <server>.<tool>, servers: ${Object.keys(this.servers).join(", ")}`,
      );
    return [qualified.slice(0, dot), qualified.slice(dot + 1)];
  }

  private async callTool(
    qualified: string,
    args: Record<string, unknown>,
    progressToken: string | number | undefined,
    notify: (n: { method: "notifications/progress"; params: Record<string, unknown> }) => Promise<void>,
  ): Promise<CallToolResult> {
    const [server, tool] = this.split(qualified);
    const action: Action = { kind: "tool", name: gateName(server, tool), arguments: args };
    const d = await this.decide(action, progressToken, notify);
    if (!d.allow) return refusal(d);
    let result: CallToolResult;
    try {
      const up = await this.upstream(server);
      result = (await up.client.callTool({ name: tool, arguments: args }, undefined, {
        timeout: up.entry.timeout_ms,
      })) as CallToolResult;
    } catch (err) {
      const message = `MCP server '${server}' failed on ${tool}: ${(err as Error).message}`;
      await this.report(d, { status: "failed", error: message });
      return { content: [{ type: "text", text: message }], isError: true };
    }
    await this.report(d, {
      status: result.isError ? "failed" : "ok",
      result_sha256: digest(result),
      content_items: Array.isArray(result.content) ? result.content.length : 0,
    });
    return result;
  }

  private async listResources(): Promise<{ resources: Resource[] }> {
    const resources: Resource[] = [];
    for (const name of Object.keys(this.servers)) {
      const up = await this.upstream(name);
      if (!up.client.getServerCapabilities()?.resources) continue;
      const page = await up.client.listResources();
      resources.push(...page.resources);
    }
    return { resources };
  }

  /** The first server that lists the URI (or, for templates, the only resource server) serves it. */
  private async readResource(uri: string) {
    const owners: Upstream[] = [];
    for (const name of Object.keys(this.servers)) {
      const up = await this.upstream(name);
      if (!up.client.getServerCapabilities()?.resources) continue;
      const { resources } = await up.client.listResources();
      if (resources.some((r) => r.uri === uri)) owners.unshift(up);
      else owners.push(up);
    }
    const up = owners[0];
    if (up === undefined) throw new McpError(ErrorCode.InvalidParams, `no MCP server serves resources`);
    const action: Action = uri.startsWith("file:")
      ? { kind: "file.read", path: fileURLToPath(uri) }
      : { kind: "tool", name: gateName(up.name, "resources/read"), arguments: { uri } };
    const d = await this.decide(action, undefined, async () => {});
    if (!d.allow) throw new McpError(ErrorCode.InvalidRequest, d.reason);
    try {
      const r = await up.client.readResource({ uri });
      await this.report(d, { status: "ok", result_sha256: digest(r) });
      return r;
    } catch (err) {
      await this.report(d, { status: "failed", error: (err as Error).message });
      throw err;
    }
  }

  private decide(
    action: Action,
    progressToken: string | number | undefined,
    notify: (n: { method: "notifications/progress"; params: Record<string, unknown> }) => Promise<void>,
  ): Promise<Decision> {
    return govern(this.o.session, action, {
      socket: this.o.socket,
      waitMs: this.o.waitMs,
      onWaiting: (v, waited) => {
        if (progressToken === undefined) return;
        void notify({
          method: "notifications/progress",
          params: {
            progressToken,
            progress: waited,
            total: this.o.waitMs,
            message: `waiting for review of action ${v.action_id} (forge-agent review)`,
          },
        }).catch(() => {});
      },
    });
  }

  /**
   * Reports the outcome off the call's path: the ALLOW was durable before the call was forwarded;
   * the result record joins the daemon's next group commit (REPORT_DEFER_MS at most), so a
   * tools/call costs one sync, not two. Resolves once the report is in the daemon's socket buffer,
   * before the result goes back to the agent: a gateway that dies after answering has already
   * handed the report over. A daemon that dies before its commit fails the request; the report is
   * then sent again (the action stays pending, durable, and a restarted daemon restores it) until
   * it lands or the gateway closes. close() waits for reports still in flight.
   */
  private report(d: Decision, result: Record<string, unknown>): Promise<void> {
    if (d.action_id === undefined) return Promise.resolve();
    const id = d.action_id;
    const body = { ...result, reported_by: "forge-agent mcp" };
    let sent!: () => void;
    const handedOver = new Promise<void>((resolve) => {
      sent = resolve;
    });
    const p = (async () => {
      let out = await reportResult(this.o.socket, id, body, REPORT_DEFER_MS, sent);
      for (let i = 0; !out.ok && out.retry && !this.closing; i++) {
        await new Promise<void>((resolve) => {
          const done = () => {
            clearTimeout(timer);
            this.wake.delete(done);
            resolve();
          };
          const timer = setTimeout(done, REPORT_RETRY_MS[Math.min(i, REPORT_RETRY_MS.length - 1)]);
          this.wake.add(done);
        });
        if (this.closing) break;
        out = await reportResult(this.o.socket, id, body);
      }
      if (!out.ok)
        this.o.log(
          `${out.error}${out.retry ? " (gateway closing: the action stays pending; the daemon's result deadline resolves it)" : ""}`,
        );
    })();
    this.reports.add(p);
    void p.finally(() => this.reports.delete(p));
    return handedOver;
  }
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}

/** The tool action's name the policy sees. */
export const gateName = (server: string, tool: string): string => `mcp__${server}__${tool}`;

function refusal(d: Decision): CallToolResult {
  return { content: [{ type: "text", text: d.reason }], isError: true };
}

function digest(v: unknown): string {
  return createHash("sha256").update(JSON.stringify(v)).digest("hex");
}

export const newSession = (): string => `mcp-${randomUUID()}`;
