/**
 * The paths the governed facades serve, in a module of its own so the daemon can route requests
 * without loading the facades (they load with the backend, on the first inference request).
 */

/** Ollama's API: /api/chat, /api/generate, /api/tags, /api/ps, /api/version. */
export function isOllamaPath(path: string): boolean {
  return path.startsWith("/api/");
}

/** OpenAI's API: /v1/chat/completions, /v1/completions, /v1/models and /v1/models/:id. */
export function isOpenAiPath(path: string): boolean {
  return (
    path === "/v1/chat/completions" ||
    path === "/v1/completions" ||
    path === "/v1/models" ||
    path.startsWith("/v1/models/")
  );
}

export function isFacadePath(path: string): boolean {
  return isOllamaPath(path) || isOpenAiPath(path);
}
