import type { IncomingMessage, ServerResponse } from "node:http";
import { Codes, type ForgeCode, ForgeError, httpStatus } from "./errors.js";

/**
 * The JSON-over-HTTP helpers every server here uses (the agent's socket API, the inference
 * facades, the collector): a bounded JSON body reader and one JSON writer. Errors are ForgeErrors
 * whose status is their code's (errors.ts HTTP_STATUS).
 */

/** A ForgeError answered with the headers it carries (405's `allow`); its status is its code's. */
export class HttpError extends ForgeError {
  constructor(code: ForgeCode, message: string, headers?: Record<string, string>) {
    super(code, message, headers === undefined ? undefined : { details: { headers } });
  }

  get status(): number {
    return httpStatus(this.code);
  }
}

export interface ReadJsonOptions {
  /** The config key that sets maxBytes, named in the 413 message. */
  limitKey?: string;
  /** The whole body must arrive within this many ms, else 408 (default: no limit of its own). */
  timeoutMs?: number;
  /** An empty or blank body resolves undefined instead of being refused (default false). */
  allowEmpty?: boolean;
  /**
   * A non-empty body must be sent as application/json (415 otherwise). A cross-site form or a
   * fetch without preflight can send text/plain, urlencoded or multipart, never application/json:
   * this is the collector's CSRF line. The agent's socket does not set it (`curl -d` sends urlencoded).
   */
  requireJsonType?: boolean;
}

/**
 * Reads a JSON body of at most `maxBytes` bytes. Refuses a declared or actual oversize with 413,
 * unparseable JSON (and, unless allowEmpty, an empty body) with 400, and a body slower than
 * timeoutMs with 408. Never buffers more than maxBytes; a refused body is drained, not read.
 */
export function readJson(
  req: IncomingMessage,
  maxBytes: number,
  opts: ReadJsonOptions = {},
): Promise<unknown> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBytes) {
    req.resume();
    return Promise.reject(tooLarge(maxBytes, opts.limitKey));
  }
  if (opts.requireJsonType === true) {
    const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
    const empty =
      declared === "0" || (declared === undefined && req.headers["transfer-encoding"] === undefined);
    if (type !== "application/json" && !(opts.allowEmpty === true && empty)) {
      req.resume();
      return Promise.reject(
        new HttpError(
          Codes.UNSUPPORTED_MEDIA_TYPE,
          `request body must be sent as Content-Type: application/json (got '${type || "none"}')`,
        ),
      );
    }
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const settle = () => {
      done = true;
      if (timer !== undefined) clearTimeout(timer);
    };
    const fail = (err: HttpError) => {
      settle();
      chunks.length = 0;
      req.resume();
      reject(err);
    };
    const timer =
      opts.timeoutMs === undefined
        ? undefined
        : setTimeout(
            () => fail(new HttpError(Codes.TIMEOUT, `request body not received within ${opts.timeoutMs} ms`)),
            opts.timeoutMs,
          );
    req.on("data", (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > maxBytes) fail(tooLarge(maxBytes, opts.limitKey));
      else chunks.push(c);
    });
    req.on("error", (err) => {
      if (!done) fail(new HttpError(Codes.BAD_REQUEST, `request body: ${err.message}`));
    });
    req.on("end", () => {
      if (done) return;
      settle();
      // One chunk is the usual case (small bodies): decode it in place rather than copy it first.
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8");
      if (!/\S/.test(text)) {
        if (opts.allowEmpty === true) resolve(undefined);
        else reject(new HttpError(Codes.BAD_REQUEST, "request body must be a JSON object"));
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(
          new HttpError(
            Codes.BAD_REQUEST,
            `malformed JSON (the request body is not JSON): ${(err as Error).message.slice(0, 120)}`,
          ),
        );
      }
    });
  });
}

function tooLarge(maxBytes: number, limitKey: string | undefined): HttpError {
  const key = limitKey === undefined ? "" : ` (${limitKey})`;
  return new HttpError(Codes.PAYLOAD_TOO_LARGE, `request body exceeds ${maxBytes} bytes${key}`);
}

/** Writes `value` as a JSON answer (with content-length); ends the response if an answer already began. */
export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers?: Record<string, string | number | readonly string[]>,
  o: { encoded?: boolean } = {},
): void {
  // `encoded`: `value` is the JSON text already (the collector signs those exact bytes).
  const body = o.encoded === true ? (value as string) : JSON.stringify(value);
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}
