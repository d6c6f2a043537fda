import { type ChatResponse, type GenerateResponse, Ollama } from "ollama";
import { Codes, ForgeError } from "../errors.js";
import {
  type BackendConfig,
  type ChatRequest,
  type Chunk,
  type DoneReason,
  type EmbedRequest,
  type EmbedResult,
  type GenerateRequest,
  type InferenceBackend,
  type LoadedModel,
  type ModelInfo,
  makeTiming,
} from "./backend.js";

const DEFAULT_HOST = "http://127.0.0.1:11434";

/** A real Ollama server through the official client, always with an explicit host. */
export class OllamaBackend implements InferenceBackend {
  readonly name = "ollama" as const;
  readonly defaultModel: string;
  private readonly client: Ollama;
  readonly host: string;

  constructor(cfg: BackendConfig) {
    this.defaultModel = cfg.model;
    this.host = cfg.host ?? DEFAULT_HOST;
    this.client = new Ollama({ host: this.host });
  }

  async models(): Promise<ModelInfo[]> {
    const r = await this.call(() => this.client.list());
    return r.models.map((m) => ({
      name: m.name,
      size: m.size,
      digest: m.digest,
      details: m.details,
      modified_at: String(m.modified_at),
    }));
  }

  async loaded(): Promise<LoadedModel[]> {
    const r = await this.call(() => this.client.ps());
    return r.models.map((m) => ({
      name: m.name,
      size: m.size,
      digest: m.digest,
      expires_at: String(m.expires_at),
    }));
  }

  async *chat(req: ChatRequest, signal?: AbortSignal): AsyncGenerator<Chunk> {
    const t0 = performance.now();
    const it = await this.call(() =>
      this.client.chat({
        model: req.model || this.defaultModel,
        messages: req.messages,
        ...(req.tools ? { tools: req.tools as never } : {}),
        ...(req.options ? { options: req.options } : {}),
        ...(req.format ? { format: req.format } : {}),
        stream: true,
      }),
    );
    yield* this.relay<ChatResponse>(
      it,
      t0,
      (r) => ({ content: r.message.content, tool_calls: r.message.tool_calls }),
      signal,
    );
  }

  async *generate(req: GenerateRequest & { raw?: boolean }, signal?: AbortSignal): AsyncGenerator<Chunk> {
    const t0 = performance.now();
    const it = await this.call(() =>
      this.client.generate({
        model: req.model || this.defaultModel,
        prompt: req.prompt,
        ...(req.system ? { system: req.system } : {}),
        ...(req.raw ? { raw: true } : {}),
        ...(req.options ? { options: req.options } : {}),
        stream: true,
      }),
    );
    yield* this.relay<GenerateResponse>(it, t0, (r) => ({ content: r.response ?? "" }), signal);
  }

  async embed(req: EmbedRequest): Promise<EmbedResult> {
    const r = await this.call(() =>
      this.client.embed({ model: req.model || this.defaultModel, input: req.input }),
    );
    return {
      embeddings: r.embeddings,
      prompt_tokens: (r as { prompt_eval_count?: number }).prompt_eval_count ?? 0,
    };
  }

  async close(): Promise<void> {
    this.client.abort();
  }

  /** Streams Ollama's chunks as ours; the closing chunk's counters become the timing record. */
  private async *relay<R extends ChatResponse | GenerateResponse>(
    it: AsyncIterable<R> & { abort(): void },
    t0: number,
    pick: (r: R) => {
      content: string;
      tool_calls?: { function: { name: string; arguments: Record<string, unknown> } }[];
    },
    signal?: AbortSignal,
  ): AsyncGenerator<Chunk> {
    const onAbort = () => it.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    let tFirst: number | undefined;
    try {
      for await (const r of it) {
        const { content, tool_calls } = pick(r);
        if (content || tool_calls?.length) {
          tFirst ??= performance.now();
          yield { content: content ?? "", ...(tool_calls?.length ? { tool_calls } : {}), done: false };
        }
        if (r.done) {
          const t = makeTiming(
            t0,
            tFirst,
            performance.now(),
            r.prompt_eval_count ?? 0,
            r.eval_count ?? 0,
            (r.load_duration ?? 0) / 1e6,
          );
          // Ollama measured decode itself; its rate is the truer one.
          if (r.eval_duration && r.eval_count) t.tokens_per_s = (r.eval_count * 1e9) / r.eval_duration;
          const doneReason: DoneReason = r.done_reason === "length" ? "length" : "stop";
          yield { content: "", done: true, done_reason: doneReason, timing: t };
          return;
        }
      }
      throw new ForgeError(
        Codes.BACKEND_UNAVAILABLE,
        `ollama at ${this.host} ended the stream without a final chunk`,
      );
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      throw wrap(err, this.host);
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw wrap(err, this.host);
    }
  }
}

function wrap(err: unknown, host: string): Error {
  if (err instanceof ForgeError) return err;
  const e = err as { status_code?: number; message?: string; name?: string };
  if (e?.status_code === 404)
    return new ForgeError(Codes.NOT_FOUND, e.message ?? "not found", { cause: err });
  if (e?.status_code !== undefined && e.status_code >= 400 && e.status_code < 500)
    return new ForgeError(Codes.BAD_REQUEST, e.message ?? "bad request", { cause: err });
  return new ForgeError(Codes.BACKEND_UNAVAILABLE, `ollama at ${host}: ${e?.message ?? String(err)}`, {
    cause: err,
  });
}
