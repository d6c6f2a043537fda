import { request } from "node:http";
import { resolve } from "node:path";
import { Codes, ForgeError, isForgeCode } from "../errors.js";

/** The socket API's view of one action: what a client (the CLI, hooks, the MCP gateway) reads back. */
export type { ActionView } from "./actions.js";

/** The socket path the CLI talks to: --socket, else FORGE_SOCKET, else <FORGE_HOME or ./var>/agent.sock. */
export function defaultSocketPath(env: Record<string, string | undefined>, cwd = process.cwd()): string {
  if (env.FORGE_SOCKET) return resolve(cwd, env.FORGE_SOCKET);
  return resolve(cwd, env.FORGE_HOME ?? "./var", "agent.sock");
}

/** The review token file the CLI reads: --token-file, else FORGE_REVIEW_TOKEN_FILE, else <FORGE_HOME or ./var>/review.token. */
export function defaultReviewTokenPath(env: Record<string, string | undefined>, cwd = process.cwd()): string {
  if (env.FORGE_REVIEW_TOKEN_FILE) return resolve(cwd, env.FORGE_REVIEW_TOKEN_FILE);
  return resolve(cwd, env.FORGE_HOME ?? "./var", "review.token");
}

/** One JSON request over the agent's Unix socket. Rejects FORGE_AGENT_UNREACHABLE when nothing answers. */
export function callAgent(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
  extraHeaders: Record<string, string> = {},
): Promise<{ status: number; body: unknown }> {
  return new Promise((resolvePromise, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        socketPath,
        method,
        path,
        headers:
          payload === undefined
            ? extraHeaders
            : {
                ...extraHeaders,
                "content-type": "application/json",
                "content-length": Buffer.byteLength(payload),
              },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON (e.g. /metrics): hand back the text
          }
          resolvePromise({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("timeout", () =>
      req.destroy(new ForgeError(Codes.UPSTREAM_TIMEOUT, `no answer from ${socketPath} in ${timeoutMs} ms`)),
    );
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (err instanceof ForgeError) return reject(err);
      reject(
        new ForgeError(
          Codes.AGENT_UNREACHABLE,
          `no agent answers on ${socketPath} (${err.code ?? err.message}): start it with 'forge-agent run', or pass --socket`,
          { cause: err },
        ),
      );
    });
    req.end(payload);
  });
}

/**
 * GET /v1/actions/:id?wait=MS: the action's view once its state changes from the one it has, or
 * after `waitMs` (the agent caps it); the request itself may take 30 s longer.
 */
export function waitAction(
  socketPath: string,
  action_id: string,
  waitMs: number,
): Promise<{ status: number; body: unknown }> {
  const path = `/v1/actions/${encodeURIComponent(action_id)}?wait=${waitMs}`;
  return callAgent(socketPath, "GET", path, undefined, waitMs + 30_000);
}

/** Throws the API's error as a ForgeError when the status is not 2xx. */
export function unwrap<T>(r: { status: number; body: unknown }): T {
  if (r.status >= 200 && r.status < 300) return r.body as T;
  const e = (r.body as { error?: { code?: unknown; message?: string } })?.error;
  const code = isForgeCode(e?.code) ? e.code : Codes.INTERNAL;
  throw new ForgeError(code, e?.message ?? `agent answered HTTP ${r.status}`);
}
