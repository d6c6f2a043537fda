import { createHash } from "node:crypto";
import { createReadStream, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { basename, isAbsolute, resolve } from "node:path";
import {
  type ChatHistoryItem,
  type ChatWrapper,
  GgufFileType,
  getLlama,
  type Llama,
  LlamaCompletion,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaGrammar,
  type LlamaModel,
  type LlamaText,
  resolveChatWrapper,
  type Token,
} from "node-llama-cpp";
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
  type ToolSpec,
} from "./backend.js";
import { Channel } from "./channel.js";
import { toGrammarSchema, toolCallSchema } from "./schema.js";

/** Models below this size run faster on one thread: the per-token work is too small to split. */
const SMALL_MODEL_BYTES = 64 * 1024 * 1024;
/** Ollama's default temperature, so a drop-in client sees the sampling it expects. */
const DEFAULT_TEMPERATURE = 0.8;
const GRAMMAR_CACHE = 32;

/**
 * Opens the embedded llama.cpp engine on a GGUF file. Pass `llama` to share one engine instance
 * (tests, benchmarks); otherwise one is created (CPU unless `gpu` says otherwise) and closed with us.
 */
export async function openLlamaBackend(
  cfg: BackendConfig,
  shared?: { llama?: Llama },
): Promise<LlamaBackend> {
  const path = isAbsolute(cfg.model) ? cfg.model : resolve(cfg.modelDir ?? ".", cfg.model);
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (err) {
    throw new ForgeError(
      Codes.NOT_FOUND,
      `model file ${path} not found: generate one with scripts/make-tiny-model`,
      {
        cause: err,
      },
    );
  }
  const t0 = performance.now();
  const llama =
    shared?.llama ??
    (await getLlama({ gpu: cfg.gpu === true ? "auto" : (cfg.gpu ?? false), build: "never" }));
  try {
    const model = await llama.loadModel({ modelPath: path });
    // Never more threads than cores: node-llama-cpp's own default can exceed them (4 on a 2-core
    // host), and oversubscribed decode threads spin against each other (0.9 tok/s measured here).
    const threads = cfg.threads ?? (st.size < SMALL_MODEL_BYTES ? 1 : availableParallelism());
    const context = await model.createContext({
      contextSize: cfg.contextSize ?? Math.min(model.trainContextSize, 4096),
      threads,
    });
    return new LlamaBackend(
      llama,
      shared?.llama === undefined,
      model,
      context,
      path,
      { size: Number(st.size), mtime: st.mtime },
      performance.now() - t0,
    );
  } catch (err) {
    if (shared?.llama === undefined) await llama.dispose();
    throw new ForgeError(
      Codes.BACKEND_UNAVAILABLE,
      `llama.cpp could not load ${path}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

export class LlamaBackend implements InferenceBackend {
  readonly name = "llama" as const;
  readonly defaultModel: string;
  private readonly completion: LlamaCompletion;
  private readonly sequence: LlamaContextSequence;
  private readonly wrapper: ChatWrapper;
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();
  private digest: Promise<string> | null = null;
  private turn: Promise<void> = Promise.resolve();
  private closed = false;
  /** Made on the first embedding request: most agents never need one. */
  private embedding: Promise<LlamaEmbeddingContext> | null = null;

  constructor(
    readonly llama: Llama,
    private readonly ownsLlama: boolean,
    readonly model: LlamaModel,
    readonly context: LlamaContext,
    readonly path: string,
    private readonly file: { size: number; mtime: Date },
    /** Time the model took to load, ms. */
    readonly loadMs: number,
  ) {
    this.defaultModel = `${basename(path).replace(/\.gguf$/i, "")}:latest`;
    this.sequence = context.getSequence();
    this.completion = new LlamaCompletion({ contextSequence: this.sequence });
    this.wrapper = resolveChatWrapper(model);
  }

  async models(): Promise<ModelInfo[]> {
    return [
      {
        name: this.defaultModel,
        size: this.file.size,
        digest: await this.fileDigest(),
        details: this.details(),
        modified_at: this.file.mtime.toISOString(),
      },
    ];
  }

  async loaded(): Promise<LoadedModel[]> {
    return [{ name: this.defaultModel, size: this.file.size, digest: await this.fileDigest() }];
  }

  async *chat(req: ChatRequest, signal?: AbortSignal): AsyncGenerator<Chunk> {
    this.checkModel(req.model);
    const tools = req.tools ?? [];
    const last = req.messages.at(-1)?.role;
    const choice = req.tool_choice ?? "auto";
    const callTool = tools.length > 0 && (choice === "required" || (choice === "auto" && last === "user"));
    const grammar = callTool
      ? await this.grammar(toolCallSchema(tools))
      : req.format !== undefined
        ? await this.grammar(req.format)
        : undefined;
    const { contextText, stopGenerationTriggers } = this.wrapper.generateContextState({
      chatHistory: toHistory(req.messages, callTool ? tools : []),
    });
    const stops = [...stopGenerationTriggers, ...(req.options?.stop ?? [])];
    yield* this.run(this.tokens(contextText), req.options, { grammar, stops, toolCall: callTool }, signal);
  }

  async *generate(req: GenerateRequest & { raw?: boolean }, signal?: AbortSignal): AsyncGenerator<Chunk> {
    this.checkModel(req.model);
    let tokens: Token[];
    let stops: (string | LlamaText)[] = req.options?.stop ?? [];
    if (req.raw) tokens = this.model.tokenize(req.prompt);
    else {
      const history: ChatMessage[] = req.system ? [{ role: "system", content: req.system }] : [];
      history.push({ role: "user", content: req.prompt });
      const state = this.wrapper.generateContextState({ chatHistory: toHistory(history, []) });
      tokens = this.tokens(state.contextText);
      stops = [...state.stopGenerationTriggers, ...stops];
    }
    yield* this.run(tokens, req.options, { stops, toolCall: false }, signal);
  }

  async embed(req: EmbedRequest, signal?: AbortSignal): Promise<EmbedResult> {
    this.checkModel(req.model);
    if (this.closed) throw new ForgeError(Codes.BACKEND_UNAVAILABLE, "the llama backend is closed");
    this.embedding ??= this.model.createEmbeddingContext({
      contextSize: Math.min(this.model.trainContextSize, 4096),
      threads: this.context.currentThreads,
    });
    const ctx = await this.embedding;
    const embeddings: number[][] = [];
    let prompt_tokens = 0;
    for (const text of req.input) {
      if (signal?.aborted) throw new ForgeError(Codes.BAD_REQUEST, "the client went away");
      prompt_tokens += this.model.tokenize(text).length;
      embeddings.push(normalize((await ctx.getEmbeddingFor(text)).vector));
    }
    return { embeddings, prompt_tokens };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.embedding) await (await this.embedding.catch(() => null))?.dispose();
    this.completion.dispose();
    await this.context.dispose();
    await this.model.dispose();
    if (this.ownsLlama) await this.llama.dispose();
  }

  /** Tokens of a rendered prompt, without the BOS the completion adds itself. */
  private tokens(text: LlamaText): Token[] {
    const tokens = text.tokenize(this.model.tokenizer);
    return tokens[0] === this.model.tokens.bos ? tokens.slice(1) : tokens;
  }

  private async *run(
    tokens: Token[],
    options: GenerateOptions | undefined,
    how: { grammar?: LlamaGrammar; stops: (string | LlamaText)[]; toolCall: boolean },
    signal?: AbortSignal,
  ): AsyncGenerator<Chunk> {
    if (this.closed) throw new ForgeError(Codes.BACKEND_UNAVAILABLE, "the llama backend is closed");
    const t0 = performance.now();
    const promptTokens = tokens.length + (this.model.tokens.bos === null ? 0 : 1);
    const room = this.context.contextSize - promptTokens;
    if (room <= 0)
      throw new ForgeError(
        Codes.BAD_REQUEST,
        `prompt is ${promptTokens} tokens; the context holds ${this.context.contextSize}`,
      );
    const n = options?.num_predict;
    const maxTokens = n !== undefined && n > 0 ? Math.min(n, room) : room;
    // One generation at a time on the one sequence; the next request waits its turn here.
    let release!: () => void;
    const previous = this.turn;
    this.turn = new Promise<void>((r) => {
      release = r;
    });
    await previous;
    if (signal?.aborted) {
      release();
      throw signal.reason;
    }
    const abort = new AbortController();
    const onAbort = () => abort.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    let tFirst: number | undefined;
    // Ollama's eval_count and num_predict: a generation stopped by length predicted exactly
    // num_predict tokens; one that stopped itself, the tokens of its response. The engine samples
    // past maxTokens when the last token is part of a UTF-8 character (its limit check is skipped
    // for it), and its sequence meter counted that one too (num_predict 8 gave eval_count 9 on the
    // first generate); the overshoot is cut here, from the text and from the count.
    let generated = 0;
    const released: Token[] = [];
    const ch = new Channel();
    let stopReason = "";
    let response = "";
    const done = this.completion
      .generateCompletionWithMeta(tokens, {
        signal: abort.signal,
        maxTokens,
        temperature: options?.temperature ?? DEFAULT_TEMPERATURE,
        ...(options?.seed === undefined ? {} : { seed: options.seed }),
        ...(how.grammar ? { grammar: how.grammar } : {}),
        customStopTriggers: how.stops,
        disableContextShift: true,
        onToken: (tokens) => {
          tFirst ??= performance.now();
          const kept = tokens.slice(0, Math.max(0, maxTokens - generated));
          generated += kept.length;
          // A tool call is held back whole: it must be parsed (and gated) before anyone sees it.
          if (how.toolCall || kept.length === 0) return;
          ch.push(this.model.detokenize(kept, false, released.slice(-16)));
          released.push(...kept);
          if (released.length > 64) released.splice(0, released.length - 16);
        },
      })
      .then(
        (r) => {
          stopReason = r.metadata.stopReason;
          response = r.response;
          ch.end();
        },
        (err) => ch.fail(err),
      );
    try {
      for await (const text of ch) yield { content: text, done: false };
      await done;
      const tEnd = performance.now();
      const doneReason = stopReason === "maxTokens" ? "length" : "stop";
      // At the limit the engine drops the tokens it held back (a possible stop trigger, trailing
      // space): they were predicted all the same.
      if (doneReason === "length") generated = maxTokens;
      if (how.toolCall) {
        yield { content: "", tool_calls: [parseToolCall(response, doneReason)], done: false };
      }
      yield {
        content: "",
        done: true,
        done_reason: doneReason,
        timing: makeTiming(t0, tFirst, tEnd, promptTokens, generated, 0),
      };
    } finally {
      signal?.removeEventListener("abort", onAbort);
      abort.abort();
      await done.catch(() => {});
      release();
    }
  }

  private checkModel(name: string | undefined): void {
    if (name === undefined || name === "" || name === this.defaultModel || name === this.path) return;
    if (`${name}:latest` === this.defaultModel) return;
    throw new ForgeError(
      Codes.NOT_FOUND,
      `model "${name}" not found, this agent serves "${this.defaultModel}"`,
    );
  }

  private grammar(schema: object | "json"): Promise<LlamaGrammar> {
    const key = JSON.stringify(schema);
    let g = this.grammars.get(key);
    if (!g) {
      g =
        schema === "json"
          ? this.llama.getGrammarFor("json")
          : this.llama.createGrammarForJsonSchema(toGrammarSchema(schema) as never);
      if (this.grammars.size >= GRAMMAR_CACHE) this.grammars.delete(this.grammars.keys().next().value!);
      this.grammars.set(key, g);
      g.catch(() => this.grammars.delete(key));
    }
    return g;
  }

  private details(): object {
    const meta = this.model.fileInfo.metadata as { general?: { architecture?: string; file_type?: number } };
    const arch = meta.general?.architecture ?? "unknown";
    let params = 0;
    for (const t of this.model.fileInfo.tensorInfo ?? [])
      params += t.dimensions.reduce<number>((a, b) => a * Number(b), 1);
    const ft = meta.general?.file_type;
    const quant = ft === undefined ? "unknown" : String(GgufFileType[ft] ?? ft).replace(/^(MOSTLY|ALL)_/, "");
    return {
      parent_model: "",
      format: "gguf",
      family: arch,
      families: [arch],
      parameter_size: formatParams(params),
      quantization_level: quant,
    };
  }

  private fileDigest(): Promise<string> {
    this.digest ??= new Promise((resolveDigest, reject) => {
      const h = createHash("sha256");
      createReadStream(this.path)
        .on("data", (b) => h.update(b))
        .on("error", reject)
        .on("end", () => resolveDigest(`sha256:${h.digest("hex")}`));
    });
    return this.digest;
  }
}

/** Ollama messages as node-llama-cpp chat history, ending with the model's (empty) turn. */
function toHistory(messages: ChatMessage[], tools: ToolSpec[]): ChatHistoryItem[] {
  const out: ChatHistoryItem[] = [];
  if (tools.length > 0) {
    // Short on purpose: the grammar enforces the shape, the prompt only has to name the choices.
    const list = tools.map((t) => {
      const props = Object.keys(
        (t.function.parameters as { properties?: object } | undefined)?.properties ?? {},
      );
      return `${t.function.name}(${props.join(", ")})${t.function.description ? `: ${t.function.description}` : ""}`;
    });
    out.push({
      type: "system",
      text: `Call one tool, as JSON {"name","arguments"}. Tools:\n${list.join("\n")}`,
    });
  }
  for (const m of messages) {
    if (m.role === "system") out.push({ type: "system", text: m.content });
    else if (m.role === "user") out.push({ type: "user", text: m.content });
    else if (m.role === "tool") out.push({ type: "user", text: `Tool result: ${m.content}` });
    else {
      const calls = (m.tool_calls ?? []).map((c) => JSON.stringify(c.function));
      out.push({ type: "model", response: [[m.content, ...calls].filter((s) => s !== "").join("\n")] });
    }
  }
  out.push({ type: "model", response: [] });
  return out;
}

/** The grammar guarantees the shape unless generation was cut off; then the call is refused. */
function parseToolCall(text: string, doneReason: string): ToolCall {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    const why =
      doneReason === "length"
        ? "it was cut off by num_predict or the context size; raise num_predict"
        : "not JSON";
    throw new ForgeError(Codes.INFERENCE_FAILED, `the model's tool call is incomplete: ${why}`);
  }
  const o = v as { name?: unknown; arguments?: unknown };
  if (typeof o?.name !== "string" || typeof o.arguments !== "object" || o.arguments === null)
    throw new ForgeError(Codes.INFERENCE_FAILED, "the model's tool call has no name or arguments");
  return { function: { name: o.name, arguments: o.arguments as Record<string, unknown> } };
}

function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  return `${(n / 1e3).toFixed(0)}K`;
}
