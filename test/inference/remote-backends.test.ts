import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { homedir } from "node:os";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Codes } from "../../src/errors.js";
import { Gate, initGate, loadPolicyText } from "../../src/gate/index.js";
import { type Chunk, createBackend, type InferenceBackend } from "../../src/inference/backend.js";
import { createOllamaFacade } from "../../src/inference/facade.js";
import { toolCallToAction } from "../../src/inference/tools.js";
import type { RecordInput } from "../../src/protocol/record.js";

/*
 * No Ollama or MLX server exists on this machine, so these servers replay recorded exchanges in
 * each wire format (Ollama NDJSON, OpenAI SSE as llama-server/mlx_lm.server send it), written in
 * several pieces so the clients' framing is exercised too.
 */

type Handler = (req: IncomingMessage, body: unknown, res: ServerResponse) => Promise<void> | void;
const seen: { path: string; body: unknown }[] = [];

async function serve(h: Handler): Promise<{ server: Server; host: string }> {
  const server = createServer(async (req, res) => {
    let text = "";
    for await (const b of req) text += b;
    const body = text ? JSON.parse(text) : undefined;
    seen.push({ path: req.url ?? "", body });
    await h(req, body, res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, host: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const tick = () => new Promise((r) => setTimeout(r, 2));
async function writeSlowly(res: ServerResponse, pieces: string[]): Promise<void> {
  for (const p of pieces) {
    res.write(p);
    await tick();
  }
  res.end();
}

const OLLAMA_CHAT = [
  '{"model":"llama3.2","created_at":"2024-07-22T20:33:28.0Z","message":{"role":"assistant","content":"The"},"done":false}\n',
  '{"model":"llama3.2","created_at":"2024-07-22T20:33:28.1Z","message":{"role":"assistant","content":" sky"},"done":false}\n{"model":"llama3.2","created_at":"2024-07-22T20:33:28.2Z","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"run_shell","arguments":{"command":"rm -rf /"}}},{"function":{"name":"get_current_weather","arguments":{"location":"Paris, FR"}}}]},"done":false}\n{"model":"llama3.2","created_at":"2024-07-22T20:33:28.3Z","message":',
  '{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":4883583458,"load_duration":1334875,"prompt_eval_count":26,"prompt_eval_duration":342546000,"eval_count":3,"eval_duration":4535599000}\n',
];
const OLLAMA_TAGS = {
  models: [
    {
      name: "llama3.2:latest",
      model: "llama3.2:latest",
      modified_at: "2024-07-22T20:33:28.0Z",
      size: 2019393189,
      digest: "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
      details: { format: "gguf", family: "llama", parameter_size: "3.2B", quantization_level: "Q4_K_M" },
    },
  ],
};

const sse = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
const OPENAI_TEXT = [
  sse({
    id: "c1",
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta: { role: "assistant", content: null } }],
  }),
  sse({ choices: [{ index: 0, delta: { content: "Hel" }, finish_reason: null }] }).slice(0, 30),
  sse({ choices: [{ index: 0, delta: { content: "Hel" }, finish_reason: null }] }).slice(30),
  sse({ choices: [{ index: 0, delta: { content: "lo" }, finish_reason: null }] }),
  sse({ choices: [{ index: 0, delta: {}, finish_reason: "length" }] }),
  sse({ choices: [], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } }),
  "data: [DONE]\n\n",
];
const toolDelta = (index: number, fn: { name?: string; arguments: string }) =>
  sse({ choices: [{ index: 0, delta: { tool_calls: [{ index, function: fn }] }, finish_reason: null }] });
const OPENAI_TOOLS = [
  toolDelta(0, { name: "run_shell", arguments: "" }),
  toolDelta(0, { arguments: '{"command": "rm' }),
  toolDelta(1, { name: "get_time", arguments: '{"zone":"UTC"}' }),
  toolDelta(0, { arguments: ' -rf /"}' }),
  sse({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] }),
  "data: [DONE]\n\n",
];

let ollama: { server: Server; host: string };
let openai: { server: Server; host: string };
let openaiMode: "text" | "tools" | "broken-args" = "text";

beforeAll(async () => {
  await initGate();
  ollama = await serve(async (req, _body, res) => {
    if (req.url === "/api/tags") return void res.end(JSON.stringify(OLLAMA_TAGS));
    if (req.url === "/api/ps")
      return void res.end(
        JSON.stringify({ models: [{ ...OLLAMA_TAGS.models[0], expires_at: "2030-01-01T00:00:00Z" }] }),
      );
    if (req.url === "/api/chat") return writeSlowly(res, OLLAMA_CHAT);
    if (req.url === "/api/generate") {
      return writeSlowly(res, [
        '{"model":"llama3.2","created_at":"x","response":"Hi","done":false}\n',
        '{"model":"llama3.2","created_at":"x","response":"","done":true,"done_reason":"length","prompt_eval_count":4,"eval_count":1,"eval_duration":1000000}\n',
      ]);
    }
    res.writeHead(404).end(JSON.stringify({ error: "model 'nope' not found" }));
  });
  openai = await serve(async (req, body, res) => {
    if (req.url === "/v1/models")
      return void res.end(
        JSON.stringify({ object: "list", data: [{ id: "mlx-community/Qwen2.5-0.5B", created: 1700000000 }] }),
      );
    if (req.url === "/v1/chat/completions" || req.url === "/v1/completions") {
      if ((body as { model?: string }).model === "missing") {
        res.writeHead(404, { "content-type": "application/json" });
        return void res.end(
          JSON.stringify({ error: { message: "model missing not found", type: "not_found" } }),
        );
      }
      res.writeHead(200, { "content-type": "text/event-stream" });
      if (req.url === "/v1/completions")
        return writeSlowly(res, [
          sse({ choices: [{ text: "Once", index: 0 }] }),
          sse({ choices: [{ text: "", finish_reason: "stop" }] }),
          "data: [DONE]\n\n",
        ]);
      if (openaiMode === "tools") return writeSlowly(res, OPENAI_TOOLS);
      if (openaiMode === "broken-args")
        return writeSlowly(res, [
          toolDelta(0, { name: "run_shell", arguments: '{"command": "ls' }),
          "data: [DONE]\n\n",
        ]);
      return writeSlowly(res, OPENAI_TEXT);
    }
    res.writeHead(404).end();
  });
});

afterAll(async () => {
  await new Promise((r) => ollama?.server.close(r));
  await new Promise((r) => openai?.server.close(r));
});

async function collect(it: AsyncIterable<Chunk>): Promise<Chunk[]> {
  const out: Chunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

describe("ollama backend (official client, explicit host)", () => {
  it("streams content, native tool calls and the timing from Ollama's counters", async () => {
    const b = await createBackend({ backend: "ollama", model: "llama3.2", host: ollama.host });
    seen.length = 0;
    const chunks = await collect(
      b.chat({ messages: [{ role: "user", content: "why is the sky blue" }], options: { temperature: 0 } }),
    );
    expect(seen[0]).toMatchObject({
      path: "/api/chat",
      body: { model: "llama3.2", stream: true, options: { temperature: 0 } },
    });
    expect(chunks.map((c) => c.content).join("")).toBe("The sky");
    expect(chunks.flatMap((c) => c.tool_calls ?? []).map((c) => c.function.name)).toEqual([
      "run_shell",
      "get_current_weather",
    ]);
    const last = chunks.at(-1)!;
    expect(last.done).toBe(true);
    expect(last.timing).toMatchObject({ prompt_tokens: 26, generated_tokens: 3 });
    expect(last.timing!.tokens_per_s).toBeCloseTo(3 / 4.535599, 5);
    const gen = await collect(b.generate({ prompt: "hi" }));
    expect(gen.map((c) => c.content).join("")).toBe("Hi");
    expect(gen.at(-1)).toMatchObject({ done: true, done_reason: "length" });
    expect((await b.models())[0]).toMatchObject({ name: "llama3.2:latest", size: 2019393189 });
    expect((await b.loaded())[0]!.expires_at).toBe("2030-01-01T00:00:00Z");
    await b.close();
  });

  it("an unreachable server is FORGE_BACKEND_UNAVAILABLE", async () => {
    const b = await createBackend({ backend: "ollama", model: "x", host: "http://127.0.0.1:1" });
    await expect(collect(b.chat({ messages: [{ role: "user", content: "x" }] }))).rejects.toMatchObject({
      code: Codes.BACKEND_UNAVAILABLE,
    });
  });
});

describe("openai-compatible backend (SSE)", () => {
  it("streams text deltas with usage as the token counts", async () => {
    openaiMode = "text";
    const b = await createBackend({
      backend: "openai",
      model: "mlx-community/Qwen2.5-0.5B",
      host: openai.host,
    });
    seen.length = 0;
    const chunks = await collect(
      b.chat({ messages: [{ role: "user", content: "hi" }], options: { num_predict: 2, seed: 3 } }),
    );
    expect(seen[0]!.body).toMatchObject({
      stream: true,
      max_tokens: 2,
      seed: 3,
      model: "mlx-community/Qwen2.5-0.5B",
    });
    expect(chunks.map((c) => c.content).join("")).toBe("Hello");
    expect(chunks.at(-1)).toMatchObject({
      done: true,
      done_reason: "length",
      timing: { prompt_tokens: 9, generated_tokens: 2 },
    });
    const gen = await collect(b.generate({ prompt: "tell", system: "be brief" }));
    expect(gen.map((c) => c.content).join("")).toBe("Once");
    expect(seen.at(-1)!.body).toMatchObject({ prompt: "be brief\n\ntell" });
    expect((await b.models()).map((m) => m.name)).toEqual(["mlx-community/Qwen2.5-0.5B"]);
  });

  it("assembles tool calls from deltas, interleaved by index, and hands on only whole calls", async () => {
    openaiMode = "tools";
    const b = await createBackend({ backend: "openai", model: "m", host: openai.host });
    const chunks = await collect(b.chat({ messages: [{ role: "user", content: "x" }] }));
    expect(chunks.flatMap((c) => c.tool_calls ?? [])).toEqual([
      { function: { name: "run_shell", arguments: { command: "rm -rf /" } } },
      { function: { name: "get_time", arguments: { zone: "UTC" } } },
    ]);
  });

  it("fails closed: unparseable tool arguments are an error, an HTTP 404 is FORGE_NOT_FOUND", async () => {
    openaiMode = "broken-args";
    const b = await createBackend({ backend: "openai", model: "m", host: openai.host });
    await expect(collect(b.chat({ messages: [{ role: "user", content: "x" }] }))).rejects.toMatchObject({
      code: Codes.INFERENCE_FAILED,
    });
    await expect(
      collect(b.chat({ model: "missing", messages: [{ role: "user", content: "x" }] })),
    ).rejects.toMatchObject({
      code: Codes.NOT_FOUND,
    });
  });
});

describe("the facade in front of remote backends", () => {
  async function facadeOver(
    backend: InferenceBackend,
    faults: { governThrows?: boolean; recordThrows?: boolean } = {},
  ) {
    const gate = new Gate(
      loadPolicyText(
        "defaults: { effect: allow }\nrules:\n  - id: no-rm\n    match: { kind: shell, program: rm }\n    effect: deny\n",
        "inline.yaml",
      ),
      { home: homedir() },
    );
    const records: RecordInput[] = [];
    const facade = createOllamaFacade({
      backend,
      govern: async (call, ctx) => {
        if (faults.governThrows) throw new Error("gate exploded");
        const d = gate.evaluate({ session_id: ctx.session_id, action: toolCallToAction(call) });
        return { evaluation: d.evaluation, action_id: `a-${call.function.name}`, reasons: d.reasons };
      },
      record: async (r) => {
        if (faults.recordThrows) throw new Error("disk full");
        records.push(r);
      },
      principal: null,
    });
    const server = createServer((req, res) => void facade(req, res));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return {
      server,
      records,
      client: new Ollama({ host: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    };
  }

  it("gates Ollama's native tool calls: the rm call is gone, the weather call stays", async () => {
    const backend = await createBackend({ backend: "ollama", model: "llama3.2", host: ollama.host });
    const f = await facadeOver(backend);
    try {
      const r = await f.client.chat({
        model: "llama3.2",
        messages: [{ role: "user", content: "x" }],
        tools: [],
      });
      expect(r.message.tool_calls).toEqual([
        { function: { name: "get_current_weather", arguments: { location: "Paris, FR" } } },
      ]);
      expect(r.message.content).toMatch(
        /^The sky\n\[forge-agent\] tool call run_shell denied: .*\(action a-run_shell\)$/,
      );
      expect(r.eval_count).toBe(3);
      expect(r.prompt_eval_count).toBe(26);
      expect(f.records).toHaveLength(1);
    } finally {
      f.server.close();
    }
  });

  it("gates OpenAI tool calls in a stream, and an unparseable call becomes an in-stream error, never a call", async () => {
    const backend = await createBackend({ backend: "openai", model: "m", host: openai.host });
    const f = await facadeOver(backend);
    try {
      openaiMode = "tools";
      const calls: unknown[] = [];
      for await (const p of await f.client.chat({
        model: "m",
        messages: [{ role: "user", content: "x" }],
        stream: true,
      }))
        calls.push(...(p.message.tool_calls ?? []));
      expect(calls).toEqual([{ function: { name: "get_time", arguments: { zone: "UTC" } } }]);

      openaiMode = "broken-args";
      const seenCalls: unknown[] = [];
      await expect(
        (async () => {
          for await (const p of await f.client.chat({
            model: "m",
            messages: [{ role: "user", content: "x" }],
            stream: true,
          }))
            seenCalls.push(...(p.message.tool_calls ?? []));
        })(),
      ).rejects.toThrow(/not JSON/);
      expect(seenCalls).toHaveLength(0);
      const failed = f.records.at(-1)!.execution_result as { error: { code: string } };
      expect(failed.error.code).toBe(Codes.INFERENCE_FAILED);
    } finally {
      f.server.close();
    }
  });

  it("fails closed: a gate that throws denies every call; a record that cannot be written is an error, not done", async () => {
    const backend = await createBackend({ backend: "ollama", model: "llama3.2", host: ollama.host });
    const f = await facadeOver(backend, { governThrows: true });
    try {
      const r = await f.client.chat({ model: "llama3.2", messages: [{ role: "user", content: "x" }] });
      expect(r.message.tool_calls ?? []).toHaveLength(0);
      expect(r.message.content).toContain("tool call run_shell denied: gate error: gate exploded");
      expect(r.message.content).toContain("tool call get_current_weather denied: gate error: gate exploded");
    } finally {
      f.server.close();
    }
    const g = await facadeOver(backend, { recordThrows: true });
    try {
      await expect(
        g.client.chat({ model: "llama3.2", messages: [{ role: "user", content: "x" }] }),
      ).rejects.toThrow(/disk full/);
      const pieces: { done: boolean }[] = [];
      await expect(
        (async () => {
          for await (const p of await g.client.chat({
            model: "llama3.2",
            messages: [{ role: "user", content: "x" }],
            stream: true,
          }))
            pieces.push(p);
        })(),
      ).rejects.toThrow(/disk full/);
      expect(pieces.some((p) => p.done)).toBe(false);
    } finally {
      g.server.close();
    }
  });

  it("a token held for coalescing still reaches the client when the model stalls after it", async () => {
    let release!: () => void;
    const stalled = new Promise<void>((r) => {
      release = r;
    });
    const fake: InferenceBackend = {
      name: "llama",
      defaultModel: "fake:latest",
      models: async () => [],
      loaded: async () => [],
      chat: async function* () {
        yield { content: "a", done: false };
        yield { content: "b", done: false }; // within the coalescing window of "a": held
        await stalled; // the model stalls until the client has seen "b"
        yield { content: "", done: true, done_reason: "stop" };
      },
      generate: async function* () {},
      close: async () => {},
    };
    const f = await facadeOver(fake);
    try {
      let text = "";
      for await (const p of await f.client.chat({
        model: "fake",
        messages: [{ role: "user", content: "x" }],
        stream: true,
      })) {
        text += p.message.content;
        if (text === "ab") release();
      }
      expect(text).toBe("ab");
    } finally {
      f.server.close();
    }
  });
});
