import type { IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { readJson } from "../../src/http.js";

/** A request body arriving in the given chunks (a real stream; readJson only reads headers and data). */
function body(chunks: Buffer[], headers: Record<string, string> = {}): IncomingMessage {
  const r = Readable.from(chunks, { objectMode: false }) as unknown as IncomingMessage;
  (r as { headers: Record<string, string> }).headers = headers;
  return r;
}

const code = (p: Promise<unknown>) =>
  p.then(
    () => "resolved",
    (e: { code?: string; status?: number; message: string }) => `${e.status} ${e.code}: ${e.message}`,
  );

describe("readJson", () => {
  it("parses a body in one chunk and the same body split anywhere, multi-byte characters included", async () => {
    const text = JSON.stringify({ session_id: "s", note: "é→😀" });
    const bytes = Buffer.from(text, "utf8");
    expect(await readJson(body([bytes]), 1024)).toEqual(JSON.parse(text));
    for (let cut = 1; cut < bytes.length; cut++) {
      const parts = [bytes.subarray(0, cut), bytes.subarray(cut)];
      expect(await readJson(body(parts), 1024)).toEqual(JSON.parse(text));
    }
  });

  it("refuses an empty or blank body, malformed JSON and an oversized body with coded errors", async () => {
    expect(await code(readJson(body([]), 1024))).toMatch(/^400 FORGE_BAD_REQUEST: request body must be/);
    expect(await code(readJson(body([Buffer.from(" \r\n\t ")]), 1024))).toMatch(
      /^400 FORGE_BAD_REQUEST: request body must be/,
    );
    expect(await code(readJson(body([Buffer.from('{"a":')]), 1024))).toMatch(
      /^400 FORGE_BAD_REQUEST: malformed JSON/,
    );
    expect(await code(readJson(body([Buffer.alloc(600, 32), Buffer.alloc(600, 32)]), 1024))).toMatch(
      /^413 FORGE_PAYLOAD_TOO_LARGE/,
    );
    expect(await code(readJson(body([Buffer.from("{}")], { "content-length": "2048" }), 1024))).toMatch(
      /^413 FORGE_PAYLOAD_TOO_LARGE/,
    );
  });
});
