import { Codes, ForgeError } from "../errors.js";
import {
  type BackendConfig,
  type ChatMessage,
  type ChatRequest,
  type Chunk,
  type EmbedRequest,
  type EmbedResult,
  type GenerateOptions,
  type GenerateRequest,
  type InferenceBackend,
  type LoadedModel,
  type ModelInfo,
  makeTiming,
  normalize,
  type ToolCall,
} from "./backend.js";

const DEFAULT_HOST = "http://127.0.0.1:8080";

/**
 * An OpenAI-compatible server (mlx_lm.server, llama-server, LM Studio) over plain fetch:
 * `/v1/chat/completions` and `/v1/completions` with SSE streaming, tool calls assembled from deltas.
 */
export class OpenAiBackend implements InferenceBackend {
  readonly name = "openai" as const;
  readonly defaultModel: string;
  readonly host: string;
  private readonly timeoutMs: number;
  private readonly inflight = new Set<AbortController>();

  constructor(cfg: BackendConfig) {
    this.defaultModel = cfg.model;
    this.host = (cfg.host ?? DEFAULT_HOST).replace(/\/+$/, "");
    this.timeoutMs = cfg.timeoutMs ?? 30_000;
  }

  async models(): Promise<ModelInfo[]> {
    const res = await this.request("GET", "/v1/models");
    const body = (await res.json()) as { data?: { id: string; created?: number }[] };
    return (body.data ?? []).map((m) => ({
      name: m.id,
      size: 0,
      digest: "",
      details: { format: "unknown", family: "", families: [], parameter_size: "", quantization_level: "" },
      modified_at: new Date((m.created ?? 0) * 1000).toISOString(),
    }));
  }

  async loaded(): Promise<LoadedModel[]> {
    // These servers hold what they list in memory.
    return (await this.models()).map(({ name, size, digest }) => ({ name, size, digest }));
  }

  async *chat(req: ChatRequest, signal?: AbortSignal): AsyncGenerator<Chunk> {
    const body: Record<string, unknown> = {
      model: req.model || this.defaultModel,
      messages: req.messages.map(toOpenAiMessage),
      ...sampling(req.options),
    };
    if (req.tools?.length) body.tools = req.tools;
    if (req.format === "json") body.response_format = { type: "json_object" };
    else if (req.format)
      body.response_format = { type: "json_schema", json_schema: { name: "format", schema: req.format } };
    yield* this.stream("/v1/chat/completions", body, signal, (c) => c.delta);
  }

  async *generate(req: GenerateRequest, signal?: AbortSignal): AsyncGenerator<Chunk> {
    const body = {
      model: req.model || this.defaultModel,
      prompt: req.system ? `${req.system}\n\n${req.prompt}` : req.prompt,
      ...sampling(req.options),
    };
    yield* this.stream("/v1/completions", body, signal, (c) => ({ content: c.text }));
  }

  async embed(req: EmbedRequest): Promise<EmbedResult> {
    const res = await this.request("POST", "/v1/embeddings", {
      model: req.model || this.defaultModel,
      input: req.input,
    });
    const j = (await res.json()) as {
      data?: { index: number; embedding: number[] }[];
      usage?: { prompt_tokens?: number };
    };
    const data = [...(j.data ?? [])].sort((a, b) => a.index - b.index);
    if (data.length !== req.input.length)
      throw new ForgeError(
        Codes.BACKEND_UNAVAILABLE,
        `${this.host}/v1/embeddings: ${data.length} vectors for ${req.input.length} inputs`,
      );
    return {
      embeddings: data.map((d) => normalize(d.embedding)),
      prompt_tokens: j.usage?.prompt_tokens ?? 0,
    };
  }

  async close(): Promise<void> {
    for (const ac of this.inflight) ac.abort();
  }

  private async *stream(
    path: string,
    body: Record<string, unknown>,
    signal: AbortSignal | undefined,
    pick: (choice: SseChoice) => SseDelta | undefined,
  ): AsyncGenerator<Chunk> {
    const t0 = performance.now();
    const ac = new AbortController();
    const onAbort = () => ac.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    this.inflight.add(ac);
    let tFirst: number | undefined;
    let deltas = 0;
    let usage: { prompt_tokens?: number; completion_tokens?: number } | undefined;
    let finish: string | null = null;
    const calls = new Map<number, { name: string; args: string }>();
    try {
      const res = await this.request(
        "POST",
        path,
        { ...body, stream: true, stream_options: { include_usage: true } },
        ac,
      );
      for await (const data of sseEvents(res)) {
        if (data === "[DONE]") break;
        let ev: SseEvent;
        try {
          ev = JSON.parse(data) as SseEvent;
        } catch {
          throw new ForgeError(
            Codes.BACKEND_UNAVAILABLE,
            `${this.host}${path} sent an event that is not JSON`,
          );
        }
        if (ev.error)
          throw new ForgeError(Codes.BACKEND_UNAVAILABLE, `${this.host}: ${ev.error.message ?? "error"}`);
        if (ev.usage) usage = ev.usage;
        const choice = ev.choices?.[0];
        if (!choice) continue;
        if (choice.finish_reason) finish = choice.finish_reason;
        const d = pick(choice);
        for (const tc of d?.tool_calls ?? []) {
          tFirst ??= performance.now();
          const slot = calls.get(tc.index ?? 0) ?? { name: "", args: "" };
          if (tc.function?.name) slot.name += tc.function.name;
          if (tc.function?.arguments) slot.args += tc.function.arguments;
          calls.set(tc.index ?? 0, slot);
        }
        if (d?.content) {
          tFirst ??= performance.now();
          deltas++;
          yield { content: d.content, done: false };
        }
      }
      // Tool calls arrive in pieces; only a whole, parsed call is handed on (and then gated).
      if (calls.size > 0) yield { content: "", tool_calls: [...calls.values()].map(parseCall), done: false };
      const generated = usage?.completion_tokens ?? deltas;
      yield {
        content: "",
        done: true,
        done_reason: finish === "length" ? "length" : "stop",
        timing: makeTiming(t0, tFirst, performance.now(), usage?.prompt_tokens ?? 0, generated),
      };
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      if (err instanceof ForgeError) throw err;
      throw new ForgeError(Codes.BACKEND_UNAVAILABLE, `${this.host}${path}: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      signal?.removeEventListener("abort", onAbort);
      this.inflight.delete(ac);
      ac.abort();
    }
  }

  /** One HTTP exchange; the timeout covers connecting and the response headers, not a long stream. */
  private async request(
    method: string,
    path: string,
    body?: unknown,
    ac = new AbortController(),
  ): Promise<Response> {
    const timer = setTimeout(
      () =>
        ac.abort(
          new ForgeError(
            Codes.UPSTREAM_TIMEOUT,
            `${this.host}${path}: no response within ${this.timeoutMs} ms`,
          ),
        ),
      this.timeoutMs,
    );
    let res: Response;
    try {
      res = await fetch(`${this.host}${path}`, {
        method,
        signal: ac.signal,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      if (ac.signal.reason instanceof ForgeError) throw ac.signal.reason;
      throw new ForgeError(Codes.BACKEND_UNAVAILABLE, `${this.host}${path}: ${(err as Error).message}`, {
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
    if (res.ok) return res;
    const text = await res.text().catch(() => "");
    let message = text.slice(0, 500) || res.statusText;
    try {
      const j = JSON.parse(text) as { error?: { message?: string } | string };
      message = typeof j.error === "string" ? j.error : (j.error?.message ?? message);
    } catch {
      // not JSON: keep the text
    }
    const code =
      res.status === 404 ? Codes.NOT_FOUND : res.status < 500 ? Codes.BAD_REQUEST : Codes.BACKEND_UNAVAILABLE;
    throw new ForgeError(code, `${this.host}${path}: ${res.status} ${message}`);
  }
}

interface SseDelta {
  content?: string | null;
  tool_calls?: { index?: number; function?: { name?: string; arguments?: string } }[];
}
interface SseChoice {
  delta?: SseDelta;
  text?: string;
  finish_reason?: string | null;
}
interface SseEvent {
  choices?: SseChoice[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  error?: { message?: string };
}

/** The `data:` payloads of a server-sent-event stream, one per event. */
async function* sseEvents(res: Response): AsyncGenerator<string> {
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buf = "";
  let data: string[] = [];
  for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(bytes, { stream: true });
    let nl = buf.indexOf("\n");
    while (nl >= 0) {
      const line = buf.slice(0, nl).replace(/\r$/, "");
      buf = buf.slice(nl + 1);
      if (line === "") {
        if (data.length > 0) yield data.join("\n");
        data = [];
      } else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      nl = buf.indexOf("\n");
    }
  }
  if (data.length > 0) yield data.join("\n");
}

function parseCall(c: { name: string; args: string }): ToolCall {
  let args: unknown;
  try {
    args = c.args.trim() === "" ? {} : JSON.parse(c.args);
  } catch {
    throw new ForgeError(
      Codes.INFERENCE_FAILED,
      `tool call ${c.name || "(unnamed)"} has arguments that are not JSON`,
    );
  }
  if (!c.name || typeof args !== "object" || args === null || Array.isArray(args))
    throw new ForgeError(Codes.INFERENCE_FAILED, "tool call without a name or with non-object arguments");
  return { function: { name: c.name, arguments: args as Record<string, unknown> } };
}

function toOpenAiMessage(m: ChatMessage): Record<string, unknown> {
  const out: Record<string, unknown> = { role: m.role, content: m.content };
  if (m.tool_calls?.length)
    out.tool_calls = m.tool_calls.map((c, i) => ({
      id: `call_${i}`,
      type: "function",
      function: { name: c.function.name, arguments: JSON.stringify(c.function.arguments) },
    }));
  return out;
}

function sampling(o: GenerateOptions | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (o?.temperature !== undefined) out.temperature = o.temperature;
  if (o?.num_predict !== undefined && o.num_predict > 0) out.max_tokens = o.num_predict;
  if (o?.seed !== undefined) out.seed = o.seed;
  if (o?.stop?.length) out.stop = o.stop;
  return out;
}
