import { mkdtempSync, rmSync, statSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, type Llama } from "node-llama-cpp";
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EvidenceStore } from "../../src/evidence/store.js";
import { Gate, initGate, loadPolicyText } from "../../src/gate/index.js";
import type { ToolCall } from "../../src/inference/backend.js";
import { createOllamaFacade, type FacadeDeps } from "../../src/inference/facade.js";
import { type LlamaBackend, openLlamaBackend } from "../../src/inference/llama.js";
import { ensureTinyModel } from "../../src/inference/tiny-model.js";
import { toolCallToAction } from "../../src/inference/tools.js";
import { until } from "../support/wait.js";

// The real gate with a small inline policy: rm is denied, email waits for review, the rest is allowed.
const POLICY = `
bundle: { id: inference-test, version: 1 }
defaults: { effect: allow }
rules:
  - id: no-rm
    match: { kind: shell, program: rm }
    effect: deny
  - id: no-wipe-tool
    match: { kind: tool, tool: wipe_disk }
    effect: deny
  - id: email-needs-review
    match: { kind: email.send }
    effect: escalate
`;

// Grammar-forced arguments: an enum leaves the random model exactly one choice.
const SHELL_TOOL = {
  type: "function" as const,
  function: {
    name: "run_shell",
    description: "run a shell command",
    parameters: {
      type: "object",
      properties: { command: { type: "string", enum: ["rm -rf ~/projects"] } },
      required: ["command"],
    },
  },
};
const CLOCK_TOOL = {
  type: "function" as const,
  function: {
    name: "get_time",
    parameters: {
      type: "object",
      properties: { zone: { type: "string", enum: ["UTC"] } },
      required: ["zone"],
    },
  },
};
const EMAIL_TOOL = {
  type: "function" as const,
  function: {
    name: "send_email",
    parameters: {
      type: "object",
      properties: {
        to: { type: "string", enum: ["ops@example.com"] },
        subject: { type: "string", enum: ["status"] },
      },
      required: ["to", "subject"],
    },
  },
};

let dir: string;
let llama: Llama;
let backend: LlamaBackend;
let store: EvidenceStore;
let gate: Gate;
let server: Server;
let host: string;
/** Escalations waiting for the test to "review" them. */
const reviews: { call: ToolCall; settle: (ok: boolean) => void }[] = [];
const governed: { name: string; evaluation: string }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "forge-facade-"));
  await initGate();
  gate = new Gate(loadPolicyText(POLICY, "inline.yaml"), { home: homedir() });
  store = EvidenceStore.open({
    path: join(dir, "evidence.db"),
    hostId: "test-host",
    keyDir: join(dir, "keys"),
  });
  llama = await getLlama({ gpu: false, build: "never" });
  backend = await openLlamaBackend({ backend: "llama", model: ensureTinyModel(dir) }, { llama });
  const deps: FacadeDeps = {
    backend,
    govern: async (call, ctx) => {
      const d = gate.evaluate({
        session_id: ctx.session_id,
        principal: ctx.principal,
        action: toolCallToAction(call),
      });
      const action_id = `act-${governed.length + 1}`;
      governed.push({ name: call.function.name, evaluation: d.evaluation });
      if (d.evaluation !== "ESCALATE") return { evaluation: d.evaluation, action_id, reasons: d.reasons };
      const ok = await new Promise<boolean>((settle) => reviews.push({ call, settle }));
      return {
        evaluation: ok ? "ALLOW" : "DENY",
        action_id,
        reasons: [ok ? "approved" : "review: denied by test"],
      };
    },
    record: (rec) => store.append(rec),
    principal: () => "uid:1000",
  };
  const facade = createOllamaFacade(deps);
  server = createServer((req, res) => {
    facade(req, res).then((mine) => {
      if (!mine) {
        res.writeHead(404).end("not mine");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await backend?.close();
  await llama?.dispose();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = (session?: string) =>
  new Ollama({ host, ...(session ? { headers: { "x-forge-session": session } } : {}) });
const inferenceRecords = (session: string) => store.records({ kind: "inference", session_id: session });

describe("ollama client against the governed facade (embedded tiny model)", () => {
  it("lists the model, what is loaded, and a version", async () => {
    const c = client();
    const tags = await c.list();
    expect(tags.models).toHaveLength(1);
    expect(tags.models[0]!.name).toBe(backend.defaultModel);
    expect(tags.models[0]!.details.format).toBe("gguf");
    expect(tags.models[0]!.details.family).toBe("llama");
    expect(tags.models[0]!.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(tags.models[0]!.size).toBe(statSync(backend.path).size);
    const ps = await c.ps();
    expect(ps.models.map((m) => m.name)).toEqual([backend.defaultModel]);
    expect((await c.version()).version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("chat, not streaming: one response with Ollama's counters, and one inference record with them", async () => {
    const r = await client("s-chat").chat({
      model: backend.defaultModel,
      messages: [{ role: "user", content: "hello there" }],
      options: { temperature: 0, num_predict: 12 },
    });
    expect(r.done).toBe(true);
    expect(r.message.role).toBe("assistant");
    expect(r.eval_count).toBeGreaterThan(0);
    expect(r.eval_count).toBeLessThanOrEqual(12);
    expect(r.done_reason).toBe(r.eval_count === 12 ? "length" : "stop");
    expect(r.prompt_eval_count).toBeGreaterThan(3);
    expect(r.total_duration).toBeGreaterThanOrEqual(r.eval_duration);
    const recs = inferenceRecords("s-chat");
    expect(recs).toHaveLength(1);
    const res = recs[0]!.execution_result as { timing: { generated_tokens: number; prompt_tokens: number } };
    expect(res.timing.generated_tokens).toBe(r.eval_count);
    expect(res.timing.prompt_tokens).toBe(r.prompt_eval_count);
    // The request's wall time is its own field; latency_ms is the gate's, and nothing gated it.
    expect((recs[0]!.execution_result as { duration_ms: number }).duration_ms).toBeGreaterThan(0);
    expect(recs[0]!.latency_ms).toBe(0);
    expect(recs[0]!.principal).toBe("uid:1000");
    expect(recs[0]!.prompt_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("chat, streaming: NDJSON pieces add up to the non-streamed text (temperature 0)", async () => {
    const req = {
      model: backend.defaultModel,
      messages: [{ role: "user" as const, content: "tell me a story" }],
      options: { temperature: 0, num_predict: 20 },
    };
    const whole = await client().chat({ ...req, stream: false });
    const parts: string[] = [];
    let last: { done: boolean; eval_count: number } | undefined;
    for await (const piece of await client("s-stream").chat({ ...req, stream: true })) {
      parts.push(piece.message.content);
      last = piece;
    }
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.join("")).toBe(whole.message.content);
    expect(last!.done).toBe(true);
    expect(last!.eval_count).toBe(whole.eval_count);
    const rec = inferenceRecords("s-stream")[0]!.execution_result as { timing: { generated_tokens: number } };
    expect(rec.timing.generated_tokens).toBe(whole.eval_count);
    expect(inferenceRecords("s-stream")).toHaveLength(1);
  });

  it("generate, streaming and not", async () => {
    const req = {
      model: backend.defaultModel,
      prompt: "once upon a time",
      options: { temperature: 0, num_predict: 8 },
    };
    const whole = await client().generate({ ...req, stream: false });
    expect(whole.done).toBe(true);
    expect(whole.eval_count).toBeGreaterThan(0);
    expect(whole.eval_count).toBeLessThanOrEqual(8);
    let text = "";
    let n = 0;
    for await (const piece of await client("s-gen").generate({ ...req, stream: true })) {
      text += piece.response;
      if (piece.done) n = piece.eval_count;
    }
    expect(text).toBe(whole.response);
    expect(n).toBe(whole.eval_count);
    const rec = inferenceRecords("s-gen")[0]!;
    expect((rec.proposed_action as { endpoint: string }).endpoint).toBe("/api/generate");
  });

  it("a denied tool call is removed and explained (non-streaming)", async () => {
    const r = await client("s-deny").chat({
      model: backend.defaultModel,
      messages: [{ role: "user", content: "clean up my projects" }],
      tools: [SHELL_TOOL],
      options: { temperature: 0, num_predict: 160 },
    });
    expect(r.message.tool_calls ?? []).toHaveLength(0);
    expect(r.message.content).toMatch(
      /^\[forge-agent\] tool call run_shell denied: .*no-rm.* \(action act-\d+\)$/m,
    );
    const rec = inferenceRecords("s-deny")[0]!;
    expect((rec.execution_result as { tool_calls: unknown[] }).tool_calls).toEqual([
      expect.objectContaining({ name: "run_shell", evaluation: "DENY" }),
    ]);
  });

  it("a denied tool call never appears in the stream; an allowed one does", async () => {
    const seen: unknown[] = [];
    let content = "";
    for await (const piece of await client("s-deny-stream").chat({
      model: backend.defaultModel,
      messages: [{ role: "user", content: "clean up" }],
      tools: [SHELL_TOOL],
      options: { temperature: 0, num_predict: 160 },
      stream: true,
    })) {
      if (piece.message.tool_calls) seen.push(...piece.message.tool_calls);
      content += piece.message.content;
    }
    expect(seen).toHaveLength(0);
    expect(content).toContain("[forge-agent] tool call run_shell denied");

    const allowed = await client("s-allow").chat({
      model: backend.defaultModel,
      messages: [{ role: "user", content: "what time is it" }],
      tools: [CLOCK_TOOL],
      options: { temperature: 0, num_predict: 160 },
    });
    expect(allowed.message.tool_calls).toEqual([
      { function: { name: "get_time", arguments: { zone: "UTC" } } },
    ]);
    expect(allowed.message.content).toBe("");
  });

  it("tool_choice auto: after a tool result the embedded engine answers in text", async () => {
    const r = await client().chat({
      model: backend.defaultModel,
      messages: [
        { role: "user", content: "what time is it" },
        {
          role: "assistant",
          content: "",
          tool_calls: [{ function: { name: "get_time", arguments: { zone: "UTC" } } }],
        },
        { role: "tool", content: "12:00" },
      ],
      tools: [CLOCK_TOOL],
      options: { temperature: 0, num_predict: 10 },
    });
    expect(r.message.tool_calls ?? []).toHaveLength(0);
    expect(r.eval_count).toBeGreaterThan(0);
    const governedBefore = governed.length;
    // "required" forces a call even then; the gate sees it.
    const forced = await client().chat({
      model: backend.defaultModel,
      messages: [{ role: "tool", content: "12:00" }],
      tools: [CLOCK_TOOL],
      tool_choice: "required",
      options: { temperature: 0, num_predict: 160 },
    } as Parameters<Ollama["chat"]>[0] & { stream?: false });
    expect(forced.message.tool_calls).toEqual([
      { function: { name: "get_time", arguments: { zone: "UTC" } } },
    ]);
    expect(governed.length).toBe(governedBefore + 1);
  });

  it("an escalated call holds the response until the review resolves it", async () => {
    const pending = client("s-escalate").chat({
      model: backend.defaultModel,
      messages: [{ role: "user", content: "mail ops" }],
      tools: [EMAIL_TOOL],
      options: { temperature: 0, num_predict: 160 },
    });
    let answered = false;
    void pending.then(() => {
      answered = true;
    });
    await until(() => reviews.length === 1, "the review opens");
    // The response is held while the review is open: a request made after the review opened, to
    // the same server, is answered (a round trip later than the held answer would have come); the
    // first still is not.
    await client().version();
    expect(answered).toBe(false);
    reviews.shift()!.settle(true);
    const r = await pending;
    expect(r.message.tool_calls).toEqual([
      { function: { name: "send_email", arguments: { to: "ops@example.com", subject: "status" } } },
    ]);

    // The same, denied by the reviewer, streaming.
    const stream = await client("s-escalate-2").chat({
      model: backend.defaultModel,
      messages: [{ role: "user", content: "mail ops" }],
      tools: [EMAIL_TOOL],
      options: { temperature: 0, num_predict: 160 },
      stream: true,
    });
    const reading = (async () => {
      const out: { calls: unknown[]; content: string } = { calls: [], content: "" };
      for await (const piece of stream) {
        out.calls.push(...(piece.message.tool_calls ?? []));
        out.content += piece.message.content;
      }
      return out;
    })();
    await until(() => reviews.length === 1, "the review opens");
    reviews.shift()!.settle(false);
    const out = await reading;
    expect(out.calls).toHaveLength(0);
    expect(out.content).toContain("[forge-agent] tool call send_email denied: review: denied by test");
  });

  it("concurrent requests queue on the one sequence, each with its own token count", async () => {
    const ask = (session: string, n: number) =>
      client(session).chat({
        model: backend.defaultModel,
        messages: [{ role: "user", content: `question ${n}` }],
        options: { temperature: 0, num_predict: n },
      });
    const [a, b] = await Promise.all([ask("s-conc-a", 5), ask("s-conc-b", 9)]);
    for (const [r, session, n] of [
      [a, "s-conc-a", 5],
      [b, "s-conc-b", 9],
    ] as const) {
      expect(r.eval_count).toBeLessThanOrEqual(n);
      const t = inferenceRecords(session)[0]!.execution_result as { timing: { generated_tokens: number } };
      expect(t.timing.generated_tokens).toBe(r.eval_count);
    }
  });

  it("a client that hangs up mid-stream stops generation and frees the engine", async () => {
    const stream = await client("s-abort").chat({
      model: backend.defaultModel,
      messages: [{ role: "user", content: "go on forever" }],
      options: { temperature: 0, num_predict: 150 },
      stream: true,
    });
    await expect(
      (async () => {
        for await (const _ of stream) stream.abort();
      })(),
    ).rejects.toThrow();
    await until(() => inferenceRecords("s-abort").length === 1, "the aborted call's record");
    const failed = inferenceRecords("s-abort")[0]!.execution_result as { error?: { message: string } };
    expect(failed.error?.message).toMatch(/client closed/);
    const next = await client().generate({
      model: backend.defaultModel,
      prompt: "still there?",
      options: { temperature: 0, num_predict: 3 },
    });
    expect(next.done).toBe(true);
  });

  it("bad requests get Ollama-style errors", async () => {
    const post = (path: string, body: string) =>
      fetch(`${host}${path}`, { method: "POST", body, headers: { "content-type": "application/json" } });
    let r = await post("/api/chat", "{not json");
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: expect.stringContaining("not JSON"), code: "FORGE_BAD_REQUEST" });
    r = await post("/api/chat", JSON.stringify({ messages: [{ role: "wizard", content: "x" }] }));
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: unknown }).error).toContain("messages.0.role");
    r = await post(
      "/api/chat",
      JSON.stringify({ model: "llama3.2", messages: [{ role: "user", content: "x" }] }),
    );
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: unknown }).error).toContain('model "llama3.2" not found');
    r = await fetch(`${host}/api/chat`);
    expect(r.status).toBe(405);
    r = await post("/api/generate", "x".repeat(9 * 1024 * 1024));
    expect(r.status).toBe(413);
    r = await fetch(`${host}/v1/health`);
    expect(await r.text()).toBe("not mine");
    await expect(
      client().chat({ model: "nope", messages: [{ role: "user", content: "x" }] }),
    ).rejects.toThrow(/not found/);
  });
});
