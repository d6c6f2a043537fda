import { writeFileSync } from "node:fs";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../support/wait.js";
import { CLOCK, EMAIL, FACADE_POLICY, SHELL } from "./facade-fixtures.js";
import { reviewAs, reviewHeaders, startTestAgent, type TestAgent, tempHome } from "./helpers.js";

/**
 * The governed OpenAI-compatible facade as the daemon wires it: the official openai client against
 * the daemon's loopback port, the embedded tiny model behind it, every tool call through the
 * daemon's gate, evidence and review queue.
 */

describe("daemon OpenAI facade with the openai client", () => {
  let t: TestAgent;
  let model: string;
  beforeAll(async () => {
    const home = tempHome("fa-openai-");
    writeFileSync(join(home, "policy.yaml"), FACADE_POLICY);
    t = await startTestAgent(
      { backend: "llama", policy: join(home, "policy.yaml"), facade: { listen: "127.0.0.1:0" } },
      home,
    );
    const models = await client("list").models.list();
    model = models.data[0]!.id;
  });
  afterAll(async () => {
    await t.stop();
  });
  const client = (session: string) =>
    new OpenAI({
      baseURL: `http://${t.agent.facadeAddress}/v1`,
      apiKey: "unused",
      maxRetries: 0,
      defaultHeaders: { "x-forge-session": session },
    });
  const trace = async (session: string) => (await t.client.get(`/v1/sessions/${session}/trace`)).body.steps;
  /** The review queue once it holds something. */
  const queued = (label: string) =>
    until(async () => {
      const r = (await t.client.call("GET", "/v1/reviews", undefined, reviewHeaders(t))).body.reviews as {
        action_id: string;
      }[];
      return r.length > 0 ? r : null;
    }, label);

  it("lists the served model, and retrieves it by id", async () => {
    const list = await client("m").models.list();
    expect(list.data).toEqual([
      { id: model, object: "model", created: expect.any(Number), owned_by: "forge-agent/llama" },
    ]);
    expect((await client("m").models.retrieve(model)).id).toBe(model);
  });

  it("chat, not streaming: a completion with usage, and one inference record with the same counts", async () => {
    const r = await client("o-chat").chat.completions.create({
      model,
      messages: [{ role: "user", content: "hello there" }],
      max_tokens: 12,
      temperature: 0,
    });
    expect(r.object).toBe("chat.completion");
    expect(r.choices[0]!.message.role).toBe("assistant");
    expect(r.usage!.completion_tokens).toBeGreaterThan(0);
    expect(r.usage!.completion_tokens).toBeLessThanOrEqual(12);
    expect(r.usage!.prompt_tokens).toBeGreaterThan(3);
    expect(r.usage!.total_tokens).toBe(r.usage!.prompt_tokens + r.usage!.completion_tokens);
    expect(r.choices[0]!.finish_reason).toBe(r.usage!.completion_tokens === 12 ? "length" : "stop");
    const steps = await trace("o-chat");
    expect(steps).toHaveLength(1);
    expect(steps[0]).toMatchObject({ kind: "inference" });
  });

  it("chat, streaming: SSE deltas add up to the non-streamed text, usage in the last chunk", async () => {
    const req = {
      model,
      messages: [{ role: "user" as const, content: "tell me a story" }],
      max_tokens: 20,
      temperature: 0,
    };
    const whole = await client("o-whole").chat.completions.create(req);
    const stream = await client("o-stream").chat.completions.create({
      ...req,
      stream: true,
      stream_options: { include_usage: true },
    });
    const parts: string[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const c of stream) {
      if (c.usage) usage = c.usage;
      const choice = c.choices[0];
      if (choice?.delta.content) parts.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    expect(parts.length).toBeGreaterThan(2);
    expect(parts.join("")).toBe(whole.choices[0]!.message.content);
    expect(finish).toBe(whole.choices[0]!.finish_reason);
    expect(usage).toEqual(whole.usage);
  });

  it("completions, streaming and not", async () => {
    const req = { model, prompt: "once upon a time", max_tokens: 8, temperature: 0 };
    const whole = await client("o-cmpl").completions.create(req);
    expect(whole.object).toBe("text_completion");
    expect(whole.usage!.completion_tokens).toBeGreaterThan(0);
    let text = "";
    for await (const c of await client("o-cmpl").completions.create({ ...req, stream: true }))
      text += c.choices[0]?.text ?? "";
    expect(text).toBe(whole.choices[0]!.text);
  });

  it("an allowed tool call comes back as tool_calls with JSON-string arguments", async () => {
    const r = await client("o-allow").chat.completions.create({
      model,
      messages: [{ role: "user", content: "time?" }],
      tools: [CLOCK],
      max_tokens: 160,
      temperature: 0,
    });
    const choice = r.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([
      {
        id: expect.stringMatching(/^call_/),
        type: "function",
        function: { name: "get_time", arguments: '{"zone":"UTC"}' },
      },
    ]);
    const action = (await trace("o-allow")).find((s: { kind: string }) => s.kind === "action");
    expect(action).toMatchObject({ evaluation: "ALLOW", execution_result: { status: "delegated" } });
  });

  it("a denied tool call is removed from the response and the stream, and explained in content", async () => {
    const r = await client("o-deny").chat.completions.create({
      model,
      messages: [{ role: "user", content: "clean up" }],
      tools: [SHELL],
      max_tokens: 160,
      temperature: 0,
    });
    expect(r.choices[0]!.message.tool_calls).toBeUndefined();
    expect(r.choices[0]!.finish_reason).not.toBe("tool_calls");
    expect(r.choices[0]!.message.content).toMatch(
      /\[forge-agent\] tool call run_shell denied: .*no-rm.*\(action /,
    );
    const action = (await trace("o-deny")).find((s: { kind: string }) => s.kind === "action");
    expect(action).toMatchObject({
      evaluation: "DENY",
      proposed_action: { kind: "shell", command: "rm -rf ~/projects" },
    });

    const stream = await client("o-deny-s").chat.completions.create({
      model,
      messages: [{ role: "user", content: "clean up" }],
      tools: [SHELL],
      max_tokens: 160,
      temperature: 0,
      stream: true,
    });
    let content = "";
    const calls: unknown[] = [];
    for await (const c of stream) {
      content += c.choices[0]?.delta.content ?? "";
      calls.push(...(c.choices[0]?.delta.tool_calls ?? []));
    }
    expect(calls).toHaveLength(0);
    expect(content).toContain("[forge-agent] tool call run_shell denied");
  });

  it("an escalated tool call holds the stream until a reviewer decides on the socket", async () => {
    const pending = (async () => {
      const stream = await client("o-esc").chat.completions.create({
        model,
        messages: [{ role: "user", content: "mail ops" }],
        tools: [EMAIL],
        max_tokens: 160,
        temperature: 0,
        stream: true,
      });
      const seen: { calls: OpenAI.Chat.ChatCompletionChunk.Choice.Delta.ToolCall[]; finish: string | null } =
        {
          calls: [],
          finish: null,
        };
      for await (const c of stream) {
        seen.calls.push(...(c.choices[0]?.delta.tool_calls ?? []));
        seen.finish = c.choices[0]?.finish_reason ?? seen.finish;
      }
      return seen;
    })();
    let settled = false;
    void pending.then(() => {
      settled = true;
    });
    const reviews = await queued("the escalation in the review queue");
    expect(settled).toBe(false);
    const a = await reviewAs(t, reviews[0]!.action_id, "approve", "ok");
    expect(a.view).toMatchObject({ evaluation: "ALLOW" });
    const seen = await pending;
    expect(seen.finish).toBe("tool_calls");
    expect(seen.calls).toEqual([
      expect.objectContaining({
        index: 0,
        type: "function",
        function: { name: "send_email", arguments: '{"to":"ops@example.com","subject":"status"}' },
      }),
    ]);

    // Denied by the reviewer, not streaming: the call is gone and the reason is in the content.
    const denied = client("o-esc-deny").chat.completions.create({
      model,
      messages: [{ role: "user", content: "mail ops" }],
      tools: [EMAIL],
      max_tokens: 160,
      temperature: 0,
    });
    const again = await queued("the second escalation");
    await reviewAs(t, again[0]!.action_id, "deny", "not now");
    const r = await denied;
    expect(r.choices[0]!.message.tool_calls).toBeUndefined();
    expect(r.choices[0]!.message.content).toMatch(/tool call send_email denied: review: deny by .*: not now/);
  });

  it("errors come in OpenAI's shape: an unknown model, a bad request, a bad route method", async () => {
    const c = client("o-err");
    const unknown = await c.chat.completions
      .create({ model: "gpt-4o", messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown).toMatchObject({
      status: 404,
      code: "FORGE_NOT_FOUND",
      param: "model",
      type: "not_found_error",
    });
    expect((unknown as Error).message).toContain('model "gpt-4o" not found');

    const bad = await c.chat.completions.create({ model, messages: [] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad).toMatchObject({ code: "FORGE_BAD_REQUEST", type: "invalid_request_error" });
    expect((bad as Error).message).toContain("messages must hold at least one message");

    const n2 = await c.chat.completions
      .create({ model, n: 2, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect((n2 as Error).message).toContain("only n=1 is supported");

    const streamed = await c.chat.completions
      .create({ model: "nope", messages: [{ role: "user", content: "x" }], stream: true })
      .catch((e: unknown) => e);
    expect(streamed).toBeInstanceOf(OpenAI.NotFoundError);

    const r = await fetch(`http://${t.agent.facadeAddress}/v1/chat/completions`, { method: "GET" });
    expect(r.status).toBe(405);
    expect(((await r.json()) as { error: unknown }).error).toMatchObject({
      code: "FORGE_METHOD_NOT_ALLOWED",
      type: "invalid_request_error",
    });
    // The rest of the socket API is not on the loopback port: a plain 404, nothing said about it.
    for (const [method, path] of [
      ["GET", "/v1/reviews"],
      ["POST", "/v1/actions"],
      ["GET", "/v1/health"],
      ["GET", "/metrics"],
      ["POST", "/v1/embeddings"],
    ] as const) {
      const u = await fetch(`http://${t.agent.facadeAddress}${path}`, {
        method,
        ...(method === "POST" ? { body: "{}", headers: { "content-type": "application/json" } } : {}),
      });
      expect(u.status, path).toBe(404);
      const text = await u.text();
      expect(JSON.parse(text)).toEqual({
        error: {
          message: "not found: this port serves the Ollama and OpenAI APIs only",
          type: "not_found_error",
          param: null,
          code: "FORGE_NOT_FOUND",
        },
      });
    }
  });

  it("the same routes answer on the Unix socket", async () => {
    const r = await t.client.post("/v1/chat/completions", {
      model,
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 4,
    });
    expect(r.status).toBe(200);
    expect(r.body.object).toBe("chat.completion");
    expect(r.headers["x-forge-session"]).toMatch(/^openai-/);
    expect((await t.client.get("/v1/models")).body.data[0].id).toBe(model);
  });

  describe("POST /v1/responses (the Responses API) with client.responses.create", () => {
    const fn = (t: typeof CLOCK) => ({
      type: "function" as const,
      name: t.function.name,
      parameters: t.function.parameters,
      strict: false,
    });
    /** A turn offering one tool, which the random-weight model (enums under the grammar) calls as given. */
    const toolTurn = (input: string, tool: typeof CLOCK) => ({
      model,
      input,
      tools: [fn(tool)],
      max_output_tokens: 160,
      temperature: 0,
    });
    type Item = OpenAI.Responses.ResponseOutputItem;
    const calls = (items: Item[]) => items.filter((i) => i.type === "function_call");

    it("text, streaming and not: the documented event sequence, deltas adding up, usage", async () => {
      const req = { model, input: "tell me a story", max_output_tokens: 20, temperature: 0 };
      const whole = await client("r-whole").responses.create(req);
      expect(whole).toMatchObject({
        object: "response",
        model,
        status: expect.stringMatching(/completed|incomplete/),
      });
      expect(whole.output_text.length).toBeGreaterThan(0);
      expect(whole.usage!.output_tokens).toBeGreaterThan(0);
      expect(whole.usage!.total_tokens).toBe(whole.usage!.input_tokens + whole.usage!.output_tokens);
      if (whole.usage!.output_tokens === 20)
        expect(whole.incomplete_details).toEqual({ reason: "max_output_tokens" });

      const types: string[] = [];
      let text = "";
      let last: OpenAI.Responses.Response | undefined;
      const seqs: number[] = [];
      for await (const e of await client("r-stream").responses.create({ ...req, stream: true })) {
        types.push(e.type);
        seqs.push(e.sequence_number);
        if (e.type === "response.output_text.delta") text += e.delta;
        if (e.type === "response.completed" || e.type === "response.incomplete") last = e.response;
      }
      expect(seqs).toEqual(seqs.map((_, i) => i));
      const distinct = types.filter((t, i) => t !== types[i - 1]);
      expect(distinct).toEqual([
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        whole.status === "completed" ? "response.completed" : "response.incomplete",
      ]);
      expect(text).toBe(whole.output_text);
      expect(last!.usage).toEqual(whole.usage);
      const steps = await trace("r-stream");
      expect(steps).toEqual([
        expect.objectContaining({
          kind: "inference",
          proposed_action: expect.objectContaining({ endpoint: "/v1/responses" }),
        }),
      ]);
    });

    it("an allowed call is a function_call item; a conversation with its output goes on", async () => {
      const r = await client("r-allow").responses.create({
        model,
        input: [{ role: "user", content: "time?" }],
        tools: [fn(CLOCK)],
        max_output_tokens: 160,
        temperature: 0,
      });
      expect(calls(r.output)).toEqual([
        expect.objectContaining({
          type: "function_call",
          name: "get_time",
          arguments: '{"zone":"UTC"}',
          call_id: expect.stringMatching(/^call_/),
        }),
      ]);
      const action = (await trace("r-allow")).find((s: { kind: string }) => s.kind === "action");
      expect(action).toMatchObject({
        evaluation: "ALLOW",
        proposed_action: { kind: "tool", name: "get_time" },
      });
      const call = calls(r.output)[0] as OpenAI.Responses.ResponseFunctionToolCall;
      const next = await client("r-allow").responses.create({
        model,
        input: [
          { role: "user", content: "time?" },
          { type: "function_call", call_id: call.call_id, name: call.name, arguments: call.arguments },
          { type: "function_call_output", call_id: call.call_id, output: "12:00" },
        ],
        tools: [fn(CLOCK)],
        max_output_tokens: 8,
        temperature: 0,
      });
      expect(next.status).toMatch(/completed|incomplete/);
    });

    it("a denied call never reaches the stream; the explanation is output text", async () => {
      const events: OpenAI.Responses.ResponseStreamEvent[] = [];
      for await (const e of await client("r-deny").responses.create({
        ...toolTurn("clean up", SHELL),
        stream: true,
      }))
        events.push(e);
      expect(JSON.stringify(events)).not.toContain("function_call");
      const done = events.find(
        (e) => e.type === "response.completed",
      ) as OpenAI.Responses.ResponseCompletedEvent;
      expect(calls(done.response.output)).toEqual([]);
      const text = events.flatMap((e) => (e.type === "response.output_text.delta" ? [e.delta] : [])).join("");
      expect(text).toMatch(/\[forge-agent\] tool call run_shell denied: .*no-rm.*\(action /);
      const action = (await trace("r-deny")).find((s: { kind: string }) => s.kind === "action");
      expect(action).toMatchObject({
        evaluation: "DENY",
        proposed_action: { kind: "shell", command: "rm -rf ~/projects" },
      });
    });

    it("an escalated call holds the stream until a reviewer approves it", async () => {
      const types: string[] = [];
      const pending = (async () => {
        const items: Item[] = [];
        for await (const e of await client("r-esc").responses.create({
          ...toolTurn("mail ops", EMAIL),
          stream: true,
        })) {
          types.push(e.type);
          if (e.type === "response.output_item.done") items.push(e.item);
        }
        return items;
      })();
      const reviews = await queued("the escalation in the review queue");
      // Held: nothing of the call, and no end of the response, before the decision.
      expect(types.filter((x) => x.includes("function_call") || x === "response.completed")).toEqual([]);
      await reviewAs(t, reviews[0]!.action_id, "approve", "ok");
      expect(calls(await pending)).toEqual([
        expect.objectContaining({
          name: "send_email",
          arguments: '{"to":"ops@example.com","subject":"status"}',
        }),
      ]);

      // Denied by the reviewer, not streaming: no function_call item, the reason in the output text.
      const denied = client("r-esc-deny").responses.create(toolTurn("mail ops", EMAIL));
      const again = await queued("the second escalation");
      await reviewAs(t, again[0]!.action_id, "deny", "not now");
      const r = await denied;
      expect(calls(r.output)).toEqual([]);
      expect(r.output_text).toMatch(/tool call send_email denied: review: deny by .*: not now/);
    });

    it("errors in OpenAI's shape: unknown model, bad input, previous_response_id, image parts", async () => {
      const c = client("r-err");
      const unknown = await c.responses.create({ model: "gpt-5", input: "x" }).catch((e: unknown) => e);
      expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
      expect(unknown).toMatchObject({ status: 404, code: "FORGE_NOT_FOUND", param: "model" });
      const streamed = await c.responses
        .create({ model: "gpt-5", input: "x", stream: true })
        .catch((e: unknown) => e);
      expect(streamed).toBeInstanceOf(OpenAI.NotFoundError);
      const empty = await c.responses.create({ model, input: [] }).catch((e: unknown) => e);
      expect(empty).toBeInstanceOf(OpenAI.BadRequestError);
      expect((empty as Error).message).toContain("input must hold at least one item");
      const prev = await c.responses
        .create({ model, input: "x", previous_response_id: "resp_1" })
        .catch((e: unknown) => e);
      expect((prev as Error).message).toContain("previous_response_id is not supported");
      const image = await c.responses
        .create({
          model,
          input: [
            { role: "user", content: [{ type: "input_image", image_url: "http://x/y.png", detail: "auto" }] },
          ],
        })
        .catch((e: unknown) => e);
      expect(image).toMatchObject({ status: 400, code: "FORGE_BAD_REQUEST" });
      const r = await fetch(`http://${t.agent.facadeAddress}/v1/responses`);
      expect(r.status).toBe(405);
    });
  });
});
