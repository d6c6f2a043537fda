import { resolve } from "node:path";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { defaultSocketPath } from "../agent/client.js";
import { loadGatewayConfig, McpGateway, newSession } from "../integrations/mcp-gateway.js";
import { intFlag, parse, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";

/**
 * `forge-agent mcp --config servers.json [--socket PATH] [--session ID] [--wait-ms MS]`: the
 * governed MCP gateway on stdio (the agent launches it as its one MCP server). Runs until the
 * agent closes stdin; diagnostics go to stderr, stdout carries only JSON-RPC.
 */
export default async function mcp(argv: string[], env: Env): Promise<number> {
  const { values } = parse(
    argv,
    {
      config: { type: "string" },
      socket: { type: "string" },
      session: { type: "string" },
      "wait-ms": { type: "string" },
    },
    false,
  );
  if (values.config === undefined) throw new UsageError("--config servers.json is required");
  const servers = loadGatewayConfig(resolve(values.config));
  const log = (line: string) => void process.stderr.write(`forge-agent mcp: ${line}\n`);
  const gateway = new McpGateway(servers, {
    socket: values.socket ?? defaultSocketPath(env),
    session: values.session ?? newSession(),
    waitMs: intFlag(values["wait-ms"], "wait-ms", 300_000),
    log,
  });
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
