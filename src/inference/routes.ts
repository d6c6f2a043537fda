/**
 * The paths the governed facades serve, in a module of its own so the daemon can route requests
 * without loading the facades (they load with the backend, on the first inference request).
 */

import type { IncomingMessage, ServerResponse } from "node:http";
import { Codes } from "../errors.js";

/** What Ollama answers on `GET /`: clients and health checks (Open WebUI, litellm) probe it. */
export const OLLAMA_ROOT_TEXT = "Ollama is running";

/** Ollama's API: `/` (its health answer) and /api/* (chat, generate, show, embed, embeddings, tags, ps, version). */
export function isOllamaPath(path: string): boolean {
  return path === "/" || path.startsWith("/api/");
}

/** Answers `GET /` / `HEAD /` as Ollama does; needs no backend, so it answers before the model loads. */
export function answerOllamaRoot(req: IncomingMessage, res: ServerResponse): void {
  const body = req.method === "GET" || req.method === "HEAD" ? OLLAMA_ROOT_TEXT : "405 method not allowed";
  res.writeHead(body === OLLAMA_ROOT_TEXT ? 200 : 405, {
    "content-type": "text/plain; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

/** OpenAI's API: /v1/chat/completions, /v1/responses, /v1/completions, /v1/models and /v1/models/:id. */
export function isOpenAiPath(path: string): boolean {
  return (
    path === "/v1/chat/completions" ||
    path === "/v1/responses" ||
    path === "/v1/completions" ||
    path === "/v1/models" ||
    path.startsWith("/v1/models/")
  );
}

export function isFacadePath(path: string): boolean {
  return isOllamaPath(path) || isOpenAiPath(path);
}

/**
 * A path the loopback port does not serve: 404 in OpenAI's error shape (which Ollama's clients read
 * as well), saying nothing of the socket API behind the port, nor of the caller's credentials.
 */
export function answerUnserved(req: IncomingMessage, res: ServerResponse): void {
  req.resume();
  const body = JSON.stringify({
    error: {
      message: "not found: this port serves the Ollama and OpenAI APIs only",
      type: "not_found_error",
      param: null,
      code: Codes.NOT_FOUND,
    },
  });
  res.writeHead(404, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(req.method === "HEAD" ? undefined : body);
}
