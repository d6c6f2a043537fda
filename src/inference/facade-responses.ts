import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { Codes, ForgeError } from "../errors.js";
import type { ChatMessage, ChatRequest, DoneReason, Timing, ToolCall } from "./backend.js";
import { parseBody } from "./facade-http.js";
import { errorBody, fail, gateHeld, openChat, sampling } from "./facade-openai-shape.js";
import type { Reply } from "./facade-stream.js";
import { type FacadeDeps, streamTurn } from "./facade-turn.js";

/**
 * OpenAI's Responses API (`POST /v1/responses`), the wire the Codex CLI speaks to a custom
 * provider. Stateless: the whole conversation comes in `input` (no `previous_response_id`, nothing
 * stored). Tool calls are gated exactly as on /v1/chat/completions: a streamed `function_call`
 * item is written only after its ALLOW, and a withheld call becomes a line of output text.
 */

const TextPart = z.object({
  type: z.enum(["input_text", "output_text", "text"], {
    message: "only text content parts (input_text, output_text) are supported",
  }),
  text: z.string(),
});
const Text = z
  .union([z.string(), z.array(TextPart)])
  .transform((c) => (typeof c === "string" ? c : c.map((p) => p.text).join("")));

const MessageItem = z.object({
  type: z.literal("message").optional(),
  role: z.enum(["system", "developer", "user", "assistant"]),
  content: Text,
});
const FunctionCallItem = z.object({
  type: z.literal("function_call"),
  call_id: z.string(),
  name: z.string().min(1),
  arguments: z.string(),
});
const FunctionOutputItem = z.object({
  type: z.literal("function_call_output"),
  call_id: z.string(),
  output: Text,
});
/** Reasoning items an agent sends back from earlier output: this facade never makes any; skipped. */
const ReasoningItem = z.object({ type: z.literal("reasoning") });
const Item = z.union([MessageItem, FunctionCallItem, FunctionOutputItem, ReasoningItem], {
  message: "unsupported input item: message, function_call, function_call_output and reasoning are",
});

/**
 * Only `function` tools reach the model. The others an agent offers (Codex: web_search, namespaces
 * of sub-agent tools) are dropped, so the model can never call them: nothing ungated slips by.
 */
const Tool = z.looseObject({ type: z.string() });
const FunctionTool = z.object({
  type: z.literal("function"),
  name: z.string().min(1),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
});

const Format = z.union([
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    name: z.string().optional(),
    schema: z.record(z.string(), z.unknown()),
  }),
]);

const ResponsesBody = z.object({
  model: z.string().optional(),
  input: z.union([z.string(), z.array(Item).min(1, { message: "input must hold at least one item" })]),
  instructions: z.string().nullish(),
  tools: z.array(Tool).optional(),
  tool_choice: z
    .union([
      z.enum(["auto", "none", "required"]),
      z.object({ type: z.literal("function"), name: z.string() }),
    ])
    .optional(),
  temperature: z.number().finite().min(0).max(2).nullish(),
  top_p: z.number().finite().nullish(),
  max_output_tokens: z.number().int().min(1).nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  stream: z.boolean().nullish(),
  text: z.object({ format: Format.optional() }).nullish(),
  previous_response_id: z
    .null({
      message:
        "previous_response_id is not supported: nothing is stored, send the whole conversation in input",
    })
    .optional(),
});
type Body = z.infer<typeof ResponsesBody>;

/** The input items in the backends' (Ollama) chat shape; consecutive function calls join one assistant turn. */
function toChatMessages(body: Body): ChatMessage[] {
  const out: ChatMessage[] = body.instructions ? [{ role: "system", content: body.instructions }] : [];
  if (typeof body.input === "string") return [...out, { role: "user", content: body.input }];
  body.input.forEach((item, i) => {
    if (item.type === "reasoning") return;
    if (item.type === "function_call") {
      let args: unknown;
      try {
        args = JSON.parse(item.arguments);
      } catch {
        args = undefined;
      }
      if (args === null || typeof args !== "object" || Array.isArray(args))
        throw new ForgeError(
          Codes.BAD_REQUEST,
          `invalid request: input.${i}.arguments: must be a JSON object encoded as a string`,
        );
      const call = { function: { name: item.name, arguments: args as Record<string, unknown> } };
      const last = out.at(-1);
      if (last?.role === "assistant") last.tool_calls = [...(last.tool_calls ?? []), call];
      else out.push({ role: "assistant", content: "", tool_calls: [call] });
    } else if (item.type === "function_call_output") out.push({ role: "tool", content: item.output });
    else out.push({ role: item.role === "developer" ? "system" : item.role, content: item.content });
  });
  return out;
}

function chatRequest(body: Body): ChatRequest {
  let tools = (body.tools ?? []).flatMap((t) => {
    if (t.type !== "function") return [];
    const f = FunctionTool.safeParse(t);
    if (!f.success)
      throw new ForgeError(Codes.BAD_REQUEST, `invalid request: tools: ${f.error.issues[0]!.message}`);
    return [f.data];
  });
  let choice: ChatRequest["tool_choice"];
  if (typeof body.tool_choice === "object") {
    const name = body.tool_choice.name;
    tools = tools.filter((t) => t.name === name);
    if (tools.length === 0)
      throw new ForgeError(
        Codes.BAD_REQUEST,
        `invalid request: tool_choice: names function "${name}", which is not in tools`,
      );
    choice = "required";
  } else choice = body.tool_choice;
  const options = sampling({ temperature: body.temperature, max_tokens: body.max_output_tokens });
  const req: ChatRequest = { messages: toChatMessages(body) };
  if (body.model) req.model = body.model;
  if (tools.length > 0)
    req.tools = tools.map((t) => ({
      type: "function",
      function: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        ...(t.parameters ? { parameters: t.parameters } : {}),
      },
    }));
  if (choice) req.tool_choice = choice;
  if (Object.keys(options).length > 0) req.options = options;
  const format = body.text?.format;
  if (format?.type === "json_object") req.format = "json";
  else if (format?.type === "json_schema") req.format = format.schema;
  return req;
}

function usage(t: Timing | undefined) {
  const input = t?.prompt_tokens ?? 0;
  const output = t?.generated_tokens ?? 0;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
}

const hex = () => randomUUID().replaceAll("-", "");

interface MessageOut {
  type: "message";
  id: string;
  status: "in_progress" | "completed";
  role: "assistant";
  content: { type: "output_text"; text: string; annotations: never[]; logprobs: never[] }[];
}
interface CallOut {
  type: "function_call";
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: "in_progress" | "completed";
}

/**
 * The output items of one response, and (streaming) the documented event sequence that builds
 * them: output_item.added → content_part.added → output_text.delta… → output_text.done →
 * content_part.done → output_item.done for text; output_item.added → function_call_arguments.delta
 * → .done → output_item.done for a call. Text after a call opens a new message item.
 */
class Output {
  readonly items: (MessageOut | CallOut)[] = [];
  private message: MessageOut | null = null;
  private seq = 0;

  constructor(
    private readonly out: Reply,
    private readonly stream: boolean,
  ) {}

  /** One SSE event, framed; `type` and `sequence_number` are added. */
  frame(type: string, fields: Record<string, unknown>): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...fields })}\n\n`;
  }

  event(type: string, fields: Record<string, unknown>): Promise<void> | undefined {
    return this.stream ? this.out.raw(this.frame(type, fields)) : undefined;
  }

  async text(delta: string): Promise<void> {
    if (this.message === null) {
      this.message = {
        type: "message",
        id: `msg_${hex()}`,
        status: "in_progress",
        role: "assistant",
        content: [],
      };
      const output_index = this.items.push(this.message) - 1;
      await this.event("response.output_item.added", { output_index, item: this.message });
      const part = { type: "output_text", text: "", annotations: [], logprobs: [] };
      await this.event("response.content_part.added", {
        item_id: this.message.id,
        output_index,
        content_index: 0,
        part,
      });
      this.message.content.push({ type: "output_text", text: "", annotations: [], logprobs: [] });
    }
    const part = this.message.content[0]!;
    part.text += delta;
    if (this.stream)
      await this.out.token(
        this.frame("response.output_text.delta", {
          item_id: this.message.id,
          output_index: this.items.length - 1,
          content_index: 0,
          delta,
          logprobs: [],
        }),
      );
  }

  /** Text of the open message item ("" when none is open). */
  get openText(): string {
    return this.message?.content[0]?.text ?? "";
  }

  /** Closes the open message item, if any. */
  async closeMessage(): Promise<void> {
    const m = this.message;
    if (m === null) return;
    this.message = null;
    m.status = "completed";
    const output_index = this.items.indexOf(m);
    const part = m.content[0]!;
    const at = { item_id: m.id, output_index, content_index: 0 };
    await this.event("response.output_text.done", { ...at, text: part.text, logprobs: [] });
    await this.event("response.content_part.done", { ...at, part });
    await this.event("response.output_item.done", { output_index, item: m });
  }

  /** An allowed call: written only once the gate has said ALLOW. */
  async call(c: ToolCall): Promise<void> {
    await this.closeMessage();
    const args = JSON.stringify(c.function.arguments ?? {});
    const item: CallOut = {
      type: "function_call",
      id: `fc_${hex()}`,
      call_id: `call_${hex()}`,
      name: c.function.name,
      arguments: "",
      status: "in_progress",
    };
    const output_index = this.items.push(item) - 1;
    await this.event("response.output_item.added", { output_index, item: { ...item } });
    await this.event("response.function_call_arguments.delta", {
      item_id: item.id,
      output_index,
      delta: args,
    });
    item.arguments = args;
    await this.event("response.function_call_arguments.done", {
      item_id: item.id,
      output_index,
      name: item.name,
      arguments: args,
    });
    item.status = "completed";
    await this.event("response.output_item.done", { output_index, item });
  }
}

export async function responses(
  deps: FacadeDeps,
  req: IncomingMessage,
  res: ServerResponse,
  raw: unknown,
): Promise<void> {
  const body = parseBody(ResponsesBody, raw);
  const { turn, request, stream, out: reply } = openChat(deps, req, res, body, body.input, chatRequest(body));
  const output = new Output(reply, stream);
  const created_at = Math.floor(Date.now() / 1000);
  const response = (status: string, t?: Timing, doneReason?: DoneReason) => ({
    id: `resp_${hex()}`,
    object: "response",
    created_at,
    status,
    error: null,
    incomplete_details: doneReason === "length" ? { reason: "max_output_tokens" } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: turn.model,
    output: output.items,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: null,
    store: false,
    temperature: body.temperature ?? null,
    text: { format: body.text?.format ?? { type: "text" } },
    tool_choice: body.tool_choice ?? "auto",
    tools: request.tools?.map((t) => ({ type: "function", strict: false, ...t.function })) ?? [],
    top_p: body.top_p ?? null,
    usage: t ? usage(t) : null,
    metadata: {},
  });
  const id = response("in_progress").id;
  const doc = (status: string, t?: Timing, doneReason?: DoneReason) => ({
    ...response(status, t, doneReason),
    id,
  });
  let first = true;
  try {
    const { timing, doneReason } = await streamTurn(
      deps,
      turn,
      reply,
      "/v1/responses",
      request.options,
      (signal) => deps.backend.chat(request, signal),
      async (c) => {
        if (first) {
          first = false;
          await output.event("response.created", { response: doc("in_progress") });
          await output.event("response.in_progress", { response: doc("in_progress") });
        }
        if (c.content) await output.text(c.content);
        if (c.tool_calls?.length) {
          // Gate first; only what the gate allowed ever reaches the client.
          const gated = await gateHeld(deps, turn, reply, stream, c.tool_calls);
          for (const call of gated.calls) await output.call(call);
          if (gated.notes.length > 0)
            await output.text(`${output.openText ? "\n" : ""}${gated.notes.join("\n")}`);
        }
      },
    );
    await output.closeMessage();
    const status = doneReason === "length" ? "incomplete" : "completed";
    const final = doc(status, timing, doneReason);
    if (!stream) return void (await reply.last(final));
    await output.event(`response.${status}`, { response: final });
    await reply.end();
  } catch (err) {
    if (!res.headersSent) throw err;
    fail(res, err, (status, e) => {
      const { error } = errorBody(status, e.code, e.message);
      return (
        output.frame("error", { code: e.code, message: e.message, param: null }) +
        output.frame("response.failed", {
          response: { ...doc("failed"), error: { code: error.code, message: error.message } },
        })
      );
    });
  }
}
