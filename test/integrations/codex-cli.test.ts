import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestAgent, type TestAgent, tempHome } from "../agent/helpers.js";
import { findTool } from "../support/tools.js";
import { type Exit, runProcess, SHELL_POLICY, snippet } from "./fixtures.js";

/**
 * The Codex CLI (`codex exec`, npm `@openai/codex`) with forge-agent as its model provider, as
 * docs/integrations.md configures it: `wire_api = "responses"` against the daemon's loopback port.
 * The config is the docs' snippet as written. Codex's own requests (its system prompt, its tools, its SSE parser, its tool loop) cross the
 * facade's `/v1/responses`; the gate judges its `exec_command` calls as shell actions.
 *
 * No model that can drive Codex exists here, so behind the daemon (backend `openai`) a replay
 * server answers in llama-server's SSE: a shell call chosen by the prompt, then, once the call's
 * output comes back, a line of text quoting it.
 */

const MODEL = "replay-coder";
const sse = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
const done = (finish: string) => [
  sse({ choices: [{ index: 0, delta: {}, finish_reason: finish }] }),
  sse({ choices: [], usage: { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105 } }),
  "data: [DONE]\n\n",
];

interface Seen {
  messages: { role: string; content?: unknown }[];
  tools?: { function: { name: string } }[];
}

const codex = findTool("codex");

describe.skipIf(codex === null)("the Codex CLI with forge-agent as its model provider", () => {
  let t: TestAgent;
  let upstream: Server;
  const seen: Seen[] = [];
  beforeAll(async () => {
    upstream = createServer(async (req, res) => {
      let text = "";
      for await (const b of req) text += b;
      if (req.url === "/v1/models")
        return void res.end(JSON.stringify({ object: "list", data: [{ id: MODEL, created: 1700000000 }] }));
      const body = JSON.parse(text) as Seen;
      seen.push(body);
      res.writeHead(200, { "content-type": "text/event-stream" });
      const last = body.messages.at(-1)!;
      if (last.role === "tool") {
        res.write(sse({ choices: [{ index: 0, delta: { content: `tool said: ${String(last.content)}` } }] }));
        for (const l of done("stop")) res.write(l);
        return void res.end();
      }
      const cmd = JSON.stringify(last.content).includes("DENY-CASE")
        ? "rm -rf /tmp/forge-codex-victim"
        : "echo forge-codex-ok";
      res.write(
        sse({
          choices: [
            {
              index: 0,
              delta: {
                tool_calls: [
                  {
                    index: 0,
                    id: "c1",
                    function: { name: "exec_command", arguments: JSON.stringify({ cmd }) },
                  },
                ],
              },
            },
          ],
        }),
      );
      for (const l of done("tool_calls")) res.write(l);
      res.end();
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    const home = tempHome("codex-");
    writeFileSync(join(home, "policy.yaml"), SHELL_POLICY);
    t = await startTestAgent(
      {
        backend: "openai",
        model: MODEL,
        inference_host: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
        policy: join(home, "policy.yaml"),
        facade: { listen: "127.0.0.1:0" },
      },
      home,
    );
  });
  afterAll(async () => {
    await t?.stop();
    await new Promise((r) => upstream?.close(r));
  });

  /** `codex exec PROMPT` with its own CODEX_HOME holding the provider config of docs/integrations.md. */
  function run(session: string, prompt: string): Promise<Exit> {
    const codexHome = join(t.home, `codex-${session}`);
    const work = join(t.home, `work-${session}`);
    mkdirSync(codexHome, { recursive: true });
    mkdirSync(work, { recursive: true });
    // docs/integrations.md's config as written, pointed at this daemon, with retries off.
    const config = snippet("## Codex CLI", "toml")
      .replace("MODEL-FROM-/v1/models", MODEL)
      .replace("http://127.0.0.1:11435/v1", `http://${t.agent.facadeAddress}/v1`)
      .replace('"x-forge-session" = "codex"', `"x-forge-session" = "${session}"`);
    expect(config).toContain(session);
    writeFileSync(
      join(codexHome, "config.toml"),
      `${config}\nrequest_max_retries = 0\nstream_max_retries = 0\n`,
    );
    // stdin closed at once: `codex exec` otherwise waits to read more of the prompt from it.
    return runProcess(
      codex!,
      ["exec", "--skip-git-repo-check", "--dangerously-bypass-approvals-and-sandbox", "-C", work, prompt],
      { env: { ...process.env, CODEX_HOME: codexHome }, timeout: 120_000 },
    );
  }
  const actions = async (session: string) =>
    ((await t.client.get(`/v1/sessions/${session}/trace`)).body.steps as { kind: string }[]).filter(
      (s) => s.kind === "action",
    );

  it("an allowed exec_command runs in Codex, and its output goes back through the facade", async () => {
    const from = seen.length;
    const r = await run("codex-allow", "print the marker");
    expect(r.stdout).toContain("tool said:");
    expect(r.stdout).toContain("forge-codex-ok");
    // Codex's request reached the backend with its function tools; its second turn carried the output.
    const mine = seen.slice(from);
    expect(mine[0]!.tools!.map((x) => x.function.name)).toContain("exec_command");
    expect(JSON.stringify(mine.at(-1)!.messages.at(-1))).toContain("forge-codex-ok");
    expect(await actions("codex-allow")).toEqual([
      expect.objectContaining({
        evaluation: "ALLOW",
        proposed_action: expect.objectContaining({ kind: "shell", command: "echo forge-codex-ok" }),
      }),
    ]);
  }, 180_000);

  it("a denied exec_command never reaches Codex: it reads the explanation instead", async () => {
    const from = seen.length;
    const r = await run("codex-deny", "DENY-CASE clean up");
    expect(r.stdout).toMatch(/\[forge-agent\] tool call exec_command denied: .*no-rm/);
    // Codex ran nothing, so it never came back with a tool output.
    expect(seen.slice(from).every((s) => s.messages.at(-1)!.role !== "tool")).toBe(true);
    expect(await actions("codex-deny")).toEqual([
      expect.objectContaining({
        evaluation: "DENY",
        proposed_action: expect.objectContaining({
          kind: "shell",
          command: "rm -rf /tmp/forge-codex-victim",
        }),
      }),
    ]);
  }, 180_000);

  it("`codex mcp add` as the docs write it registers the gateway: `codex mcp get` and config.toml show it", async () => {
    const codexHome = join(t.home, "codex-mcp");
    mkdirSync(codexHome, { recursive: true });
    const servers = join(t.home, "servers.json");
    const line = snippet("Codex, MCP:", "sh").trim().replace("/work/project/servers.json", servers);
    expect(line.startsWith("codex mcp add forge -- forge-agent mcp")).toBe(true);
    const env = { ...process.env, CODEX_HOME: codexHome, PATH: `${dirname(codex!)}:${process.env.PATH}` };
    const add = await runProcess("sh", ["-c", line], { env, timeout: 60_000 });
    expect(add.code, add.stderr).toBe(0);
    const get = await runProcess(codex!, ["mcp", "get", "forge", "--json"], { env, timeout: 60_000 });
    expect(get.code, get.stderr).toBe(0);
    expect(JSON.parse(get.stdout)).toMatchObject({
      name: "forge",
      enabled: true,
      transport: { type: "stdio", command: "forge-agent", args: ["mcp", "--config", servers] },
    });
    // The config.toml block of the docs is what `codex mcp add` wrote.
    const block = snippet("writes this to `~/.codex/config.toml`", "toml").replace(
      "/work/project/servers.json",
      servers,
    );
    expect(readFileSync(join(codexHome, "config.toml"), "utf8")).toContain(block.trim());
  }, 120_000);
});
