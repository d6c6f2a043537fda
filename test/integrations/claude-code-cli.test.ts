import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI, startTestAgent, type TestAgent, tempHome } from "../agent/helpers.js";
import { findTool } from "../support/tools.js";
import { until } from "../support/wait.js";
import { type Exit, runProcess, snippet } from "./fixtures.js";

/**
 * The real Claude Code CLI (npm `@anthropic-ai/claude-code`, pinned by scripts/install-test-deps)
 * with the one-line configurations docs/integrations.md gives, run as written through `sh` with
 * `forge-agent` and `claude` on PATH. No API key exists here, so what runs is what Claude Code does
 * without one: `claude mcp add` registers the gateway, `claude mcp list` / `get` connect to it (an
 * MCP initialize, over stdio or Streamable HTTP) and say whether that worked, and `claude doctor`
 * validates the hooks in settings.json. Each check has its failing twin, so it can fail.
 */
const require = createRequire(import.meta.url);
const EVERYTHING = require.resolve("@modelcontextprotocol/server-everything/dist/index.js");
const claude = findTool("claude-code");

describe.skipIf(claude === null)("the Claude Code CLI with forge-agent", () => {
  let t: TestAgent;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let servers: string;
  let listen: ChildProcess | undefined;
  beforeAll(async () => {
    home = tempHome("fa-claude-");
    t = await startTestAgent({}, home);
    const bin = join(home, "bin");
    mkdirSync(bin);
    symlinkSync(CLI, join(bin, "forge-agent"));
    symlinkSync(claude!, join(bin, "claude"));
    servers = join(home, "servers.json");
    writeFileSync(
      servers,
      JSON.stringify({
        mcpServers: { everything: { command: process.execPath, args: [EVERYTHING, "stdio"] } },
      }),
    );
    env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      FORGE_SOCKET: t.agent.socketPath,
      DISABLE_AUTOUPDATER: "1",
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    };
  });
  afterAll(async () => {
    if (listen && listen.exitCode === null) {
      listen.kill("SIGTERM");
      await new Promise((r) => listen!.once("close", r));
    }
    await t?.stop();
  });

  /** A fresh HOME and project directory: Claude Code keeps its MCP registry in ~/.claude.json. */
  const fresh = (name: string) => {
    const h = join(home, name);
    mkdirSync(join(h, "project", ".claude"), { recursive: true });
    return { HOME: h, project: join(h, "project") };
  };
  const sh = (line: string, where: { HOME: string; project: string }): Promise<Exit> =>
    runProcess("sh", ["-c", `cd "${where.project}" && ${line}`], {
      env: { ...env, HOME: where.HOME },
      timeout: 120_000,
    });
  const line = (marker: string) => snippet(marker, "sh").trim();

  it("`claude mcp add` registers the stdio gateway, and `claude mcp list` connects to it", async () => {
    const w = fresh("stdio");
    const add = await sh(line("Claude Code, stdio:").replace("/work/project/servers.json", servers), w);
    expect(add.code, add.stderr).toBe(0);
    const list = await sh("claude mcp list", w);
    expect(list.stdout).toMatch(/forge: forge-agent mcp --config \S+servers\.json - [✓✔] Connected/);
    const get = await sh("claude mcp get forge", w);
    expect(get.stdout).toMatch(/Status: [✓✔] Connected/);
    expect(get.stdout).toMatch(/Command: forge-agent/);
    // Its twin: a gateway that cannot start (no such servers file) is reported as not connected.
    const bad = fresh("stdio-bad");
    await sh(line("Claude Code, stdio:").replace("/work/project/servers.json", join(home, "none.json")), bad);
    expect((await sh("claude mcp list", bad)).stdout).toMatch(/forge: .* - [✗✘] Failed to connect/);
  });

  it("`claude mcp add --transport http` registers the --listen gateway, and `claude mcp list` connects", async () => {
    let stderr = "";
    listen = spawn(
      process.execPath,
      [CLI, "mcp", "--config", servers, "--socket", t.agent.socketPath, "--listen", "127.0.0.1:0"],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    listen.stderr!.on("data", (b: Buffer) => {
      stderr += b;
    });
    const url = await until(
      async () => /on (http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(stderr)?.[1],
      "the gateway's URL",
    );
    const w = fresh("http");
    const add = await sh(line("Claude Code, Streamable HTTP:").replace("http://127.0.0.1:8765/mcp", url), w);
    expect(add.code, add.stderr).toBe(0);
    const list = await sh("claude mcp list", w);
    expect(list.stdout).toMatch(new RegExp(`forge: ${url} \\(HTTP\\) - [✓✔] Connected`));
    // Its twin: the same entry once nothing listens there.
    listen.kill("SIGTERM");
    await new Promise((r) => listen!.once("close", r));
    expect((await sh("claude mcp list", w)).stdout).toMatch(
      new RegExp(`forge: ${url} \\(HTTP\\) - [✗✘] Failed to connect`),
    );
  });

  it("`claude doctor` accepts the settings.json hooks of the docs, and names a broken hook entry", async () => {
    const w = fresh("hooks");
    const settings = join(w.project, ".claude", "settings.json");
    writeFileSync(settings, snippet("`~/.claude/settings.json`", "json"));
    const ok = await sh("claude doctor", w);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("Claude Code doctor");
    expect(ok.stdout).not.toContain("Invalid settings");
    writeFileSync(
      settings,
      JSON.stringify({ hooks: { PreToolUse: [{ matcher: "*", command: "forge-agent" }] } }),
    );
    const broken = await sh("claude doctor", w);
    expect(broken.stdout).toContain("Invalid settings");
    expect(broken.stdout).toContain("hooks.PreToolUse.0");
  });
});
