import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storedText } from "../../src/collector/chain.js";
import { type Collector, startCollector } from "../../src/collector/server.js";
import { canonicalJson, sha256Hex } from "../../src/protocol/canonical.js";
import { CloseCodes } from "../../src/protocol/messages.js";
import {
  isPlainBody,
  RECORD_KINDS,
  recordBodyJson,
  type StoredRecord,
  StoredRecordSchema,
} from "../../src/protocol/record.js";
import { decodeRecordsMessage, encodeTextBatch, isCanonical } from "../../src/protocol/text-batch.js";
import { buildInput, mostly, recordInputArbitrary } from "../support/record-arbitrary.js";
import { connectHost, getJson, storageBackends, TestHost } from "./helpers.js";

/** A record as the protocol-2 shipper sends it: its canonical body text. */
function wire(r: StoredRecord) {
  const { prev_hash, hash, ...body } = r;
  return { prev_hash, hash, body: recordBodyJson(body) };
}

/** A wire record whose body is `text` and whose hash covers that text (a producer that hashed it). */
function rehashed(r: StoredRecord, text: string) {
  return { prev_hash: r.prev_hash, hash: sha256Hex(r.prev_hash + text), body: text };
}

const msg = (from_seq: number, texts: unknown[]) => ({ type: "records", from_seq, texts });

/** A protocol-4 frame as the shipper writes it (each item's body text embedded as JSON), parsed. */
function bodiesFrame(items: { prev_hash: string; hash: string; body: string }[], from = 1) {
  const rows = items.map((w, i) => ({ seq: from + i, ...w }));
  return JSON.parse(encodeTextBatch(rows, 1 << 30, "bodies").frame) as Record<string, unknown>;
}

describe("isCanonical", () => {
  it("agrees with canonicalJson on any JSON text, canonical or not", () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.boolean(), (v, canonical) => {
        const text = canonical ? canonicalJson(v) : JSON.stringify(v);
        const parsed = JSON.parse(text);
        let expected: boolean;
        try {
          expected = canonicalJson(parsed) === text;
        } catch {
          expected = false;
        }
        expect(isCanonical(parsed, text)).toBe(expected);
        if (canonical) expect(isCanonical(parsed, text)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("refuses other spellings of the same value and accepts integer-like keys in code-unit order", () => {
    const no = [
      '{"b":1,"a":2}',
      '{"a": 1}',
      '{"a":1.0}',
      '{"a":"\\u0041"}',
      '{"a":1,"a":1}',
      '{"a":-0}',
      "1e400",
    ];
    for (const t of no) expect(isCanonical(JSON.parse(t), t), t).toBe(false);
    const yes = ['{"10":1,"9":2}', '{"a":[{"x":1,"y":null}],"b":"\\n"}', "[]", '"\\u001f"'];
    for (const t of yes) expect(isCanonical(JSON.parse(t), t), t).toBe(true);
  });
});

describe("isPlainBody (the collector's hand check of a record body, zod deciding the rest)", () => {
  const BodySchema = StoredRecordSchema.omit({ prev_hash: true, hash: true });
  const body = fc
    .record({
      input: recordInputArbitrary,
      host_id: mostly(fc.constantFrom("host-a", "h"), fc.constant(""), fc.constant(3), fc.constant(null)),
      seq: mostly(
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.constantFrom(0, -1, 1.5, 2 ** 53, 2 ** 60, "7", Number.NaN),
      ),
      withHost: mostly(fc.constant(true), fc.constant(false)),
      withSeq: mostly(fc.constant(true), fc.constant(false)),
    })
    .map(({ input, host_id, seq, withHost, withSeq }) => {
      const v = buildInput(input);
      if (typeof v !== "object" || v === null) return v;
      const out = { ...(v as Record<string, unknown>) };
      if (withHost) out.host_id = host_id;
      if (withSeq) out.seq = seq;
      return out;
    });
  /** Valid bodies of every shape the schema allows, for the mutations below to break one field of. */
  const hex = fc.constantFrom("ab".repeat(32), "0".repeat(64));
  const at = fc.integer({ min: 0, max: 4e12 }).map((ms) => new Date(ms).toISOString());
  const clean = fc.record(
    {
      kind: fc.constantFrom(...RECORD_KINDS),
      session_id: fc.string({ minLength: 1, maxLength: 20 }),
      action_id: fc.string({ minLength: 1, maxLength: 20 }),
      timestamp: at,
      prompt_hash: fc.oneof(fc.constant(null), hex),
      prompt: fc.oneof(fc.constant(null), fc.string()),
      proposed_action: fc.jsonValue(),
      evaluation: fc.constantFrom("ALLOW", "DENY", "ESCALATE", null),
      policy_matched: fc.record({
        bundle: fc.oneof(
          fc.constant(null),
          fc.record({ id: fc.string(), version: fc.integer(), sha256: fc.string() }),
        ),
        rules: fc.array(
          fc.record({
            rule_id: fc.string(),
            effect: fc.constantFrom("allow", "deny", "escalate"),
            risk: fc.double({ noNaN: true, noDefaultInfinity: true }),
          }),
          { maxLength: 3 },
        ),
      }),
      composition_state: fc.jsonValue(),
      execution_result: fc.oneof(fc.constant(null), fc.jsonValue()),
      principal_review: fc.oneof(
        fc.constant(null),
        fc.record({
          decision: fc.constantFrom("approve", "deny", "expired", "agent-restart"),
          reviewer: fc.string(),
          at,
          reason: fc.oneof(fc.constant(null), fc.string()),
        }),
      ),
      latency_ms: fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }),
      principal: fc.oneof(fc.constant(null), fc.string()),
      host_id: fc.string({ minLength: 1, maxLength: 10 }),
      seq: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    },
    {
      requiredKeys: [
        "kind",
        "session_id",
        "action_id",
        "timestamp",
        "prompt_hash",
        "proposed_action",
        "evaluation",
        "policy_matched",
        "composition_state",
        "execution_result",
        "principal_review",
        "latency_ms",
        "host_id",
        "seq",
      ],
    },
  );
  /** A place in a body: a top-level key, or a key of policy_matched, its bundle, its first rule, principal_review. */
  const paths = [
    ...Object.keys(BodySchema.shape).map((k) => [k]),
    ["policy_matched", "bundle"],
    ["policy_matched", "rules"],
    ["policy_matched", "bundle", "version"],
    ["policy_matched", "bundle", "id"],
    ["policy_matched", "rules", "0", "risk"],
    ["policy_matched", "rules", "0", "effect"],
    ["principal_review", "at"],
    ["principal_review", "reason"],
    ["principal_review", "decision"],
    ["extra"],
  ];
  const odd = fc.oneof(
    fc.constant(undefined), // the key deleted
    fc.constantFrom(null, "", "x", 0, -1, 1.5, 2 ** 53, true, [], {}, "ALLOW", "2026-01-01T00:00:00.000Z"),
    fc.jsonValue(),
  );
  /** `v` with the value at `path` replaced by `to` (deleted when undefined), on a copy. */
  const mutate = (v: unknown, path: string[], to: unknown): unknown => {
    if (typeof v !== "object" || v === null) return v;
    const copy: Record<string, unknown> = Array.isArray(v) ? ([...v] as never) : { ...v };
    const [k, ...rest] = path as [string, ...string[]];
    if (rest.length > 0) copy[k] = mutate(copy[k], rest, to);
    else if (to === undefined) delete copy[k];
    else copy[k] = to;
    return copy;
  };

  it("never accepts a body zod refuses, on generated bodies and on mutations of them, as parsed from JSON or not", () => {
    let plain = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc.oneof({ arbitrary: clean as fc.Arbitrary<unknown>, weight: 2 }, { arbitrary: body, weight: 1 }),
        fc.array(fc.tuple(fc.constantFrom(...paths), odd), { maxLength: 2 }),
        fc.boolean(),
        (b, edits, viaJson) => {
          let v = b;
          for (const [path, to] of edits) v = mutate(v, path, to);
          if (viaJson) {
            // As the collector gets it: the frame's JSON.parse (NaN becomes null, undefined keys go).
            const text = JSON.stringify(v);
            if (text === undefined) return;
            v = JSON.parse(text);
          }
          const zod = BodySchema.safeParse(v).success;
          if (isPlainBody(v)) {
            plain++;
            expect(zod).toBe(true);
          } else if (!zod) refused++;
        },
      ),
      { numRuns: 5000 },
    );
    // Not vacuous: the hand check took a good share of the bodies, and zod refused many others.
    expect(plain).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(500);
  });

  it("takes the body the shipper sends for an ordinary record", () => {
    const [r] = new TestHost("h-plain").extend(1);
    const { prev_hash: _p, hash: _h, ...b } = r!;
    expect(isPlainBody(JSON.parse(recordBodyJson(b)))).toBe(true);
  });
});

describe("decodeRecordsMessage", () => {
  const h = new TestHost("decode-host");
  const recs = h.extend(3);

  it("protocol 4: bodies parsed with the frame decode to the same records and texts as protocol 2", () => {
    const frame = bodiesFrame(recs.map(wire));
    expect(Array.isArray(frame.bodies) && typeof (frame.bodies as { body: unknown }[])[0]!.body).toBe(
      "object",
    );
    const d4 = decodeRecordsMessage(frame);
    expect(d4).toEqual(decodeRecordsMessage(msg(1, recs.map(wire))));
    if (!d4.ok) throw new Error(d4.reason);
    for (const r of d4.records) expect(sha256Hex(r.prev_hash + r.body)).toBe(r.hash);
  });

  it("protocol 4: a body not stored canonically yields the canonical text, which its hash does not cover", () => {
    const r = recs[0]!;
    const { prev_hash: _p, hash: _h, ...body } = r;
    const reordered = JSON.stringify(body); // insertion order: the agent's hash covers other text
    const d = decodeRecordsMessage(bodiesFrame([rehashed(r, reordered)]));
    if (!d.ok) throw new Error(d.reason);
    expect(d.records[0]!.body).toBe(wire(r).body);
    expect(sha256Hex(d.records[0]!.prev_hash + d.records[0]!.body)).not.toBe(d.records[0]!.hash);
  });

  it("protocol 4: refuses malformed bodies with a reason", () => {
    const w = wire(recs[0]!);
    const cases: Array<[unknown, RegExp]> = [
      [{ type: "records", from_seq: 1, bodies: [] }, /'bodies' must be a non-empty array/],
      [bodiesFrame([{ ...w, body: '"text"' }]), /bodies\[0\]\.body is not an object/],
      [bodiesFrame([{ ...w, body: "[1]" }]), /bodies\[0\]\.body is not an object/],
      [bodiesFrame([{ ...w, hash: "XYZ" }]), /bodies\[0\]\.hash is not 64/],
      [bodiesFrame([{ ...w, body: canonicalJson({ ...JSON.parse(w.body), extra: 1 }) }]), /record schema/],
      // 1e400 parses to Infinity: refused by the schema's number, else as having no canonical form.
      [
        bodiesFrame([{ ...w, body: w.body.replace(/"latency_ms":[^,}]+/, '"latency_ms":1e400') }]),
        /record schema|no canonical/,
      ],
      [bodiesFrame([w], 2), /from_seq/],
    ];
    for (const [m, re] of cases) {
      const d = decodeRecordsMessage(m as Record<string, unknown>);
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.reason).toMatch(re);
    }
  });

  it("keeps each canonical body text as-is, and storedText parses back to the record", () => {
    const d = decodeRecordsMessage(msg(1, recs.map(wire)));
    if (!d.ok) throw new Error(d.reason);
    expect(d.records.map((r) => r.seq)).toEqual([1, 2, 3]);
    for (const [i, r] of d.records.entries()) {
      expect(r.body).toBe(wire(recs[i]!).body);
      expect(JSON.parse(storedText(r))).toEqual(recs[i]);
    }
  });

  it("accepts protocol-1 record objects with the same result", () => {
    const d1 = decodeRecordsMessage({ type: "records", from_seq: 1, records: recs });
    const d2 = decodeRecordsMessage(msg(1, recs.map(wire)));
    expect(d1).toEqual(d2);
  });

  it("refuses a body that is not canonical even when its hash covers it", () => {
    const r = recs[0]!;
    const { prev_hash: _p, hash: _h, ...body } = r;
    const spaced = JSON.stringify(body, null, 1);
    const reordered = JSON.stringify(body); // insertion order: not sorted
    for (const text of [spaced, reordered]) {
      const d = decodeRecordsMessage(msg(1, [rehashed(r, text)]));
      expect(d).toEqual({ ok: false, reason: "texts[0].body is not canonical JSON" });
    }
  });

  it("refuses malformed texts with a reason", () => {
    const w = wire(recs[0]!);
    const cases: Array<[unknown, RegExp]> = [
      [msg(1, []), /non-empty array/],
      [msg(1, [{ ...w, hash: "XYZ" }]), /hash is not 64/],
      [msg(1, [{ ...w, body: 7 }]), /body is not a string/],
      [msg(1, [{ ...w, body: "{" }]), /body is not JSON/],
      [msg(1, [rehashed(recs[0]!, canonicalJson({ ...JSON.parse(w.body), extra: 1 }))]), /record schema/],
      [msg(2, [w]), /from_seq/],
      [{ ...msg(1, [w]), records: recs }, /only one of/],
      [{ ...msg(1, [w]), bodies: [w] }, /only one of/],
    ];
    for (const [m, re] of cases) {
      const d = decodeRecordsMessage(m as Record<string, unknown>);
      expect(d.ok).toBe(false);
      if (!d.ok) expect(d.reason).toMatch(re);
    }
  });
});

const backends = storageBackends("forge-rtext");

describe.each(backends)("protocol-2 texts into a collector over %s", (_name, make) => {
  let col: Collector;
  let cleanup: () => Promise<void>;
  let n = 0;
  const host = () => new TestHost(`rtext-${process.pid}-${++n}`);

  beforeAll(async () => {
    const b = await make();
    cleanup = b.cleanup;
    col = await startCollector({ database: b.database, listen: "127.0.0.1:0", authTimeoutMs: 2000 });
  });
  afterAll(async () => {
    await col?.close();
    await cleanup?.();
  });

  it("offers protocol 2, commits, acks, dedups and serves the records", async () => {
    const h = host();
    const recs = h.extend(10);
    const { c } = await connectHost(col.url, h);
    c.send(msg(1, recs.slice(0, 6).map(wire)));
    expect(await c.ackAtLeast(6)).toBe(6);
    c.send(msg(4, recs.slice(3).map(wire))); // 4..6 again, then 7..10
    expect(await c.ackAtLeast(10)).toBe(10);
    const got = await getJson(`${col.httpUrl}/v1/records?host_id=${h.hostId}`);
    expect(got.body.records).toEqual(recs);
    c.close();
  });

  it("offers protocol 4 or later and takes bodies as JSON: commits, acks, dedups; a non-canonical body is a hash mismatch", async () => {
    const h = host();
    const recs = h.extend(8);
    const { c, challenge } = await connectHost(col.url, h);
    expect((challenge as { protocol: number }).protocol).toBeGreaterThanOrEqual(4);
    c.send(bodiesFrame(recs.slice(0, 5).map(wire)));
    expect(await c.ackAtLeast(5)).toBe(5);
    c.send(bodiesFrame(recs.slice(3, 7).map(wire), 4)); // 4..5 again, then 6..7
    expect(await c.ackAtLeast(7)).toBe(7);
    const { prev_hash: _p, hash: _h, ...body } = recs[7]!;
    c.send(bodiesFrame([rehashed(recs[7]!, JSON.stringify(body))], 8));
    expect((await c.closed).code).toBe(CloseCodes.CHAIN_FORK);
    const got = await getJson(`${col.httpUrl}/v1/records?host_id=${h.hostId}`);
    expect(got.body.records).toEqual(recs.slice(0, 7));
  });

  it("a tampered body text is a hash mismatch (4006, alert); the good prefix is kept", async () => {
    const h = host();
    const recs = h.extend(3);
    const { c } = await connectHost(col.url, h);
    const bad = wire(recs[2]!);
    bad.body = bad.body.replace('"ALLOW"', '"DENY"');
    c.send(msg(1, [wire(recs[0]!), wire(recs[1]!), bad]));
    expect(await c.ackAtLeast(2)).toBe(2);
    expect((await c.closed).code).toBe(CloseCodes.CHAIN_FORK);
    const alerts = await getJson(`${col.httpUrl}/v1/alerts?host_id=${h.hostId}`);
    expect(alerts.body.alerts.map((a: { code: string }) => a.code)).toEqual(["hash-mismatch"]);
    const got = await getJson(`${col.httpUrl}/v1/records?host_id=${h.hostId}`);
    expect(got.body.records).toEqual(recs.slice(0, 2));
  });

  it("a burst of records messages (coalesced or not): the good ones are committed and acked, then a bad frame or a gap is refused", async () => {
    const h = host();
    const recs = h.extend(40);
    const { c } = await connectHost(col.url, h);
    // Sent in one go, so that they queue up at the collector behind one another.
    for (let i = 0; i < 30; i += 10) c.send(msg(i + 1, recs.slice(i, i + 10).map(wire)));
    c.send(msg(31, [{ ...wire(recs[30]!), body: "{" }]));
    expect(await c.ackAtLeast(30)).toBe(30);
    expect(await c.closed).toEqual({ code: CloseCodes.BAD_FRAME, reason: "texts[0].body is not JSON" });
    const r2 = await connectHost(col.url, h);
    expect(r2.welcome).toMatchObject({ seq: 30 });
    r2.c.send(msg(31, recs.slice(30, 35).map(wire)));
    r2.c.send(msg(37, recs.slice(36, 40).map(wire))); // seq 36 missing
    expect(await r2.c.ackAtLeast(35)).toBe(35);
    expect((await r2.c.closed).code).toBe(CloseCodes.CHAIN_GAP);
    const got = await getJson(`${col.httpUrl}/v1/records?host_id=${h.hostId}`);
    expect(got.body.records).toEqual(recs.slice(0, 35));
  });

  it("a non-canonical body, even with a hash over it, is refused as a bad frame and nothing is stored", async () => {
    const h = host();
    const [r] = h.extend(1);
    const { prev_hash: _p, hash: _h, ...body } = r!;
    const { c } = await connectHost(col.url, h);
    c.send(msg(1, [rehashed(r!, JSON.stringify(body))]));
    const closed = await c.closed;
    expect(closed).toEqual({ code: CloseCodes.BAD_FRAME, reason: "texts[0].body is not canonical JSON" });
    const got = await getJson(`${col.httpUrl}/v1/records?host_id=${h.hostId}`);
    expect(got.body.records).toEqual([]);
  });
});
