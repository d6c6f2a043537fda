import { createHash, type Hash } from "node:crypto";
import { type Redaction, redactSecrets } from "./redact.js";

/** What a record keeps of an output stream: its hash and size, and a bounded verbatim excerpt. */
export interface Captured {
  sha256: string;
  bytes: number;
  /**
   * The first `excerpt_bytes` bytes, as UTF-8 (a split multi-byte character becomes U+FFFD), with
   * known secret formats redacted (src/agent/executors/redact.ts).
   */
  excerpt: string;
  truncated: boolean;
  /** What was cut out of the excerpt; absent when nothing was. */
  redacted?: Redaction[];
}

/** Hashes every byte it is fed and keeps only the first `excerptBytes`. Memory is O(excerptBytes). */
export class Capture {
  private readonly hash: Hash = createHash("sha256");
  private readonly head: Buffer[] = [];
  private kept = 0;
  bytes = 0;

  constructor(private readonly excerptBytes: number) {}

  push(chunk: Buffer): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (this.kept < this.excerptBytes) {
      const part = chunk.subarray(0, this.excerptBytes - this.kept);
      this.head.push(part);
      this.kept += part.length;
    }
  }

  private done: Captured | undefined;

  /** The summary; later calls return the same object (the hash is final). */
  result(): Captured {
    if (this.done === undefined) {
      const { text, redacted } = redactSecrets(Buffer.concat(this.head).toString("utf8"));
      this.done = {
        sha256: this.hash.digest("hex"),
        bytes: this.bytes,
        excerpt: text,
        truncated: this.bytes > this.kept,
        ...(redacted.length > 0 ? { redacted } : {}),
      };
    }
    return this.done;
  }
}

/** Captures a whole buffer at once. */
export function captureBuffer(buf: Buffer, excerptBytes: number): Captured {
  const c = new Capture(excerptBytes);
  c.push(buf);
  return c.result();
}
