import type { ServerResponse } from "node:http";
import { sendJson } from "../http.js";
import { waitDrain } from "./facade-http.js";

/**
 * Token lines that arrive within this many ms of the previous write leave with a later one. Every
 * write wakes the reader, and on a small VM an event-loop wake-up costs tens of µs of CPU, which at
 * thousands of tokens/s slows the engine itself. The first token always goes at once, whatever
 * was written just before it (a stream's opening events must not hold it back).
 */
const COALESCE_MS = 5;
/** A held line is written by then at the latest, even if no token follows (slow or stalled model). */
const HOLD_MAX_MS = 10;

/** How a stream frames one JSON document: Ollama's NDJSON or OpenAI's server-sent events. */
export interface Framing {
  contentType: string;
  frame(json: string): string;
}

export const NDJSON: Framing = {
  contentType: "application/x-ndjson",
  frame: (json) => `${json}\n`,
};

export const SSE: Framing = {
  contentType: "text/event-stream; charset=utf-8",
  frame: (json) => `data: ${json}\n\n`,
};

/** Writes framed lines (stream) or one JSON document (no stream); headers go out with the first byte. */
export class Reply {
  started = false;
  private pending = "";
  private lastWrite = Number.NEGATIVE_INFINITY;
  /** Whether a token line has been written: until then a token never waits. */
  private tokenWritten = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly res: ServerResponse,
    private readonly stream: boolean,
    readonly framing: Framing = NDJSON,
  ) {}

  /** Sends the status and headers now (streaming); otherwise they leave with the first line. */
  open(): void {
    if (this.started || !this.stream) return;
    this.start();
    this.res.flushHeaders();
  }

  private start(): void {
    this.started = true;
    this.res.writeHead(200, {
      "content-type": this.framing.contentType,
      ...(this.framing === SSE ? { "cache-control": "no-cache" } : {}),
    });
  }

  /**
   * An already framed content line: written now if the last write is COALESCE_MS old, else held
   * for the next token (a timer writes it after HOLD_MAX_MS if none comes; with a fast model it never fires).
   */
  token(line: string): Promise<void> | undefined {
    this.pending += line;
    if (!this.tokenWritten || performance.now() - this.lastWrite >= COALESCE_MS) {
      this.tokenWritten = true;
      return this.flush();
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      if (!this.res.writableEnded) void this.flush();
    }, HOLD_MAX_MS);
    return undefined;
  }

  /** An already framed line that leaves with the next write (a stream's opening line, say). */
  queue(line: string): void {
    this.pending += line;
  }

  /** One document, framed and written now. */
  line(obj: unknown): Promise<void> | undefined {
    this.pending += this.framing.frame(JSON.stringify(obj));
    return this.flush();
  }

  /** Raw bytes (an SSE comment or terminator) written now, after what is pending. */
  raw(text: string): Promise<void> | undefined {
    this.pending += text;
    return this.flush();
  }

  /** Writes what is pending; waits only when the socket pushes back. */
  flush(): Promise<void> | undefined {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending === "" || this.res.writableEnded) return undefined;
    const data = this.pending;
    this.pending = "";
    this.lastWrite = performance.now();
    if (!this.started) this.start();
    return this.res.write(data) ? undefined : waitDrain(this.res);
  }

  /** The closing document: the last framed line plus `trailer` (stream), or the whole JSON body. */
  async last(obj: unknown, trailer = ""): Promise<void> {
    if (this.stream) {
      await this.line(obj);
      this.res.end(trailer);
    } else sendJson(this.res, 200, obj);
  }

  /** Ends a stream with `trailer` after what is pending. */
  async end(trailer = ""): Promise<void> {
    await this.flush();
    if (!this.res.writableEnded) this.res.end(trailer);
  }
}
