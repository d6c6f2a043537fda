import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { Codes, ForgeError, httpStatus } from "../errors.js";
import { readJson, sendJson } from "../http.js";
import { type DoneReason, type InferenceBackend, makeTiming, type Timing, type ToolCall } from "./backend.js";
import { parseBody, toForge } from "./facade-http.js";
import { Reply } from "./facade-stream.js";
import {
  type FacadeDeps,
  gateCalls,
  inferenceRecord,
  recordFailure,
  startTurn,
  streamTurn,
  type Turn,
  templateSystem,
  withTemplate,
} from "./facade-turn.js";

export type { FacadeDeps } from "./facade-turn.js";

export type FacadeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

const GET_ROUTES = new Set(["/api/tags", "/api/ps", "/api/version"]);
const POST_ROUTES = new Set(["/api/chat", "/api/generate", "/api/show", "/api/embed", "/api/embeddings"]);
const NEVER_EXPIRES = "2318-01-01T00:00:00Z";

const Options = z
  .object({
    temperature: z.number().finite().min(0).optional(),
    num_predict: z.number().int().optional(),
    seed: z.number().int().optional(),
    stop: z.array(z.string()).optional(),
  })
  .loose();

const ToolCallSchema = z.object({
  function: z.object({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()).default({}) }),
});

const ChatBody = z.object({
  model: z.string().optional(),
  messages: z
    .array(
      z.object({
        role: z.enum(["system", "user", "assistant", "tool"]),
        content: z.string().default(""),
        tool_calls: z.array(ToolCallSchema).optional(),
      }),
    )
    .default([]),
  tools: z
    .array(
      z.object({
        type: z.literal("function").default("function"),
        function: z.object({
          name: z.string().min(1),
          description: z.string().optional(),
          parameters: z.record(z.string(), z.unknown()).optional(),
        }),
      }),
    )
    .optional(),
  tool_choice: z.enum(["auto", "required", "none"]).optional(),
  options: Options.optional(),
  format: z.union([z.literal("json"), z.literal(""), z.record(z.string(), z.unknown())]).optional(),
  stream: z.boolean().default(true),
});

const ShowBody = z.object({ model: z.string().optional(), name: z.string().optional() });

const EmbedBody = z.object({
  model: z.string().optional(),
  input: z.union([z.string(), z.array(z.string())]),
  options: Options.optional(),
});

/** The pre-0.3 /api/embeddings: one prompt, one vector, not normalized by Ollama then (normalized here). */
const EmbeddingsBody = z.object({
  model: z.string().optional(),
  prompt: z.string(),
  options: Options.optional(),
});

const GenerateBody = z.object({
  model: z.string().optional(),
  prompt: z.string().default(""),
  system: z.string().optional(),
  raw: z.boolean().optional(),
  options: Options.optional(),
  stream: z.boolean().default(true),
});

/**
 * The Ollama API (`/api/chat`, `/api/generate`, `/api/show`, `/api/embed`, `/api/embeddings`,
 * `/api/tags`, `/api/ps`, `/api/version`; `GET /` is answered by the daemon) in front of
 * any backend, with every tool call gated before the client sees it. Returns false for paths
 * that are not its own, so the daemon can mount it beside its other routes.
 */
export function createOllamaFacade(deps: FacadeDeps): FacadeHandler {
  const maxBody = deps.maxBodyBytes ?? 8 * 1024 * 1024;
  const bodyTimeout = deps.bodyTimeoutMs ?? 10_000;

  return async (req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    const post = POST_ROUTES.has(path);
    if (!post && !GET_ROUTES.has(path)) return false;
    if (req.method !== (post ? "POST" : "GET") && !(req.method === "HEAD" && !post)) {
      req.resume();
      sendError(res, 405, `method ${req.method} not allowed on ${path}`);
      return true;
    }
    try {
      if (path === "/api/version") sendJson(res, 200, { version: deps.version ?? "0.12.0" });
      else if (path === "/api/tags") sendJson(res, 200, { models: await tags(deps.backend, deps.admission) });
      else if (path === "/api/ps") sendJson(res, 200, { models: await ps(deps.backend) });
      else {
        const body = await readJson(req, maxBody, { timeoutMs: bodyTimeout });
        if (path === "/api/chat") await chat(deps, req, res, body);
        else if (path === "/api/generate") await generate(deps, req, res, body);
        else if (path === "/api/show") sendJson(res, 200, await show(deps, body));
        else await embed(deps, req, res, path, body);
      }
    } catch (err) {
      fail(res, err);
    }
    return true;
  };
}

async function tags(backend: InferenceBackend, admission: FacadeDeps["admission"]) {
  return (await backend.models()).map((m) => ({
    name: m.name,
    model: m.name,
    modified_at: m.modified_at,
    size: m.size,
    digest: m.digest.replace(/^sha256:/, ""),
    details: m.details,
    // Not Ollama's: what serving admission decided (an exempt smoke-test model says so here).
    ...(admission ? { forge_admission: admission } : {}),
  }));
}

async function ps(backend: InferenceBackend) {
  const [loaded, models] = await Promise.all([backend.loaded(), backend.models()]);
  return loaded.map((m) => ({
    name: m.name,
    model: m.name,
    size: m.size,
    digest: m.digest.replace(/^sha256:/, ""),
    details: models.find((x) => x.name === m.name)?.details ?? {},
    expires_at: m.expires_at ?? NEVER_EXPIRES,
    size_vram: 0,
  }));
}

/** `/api/show`: what Ollama clients (Continue, Open WebUI, litellm) read to learn a model's abilities. */
async function show(deps: FacadeDeps, raw: unknown) {
  const body = parseBody(ShowBody, raw);
  const name = body.model || body.name || deps.backend.defaultModel;
  const models = await deps.backend.models();
  const m = models.find((x) => x.name === name || x.name === `${name}:latest`);
  if (m === undefined) throw new ForgeError(Codes.NOT_FOUND, `model '${name}' not found`);
  return {
    license: "",
    modelfile: `FROM ${m.name}\n`,
    parameters: "",
    template: "",
    details: m.details,
    model_info: {},
    capabilities: ["completion", "tools", ...(deps.backend.embed ? ["embedding"] : [])],
    modified_at: m.modified_at,
    ...(deps.admission ? { forge_admission: deps.admission } : {}),
  };
}

/** `/api/embed` (a list of vectors) and the older `/api/embeddings` (one); each leaves an inference record. */
async function embed(
  deps: FacadeDeps,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  raw: unknown,
): Promise<void> {
  const legacy = path === "/api/embeddings";
  const body = legacy ? parseBody(EmbeddingsBody, raw) : parseBody(EmbedBody, raw);
  const input = "prompt" in body ? [body.prompt] : typeof body.input === "string" ? [body.input] : body.input;
  const turn = startTurn(deps, "ollama", req, body.model, input);
  const backend = deps.backend;
  try {
    if (backend.embed === undefined)
      throw new ForgeError(Codes.BACKEND_UNAVAILABLE, `the ${backend.name} backend makes no embeddings`);
    const r = await backend.embed({ ...(body.model ? { model: body.model } : {}), input });
    const now = performance.now();
    const timing = makeTiming(turn.t0, undefined, now, r.prompt_tokens, 0);
    await deps.record(inferenceRecord(deps, turn, path, body.options, timing, "stop"));
    const ns = Math.round((now - turn.t0) * 1e6);
    if (legacy) sendJson(res, 200, { embedding: r.embeddings[0] ?? [] });
    else
      sendJson(res, 200, {
        model: turn.model,
        embeddings: r.embeddings,
        total_duration: ns,
        load_duration: 0,
        prompt_eval_count: r.prompt_tokens,
      });
  } catch (err) {
    await recordFailure(deps, turn, path, err);
    throw err;
  }
}

async function chat(
  deps: FacadeDeps,
  req: IncomingMessage,
  res: ServerResponse,
  raw: unknown,
): Promise<void> {
  const body = parseBody(ChatBody, raw);
  const turn = startTurn(deps, "ollama", req, body.model, body.messages);
  const head = { model: turn.model, created_at: turn.created_at };
  if (body.messages.length === 0) {
    sendJson(res, 200, {
      ...head,
      message: { role: "assistant", content: "" },
      done_reason: "load",
      done: true,
    });
    return;
  }
  const out = new Reply(res, body.stream);
  let content = "";
  const allowed: ToolCall[] = [];
  const open = (signal: AbortSignal) =>
    deps.backend.chat(
      {
        ...(body.model ? { model: body.model } : {}),
        messages: withTemplate(deps, turn, body.messages),
        ...(body.tools ? { tools: body.tools } : {}),
        ...(body.tool_choice ? { tool_choice: body.tool_choice } : {}),
        ...(body.options ? { options: body.options } : {}),
        ...(body.format ? { format: body.format } : {}),
      },
      signal,
    );
  // Content lines are built from a fixed prefix: this is the per-token path.
  const pre = `{"model":${JSON.stringify(head.model)},"created_at":"${head.created_at}","message":{"role":"assistant","content":`;
  const { timing, doneReason } = await streamTurn(
    deps,
    turn,
    out,
    "/api/chat",
    body.options,
    open,
    async (chunk) => {
      let text = chunk.content;
      if (chunk.tool_calls?.length) {
        // Headers now, so the client is not left waiting while the calls are gated (a review can take minutes).
        out.open();
        // Gate first; only what the gate allowed ever reaches the client.
        const { calls, notes } = await gateCalls(deps, turn, chunk.tool_calls);
        allowed.push(...calls);
        if (notes.length > 0) text += `${content || text ? "\n" : ""}${notes.join("\n")}`;
        if (calls.length > 0 && body.stream)
          await out.line({
            ...head,
            message: { role: "assistant", content: "", tool_calls: calls },
            done: false,
          });
      }
      if (text) {
        content += text;
        if (body.stream) await out.token(`${pre}${JSON.stringify(text)}},"done":false}\n`);
      }
    },
  );
  const message: Record<string, unknown> = { role: "assistant", content: body.stream ? "" : content };
  if (!body.stream && allowed.length > 0) message.tool_calls = allowed;
  await out.last({ ...head, message, ...doneFields(turn, timing, doneReason) });
}

async function generate(
  deps: FacadeDeps,
  req: IncomingMessage,
  res: ServerResponse,
  raw: unknown,
): Promise<void> {
  const body = parseBody(GenerateBody, raw);
  const turn = startTurn(
    deps,
    "ollama",
    req,
    body.model,
    body.system ? { system: body.system, prompt: body.prompt } : body.prompt,
  );
  const head = { model: turn.model, created_at: turn.created_at };
  if (body.prompt === "") {
    sendJson(res, 200, { ...head, response: "", done_reason: "load", done: true });
    return;
  }
  const out = new Reply(res, body.stream);
  let response = "";
  const system = templateSystem(deps, turn, body.system, body.raw);
  const open = (signal: AbortSignal) =>
    deps.backend.generate(
      {
        ...(body.model ? { model: body.model } : {}),
        prompt: body.prompt,
        ...(system ? { system } : {}),
        ...(body.raw ? { raw: true } : {}),
        ...(body.options ? { options: body.options } : {}),
      },
      signal,
    );
  const pre = `{"model":${JSON.stringify(head.model)},"created_at":"${head.created_at}","response":`;
  const { timing, doneReason } = await streamTurn(
    deps,
    turn,
    out,
    "/api/generate",
    body.options,
    open,
    async (chunk) => {
      if (chunk.content) {
        response += chunk.content;
        if (body.stream) await out.token(`${pre}${JSON.stringify(chunk.content)},"done":false}\n`);
      }
    },
  );
  await out.last({ ...head, response: body.stream ? "" : response, ...doneFields(turn, timing, doneReason) });
}

/** Ollama's closing fields; durations are integer nanoseconds. */
function doneFields(turn: Turn, t: Timing | undefined, doneReason: DoneReason) {
  const ns = (ms: number) => Math.max(0, Math.round(ms * 1e6));
  return {
    done: true,
    done_reason: doneReason,
    total_duration: ns(performance.now() - turn.t0),
    load_duration: ns(t?.load_ms ?? 0),
    prompt_eval_count: t?.prompt_tokens ?? 0,
    prompt_eval_duration: ns(t?.ttft_ms ?? 0),
    eval_count: t?.generated_tokens ?? 0,
    eval_duration: ns(t ? t.total_ms - t.ttft_ms : 0),
  };
}

/** Ollama's error shape: `{"error": "..."}`; mid-stream, a last NDJSON line carrying it. */
function fail(res: ServerResponse, err: unknown): void {
  const e = toForge(err);
  if (res.headersSent) {
    if (!res.writableEnded) res.end(`${JSON.stringify({ error: e.message })}\n`);
    return;
  }
  sendError(res, httpStatus(e.code), e.message, e.code);
}

/** Ollama's `{"error": "..."}`, with our stable code beside it when there is one. */
function sendError(res: ServerResponse, status: number, message: string, code?: string): void {
  sendJson(res, status, code === undefined ? { error: message } : { error: message, code });
}
