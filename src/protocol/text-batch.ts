import { canonicalJson } from "./canonical.js";
import { RecordsSchema } from "./messages.js";
import { isPlainBody, recordBodyJson, type StoredRecord, StoredRecordSchema } from "./record.js";

/**
 * The `records` message: the shipper's encoder and the collector's decoder. Three wire forms:
 * - `bodies` (protocol 4): `[{prev_hash, hash, body}]`, `body` being the stored canonical body
 *   written into the frame as JSON (not as a string), so the collector parses each record once,
 *   with the frame. The text the hash covers is then the canonical JSON of the parsed body
 *   (JSON.stringify where every object's keys are already sorted), which the chain check hashes:
 *   a body the agent did not store canonically cannot produce its hash, so it is refused there.
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
  /**
   * The record's fields as decoded with the frame (the parsed `body`, validated and checked
   * canonical; protocol 1: the parsed record): what JSON.parse(body) gives, without parsing it
   * again, for readers after the commit (drift). Absent on records the decoder did not make.
   */
  fields?: object;
}

/** A parsed StoredRecord as a ChainRecord (its body canonicalised here; `fields` what the body holds). */
export function chainRecordOf(r: StoredRecord): ChainRecord {
  const { hash: _h, prev_hash: _p, ...fields } = r;
  return {
    host_id: r.host_id,
    seq: r.seq,
    prev_hash: r.prev_hash,
    hash: r.hash,
    session_id: r.session_id,
    timestamp: r.timestamp,
    body: recordBodyJson(r),
    fields,
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
 * Protocol 4 (`bodies`) and 2 (`texts`): the rows' canonical body texts as stored, framed by string
 * concatenation (no parse, no re-serialisation of the record), cut before `maxBytes` UTF-8 bytes
 * (at least one record). `bodies` writes each body into the frame as the JSON it is; `texts` as a
 * JSON string. `rows` is non-empty and consecutive.
 */
export function encodeTextBatch(
  rows: readonly RecordTextRow[],
  maxBytes: number,
  form: "bodies" | "texts" = "texts",
): EncodedBatch {
  const head = `{"type":"records","from_seq":${rows[0]!.seq},"${form}":[`;
  let frame = head;
  let bytes = head.length + 2;
  let last = 0;
  for (const r of rows) {
    const body = form === "bodies" ? r.body : JSON.stringify(r.body);
    const item = `{"prev_hash":"${r.prev_hash}","hash":"${r.hash}","body":${body}}`;
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

/** Decodes a `records` message; `reason` (for a BAD_FRAME close) when it does not match one form. */
export function decodeRecordsMessage(msg: Record<string, unknown>): Decoded {
  const forms = (["bodies", "texts", "records"] as const).filter((k) => msg[k] !== undefined);
  if (forms.length > 1) return bad("a records message has only one of 'bodies', 'texts' or 'records'");
  if (forms[0] === "bodies") return decodeItems(msg.from_seq, msg.bodies, "bodies");
  if (forms[0] === "texts") return decodeItems(msg.from_seq, msg.texts, "texts");
  const p = RecordsSchema.safeParse(msg);
  if (!p.success) return bad("records message does not match its schema");
  const records = p.data.records.map(chainRecordOf);
  return fromSeqMatches(p.data.from_seq, records);
}

/**
 * `bodies` or `texts` items: the envelope checked, the body validated with the record schema, and
 * its canonical text found: for `texts` the string itself, once parsed and checked canonical; for
 * `bodies` the canonical JSON of the body the frame's parse already made.
 */
function decodeItems(from_seq: unknown, items: unknown, form: "bodies" | "texts"): Decoded {
  if (!Array.isArray(items) || items.length === 0) return bad(`'${form}' must be a non-empty array`);
  const records: ChainRecord[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const t = items[i] as { prev_hash?: unknown; hash?: unknown; body?: unknown } | null;
    const at = `${form}[${i}]`;
    if (typeof t !== "object" || t === null) return bad(`${at} is not an object`);
    const { prev_hash, hash, body } = t;
    // In a consecutive batch prev_hash is the previous item's (already checked) hash.
    const chained = i > 0 && prev_hash === records[i - 1]!.hash;
    if (!chained && (typeof prev_hash !== "string" || !HEX64.test(prev_hash)))
      return bad(`${at}.prev_hash is not 64 lowercase hex digits`);
    if (typeof hash !== "string" || !HEX64.test(hash))
      return bad(`${at}.hash is not 64 lowercase hex digits`);
    let value: unknown;
    let text: string | null;
    if (form === "texts") {
      if (typeof body !== "string") return bad(`${at}.body is not a string`);
      try {
        value = JSON.parse(body);
      } catch {
        return bad(`${at}.body is not JSON`);
      }
      text = body;
    } else {
      if (typeof body !== "object" || body === null || Array.isArray(body))
        return bad(`${at}.body is not an object`);
      value = body;
      text = null;
    }
    // The common body is checked by hand (record.ts isPlainBody); zod decides anything else.
    if (!isPlainBody(value) && !BodySchema.safeParse(value).success)
      return bad(`${at}.body does not match the record schema`);
    if (text === null) {
      text = canonicalText(value);
      if (text === null) return bad(`${at}.body has no canonical JSON form`);
    } else if (!isCanonical(value, text)) return bad(`${at}.body is not canonical JSON`);
    const v = value as { host_id: string; seq: number; session_id: string; timestamp: string };
    records[i] = {
      host_id: v.host_id,
      seq: v.seq,
      prev_hash: prev_hash as string,
      hash,
      session_id: v.session_id,
      timestamp: v.timestamp,
      body: text,
      fields: value as object,
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
  if (JSON.stringify(value) === text && stringifiesCanonically(value)) return true;
  return canonicalText(value) === text;
}

/** canonicalJson(value), or null when it has none (e.g. a number JSON.parse made Infinity). Fast path as isCanonical's. */
export function canonicalText(value: unknown): string | null {
  if (stringifiesCanonically(value)) return JSON.stringify(value);
  try {
    return canonicalJson(value);
  } catch {
    return null;
  }
}

/**
 * True when JSON.stringify(v) is canonicalJson(v): every object's own keys, in enumeration order,
 * strictly ascending by UTF-16 code units (as Array.sort), and every number finite (JSON.stringify
 * writes null for 1e400's Infinity, canonicalJson refuses it).
 */
function stringifiesCanonically(v: unknown): boolean {
  if (typeof v === "number") return Number.isFinite(v);
  if (typeof v !== "object" || v === null) return true;
  if (Array.isArray(v)) {
    for (const e of v) if (!stringifiesCanonically(e)) return false;
    return true;
  }
  let prev: string | null = null;
  for (const k in v) {
    if (prev !== null && !(prev < k)) return false;
    prev = k;
    if (!stringifiesCanonically((v as Record<string, unknown>)[k])) return false;
  }
  return true;
}
