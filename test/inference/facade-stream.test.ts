import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { Reply, SSE } from "../../src/inference/facade-stream.js";

/**
 * The facade's stream writer: token lines are coalesced to spare wake-ups, but the first token of
 * a stream never waits, whatever was written just before it (the OpenAI role line, the Responses
 * API's opening events): a held first token was the facade's whole time-to-first-token cost.
 */
function fakeResponse() {
  const writes: string[] = [];
  const res = {
    writableEnded: false,
    writeHead: () => res,
    flushHeaders: () => {},
    write: (d: string) => {
      writes.push(d);
      return true;
    },
    end: (d?: string) => {
      if (d) writes.push(d);
      res.writableEnded = true;
    },
  };
  return { res: res as unknown as ServerResponse, writes };
}

describe("Reply (facade stream writer)", () => {
  it("a queued opening line leaves with the first token, in one write, at once", () => {
    const { res, writes } = fakeResponse();
    const out = new Reply(res, true, SSE);
    out.queue("data: role\n\n");
    expect(writes).toEqual([]);
    void out.token("data: a\n\n");
    expect(writes).toEqual(["data: role\n\ndata: a\n\n"]);
  });

  it("the first token is written at once even right after another write", () => {
    const { res, writes } = fakeResponse();
    const out = new Reply(res, true, SSE);
    void out.raw("event: response.output_item.added\n\n");
    void out.token("event: response.output_text.delta\n\n");
    expect(writes).toEqual([
      "event: response.output_item.added\n\n",
      "event: response.output_text.delta\n\n",
    ]);
  });

  it("what is held is written by end()", async () => {
    const { res, writes } = fakeResponse();
    const out = new Reply(res, true, SSE);
    void out.token("data: a\n\n");
    out.queue("data: b\n\n");
    await out.end("data: [DONE]\n\n");
    expect(writes.join("")).toBe("data: a\n\ndata: b\n\ndata: [DONE]\n\n");
  });
});
