import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { Codes, type ForgeCode, ForgeError, hasForgeCode, httpStatus } from "../errors.js";
import { readJson, sendJson } from "../http.js";
import { nowRfc3339, promptHash, type RecordInput } from "../protocol/record.js";
import type { Chunk, DoneReason, InferenceBackend, Timing, ToolCall } from "./backend.js";

/** What the daemon supplies: the backend, the gate (via `govern`), the evidence store and peer identity. */
export interface FacadeDeps {
  backend: InferenceBackend;
  /**
   * Gate one tool call. The daemon implements it: gate decision, durable record, and for ESCALATE
   * it waits for the review or the deadline before resolving (to ALLOW or DENY).
   */
  govern(
    call: ToolCall,
    ctx: { session_id: string; principal: string | null; prompt_hash: string },
  ): Promise<{ evaluation: "ALLOW" | "DENY" | "ESCALATE"; action_id: string | null; reasons: string[] }>;
  /** Write one `inference` evidence record. */
  record(rec: RecordInput): Promise<unknown>;
  /** The caller's identity from peer credentials, or null; a fixed value when the daemon makes one facade per peer. */
  principal: ((req: IncomingMessage) => string | null) | string | null;
  /** Largest request body, bytes. Default 8 MiB. */
  maxBodyBytes?: number;
  /** How long a client may take to send its body, ms. Default 10 000. */
  bodyTimeoutMs?: number;
  /** What /api/version reports. Default "0.12.0" (the Ollama API this facade speaks). */
  version?: string;
  /**
   * A system prompt template pulled from the registry (src/registry): used for a request that
   * brings no system prompt, and named by its digest in that request's inference record.
   */
  promptTemplate?: { reference: string; digest: string; text: string };
}

export type FacadeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

const ROUTES = new Set(["/api/chat", "/api/generate", "/api/tags", "/api/ps", "/api/version"]);
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

const GenerateBody = z.object({
  model: z.string().optional(),
  prompt: z.string().default(""),
  system: z.string().optional(),
  raw: z.boolean().optional(),
  options: Options.optional(),
  stream: z.boolean().default(true),
});

/**
 * The Ollama API (`/api/chat`, `/api/generate`, `/api/tags`, `/api/ps`, `/api/version`) in front of
 * any backend, with every tool call gated before the client sees it. Returns false for paths
 * that are not its own, so the daemon can mount it beside its other routes.
 */
export function createOllamaFacade(deps: FacadeDeps): FacadeHandler {
  const maxBody = deps.maxBodyBytes ?? 8 * 1024 * 1024;
  const bodyTimeout = deps.bodyTimeoutMs ?? 10_000;

  return async (req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    if (!ROUTES.has(path)) return false;
    const post = path === "/api/chat" || path === "/api/generate";
    if (req.method !== (post ? "POST" : "GET") && !(req.method === "HEAD" && !post)) {
      req.resume();
      sendError(res, 405, `method ${req.method} not allowed on ${path}`);
      return true;
    }
    try {
      if (path === "/api/version") sendJson(res, 200, { version: deps.version ?? "0.12.0" });
      else if (path === "/api/tags") sendJson(res, 200, { models: await tags(deps.backend) });
      else if (path === "/api/ps") sendJson(res, 200, { models: await ps(deps.backend) });
      else {
        const body = await readJson(req, maxBody, { timeoutMs: bodyTimeout });
        if (path === "/api/chat") await chat(deps, req, res, body);
        else await generate(deps, req, res, body);
      }
    } catch (err) {
      fail(res, err);
    }
    return true;
  };
}

async function tags(backend: InferenceBackend) {
  return (await backend.models()).map((m) => ({
    name: m.name,
    model: m.name,
    modified_at: m.modified_at,
    size: m.size,
    digest: m.digest.replace(/^sha256:/, ""),
    details: m.details,
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

/** One request's bookkeeping: identity, clock, and what the gate said about its tool calls. */
interface Turn {
  session_id: string;
  principal: string | null;
  prompt_hash: string;
  model: string;
  created_at: string;
  t0: number;
  gated: { name: string; action_id: string; evaluation: string }[];
  /** The registry template this turn used, if any. */
  template: { reference: string; digest: string } | null;
}

function startTurn(deps: FacadeDeps, req: IncomingMessage, model: string | undefined, prompt: unknown): Turn {
  const header = req.headers["x-forge-session"];
  let session_id: string;
  if (header === undefined) session_id = `ollama-${randomUUID()}`;
  else if (typeof header === "string" && /^[\x21-\x7e]{1,256}$/.test(header)) session_id = header;
  else throw new ForgeError(Codes.BAD_REQUEST, "x-forge-session must be 1-256 printable ASCII characters");
  return {
    session_id,
    principal: typeof deps.principal === "function" ? deps.principal(req) : deps.principal,
    prompt_hash: promptHash(prompt),
    model: model || deps.backend.defaultModel,
    created_at: new Date().toISOString(),
    t0: performance.now(),
    gated: [],
    template: null,
  };
}

async function chat(
  deps: FacadeDeps,
  req: IncomingMessage,
  res: ServerResponse,
  raw: unknown,
): Promise<void> {
  const body = parseBody(ChatBody, raw);
  const turn = startTurn(deps, req, body.model, body.messages);
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
  const abort = abortOnClose(res);
  let content = "";
  const allowed: ToolCall[] = [];
  let timing: Timing | undefined;
  let doneReason: DoneReason = "stop";
  const tpl = deps.promptTemplate;
  const useTemplate = tpl !== undefined && !body.messages.some((m) => m.role === "system");
  if (useTemplate) turn.template = { reference: tpl.reference, digest: tpl.digest };
  try {
    const stream = deps.backend.chat(
      {
        ...(body.model ? { model: body.model } : {}),
        messages: useTemplate ? [{ role: "system", content: tpl.text }, ...body.messages] : body.messages,
        ...(body.tools ? { tools: body.tools } : {}),
        ...(body.tool_choice ? { tool_choice: body.tool_choice } : {}),
        ...(body.options ? { options: body.options } : {}),
        ...(body.format ? { format: body.format } : {}),
      },
      abort.signal,
    );
    // Content lines are built from a fixed prefix: this is the per-token path.
    const pre = `{"model":${JSON.stringify(head.model)},"created_at":"${head.created_at}","message":{"role":"assistant","content":`;
    for await (const chunk of stream) {
      let text = chunk.content;
      if (chunk.tool_calls?.length) {
        // Headers now, so the client is not left waiting while the calls are gated (a review can take minutes).
        out.open();
        // Gate first; only what the gate allowed ever reaches the client.
        const { calls, notes } = await gate(deps, turn, chunk.tool_calls);
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
      if (chunk.done) ({ timing, doneReason } = finish(chunk));
    }
    // The last tokens go out now; the record must not delay them.
    await out.flush();
    await deps.record(inferenceRecord(deps, turn, "/api/chat", body.options, timing, doneReason));
  } catch (err) {
    out.flush();
    await recordFailure(deps, turn, "/api/chat", err);
    throw err;
  } finally {
    abort.dispose();
  }
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
  const abort = abortOnClose(res);
  let response = "";
  let timing: Timing | undefined;
  let doneReason: DoneReason = "stop";
  const tpl = body.system || body.raw ? undefined : deps.promptTemplate;
  if (tpl) turn.template = { reference: tpl.reference, digest: tpl.digest };
  try {
    const stream = deps.backend.generate(
      {
        ...(body.model ? { model: body.model } : {}),
        prompt: body.prompt,
        ...(body.system ? { system: body.system } : tpl ? { system: tpl.text } : {}),
        ...(body.raw ? { raw: true } : {}),
        ...(body.options ? { options: body.options } : {}),
      },
      abort.signal,
    );
    const pre = `{"model":${JSON.stringify(head.model)},"created_at":"${head.created_at}","response":`;
    for await (const chunk of stream) {
      if (chunk.content) {
        response += chunk.content;
        if (body.stream) await out.token(`${pre}${JSON.stringify(chunk.content)},"done":false}\n`);
      }
      if (chunk.done) ({ timing, doneReason } = finish(chunk));
    }
    await out.flush();
    await deps.record(inferenceRecord(deps, turn, "/api/generate", body.options, timing, doneReason));
  } catch (err) {
    out.flush();
    await recordFailure(deps, turn, "/api/generate", err);
    throw err;
  } finally {
    abort.dispose();
  }
  await out.last({ ...head, response: body.stream ? "" : response, ...doneFields(turn, timing, doneReason) });
}

/** Gates each call in order. Anything but a resolved ALLOW (an error too) removes the call. */
async function gate(
  deps: FacadeDeps,
  turn: Turn,
  calls: ToolCall[],
): Promise<{ calls: ToolCall[]; notes: string[] }> {
  const keep: ToolCall[] = [];
  const notes: string[] = [];
  for (const call of calls) {
    const name = call.function.name;
    let verdict: { evaluation: string; action_id: string | null; reasons: string[] };
    try {
      verdict = await deps.govern(call, {
        session_id: turn.session_id,
        principal: turn.principal,
        prompt_hash: turn.prompt_hash,
      });
    } catch (err) {
      verdict = { evaluation: "DENY", action_id: "none", reasons: [`gate error: ${(err as Error).message}`] };
    }
    turn.gated.push({ name, action_id: verdict.action_id ?? "none", evaluation: verdict.evaluation });
    if (verdict.evaluation === "ALLOW") keep.push(call);
    else {
      const why = verdict.evaluation === "ESCALATE" ? "review did not resolve" : "denied";
      const reasons = verdict.reasons.length > 0 ? verdict.reasons.join("; ") : "no reason given";
      notes.push(
        `[forge-agent] tool call ${name} ${why}: ${reasons} (action ${verdict.action_id ?? "none"})`,
      );
    }
  }
  return { calls: keep, notes };
}

function finish(chunk: Chunk): { timing: Timing | undefined; doneReason: DoneReason } {
  return { timing: chunk.timing, doneReason: chunk.done_reason ?? "stop" };
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

function inferenceRecord(
  deps: FacadeDeps,
  turn: Turn,
  endpoint: string,
  options: unknown,
  t: Timing | undefined,
  doneReason: DoneReason | null,
  error?: { code: ForgeCode; message: string },
): RecordInput {
  const ms = performance.now() - turn.t0;
  return {
    kind: "inference",
    session_id: turn.session_id,
    action_id: `inf-${randomUUID()}`,
    timestamp: nowRfc3339(),
    prompt_hash: turn.prompt_hash,
    proposed_action: {
      kind: "inference",
      endpoint,
      model: turn.model,
      backend: deps.backend.name,
      options: options ?? {},
      ...(turn.template ? { prompt_template: turn.template } : {}),
    },
    evaluation: null,
    policy_matched: { bundle: null, rules: [] },
    composition_state: null,
    execution_result: {
      model: turn.model,
      backend: deps.backend.name,
      done_reason: doneReason,
      /** The backend's timing record (token counts, ttft_ms, tokens_per_s); null when it failed. */
      timing: t ?? null,
      tool_calls: turn.gated,
      ...(error ? { error } : {}),
    },
    principal_review: null,
    latency_ms: ms,
    principal: turn.principal,
  };
}

async function recordFailure(deps: FacadeDeps, turn: Turn, endpoint: string, err: unknown): Promise<void> {
  const e = toForge(err);
  try {
    await deps.record(
      inferenceRecord(deps, turn, endpoint, undefined, undefined, null, { code: e.code, message: e.message }),
    );
  } catch {
    // The original error is what the client needs to see; the store reports its own failures.
  }
}

/**
 * Token lines that arrive within this many ms of the previous write leave with a later one. Every
 * write wakes the reader, and on a small VM an event-loop wake-up costs tens of µs of CPU, which at
 * thousands of tokens/s slows the engine itself. The first token always goes at once.
 */
const COALESCE_MS = 5;
/** A held line is written by then at the latest, even if no token follows (slow or stalled model). */
const HOLD_MAX_MS = 10;

/** Writes NDJSON lines (stream) or one JSON document (no stream); headers go out with the first byte. */
class Reply {
  started = false;
  private pending = "";
  private lastWrite = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly res: ServerResponse,
    private readonly stream: boolean,
  ) {}

  /** Sends the status and headers now (streaming); otherwise they leave with the first line. */
  open(): void {
    if (this.started || !this.stream) return;
    this.start();
    this.res.flushHeaders();
  }

  private start(): void {
    this.started = true;
    this.res.writeHead(200, { "content-type": "application/x-ndjson" });
  }

  /**
   * A content line: written now if the last write is COALESCE_MS old, else held for the next token
   * (a timer writes it after HOLD_MAX_MS if none comes; with a fast model it never fires).
   */
  token(line: string): Promise<void> | undefined {
    this.pending += line;
    if (performance.now() - this.lastWrite >= COALESCE_MS) return this.flush();
    this.timer ??= setTimeout(() => {
      this.timer = null;
      if (!this.res.writableEnded) void this.flush();
    }, HOLD_MAX_MS);
    return undefined;
  }

  line(obj: unknown): Promise<void> | undefined {
    this.pending += `${JSON.stringify(obj)}\n`;
    return this.flush();
  }

  /** Writes what is pending; waits only when the socket pushes back. */
  flush(): Promise<void> | undefined {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending === "" || this.res.writableEnded) return undefined;
    const data = this.pending;
    this.pending = "";
    this.lastWrite = performance.now();
    if (!this.started) this.start();
    return this.res.write(data) ? undefined : waitDrain(this.res);
  }

  async last(obj: unknown): Promise<void> {
    if (this.stream) {
      await this.line(obj);
      this.res.end();
    } else sendJson(this.res, 200, obj);
  }
}

function waitDrain(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off("drain", done);
      res.off("close", done);
      resolve();
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

/** Aborts generation when the client goes away before the response is complete. */
function abortOnClose(res: ServerResponse): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) ac.abort(new ForgeError(Codes.BAD_REQUEST, "client closed the connection"));
  };
  res.on("close", onClose);
  return {
    signal: ac.signal,
    dispose: () => res.off("close", onClose),
  };
}

function parseBody<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join(".") : "body";
  throw new ForgeError(Codes.BAD_REQUEST, `invalid request: ${where}: ${issue.message}`);
}

function toForge(err: unknown): ForgeError {
  if (err instanceof ForgeError) return err;
  if (hasForgeCode(err)) return new ForgeError(err.code, err.message, { cause: err });
  return new ForgeError(Codes.INFERENCE_FAILED, (err as Error)?.message ?? String(err), { cause: err });
}

/** Ollama's error shape: `{"error": "..."}`; mid-stream, a last NDJSON line carrying it. */
function fail(res: ServerResponse, err: unknown): void {
  const e = toForge(err);
  if (res.headersSent) {
    if (!res.writableEnded) res.end(`${JSON.stringify({ error: e.message })}\n`);
    return;
  }
  sendError(res, httpStatus(e.code), e.message);
}

function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message });
}
