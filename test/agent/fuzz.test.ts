import { connect } from "node:net";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reviewHeaders, startTestAgent, type TestAgent } from "./helpers.js";

/**
 * Fuzzing the socket API with malformed requests over the real Unix socket. Every request is
 * malformed by construction (unknown route, wrong method, bad body, bad parameter), so every
 * answer must be a JSON error with a FORGE_* code; afterwards the daemon must still answer.
 */

const MAX_BODY = 2048;
const ERROR_BODY = /^FORGE_[A-Z_]+$/;

interface Req {
  family: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  expect: number[];
}

const valid = { session_id: "fuzz", proposed_action: { kind: "shell", command: "echo hi" } };
const validText = JSON.stringify(valid);

const seg = fc.string({ maxLength: 24 }).map((s) => encodeURIComponent(s) || "x");
const badPercent = fc.constantFrom("%", "%E0%A4%A", "%zz", "%C3%28", "a%2");
const headerName = fc.stringMatching(/^x-[a-z0-9-]{1,20}$/);
const headerValue = fc.stringMatching(/^[\x20-\x7e]{0,64}$/);
const headers = fc.dictionary(headerName, headerValue, { maxKeys: 4 });

/** JSON values that are wrong for a given field. */
const notString = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.object({ maxDepth: 1 }),
);
const badSessionId = fc.oneof(notString, fc.constant(""), fc.constant("s".repeat(257)));
const badAction = fc.oneof(
  notString,
  fc.record({
    kind: fc
      .string({ maxLength: 12 })
      .filter(
        (k) => !["shell", "file.read", "file.write", "file.delete", "http", "email.send", "tool"].includes(k),
      ),
  }),
  fc.record({
    kind: fc.constant("shell"),
    command: fc.oneof(fc.constant(""), fc.integer(), fc.constant(null)),
  }),
  fc.record({
    kind: fc.constant("http"),
    method: fc.constant("GET"),
    url: fc.string({ maxLength: 10 }).filter((u) => !u.includes(":")),
  }),
  fc.record({ kind: fc.constant("shell"), command: fc.constant("echo"), surprise: fc.integer() }),
);
const badExecute = fc.oneof(
  fc.integer(),
  fc.string({ maxLength: 5 }),
  fc.constant(null),
  fc.object({ maxDepth: 0 }),
);

const badProposeBody: fc.Arbitrary<{ body: string; expect: number[] }> = fc.oneof(
  // garbage text (mostly not JSON; if it is JSON, it is not a proposal)
  fc.string({ maxLength: 200 }).map((s) => ({ body: s, expect: [400] })),
  fc.uint8Array({ maxLength: 200 }).map((b) => ({ body: Buffer.from(b).toString("latin1"), expect: [400] })),
  // valid JSON cut short
  fc
    .integer({ min: 0, max: validText.length - 1 })
    .map((k) => ({ body: validText.slice(0, k), expect: [400] })),
  // one field of the wrong type
  badSessionId.map((v) => ({ body: JSON.stringify({ ...valid, session_id: v }), expect: [400] })),
  badAction.map((v) => ({ body: JSON.stringify({ ...valid, proposed_action: v }), expect: [400] })),
  badExecute.map((v) => ({ body: JSON.stringify({ ...valid, execute: v }), expect: [400] })),
  fc
    .string({ minLength: 1, maxLength: 10 })
    .filter((k) => !["session_id", "prompt", "proposed_action", "execute", "__proto__"].includes(k))
    .map((k) => ({
      body: JSON.stringify({ ...valid, [k]: 1 }),
      expect: [400],
    })),
  // JSON of the wrong shape
  fc
    .oneof(fc.array(fc.integer()), fc.integer(), fc.constant(null), fc.boolean())
    .map((v) => ({ body: JSON.stringify(v), expect: [400] })),
  // huge fields
  fc.integer({ min: MAX_BODY, max: MAX_BODY * 4 }).map((n) => ({
    body: JSON.stringify({ ...valid, prompt: "p".repeat(n) }),
    expect: [413],
  })),
);

const ROUTES: [string, string[]][] = [
  ["/v1/actions", ["POST"]],
  ["/v1/actions/abc", ["GET"]],
  ["/v1/actions/abc/result", ["POST"]],
  ["/v1/reviews", ["GET"]],
  ["/v1/reviews/abc", ["POST"]],
  ["/v1/sessions/abc/trace", ["GET"]],
  ["/v1/health", ["GET"]],
  ["/metrics", ["GET"]],
];
const METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];

const request: fc.Arbitrary<Req> = fc.oneof(
  // unknown routes
  fc
    .tuple(
      fc.constantFrom(...METHODS.filter((m) => m !== "HEAD")),
      fc.array(seg, { minLength: 1, maxLength: 4 }),
      headers,
    )
    .map(([method, segs, h]) => ({
      family: "route",
      method,
      path: `/zz${segs.join("/")}`,
      headers: h,
      expect: [404],
    })),
  fc.tuple(fc.constantFrom("GET", "POST"), seg, headers).map(([method, s, h]) => ({
    family: "route-v1",
    method,
    path: `/v1/${s}/${s}/${s}/x`,
    headers: h,
    expect: [404],
  })),
  // known routes, wrong method
  fc
    .tuple(fc.constantFrom(...ROUTES), fc.constantFrom(...METHODS.filter((m) => m !== "HEAD")), headers)
    .filter(([[, allowed], m]) => !allowed.includes(m))
    .map(([[path], method, h]) => ({ family: "method", method, path, headers: h, expect: [405] })),
  // bad proposals
  fc.tuple(badProposeBody, headers).map(([b, h]) => ({
    family: "propose",
    method: "POST",
    path: "/v1/actions",
    headers: { ...h, "content-type": "application/json" },
    body: b.body,
    expect: b.expect,
  })),
  // reviews, results and lookups of actions that do not exist, or with bad bodies/params
  fc
    .tuple(
      seg,
      fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.constant('{"decision":"approve"}'),
        fc.constant('{"decision":"deny","reason":5}'),
      ),
      headers,
    )
    .map(([id, body, h]) => ({
      family: "review",
      method: "POST",
      path: `/v1/reviews/${id}`,
      headers: h,
      body,
      expect: [400, 404],
    })),
  fc
    .tuple(seg, fc.oneof(fc.string({ maxLength: 80 }), fc.json({ maxDepth: 2 })), headers)
    .map(([id, body, h]) => ({
      family: "result",
      method: "POST",
      path: `/v1/actions/${id}/result`,
      headers: h,
      body,
      expect: [400, 404],
    })),
  fc
    .tuple(seg, fc.oneof(fc.string({ maxLength: 12 }), fc.integer().map(String)), headers)
    .map(([id, wait, h]) => ({
      family: "get",
      method: "GET",
      path: `/v1/actions/f-${id}?wait=${encodeURIComponent(wait)}`,
      headers: h,
      expect: [400, 404],
    })),
  fc
    .tuple(badPercent, fc.constantFrom("/v1/actions/", "/v1/reviews/", "/v1/sessions/"))
    .map(([p, prefix]) => ({
      family: "percent",
      method: prefix === "/v1/reviews/" ? "POST" : "GET",
      path: `${prefix}${p}${prefix === "/v1/sessions/" ? "/trace" : ""}`,
      headers: {},
      body: prefix === "/v1/reviews/" ? '{"decision":"deny"}' : undefined,
      expect: [400],
    })),
);

describe("socket API fuzz", () => {
  let t: TestAgent;
  beforeAll(async () => {
    t = await startTestAgent({
      api: {
        max_body_bytes: MAX_BODY,
        max_header_bytes: 4096,
        headers_timeout_ms: 1000,
        request_timeout_ms: 1000,
      },
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  it("answers 10,000 malformed requests with coded JSON errors and stays up", async () => {
    const seen = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        // Reviewer routes need the review token: present it, so the body checks behind it are fuzzed.
        const headers = r.path.startsWith("/v1/reviews") ? { ...r.headers, ...reviewHeaders(t) } : r.headers;
        const res = await t.client.call(r.method, r.path, r.body, headers);
        seen.set(r.family, (seen.get(r.family) ?? 0) + 1);
        if (!r.expect.includes(res.status) || !ERROR_BODY.test(res.body?.error?.code ?? "")) {
          throw new Error(
            `${r.method} ${r.path} ${JSON.stringify(r.body)?.slice(0, 200)} -> ${res.status} ${res.text.slice(0, 200)}`,
          );
        }
        expect(typeof res.body.error.message).toBe("string");
      }),
      { numRuns: 10_000 },
    );
    // Every family was exercised.
    expect([...seen.keys()].sort()).toEqual([
      "get",
      "method",
      "percent",
      "propose",
      "result",
      "review",
      "route",
      "route-v1",
    ]);
    expect((await t.client.get("/v1/health")).body.status).toBe("ok");
    // Nothing malformed reached the evidence: only the start-up policy record is chained.
    expect((await t.client.get("/v1/health")).body.evidence.lastSeq).toBe(1);
  });

  it("answers malformed HTTP at the byte level with a JSON error, or closes", async () => {
    const raw = fc.oneof(
      fc
        .uint8Array({ minLength: 1, maxLength: 300 })
        .map((b) => Buffer.concat([Buffer.from([1]), Buffer.from(b), Buffer.from("\r\n\r\n")])),
      fc
        .constantFrom(
          "GET / HTTP/9.9\r\n\r\n",
          "GET /v1/health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
          "POST /v1/actions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
          "POST /v1/actions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
          "GET /v1/health HTTP/1.1\r\nHost: x\r\nX: \u0000\r\n\r\n",
        )
        .map((s) => Buffer.from(s, "latin1")),
      fc
        .integer({ min: 5000, max: 20000 })
        .map((n) => Buffer.from(`GET /v1/health HTTP/1.1\r\nX-Big: ${"a".repeat(n)}\r\n\r\n`)),
    );
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(raw, async (bytes) => {
        const reply = await rawExchange(t.agent.socketPath, bytes);
        if (reply.length === 0) return; // closed without an answer is allowed only at the byte level
        const m = /^HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(reply);
        if (m === null) throw new Error(`not an HTTP answer: ${JSON.stringify(reply.slice(0, 120))}`);
        expect(Number(m[1])).toBeGreaterThanOrEqual(400);
        expect(JSON.parse(m[3]!).error.code).toMatch(ERROR_BODY);
        statuses.set(Number(m[1]), (statuses.get(Number(m[1])) ?? 0) + 1);
      }),
      { numRuns: 300 },
    );
    // Most were answered (garbage → 400, oversized headers → 431), not just dropped.
    expect(statuses.get(400)! + statuses.get(431)!).toBeGreaterThan(200);
    expect((await t.client.get("/v1/health")).status).toBe(200);
  });

  it("answers a slow client with 408 and a JSON error", async () => {
    const reply = await rawExchange(
      t.agent.socketPath,
      Buffer.from('POST /v1/actions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"session'),
      5000,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4)).error.code).toBe("FORGE_TIMEOUT");
    const headersOnly = await rawExchange(
      t.agent.socketPath,
      Buffer.from("GET /v1/health HTTP/1.1\r\nHost: x\r\n"),
      5000,
    );
    expect(headersOnly).toMatch(/^HTTP\/1\.1 408 /);
    expect((await t.client.get("/v1/health")).status).toBe(200);
  });
});

/** Writes raw bytes to the socket and collects everything until the server closes (or the timeout). */
function rawExchange(path: string, bytes: Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(path);
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(Buffer.concat(chunks).toString("latin1"));
    };
    const timer = setTimeout(done, timeoutMs);
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("close", done);
    s.on("error", done);
    s.write(bytes);
  });
}
