import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { Codes, ForgeError, httpStatus } from "../errors.js";
import { sendJson } from "../http.js";
import type { ChatRequest, GenerateOptions, InferenceBackend, ToolCall } from "./backend.js";
import { toForge } from "./facade-http.js";
import { Reply, SSE } from "./facade-stream.js";
import { type FacadeDeps, gateCalls, startTurn, type Turn, withTemplate } from "./facade-turn.js";

/**
 * What OpenAI's two generation APIs share in this facade (Chat Completions in facade-openai.ts,
 * Responses in facade-responses.ts): sampling fields, the model lookup, the error shape, and
 * gating a batch of tool calls while a streamed reply waits.
 */

/** Interval of SSE comment lines while a tool call waits for its review (keeps proxies from timing out), ms. */
const KEEPALIVE_MS = 15_000;

export const Stop = z.union([z.string(), z.array(z.string()).max(16)]);

/** Sampling fields of the OpenAI APIs, mapped onto the backends' (Ollama) options. */
export function sampling(b: {
  temperature?: number | null;
  max_tokens?: number | null;
  seed?: number | null;
  stop?: string | string[] | null;
}): GenerateOptions {
  const o: GenerateOptions = {};
  if (b.temperature != null) o.temperature = b.temperature;
  if (b.max_tokens != null) o.num_predict = b.max_tokens;
  if (b.seed != null) o.seed = b.seed;
  if (b.stop != null) o.stop = typeof b.stop === "string" ? [b.stop] : b.stop;
  return o;
}

export async function models(backend: InferenceBackend) {
  return (await backend.models()).map((m) => ({
    id: m.name,
    object: "model" as const,
    created: Math.floor(Date.parse(m.modified_at) / 1000) || 0,
    owned_by: `forge-agent/${backend.name}`,
  }));
}

export function unknownModel(id: string, backend: InferenceBackend): ForgeError {
  return new ForgeError(
    Codes.NOT_FOUND,
    `model "${id}" not found, this agent serves "${backend.defaultModel}"`,
  );
}

/**
 * The start of one chat turn on either API: its turn (session, clock), the backend request with the
 * registry template when it brings no system prompt, the session header, and the SSE or JSON reply.
 */
export function openChat(
  deps: FacadeDeps,
  req: IncomingMessage,
  res: ServerResponse,
  body: { model?: string | undefined; stream?: boolean | null | undefined },
  prompt: unknown,
  base: ChatRequest,
): { turn: Turn; request: ChatRequest; stream: boolean; out: Reply } {
  const turn = startTurn(deps, "openai", req, body.model, prompt);
  const request = { ...base, messages: withTemplate(deps, turn, base.messages) };
  res.setHeader("x-forge-session", turn.session_id);
  const stream = body.stream === true;
  return { turn, request, stream, out: new Reply(res, stream, SSE) };
}

/**
 * Gates the calls of one chunk. A streamed reply gets its headers now and an SSE comment every
 * KEEPALIVE_MS while a review holds it; nothing of the calls is written here.
 */
export async function gateHeld(
  deps: FacadeDeps,
  turn: Turn,
  out: Reply,
  stream: boolean,
  calls: ToolCall[],
): ReturnType<typeof gateCalls> {
  out.open();
  const keepalive = stream
    ? setInterval(() => void out.raw(": forge-agent: a tool call is waiting for review\n\n"), KEEPALIVE_MS)
    : undefined;
  try {
    return await gateCalls(deps, turn, calls);
  } finally {
    clearInterval(keepalive);
  }
}

export function errorBody(status: number, code: string, message: string, param: string | null = null) {
  const type = status === 404 ? "not_found_error" : status < 500 ? "invalid_request_error" : "server_error";
  return { error: { message, type, param, code } };
}

export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  param: string | null = null,
): void {
  sendJson(res, status, errorBody(status, code, message, param));
}

/**
 * OpenAI's error shape. Mid-stream, `streamed` writes the last event(s) instead (the openai client
 * throws a Chat Completions one; a Responses stream ends with its `error` and `response.failed`).
 */
export function fail(
  res: ServerResponse,
  err: unknown,
  streamed: (status: number, e: ForgeError, param: string | null) => string = (status, e, param) =>
    `data: ${JSON.stringify(errorBody(status, e.code, e.message, param))}\n\n`,
): void {
  const e = toForge(err);
  const status = httpStatus(e.code);
  // The only thing a generation route looks up is the model.
  const param = e.code === Codes.NOT_FOUND ? "model" : null;
  if (res.headersSent) {
    if (!res.writableEnded) res.end(streamed(status, e, param));
    return;
  }
  sendError(res, status, e.code, e.message, param);
}
