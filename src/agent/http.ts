import type { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { Codes, type ForgeCode, hasForgeCode, httpStatus } from "../errors.js";
import { HttpError, sendJson } from "../http.js";

/**
 * The socket API's error answers: one shape `{"error":{"code","message"}}`, also when the HTTP
 * parser itself refuses a request (bodies and JSON answers: src/http.ts).
 */

export const notFound = (what: string) => new HttpError(Codes.NOT_FOUND, `${what} not found`);
export const badRequest = (message: string) => new HttpError(Codes.BAD_REQUEST, message);

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

/**
 * Sends the error; on Ollama's paths in Ollama's shape, `{"error": "<message>"}` (what its clients
 * read), with our stable code beside it in `code`.
 */
export function sendError(res: ServerResponse, err: unknown, shape: "forge" | "ollama" = "forge"): void {
  const { status, body } = errorBody(err);
  if (status === 405 && err instanceof HttpError && err.details?.headers) {
    res.setHeader("allow", (err.details.headers as Record<string, string>).allow!);
  }
  sendJson(res, status, shape === "ollama" ? { error: body.error.message, code: body.error.code } : body);
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
