import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { Codes, type ForgeCode, ForgeError, hasForgeCode, httpStatus } from "../errors.js";

/**
 * The small HTTP vocabulary of the socket API: one error shape `{"error":{"code","message"}}`,
 * bounded JSON bodies, and a JSON answer even when the HTTP parser itself refuses a request.
 */

/** An error answered with the headers it carries (405's `allow`); its status is its code's (errors.ts). */
export class HttpError extends ForgeError {
  constructor(code: ForgeCode, message: string, headers?: Record<string, string>) {
    super(code, message, headers === undefined ? undefined : { details: { headers } });
  }

  get status(): number {
    return httpStatus(this.code);
  }
}

export const notFound = (what: string) => new HttpError(Codes.NOT_FOUND, `${what} not found`);
export const badRequest = (message: string) => new HttpError(Codes.BAD_REQUEST, message);

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
}

/** Maps any thrown value to a status and the error body; unknown errors are 500 without internals. */
export function errorBody(err: unknown): {
  status: number;
  body: { error: { code: ForgeCode; message: string } };
} {
  if (hasForgeCode(err)) {
    return { status: httpStatus(err.code), body: { error: { code: err.code, message: err.message } } };
  }
  return { status: 500, body: { error: { code: Codes.INTERNAL, message: "internal error (logged)" } } };
}

export function sendError(res: ServerResponse, err: unknown): void {
  const { status, body } = errorBody(err);
  if (status === 405 && err instanceof HttpError && err.details?.headers) {
    res.setHeader("allow", (err.details.headers as Record<string, string>).allow!);
  }
  sendJson(res, status, body);
}

/**
 * Reads a JSON body of at most `maxBytes`. Refuses a declared or actual oversize with 413 and
 * unparseable JSON with 400. Never buffers more than maxBytes.
 */
export function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBytes) {
    req.resume();
    return Promise.reject(tooLarge(maxBytes));
  }
  // The content type is not checked: `curl -d` sends form-urlencoded, and the body is JSON or refused.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on("data", (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > maxBytes) {
        done = true;
        chunks.length = 0;
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(c);
    });
    req.on("error", (err) => {
      if (done) return;
      done = true;
      reject(new HttpError(Codes.BAD_REQUEST, `request body: ${err.message}`));
    });
    req.on("end", () => {
      if (done) return;
      done = true;
      // One chunk is the usual case (small bodies): decode it in place rather than copy it first.
      const text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString("utf8");
      if (!/\S/.test(text)) {
        reject(badRequest("request body must be a JSON object"));
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(badRequest(`malformed JSON: ${(err as Error).message.slice(0, 120)}`));
      }
    });
  });
}

function tooLarge(maxBytes: number): HttpError {
  return new HttpError(
    Codes.PAYLOAD_TOO_LARGE,
    `request body exceeds ${maxBytes} bytes (api.max_body_bytes)`,
  );
}

/**
 * The server's 'clientError' handler: node's parser refused the request (bad syntax, header too
 * large, slow client). Answers with the same JSON error shape, then closes the connection.
 */
export function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A request whose answer has begun cannot get another one: drop the connection.
  const inProgress = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (!socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, text, code, message] =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, "Request Timeout", Codes.TIMEOUT, "request not received in time (api.request_timeout_ms)"]
      : err.code === "HPE_HEADER_OVERFLOW"
        ? [
            431,
            "Request Header Fields Too Large",
            Codes.PAYLOAD_TOO_LARGE,
            "headers too large (api.max_header_bytes)",
          ]
        : [400, "Bad Request", Codes.BAD_REQUEST, `malformed HTTP request (${err.code ?? "parse error"})`];
  const body = JSON.stringify({ error: { code, message } });
  // Also reached mid-body (bad chunk, slow body): the handler's response, if it ever comes, finds
  // the socket ended and is dropped.
  socket.end(
    `HTTP/1.1 ${status} ${text}\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
