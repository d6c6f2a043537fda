import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { Codes, ForgeError } from "../errors.js";
import { readJson, sendJson } from "../http.js";
import type { ChatMessage, ChatRequest, Timing, ToolCall } from "./backend.js";
import { parseBody } from "./facade-http.js";
import {
  fail,
  gateHeld,
  models,
  openChat,
  Stop,
  sampling,
  sendError,
  unknownModel,
} from "./facade-openai-shape.js";
import { responses } from "./facade-responses.js";
import { Reply, SSE } from "./facade-stream.js";
import { type FacadeDeps, startTurn, streamTurn, type Turn } from "./facade-turn.js";
import { isOpenAiPath } from "./routes.js";

/**
 * The OpenAI API (`/v1/chat/completions`, `/v1/responses` in facade-responses.ts, `/v1/completions`,
 * `/v1/models`) in front of any backend,
 * governed exactly like the Ollama facade: every tool call in a response is gated before the client
 * sees any byte of it; a withheld call becomes a line of content the agent's loop reads.
 */

/** Sampling fields shared by both completion routes; unknown fields (penalties, user, …) are ignored. */
const Sampling = {
  model: z.string().optional(),
  temperature: z.number().finite().min(0).max(2).nullish(),
  top_p: z.number().finite().nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  seed: z.number().int().nullish(),
  stop: Stop.nullish(),
  n: z.literal(1, { message: "only n=1 is supported" }).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
};

const TextPart = z.object({ type: z.literal("text"), text: z.string() });
const Content = z
  .union([z.string(), z.array(TextPart, { message: "only text content parts are supported" })])
  .nullish()
  .transform((c) => (c == null ? "" : typeof c === "string" ? c : c.map((p) => p.text).join("")));

const ToolCallIn = z.object({
  id: z.string().optional(),
  type: z.literal("function").default("function"),
  function: z.object({ name: z.string().min(1), arguments: z.string().default("{}") }),
});

const Message = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: Content,
  tool_calls: z.array(ToolCallIn).optional(),
  tool_call_id: z.string().optional(),
});

const Tool = z.object({
  type: z.literal("function"),
  function: z.object({
    name: z.string().min(1),
    description: z.string().optional(),
    parameters: z.record(z.string(), z.unknown()).optional(),
    strict: z.boolean().nullish(),
  }),
});

const ChatBody = z.object({
  ...Sampling,
  messages: z.array(Message).min(1, { message: "messages must hold at least one message" }),
  tools: z.array(Tool).optional(),
  tool_choice: z
    .union([
      z.enum(["auto", "none", "required"]),
      z.object({ type: z.literal("function"), function: z.object({ name: z.string() }) }),
    ])
    .optional(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  response_format: z
    .union([
      z.object({ type: z.literal("text") }),
      z.object({ type: z.literal("json_object") }),
      z.object({
        type: z.literal("json_schema"),
        json_schema: z.object({ name: z.string().optional(), schema: z.record(z.string(), z.unknown()) }),
      }),
    ])
    .optional(),
});

const CompletionBody = z.object({
  ...Sampling,
  prompt: z.union([
    z.string(),
    z.array(z.string()).length(1, { message: "only a single prompt is supported" }),
  ]),
  echo: z.literal(false, { message: "echo is not supported" }).optional(),
  suffix: z.null({ message: "suffix is not supported" }).optional(),
});

type ChatBodyT = z.infer<typeof ChatBody>;

export function createOpenAiFacade(
  deps: FacadeDeps,
): (req: IncomingMessage, res: ServerResponse) => Promise<boolean> {
  const maxBody = deps.maxBodyBytes ?? 8 * 1024 * 1024;
  const bodyTimeout = deps.bodyTimeoutMs ?? 10_000;

  return async (req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    if (!isOpenAiPath(path)) return false;
    const post = path === "/v1/chat/completions" || path === "/v1/completions" || path === "/v1/responses";
    if (req.method !== (post ? "POST" : "GET")) {
      req.resume();
      sendError(res, 405, Codes.METHOD_NOT_ALLOWED, `method ${req.method} not allowed on ${path}`);
      return true;
    }
    try {
      if (path === "/v1/models") sendJson(res, 200, { object: "list", data: await models(deps.backend) });
      else if (path.startsWith("/v1/models/")) {
        const id = decodeURIComponent(path.slice("/v1/models/".length));
        const m = (await models(deps.backend)).find((x) => x.id === id);
        if (m === undefined) throw unknownModel(id, deps.backend);
        sendJson(res, 200, m);
      } else {
        const body = await readJson(req, maxBody, { timeoutMs: bodyTimeout });
        if (path === "/v1/chat/completions") await chat(deps, req, res, body);
        else if (path === "/v1/responses") await responses(deps, req, res, body);
        else await completion(deps, req, res, body);
      }
    } catch (err) {
      fail(res, err);
    }
    return true;
  };
}

/** OpenAI messages in the backends' (Ollama) shape: roles folded, tool-call arguments parsed. */
function toChatMessages(messages: ChatBodyT["messages"]): ChatMessage[] {
  return messages.map((m, i) => {
    const role = m.role === "developer" ? "system" : m.role;
    const out: ChatMessage = { role, content: m.content };
    if (m.tool_calls?.length) {
      out.tool_calls = m.tool_calls.map((c, j) => {
        let args: unknown;
        try {
          args = JSON.parse(c.function.arguments);
        } catch {
          args = undefined;
        }
        if (args === null || typeof args !== "object" || Array.isArray(args))
          throw new ForgeError(
            Codes.BAD_REQUEST,
            `invalid request: messages.${i}.tool_calls.${j}.function.arguments: must be a JSON object encoded as a string`,
          );
        return { function: { name: c.function.name, arguments: args as Record<string, unknown> } };
      });
    }
    return out;
  });
}

function chatRequest(body: ChatBodyT): ChatRequest {
  let tools = body.tools;
  let choice: ChatRequest["tool_choice"];
  if (typeof body.tool_choice === "object") {
    // A named function: offer only it, and require a call.
    const name = body.tool_choice.function.name;
    tools = tools?.filter((t) => t.function.name === name);
    if (!tools?.length)
      throw new ForgeError(
        Codes.BAD_REQUEST,
        `invalid request: tool_choice: names function "${name}", which is not in tools`,
      );
    choice = "required";
  } else choice = body.tool_choice;
  const options = sampling({ ...body, max_tokens: body.max_completion_tokens ?? body.max_tokens });
  const req: ChatRequest = { messages: toChatMessages(body.messages) };
  if (body.model) req.model = body.model;
  if (tools?.length) req.tools = tools.map((t) => ({ type: "function", function: t.function }));
  if (choice) req.tool_choice = choice;
  if (Object.keys(options).length > 0) req.options = options;
  if (body.response_format?.type === "json_object") req.format = "json";
  else if (body.response_format?.type === "json_schema") req.format = body.response_format.json_schema.schema;
  return req;
}

function usage(t: Timing | undefined) {
  const prompt = t?.prompt_tokens ?? 0;
  const completion = t?.generated_tokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function toolCallOut(call: ToolCall, index: number) {
  return {
    index,
    id: `call_${randomUUID().replaceAll("-", "")}`,
    type: "function" as const,
    function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments ?? {}) },
  };
}

async function chat(
  deps: FacadeDeps,
  req: IncomingMessage,
  res: ServerResponse,
  raw: unknown,
): Promise<void> {
  const body = parseBody(ChatBody, raw);
  const { turn, request, stream, out } = openChat(deps, req, res, body, body.messages, chatRequest(body));
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  let content = "";
  const allowed: ReturnType<typeof toolCallOut>[] = [];
  const head = `{"id":"${id}","object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(turn.model)},"system_fingerprint":null,"choices":[{"index":0,"delta":`;
  const chunk = (delta: unknown, finish_reason: string | null = null) => ({
    id,
    object: "chat.completion.chunk",
    created,
    model: turn.model,
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason }],
  });
  const open = (signal: AbortSignal) => deps.backend.chat(request, signal);
  let first = true;
  const { timing, doneReason } = await streamTurn(
    deps,
    turn,
    out,
    "/v1/chat/completions",
    request.options,
    open,
    async (c) => {
      if (stream && first) {
        // The role opens the stream as OpenAI's does; it carries no model output, so it leaves
        // with the first one (written on its own, it would hold the first token back).
        first = false;
        out.queue(
          `data: ${head}{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`,
        );
      }
      let text = c.content;
      if (c.tool_calls?.length) {
        // Gate first; only what the gate allowed ever reaches the client.
        const gated = await gateHeld(deps, turn, out, stream, c.tool_calls);
        const calls = gated.calls.map((call, i) => toolCallOut(call, allowed.length + i));
        allowed.push(...calls);
        if (gated.notes.length > 0) text += `${content || text ? "\n" : ""}${gated.notes.join("\n")}`;
        if (calls.length > 0 && stream) await out.line(chunk({ tool_calls: calls }));
      }
      if (text) {
        content += text;
        if (stream)
          await out.token(
            `data: ${head}{"content":${JSON.stringify(text)}},"logprobs":null,"finish_reason":null}]}\n\n`,
          );
      }
    },
  );
  const finish_reason = allowed.length > 0 ? "tool_calls" : doneReason;
  if (stream) {
    await out.line(chunk({}, finish_reason));
    if (body.stream_options?.include_usage)
      await out.line({ ...chunk({}), choices: [], usage: usage(timing) });
    await out.end("data: [DONE]\n\n");
    return;
  }
  const message: Record<string, unknown> = {
    role: "assistant",
    content: content === "" && allowed.length > 0 ? null : content,
    refusal: null,
  };
  if (allowed.length > 0) message.tool_calls = allowed.map(({ index: _i, ...call }) => call);
  await out.last({
    id,
    object: "chat.completion",
    created,
    model: turn.model,
    system_fingerprint: null,
    choices: [{ index: 0, message, logprobs: null, finish_reason }],
    usage: usage(timing),
  });
}

async function completion(
  deps: FacadeDeps,
  req: IncomingMessage,
  res: ServerResponse,
  raw: unknown,
): Promise<void> {
  const body = parseBody(CompletionBody, raw);
  const prompt = typeof body.prompt === "string" ? body.prompt : body.prompt[0]!;
  const turn: Turn = startTurn(deps, "openai", req, body.model, prompt);
  res.setHeader("x-forge-session", turn.session_id);
  const stream = body.stream === true;
  const id = `cmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const options = sampling(body);
  const out = new Reply(res, stream, SSE);
  let text = "";
  const doc = (t: string, finish_reason: string | null) => ({
    id,
    object: "text_completion",
    created,
    model: turn.model,
    choices: [{ text: t, index: 0, logprobs: null, finish_reason }],
  });
  const pre = `data: {"id":"${id}","object":"text_completion","created":${created},"model":${JSON.stringify(turn.model)},"choices":[{"text":`;
  const open = (signal: AbortSignal) =>
    deps.backend.generate(
      {
        ...(body.model ? { model: body.model } : {}),
        prompt,
        ...(Object.keys(options).length > 0 ? { options } : {}),
      },
      signal,
    );
  const { timing, doneReason } = await streamTurn(
    deps,
    turn,
    out,
    "/v1/completions",
    options,
    open,
    async (c) => {
      if (c.content) {
        text += c.content;
        if (stream)
          await out.token(
            `${pre}${JSON.stringify(c.content)},"index":0,"logprobs":null,"finish_reason":null}]}\n\n`,
          );
      }
    },
  );
  if (stream) {
    await out.line(doc("", doneReason));
    if (body.stream_options?.include_usage)
      await out.line({ ...doc("", null), choices: [], usage: usage(timing) });
    await out.end("data: [DONE]\n\n");
    return;
  }
  await out.last({ ...doc(text, doneReason), usage: usage(timing) });
}
