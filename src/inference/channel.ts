import { Codes, ForgeError } from "../errors.js";

/**
 * A one-producer, one-consumer queue that turns callbacks into an async iterable. The consumer
 * takes everything buffered at once, so a slow reader gets fewer, larger pieces instead of lag.
 */
export class Channel {
  private buf: string[] = [];
  private wake: (() => void) | null = null;
  private ended = false;
  private error: unknown = undefined;

  push(text: string): void {
    this.buf.push(text);
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  fail(err: unknown): void {
    this.error = err ?? new ForgeError(Codes.INFERENCE_FAILED, "channel failed");
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string> {
    for (;;) {
      if (this.buf.length > 0) {
        const text = this.buf.length === 1 ? this.buf[0]! : this.buf.join("");
        this.buf = [];
        yield text;
        continue;
      }
      if (this.error !== undefined) throw this.error;
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}
