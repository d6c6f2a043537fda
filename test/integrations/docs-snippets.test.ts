import { spawn } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGatewayConfig } from "../../src/integrations/mcp-gateway.js";
import { CLI, startTestAgent, type TestAgent, tempHome } from "../agent/helpers.js";
import { snippet } from "./fixtures.js";

/**
 * The configuration snippets docs/integrations.md marks as tested are run here as written: the
 * Claude Code settings.json hook command and the .mcp.json gateway entry are executed through a
 * shell with `forge-agent` on PATH, and the servers.json example is loaded by the gateway's parser.
 * Only the placeholder path /work/project/servers.json is replaced by a real file.
 */
const require = createRequire(import.meta.url);
const EVERYTHING = require.resolve("@modelcontextprotocol/server-everything/dist/index.js");

const POLICY = `
bundle: { id: docs-test, version: 1 }
defaults: { effect: deny }
rules:
  - id: echo-ok
    match: { kind: shell, program: echo }
    effect: allow
  - id: mcp-echo
    match: { kind: tool, tool: "mcp__everything__echo" }
    effect: allow
`;

describe("docs/integrations.md snippets, run as written", () => {
  let t: TestAgent;
  let home: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    home = tempHome("fa-docs-");
    writeFileSync(join(home, "policy.yaml"), POLICY);
    t = await startTestAgent({ policy: join(home, "policy.yaml") }, home);
    // `forge-agent` on PATH, as `npm install -g` would put it.
    const bin = join(home, "bin");
    mkdirSync(bin);
    symlinkSync(CLI, join(bin, "forge-agent"));
    env = {
      ...(process.env as Record<string, string>),
      PATH: `${bin}:${process.env.PATH}`,
      FORGE_SOCKET: t.agent.socketPath,
    };
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("the Claude Code settings.json hook command answers a PreToolUse payload", async () => {
    const settings = JSON.parse(snippet("`~/.claude/settings.json`", "json")) as {
      hooks: Record<string, { matcher: string; hooks: { type: string; command: string }[] }[]>;
    };
    const command = settings.hooks.PreToolUse![0]!.hooks[0]!.command;
    expect(settings.hooks.PostToolUse![0]!.hooks[0]!.command).toBe(command);
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn("sh", ["-c", command], { env, stdio: ["pipe", "pipe", "inherit"] });
      let o = "";
      p.stdout.on("data", (b: Buffer) => {
        o += b;
      });
      p.on("error", reject);
      p.on("close", () => resolve(o));
      p.stdin.end(
        JSON.stringify({
          session_id: "docs-1",
          transcript_path: "/tmp/t.jsonl",
          cwd: home,
          hook_event_name: "PreToolUse",
          tool_name: "Bash",
          tool_input: { command: "echo hi" },
          tool_use_id: "toolu_docs",
        }),
      );
    });
    expect(JSON.parse(out).hookSpecificOutput).toMatchObject({
      hookEventName: "PreToolUse",
      permissionDecision: "allow",
    });
  });

  it("the servers.json example parses, and the .mcp.json entry launches the gateway", async () => {
    const example = join(home, "example.json");
    writeFileSync(example, snippet("`servers.json` (the `mcpServers` shape", "json"));
    expect(Object.keys(loadGatewayConfig(example))).toEqual(["fs", "remote"]);
    const servers = join(home, "servers.json");
    writeFileSync(
      servers,
      JSON.stringify({
        mcpServers: { everything: { command: process.execPath, args: [EVERYTHING, "stdio"] } },
      }),
    );
    const mcpJson = JSON.parse(snippet("Claude Code's `.mcp.json`", "json")) as {
      mcpServers: { forge: { command: string; args: string[] } };
    };
    const entry = mcpJson.mcpServers.forge;
    const client = new Client({ name: "docs-test", version: "1" });
    await client.connect(
      new StdioClientTransport({
        command: "sh",
        args: [
          "-c",
          `exec "$0" "$@"`,
          entry.command,
          ...entry.args.map((a) => (a === "/work/project/servers.json" ? servers : a)),
        ],
        env,
        stderr: "ignore",
      }),
    );
    try {
      const r = await client.callTool({ name: "everything.echo", arguments: { message: "from the docs" } });
      expect(r.isError).toBeFalsy();
      expect(JSON.stringify(r.content)).toContain("from the docs");
    } finally {
      await client.close();
    }
  });
});
