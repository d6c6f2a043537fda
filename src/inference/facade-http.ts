import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import { Codes, ForgeError, hasForgeCode } from "../errors.js";

/**
 * The HTTP plumbing both governed facades (Ollama's API and OpenAI's) share: reading a bounded
 * JSON body, validating it, mapping errors to statuses, and noticing a client that went away.
 */

/** Validates a request body; the first issue becomes a FORGE_BAD_REQUEST naming the field. */
export function parseBody<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join(".") : "body";
  throw new ForgeError(Codes.BAD_REQUEST, `invalid request: ${where}: ${issue.message}`);
}

/** Reads at most `max` bytes of JSON within `timeoutMs`; anything else is a FORGE_* error. */
export function readJson(req: IncomingMessage, max: number, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => {
      cleanup();
      req.resume();
      reject(new ForgeError(Codes.TIMEOUT, `request body not received within ${timeoutMs} ms`));
    }, timeoutMs);
    const onData = (b: Buffer) => {
      size += b.length;
      if (size > max) {
        cleanup();
        req.resume();
        reject(new ForgeError(Codes.PAYLOAD_TOO_LARGE, `request body exceeds ${max} bytes`));
        return;
      }
      parts.push(b);
    };
    const onEnd = () => {
      cleanup();
      const text = Buffer.concat(parts).toString("utf8");
      if (text.trim() === "")
        return reject(new ForgeError(Codes.BAD_REQUEST, "request body is empty: send a JSON object"));
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new ForgeError(Codes.BAD_REQUEST, `request body is not JSON: ${(err as Error).message}`));
      }
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

/** Any thrown value as a ForgeError; unknown failures are FORGE_INFERENCE_FAILED. */
export function toForge(err: unknown): ForgeError {
  if (err instanceof ForgeError) return err;
  if (hasForgeCode(err)) return new ForgeError(err.code, err.message, { cause: err });
  return new ForgeError(Codes.INFERENCE_FAILED, (err as Error)?.message ?? String(err), { cause: err });
}

const STATUS: Record<string, number> = {
  [Codes.BAD_REQUEST]: 400,
  [Codes.NOT_FOUND]: 404,
  [Codes.PAYLOAD_TOO_LARGE]: 413,
  [Codes.TIMEOUT]: 408,
  [Codes.BACKEND_UNAVAILABLE]: 503,
};

/** The HTTP status for a FORGE_* code; 500 for anything unexpected. */
export function statusOf(code: string): number {
  return STATUS[code] ?? 500;
}

export function sendJson(res: ServerResponse, status: number, obj: unknown): void {
  const text = JSON.stringify(obj);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Resolves when the socket has drained or closed. */
export function waitDrain(res: ServerResponse): Promise<void> {
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
export function abortOnClose(res: ServerResponse): { signal: AbortSignal; dispose(): void } {
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
