import { request } from "node:http";
import { resolve } from "node:path";
import { Codes, ForgeError, isForgeCode } from "../errors.js";
import { loadConfig } from "./config.js";

/** The socket API's view of one action: what a client (the CLI, hooks, the MCP gateway) reads back. */
export type { ActionView } from "./actions.js";

/** Where the CLI finds the agent and its state: resolved exactly as the daemon resolves them. */
export interface AgentPaths {
  home: string;
  socket: string;
  reviewToken: string;
  evidence: string;
  keys: string;
  /** The config file read, or null. */
  configFile: string | null;
}

/**
 * The agent's paths, the same from any directory: --home/--socket/--config (flags), FORGE_*, the
 * config file (FORGE_CONFIG, else the per-user one), else the per-user home (config.ts userPaths).
 */
export function agentPaths(
  env: Record<string, string | undefined>,
  flags: { home?: string; socket?: string; config?: string } = {},
  cwd = process.cwd(),
): AgentPaths {
  const c = loadConfig({ env, cwd, flags });
  const file = c.source.find((s) => s.startsWith("file:"));
  return {
    home: c.home,
    socket: c.socket,
    reviewToken: env.FORGE_REVIEW_TOKEN_FILE
      ? resolve(cwd, env.FORGE_REVIEW_TOKEN_FILE)
      : c.review.token_file,
    evidence: c.evidence.path,
    keys: c.evidence.keys,
    configFile: file === undefined ? null : file.slice("file:".length),
  };
}

/** The socket path the CLI talks to when --socket is not given (agentPaths). */
export function defaultSocketPath(env: Record<string, string | undefined>, cwd = process.cwd()): string {
  return agentPaths(env, {}, cwd).socket;
}

/** The review token file the CLI reads when --token-file is not given: FORGE_REVIEW_TOKEN_FILE, else review.token_file. */
export function defaultReviewTokenPath(env: Record<string, string | undefined>, cwd = process.cwd()): string {
  return agentPaths(env, {}, cwd).reviewToken;
}

/**
 * One JSON request over the agent's Unix socket. Rejects FORGE_AGENT_UNREACHABLE when nothing
 * answers. `onSent` runs once the whole request is in the kernel's socket buffer (the agent gets
 * it even if this process dies now), before any answer.
 */
export function callAgent(
  socketPath: string,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 30_000,
  extraHeaders: Record<string, string> = {},
  onSent?: () => void,
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
    if (onSent) req.once("finish", onSent);
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
