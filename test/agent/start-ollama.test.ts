import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callAgent } from "../../src/agent/client.js";
import { pickFacadeListen } from "../../src/agent/server.js";
import { ensureBuilt, tempDir } from "../fleet/helpers.js";
import { until } from "../support/wait.js";
import { REPO } from "./helpers.js";

/**
 * `npm start` serves the governed Ollama API on loopback TCP and prints `OLLAMA_HOST=…`; a stock
 * `ollama` client pointed there lists, shows, embeds and chats, and gets Ollama's error shape.
 */

const START = join(REPO, "scripts", "start.js");
/** The line scripts/newcomer-check parses. */
const OLLAMA_HOST = /^\s*OLLAMA_HOST=(http:\/\/127\.0\.0\.1:\d+)\s*$/m;

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("FORGE_")) out[k] = v;
  return { ...out, FORGE_LOG_LEVEL: "warn", ...extra };
}

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const s = createServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

describe("pickFacadeListen", () => {
  it("takes the preferred port when it is free", async () => {
    const p = await freePort();
    expect(await pickFacadeListen(`127.0.0.1:${p}`, "127.0.0.1:1")).toEqual({
      listen: `127.0.0.1:${p}`,
      note: null,
    });
  });

  it("when an Ollama holds the port, says so and uses the fallback, then any port", async () => {
    const ollama = createServer((_req, res) => res.end("Ollama is running"));
    const taken = await listen(ollama);
    const other = createServer((_req, res) => res.end("hello"));
    const otherPort = await listen(other);
    try {
      const fallback = await freePort();
      const a = await pickFacadeListen(`127.0.0.1:${taken}`, `127.0.0.1:${fallback}`);
      expect(a.listen).toBe(`127.0.0.1:${fallback}`);
      expect(a.note).toContain(`127.0.0.1:${taken} is taken (an Ollama server answers there)`);
      expect(a.note).toContain("FORGE_FACADE_LISTEN");
      const b = await pickFacadeListen(`127.0.0.1:${otherPort}`, `127.0.0.1:${taken}`);
      expect(b.listen).toBe("127.0.0.1:0");
      expect(b.note).toContain("another program holds it");
      expect(b.note).toContain(`127.0.0.1:${taken} is taken too`);
    } finally {
      ollama.close();
      other.close();
    }
  });
});

describe("npm start: the Ollama endpoint on loopback TCP, with the official client", () => {
  const cwd = tempDir("fa-start-ollama-");
  let agent: ChildProcess;
  let out = "";
  let exited: Promise<number | null>;
  let host: string;
  let socket: string;

  beforeAll(async () => {
    ensureBuilt();
    agent = spawn(process.execPath, [START], {
      cwd,
      env: env({ FORGE_HOME: join(cwd, "var"), FORGE_COLLECTOR_LISTEN: "127.0.0.1:0" }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    agent.stdout!.on("data", (c: Buffer) => (out += c.toString()));
    agent.stderr!.on("data", (c: Buffer) => (out += c.toString()));
    exited = new Promise((r) => agent.once("exit", r));
    await until(() => /Ctrl-C stops/.test(out) || agent.exitCode !== null, "npm start to be up", 90_000);
    host = OLLAMA_HOST.exec(out)?.[1] ?? "";
    socket = /^socket: +(.+)$/m.exec(out)?.[1] ?? "";
  }, 120_000);

  afterAll(async () => {
    agent?.kill("SIGTERM");
    await exited;
  });

  it("prints OLLAMA_HOST, on 11434 or with a note saying why not", () => {
    expect(host, out).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    if (new URL(host).port === "11434") expect(out).not.toMatch(/note: .*is taken/);
    else expect(out).toMatch(/note: 127\.0\.0\.1:11434 is taken \(.+\); the governed endpoint uses /);
  });

  it("answers GET / as Ollama does", async () => {
    const r = await fetch(`${host}/`);
    expect(r.status).toBe(200);
    expect(await r.text()).toBe("Ollama is running");
  });

  it("lists, shows, embeds and chats through the ollama client; each inference is recorded", async () => {
    const c = new Ollama({ host, headers: { "x-forge-session": "start-ollama" } });
    const { models } = await c.list();
    expect(models.length).toBe(1);
    const name = models[0]!.name;
    const shown = await c.show({ model: name });
    expect(shown.capabilities).toContain("embedding");
    expect(shown.details.format).toBe("gguf");

    const e = await c.embed({ model: name, input: ["first text", "second text"] });
    expect(e.embeddings.length).toBe(2);
    const norm = Math.hypot(...e.embeddings[0]!);
    expect(norm).toBeCloseTo(1, 5);
    expect(e.embeddings[0]).not.toEqual(e.embeddings[1]);
    const legacy = await c.embeddings({ model: name, prompt: "first text" });
    expect(legacy.embedding.length).toBe(e.embeddings[0]!.length);
    expect(legacy.embedding[0]).toBeCloseTo(e.embeddings[0]![0]!, 5);

    const chat = await c.chat({
      model: name,
      messages: [{ role: "user", content: "hi" }],
      options: { num_predict: 4 },
    });
    expect(chat.done).toBe(true);

    const trace = await callAgent(socket, "GET", "/v1/sessions/start-ollama/trace");
    const steps = JSON.stringify(trace.body);
    expect(steps).toContain('"endpoint":"/api/embed"');
    expect(steps).toContain('"endpoint":"/api/embeddings"');
    expect(steps).toContain('"endpoint":"/api/chat"');
  });

  it("errors come in Ollama's shape, which the client turns into its ResponseError", async () => {
    const c = new Ollama({ host });
    await expect(c.show({ model: "no-such-model" })).rejects.toMatchObject({
      status_code: 404,
      error: "model 'no-such-model' not found",
    });
    await expect(c.embed({ model: "no-such-model", input: "x" })).rejects.toMatchObject({ status_code: 404 });
    const r = await fetch(`${host}/api/nothing-here`);
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({ error: "route /api/nothing-here not found", code: "FORGE_NOT_FOUND" });
    const bad = await fetch(`${host}/api/embed`, { method: "POST", body: "{not json" });
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { error: unknown };
    expect(typeof body.error).toBe("string");
  });
});
