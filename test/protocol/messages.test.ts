import { describe, expect, it } from "vitest";
import {
  AckSchema,
  ChallengeSchema,
  CloseCodes,
  MessageSchemas,
  RecordTextsSchema,
} from "../../src/protocol/messages.js";
import { GENESIS_HASH, recordBodyJson, recordHash, type StoredRecord } from "../../src/protocol/record.js";
import { decodeRecordsMessage, encodeObjectBatch, encodeTextBatch } from "../../src/protocol/text-batch.js";
import { rec } from "../evidence/helpers.js";

/** A chain of `n` stored records of host-a. */
function chain(n: number): StoredRecord[] {
  const out: StoredRecord[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const body = { ...rec(i), host_id: "host-a", seq: i };
    const r: StoredRecord = { ...body, prev_hash: prev, hash: recordHash(prev, body) };
    out.push(r);
    prev = r.hash;
  }
  return out;
}

const rows = (recs: StoredRecord[]) =>
  recs.map((r) => {
    const { prev_hash, hash, ...body } = r;
    return { seq: r.seq, prev_hash, hash, body: recordBodyJson(body) };
  });

describe("records batches: what the shipper encodes, the collector decodes", () => {
  it("a text batch matches its schema and decodes to the same records", () => {
    const recs = chain(5);
    const { frame, last } = encodeTextBatch(rows(recs), 1 << 20);
    expect(last).toBe(5);
    const msg = JSON.parse(frame);
    expect(RecordTextsSchema.safeParse(msg).success).toBe(true);
    const d = decodeRecordsMessage(msg);
    expect(d.ok && d.records.map((r) => r.hash)).toEqual(recs.map((r) => r.hash));
  });

  it("a text batch stops before maxBytes (UTF-8 bytes) but always carries one record", () => {
    const recs = chain(4);
    const one = encodeTextBatch(rows(recs).slice(0, 1), 1 << 20).frame;
    const cut = encodeTextBatch(rows(recs), Buffer.byteLength(one) + 10);
    expect(cut.last).toBe(1);
    expect(encodeTextBatch(rows(recs), 1).last).toBe(1);
  });

  it("an object batch is halved until it fits, and decodes as protocol 1", () => {
    const recs = chain(8);
    const whole = encodeObjectBatch(recs, 1 << 20);
    expect(whole.last).toBe(8);
    const half = encodeObjectBatch(recs, whole.frame.length - 1);
    expect(half.last).toBe(4);
    const msg = JSON.parse(half.frame);
    expect(MessageSchemas.records.safeParse(msg).success).toBe(true);
    const d = decodeRecordsMessage(msg);
    expect(d.ok && d.records.length).toBe(4);
  });
});

describe("message schemas", () => {
  it("accept the collector's challenge and ack as docs/protocol.md writes them", () => {
    expect(ChallengeSchema.safeParse({ type: "challenge", nonce: "abc", protocol: 2 }).success).toBe(true);
    expect(AckSchema.safeParse({ type: "ack", seq: 3, hash: "a", checkpoint_seq: 0 }).success).toBe(true);
    expect(AckSchema.safeParse({ type: "ack", seq: -1 }).success).toBe(false);
  });

  it("close codes are distinct", () => {
    const codes = Object.values(CloseCodes);
    expect(new Set(codes).size).toBe(codes.length);
  });
});
