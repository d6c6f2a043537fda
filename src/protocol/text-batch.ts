import { canonicalJson } from "./canonical.js";
import { RecordsSchema } from "./messages.js";
import { recordBodyJson, type StoredRecord, StoredRecordSchema } from "./record.js";

/**
 * The `records` message: the shipper's encoder and the collector's decoder. Two wire forms:
 * - `texts` (protocol 2): `[{prev_hash, hash, body}]`, `body` being the canonical JSON text the
 *   hash covers, exactly as the agent stored it. Each body is parsed once, validated with the
 *   record schema, and checked to be canonical; the text itself is then what the chain check hashes
 *   and what the storage keeps, so it is never re-serialised.
 * - `records` (protocol 1): `[StoredRecord]` objects, canonicalised here (the slower path, kept
 *   for agents that predate protocol 2).
 */

/**
 * One record as the chain check and the storage see it: the envelope, the two fields the storage
 * indexes, and `body`, the canonical JSON text of the record without `hash` and `prev_hash` (the
 * text the hash covers: hash = sha256(prev_hash ‖ body)). Decoded here from a wire record; the body
 * is checked canonical, so it is stored as-is, never re-serialised.
 */
export interface ChainRecord {
  host_id: string;
  seq: number;
  prev_hash: string;
  hash: string;
  session_id: string;
  timestamp: string;
  body: string;
}

/** A parsed StoredRecord as a ChainRecord (its body canonicalised here). */
export function chainRecordOf(r: StoredRecord): ChainRecord {
  return {
    host_id: r.host_id,
    seq: r.seq,
    prev_hash: r.prev_hash,
    hash: r.hash,
    session_id: r.session_id,
    timestamp: r.timestamp,
    body: recordBodyJson(r),
  };
}

/** A stored row as the agent's store holds it: `body` is the canonical text `hash` covers. */
export interface RecordTextRow {
  seq: number;
  prev_hash: string;
  hash: string;
  body: string;
}

/** An encoded `records` frame and the seq of its last record. */
export interface EncodedBatch {
  frame: string;
  last: number;
}

/**
 * Protocol 2: the rows' canonical body texts as stored, framed by string concatenation (no
 * parse, no re-serialisation of the record), cut before `maxBytes` UTF-8 bytes (at least one
 * record). `rows` is non-empty and consecutive.
 */
export function encodeTextBatch(rows: readonly RecordTextRow[], maxBytes: number): EncodedBatch {
  const head = `{"type":"records","from_seq":${rows[0]!.seq},"texts":[`;
  let frame = head;
  let bytes = head.length + 2;
  let last = 0;
  for (const r of rows) {
    const item = `{"prev_hash":"${r.prev_hash}","hash":"${r.hash}","body":${JSON.stringify(r.body)}}`;
    // UTF-8 bytes, not string length: the collector's frame limit is in bytes.
    const n = Buffer.byteLength(item, "utf8") + 1;
    if (last !== 0 && bytes + n > maxBytes) break;
    frame += last === 0 ? item : `,${item}`;
    bytes += n;
    last = r.seq;
  }
  return { frame: `${frame}]}`, last };
}

/** Protocol 1: parsed StoredRecords, halved until the frame's length is at most `maxBytes`. */
export function encodeObjectBatch(records: StoredRecord[], maxBytes: number): EncodedBatch {
  let recs = records;
  let text = objectFrame(recs);
  while (text.length > maxBytes && recs.length > 1) {
    recs = recs.slice(0, Math.ceil(recs.length / 2));
    text = objectFrame(recs);
  }
  return { frame: text, last: recs[recs.length - 1]!.seq };
}

function objectFrame(records: StoredRecord[]): string {
  return JSON.stringify({ type: "records", from_seq: records[0]!.seq, records });
}

/** The record fields the hash covers: StoredRecord without `hash` and `prev_hash` (strict: no unknown keys). */
const BodySchema = StoredRecordSchema.omit({ prev_hash: true, hash: true });

const HEX64 = /^[0-9a-f]{64}$/;

export type Decoded = { ok: true; from_seq: number; records: ChainRecord[] } | { ok: false; reason: string };

/** Decodes a `records` message; `reason` (for a BAD_FRAME close) when it does not match either form. */
export function decodeRecordsMessage(msg: Record<string, unknown>): Decoded {
  if (msg.texts !== undefined) {
    if (msg.records !== undefined) return bad("a records message has 'texts' or 'records', not both");
    return decodeTexts(msg.from_seq, msg.texts);
  }
  const p = RecordsSchema.safeParse(msg);
  if (!p.success) return bad("records message does not match its schema");
  const records = p.data.records.map(chainRecordOf);
  return fromSeqMatches(p.data.from_seq, records);
}

function decodeTexts(from_seq: unknown, texts: unknown): Decoded {
  if (!Array.isArray(texts) || texts.length === 0) return bad("'texts' must be a non-empty array");
  const records: ChainRecord[] = new Array(texts.length);
  for (let i = 0; i < texts.length; i++) {
    const t = texts[i] as { prev_hash?: unknown; hash?: unknown; body?: unknown } | null;
    if (typeof t !== "object" || t === null) return bad(`texts[${i}] is not an object`);
    const { prev_hash, hash, body } = t;
    // In a consecutive batch prev_hash is the previous item's (already checked) hash.
    const chained = i > 0 && prev_hash === records[i - 1]!.hash;
    if (!chained && (typeof prev_hash !== "string" || !HEX64.test(prev_hash)))
      return bad(`texts[${i}].prev_hash is not 64 lowercase hex digits`);
    if (typeof hash !== "string" || !HEX64.test(hash))
      return bad(`texts[${i}].hash is not 64 lowercase hex digits`);
    if (typeof body !== "string") return bad(`texts[${i}].body is not a string`);
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch {
      return bad(`texts[${i}].body is not JSON`);
    }
    if (!BodySchema.safeParse(value).success) return bad(`texts[${i}].body does not match the record schema`);
    if (!isCanonical(value, body)) return bad(`texts[${i}].body is not canonical JSON`);
    const v = value as { host_id: string; seq: number; session_id: string; timestamp: string };
    records[i] = {
      host_id: v.host_id,
      seq: v.seq,
      prev_hash,
      hash,
      session_id: v.session_id,
      timestamp: v.timestamp,
      body,
    };
  }
  return fromSeqMatches(from_seq, records);
}

function fromSeqMatches(from_seq: unknown, records: ChainRecord[]): Decoded {
  if (from_seq !== records[0]!.seq) return bad("from_seq is not the first record's seq");
  return { ok: true, from_seq: records[0]!.seq, records };
}

const bad = (reason: string): Decoded => ({ ok: false, reason });

/**
 * True when `text` is the canonical JSON of `value` (= JSON.parse(text)), i.e. canonicalJson(value)
 * === text: then any verifier, from the text or from the parsed record, computes the same hash, and
 * the text has one meaning (no duplicate keys, whitespace, or alternative number/escape spellings).
 * Fast path: the native JSON.stringify writes keys in the parsed (= text) order and values exactly as
 * canonicalJson does, so equal text plus keys in sorted order at every level is canonical. Anything
 * else (integer-like keys, which V8 enumerates first) is decided by canonicalJson itself.
 */
export function isCanonical(value: unknown, text: string): boolean {
  if (JSON.stringify(value) === text && keysSorted(value)) return true;
  try {
    return canonicalJson(value) === text;
  } catch {
    return false; // e.g. 1e400 parses to Infinity, which has no canonical form
  }
}

/** Every object's own keys, in enumeration order, strictly ascending by UTF-16 code units (as Array.sort). */
function keysSorted(v: unknown): boolean {
  if (typeof v !== "object" || v === null) return true;
  if (Array.isArray(v)) {
    for (const e of v) if (!keysSorted(e)) return false;
    return true;
  }
  let prev: string | null = null;
  for (const k in v) {
    if (prev !== null && !(prev < k)) return false;
    prev = k;
    if (!keysSorted((v as Record<string, unknown>)[k])) return false;
  }
  return true;
}
