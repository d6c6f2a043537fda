import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { InferenceBackend } from "../../src/inference/backend.js";
import { createOllamaFacade } from "../../src/inference/facade.js";

// An echo backend keeps the fuzz fast; the facade's parsing and framing are what is under test.
const echo: InferenceBackend = {
  name: "llama",
  defaultModel: "echo:latest",
  models: async () => [],
  loaded: async () => [],
  chat: async function* (req) {
    yield { content: String(req.messages.at(-1)?.content ?? "").slice(0, 20), done: false };
    if (req.tools?.length)
      yield {
        content: "",
        tool_calls: [{ function: { name: "bash", arguments: { command: "ls" } } }],
        done: false,
      };
    yield { content: "", done: true, done_reason: "stop" };
  },
  generate: async function* (req) {
    yield { content: req.prompt.slice(0, 20), done: false };
    yield { content: "", done: true, done_reason: "stop" };
  },
  close: async () => {},
};

let server: Server;
let base: string;
let crashed: unknown;

beforeAll(async () => {
  const facade = createOllamaFacade({
    backend: echo,
    govern: async () => ({ evaluation: "DENY", action_id: "a", reasons: ["fuzz"] }),
    record: async () => {},
    principal: null,
    maxBodyBytes: 64 * 1024,
  });
  server = createServer((req, res) => {
    facade(req, res).then(
      (mine) => {
        if (!mine) res.writeHead(404).end('{"error":"not mine"}');
      },
      (err) => {
        crashed = err;
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
});

const validChat = fc.record(
  {
    model: fc.oneof(fc.constant("echo"), fc.string()),
    messages: fc.array(
      fc.record({
        role: fc.constantFrom("system", "user", "assistant", "tool", "bogus"),
        content: fc.string(),
      }),
      { maxLength: 3 },
    ),
    stream: fc.boolean(),
    tools: fc.constant([{ type: "function", function: { name: "bash" } }]),
    options: fc.record(
      { temperature: fc.oneof(fc.double(), fc.string()), num_predict: fc.integer() },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

const bodies = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  validChat.map((v) => JSON.stringify(v)),
  fc
    .record({ prompt: fc.oneof(fc.string(), fc.integer()), stream: fc.oneof(fc.boolean(), fc.string()) })
    .map((v) => JSON.stringify(v)),
  fc.string(),
  fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString("latin1")),
);

describe("facade fuzz: malformed requests", () => {
  it("every request gets an Ollama-shaped answer: a JSON error with a 4xx, or JSON/NDJSON; never a crash", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/api/chat", "/api/generate", "/api/tags", "/api/version"),
        fc.constantFrom("POST", "POST", "GET", "PUT"),
        bodies,
        async (path, method, body) => {
          const r = await fetch(`${base}${path}`, {
            method,
            ...(method === "GET" ? {} : { body }),
            headers: { "content-type": "application/json" },
          });
          const text = await r.text();
          expect([200, 400, 404, 405, 413]).toContain(r.status);
          const lines = text.split("\n").filter((l) => l !== "");
          expect(lines.length).toBeGreaterThan(0);
          const docs = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
          if (r.status !== 200) expect(typeof docs[0]!.error).toBe("string");
          // Whatever got through, the gated bash call never reaches the client.
          expect(text).not.toContain('"tool_calls"');
        },
      ),
      { numRuns: 2000 },
    );
    expect(crashed).toBeUndefined();
  });

  it("an oversized body is refused with 413 and the server keeps serving", async () => {
    const r = await fetch(`${base}/api/chat`, { method: "POST", body: "x".repeat(200 * 1024) });
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: unknown }).error).toMatch(/exceeds 65536 bytes/);
    const ok = await fetch(`${base}/api/version`);
    expect(ok.status).toBe(200);
  });
});
