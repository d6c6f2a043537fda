import type { ServerResponse } from "node:http";
import type { z } from "zod";
import { Codes, ForgeError, hasForgeCode } from "../errors.js";

/**
 * What both governed facades (Ollama's API and OpenAI's) share on top of src/http.ts (the bounded
 * JSON reader and writer) and errors.ts (the status of a code): validating a body, turning any
 * failure into a coded error, and noticing a client that went away.
 */

/** Validates a request body; the first issue becomes a FORGE_BAD_REQUEST naming the field. */
export function parseBody<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = issue.path.length > 0 ? issue.path.join(".") : "body";
  throw new ForgeError(Codes.BAD_REQUEST, `invalid request: ${where}: ${issue.message}`);
}

/** Any thrown value as a ForgeError; unknown failures are FORGE_INFERENCE_FAILED. */
export function toForge(err: unknown): ForgeError {
  if (err instanceof ForgeError) return err;
  if (hasForgeCode(err)) return new ForgeError(err.code, err.message, { cause: err });
  return new ForgeError(Codes.INFERENCE_FAILED, (err as Error)?.message ?? String(err), { cause: err });
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
