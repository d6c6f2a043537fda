import { resolve } from "node:path";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { defaultSocketPath } from "../agent/client.js";
import { loadGatewayConfig, McpGateway, newSession } from "../integrations/mcp-gateway.js";
import { intFlag, parse, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { AGENT } from "./spec.js";

/**
 * `forge-agent mcp --config servers.json [--socket PATH] [--session ID] [--wait-ms MS]
 * [--hide-denied [--policy-poll-ms MS]] [--listen HOST:PORT]`: the governed MCP gateway on stdio (the agent launches it
 * as its one MCP server; runs until the agent closes stdin; stdout carries only JSON-RPC), or with
 * --listen on Streamable HTTP at http://HOST:PORT/mcp, loopback only, until SIGINT/SIGTERM.
 * Diagnostics go to stderr.
 */
export default async function mcp(argv: string[], env: Env): Promise<number> {
  const { values } = parse(argv, AGENT.mcp.flags, false);
  if (values.config === undefined) throw new UsageError("--config servers.json is required");
  const servers = loadGatewayConfig(resolve(values.config));
  const log = (line: string) => void process.stderr.write(`forge-agent mcp: ${line}\n`);
  const gateway = new McpGateway(servers, {
    socket: values.socket ?? defaultSocketPath(env),
    session: values.session ?? newSession(),
    waitMs: intFlag(values["wait-ms"], "wait-ms", 300_000),
    log,
    hideDenied: values["hide-denied"] === true,
    policyPollMs: intFlag(values["policy-poll-ms"], "policy-poll-ms", 2000, 10),
  });
  if (values.listen !== undefined) {
    const { host, port } = hostPort(values.listen);
    const url = await gateway.listen(host, port);
    log(`serving ${Object.keys(servers).join(", ")} on ${url} (session ${gateway.session})`);
    await new Promise<void>((done) => {
      process.once("SIGINT", done);
      process.once("SIGTERM", done);
    });
    await gateway.close();
    return 0;
  }
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((done) => {
    transport.onclose = () => done();
    process.stdin.once("end", () => done());
  });
  await gateway.connect(transport);
  log(`serving ${Object.keys(servers).join(", ")} (session ${gateway.session})`);
  await closed;
  await gateway.close();
  return 0;
}

/** "127.0.0.1:8080", "[::1]:0", "localhost:3000" → host and port. */
function hostPort(v: string): { host: string; port: number } {
  const i = v.lastIndexOf(":");
  const port = Number(v.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--listen ${v}: expected HOST:PORT on loopback, e.g. 127.0.0.1:8765`);
  return { host: v.slice(0, i).replace(/^\[|\]$/g, ""), port };
}
