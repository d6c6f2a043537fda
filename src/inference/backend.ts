import { Codes, ForgeError } from "../errors.js";

/** One message in Ollama's chat shape. */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
  tool_calls?: ToolCall[];
}

/** A tool call in Ollama's shape (arguments already parsed). */
export interface ToolCall {
  function: { name: string; arguments: Record<string, unknown> };
}

export interface ToolSpec {
  type: "function";
  function: { name: string; description?: string; parameters?: object };
}

/** Sampling options, Ollama's names. */
export interface GenerateOptions {
  temperature?: number;
  /** Tokens to generate at most; absent or negative: until the context is full. */
  num_predict?: number;
  seed?: number;
  stop?: string[];
}

export interface Timing {
  prompt_tokens: number;
  generated_tokens: number;
  /** Request start to the first generated token, ms (includes prompt evaluation). */
  ttft_ms: number;
  total_ms: number;
  /** Decode rate: tokens after the first over the time after the first, per second. */
  tokens_per_s: number;
  load_ms?: number;
}

export type DoneReason = "stop" | "length";

/** One streamed piece. The last chunk has `done: true` and the timing record. */
export interface Chunk {
  content: string;
  tool_calls?: ToolCall[];
  done: boolean;
  done_reason?: DoneReason;
  timing?: Timing;
}

export interface ChatRequest {
  model?: string;
  messages: ChatMessage[];
  tools?: ToolSpec[];
  /**
   * When tools are offered: "auto" (default) makes a tool call when the last message is the user's
   * and answers in text after a tool result; "required" always calls; "none" never does.
   * Only the embedded engine needs it; ollama and openai backends use their model's own choice.
   */
  tool_choice?: "auto" | "required" | "none";
  options?: GenerateOptions;
  format?: object | "json";
}

export interface GenerateRequest {
  model?: string;
  prompt: string;
  system?: string;
  options?: GenerateOptions;
}

export interface ModelInfo {
  name: string;
  size: number;
  digest: string;
  details: object;
  modified_at: string;
}

export interface LoadedModel {
  name: string;
  size: number;
  digest: string;
  expires_at?: string;
}

export interface EmbedRequest {
  model?: string;
  /** One text per vector, in order. */
  input: string[];
}

export interface EmbedResult {
  /** One vector per input, L2-normalized (Ollama's /api/embed does the same). */
  embeddings: number[][];
  prompt_tokens: number;
}

export interface InferenceBackend {
  readonly name: "llama" | "ollama" | "openai";
  /** The model requests without a `model` field use. */
  readonly defaultModel: string;
  models(): Promise<ModelInfo[]>;
  loaded(): Promise<LoadedModel[]>;
  chat(req: ChatRequest, signal?: AbortSignal): AsyncIterable<Chunk>;
  generate(req: GenerateRequest, signal?: AbortSignal): AsyncIterable<Chunk>;
  /** Embeddings; absent on a backend that cannot make them (the facade answers 501). */
  embed?(req: EmbedRequest, signal?: AbortSignal): Promise<EmbedResult>;
  close(): Promise<void>;
}

export interface BackendConfig {
  backend: "llama" | "ollama" | "openai";
  /** llama: a GGUF path; ollama/openai: the model name the server knows. */
  model: string;
  /** ollama/openai: base URL, e.g. http://127.0.0.1:11434 or http://127.0.0.1:8080. */
  host?: string;
  /** llama: false = CPU; "auto" picks Metal on Apple Silicon. Default false. */
  gpu?: boolean | "auto";
  /** llama: context size in tokens; default min(model's training context, 4096). */
  contextSize?: number;
  /** llama: CPU threads; default 1 for models under 64 MB (splitting tiny matmuls only costs), else llama.cpp's choice. */
  threads?: number;
  /** Where relative model paths are resolved. */
  modelDir?: string;
  /** ollama/openai: per-request timeout for the connection and headers, ms. Default 30 000. */
  timeoutMs?: number;
}

/** Opens the configured backend. llama loads the model now (about 0.5 s for the tiny one). */
export async function createBackend(cfg: BackendConfig): Promise<InferenceBackend> {
  switch (cfg.backend) {
    case "llama": {
      const { openLlamaBackend } = await import("./llama.js");
      return openLlamaBackend(cfg);
    }
    case "ollama": {
      const { OllamaBackend } = await import("./ollama.js");
      return new OllamaBackend(cfg);
    }
    case "openai": {
      const { OpenAiBackend } = await import("./openai.js");
      return new OpenAiBackend(cfg);
    }
    default:
      throw new ForgeError(
        Codes.CONFIG_INVALID,
        `unknown inference backend '${String((cfg as { backend: unknown }).backend)}': use llama, ollama or openai`,
      );
  }
}

/** Builds the timing record from a request's clock readings (ms, performance.now()). */
export function makeTiming(
  t0: number,
  tFirst: number | undefined,
  tEnd: number,
  promptTokens: number,
  generated: number,
  loadMs?: number,
): Timing {
  const ttft = (tFirst ?? tEnd) - t0;
  const total = tEnd - t0;
  const decodeMs = tEnd - (tFirst ?? tEnd);
  const tokensPerS = generated > 1 && decodeMs > 0 ? ((generated - 1) * 1000) / decodeMs : 0;
  const t: Timing = {
    prompt_tokens: promptTokens,
    generated_tokens: generated,
    ttft_ms: ttft,
    total_ms: total,
    tokens_per_s: tokensPerS,
  };
  if (loadMs !== undefined) t.load_ms = loadMs;
  return t;
}

/** Scales a vector to unit length (a zero vector stays zero). */
export function normalize(v: readonly number[]): number[] {
  let sum = 0;
  for (const x of v) sum += x * x;
  const n = Math.sqrt(sum);
  return n === 0 ? [...v] : v.map((x) => x / n);
}
