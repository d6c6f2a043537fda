import { hash } from "node:crypto";

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, `undefined` members dropped
 * (and `undefined` array elements written as null, as JSON.stringify does).
 * Numbers and strings come out exactly as JSON.stringify writes them; non-finite numbers are
 * refused rather than silently becoming null.
 *
 * This runs once per record on the append hot path, so it builds one string by concatenation
 * and skips JSON.stringify for strings that need no escaping (the common case).
 */
export function canonicalJson(value: unknown): string {
  return write(value, 0);
}

/**
 * Deepest nesting of arrays and objects canonicalJson writes (the top-level value is depth 0).
 * Deeper values are refused with a TypeError: a clear, deterministic limit instead of whatever
 * depth the call stack happens to allow at the caller (a 5,000-deep proposal used to overflow it).
 */
export const CANONICAL_MAX_DEPTH = 256;

function tooDeep(): TypeError {
  return new TypeError(`canonicalJson: nested deeper than ${CANONICAL_MAX_DEPTH} levels`);
}

/** Characters JSON.stringify escapes: quote, backslash, C0 controls, and (well-formed JSON) surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal, identical to JSON.stringify(s). */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

function write(v: unknown, depth: number): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "string":
      return jsonString(v);
    case "boolean":
      return v ? "true" : "false";
    case "number":
      if (!Number.isFinite(v)) throw new TypeError("canonicalJson: non-finite number");
      // For finite numbers, String() and JSON.stringify agree (including -0 → "0").
      return String(v);
    case "object": {
      if (depth >= CANONICAL_MAX_DEPTH) throw tooDeep();
      if (Array.isArray(v)) {
        let s = "[";
        for (let i = 0; i < v.length; i++) {
          if (i > 0) s += ",";
          const e = v[i];
          s += e === undefined ? "null" : write(e, depth + 1);
        }
        return `${s}]`;
      }
      const fixed = (v as { [FIXED_TEXT]?: Fixed })[FIXED_TEXT];
      if (fixed !== undefined) {
        const text = fixedText(v, fixed);
        if (text !== null) return text;
      }
      return writeFields(v as Record<string, unknown>, sortedKeys(v), undefined, depth + 1);
    }
    default:
      throw new TypeError(`canonicalJson: unsupported ${typeof v}`);
  }
}

/** Where fixCanonical keeps an object's canonical JSON: a non-enumerable, read-only own property. */
const FIXED_TEXT = Symbol("forge.canonicalJson");

/** The text of a fixed object: not written yet (undefined), or null when it cannot be kept. */
interface Fixed {
  text: string | null | undefined;
}

/**
 * Freezes `o` so canonicalJson writes its text once, the first time it is asked for, and reuses it
 * wherever `o` appears after (the holder sits under a non-enumerable symbol: not copied by spread,
 * Object.assign, structuredClone or postMessage, unseen by JSON.stringify and Object.keys). For the
 * small immutable entries that records repeat: the gate's recent actions, up to 16 in every
 * record's composition_state, each written once instead of once per record that carries it
 * (perf36). The text is written on first use, not here, so the decision that makes an entry does
 * not pay for the record's encoding. Only a flat object keeps its text: not an array, every own
 * enumerable member a data property holding a primitive, so the frozen object's text cannot change.
 * Anything else is frozen and written each time (and a member canonicalJson refuses, such as a
 * non-finite number, is refused each time).
 */
export function fixCanonical<T extends object>(o: T): Readonly<T> {
  if (!Array.isArray(o)) Object.defineProperty(o, FIXED_TEXT, { value: { text: undefined } satisfies Fixed });
  return Object.freeze(o);
}

/** A fixed object's text, written on first use; null when the object is not flat. */
function fixedText(o: object, f: Fixed): string | null {
  if (f.text !== undefined) return f.text;
  const keys = sortedKeys(o);
  for (const k of keys) {
    const d = Object.getOwnPropertyDescriptor(o, k)!;
    const v = d.value;
    if (!("value" in d) || (v !== null && (typeof v === "object" || typeof v === "function"))) {
      f.text = null;
      return null;
    }
  }
  // Throws for a refused member, leaving the text unwritten: it is refused again each time.
  f.text = writeFields(o as Record<string, unknown>, keys, undefined, 1);
  return f.text;
}

/** Object keys seen so far, quoted: records repeat the same few keys (a bounded cache: the first ones seen). */
const QUOTED = new Map<string, string>();
const QUOTED_MAX = 4096;

function quotedKey(k: string): string {
  let q = QUOTED.get(k);
  if (q === undefined) {
    q = jsonString(k);
    if (QUOTED.size < QUOTED_MAX && k.length <= 64) QUOTED.set(k, q);
  }
  return q;
}

/** Objects with more keys than this are sorted by Array.prototype.sort; smaller ones in place. */
const INSERTION_SORT_MAX = 24;

/**
 * Object.keys(o) sorted by code unit, as Array.prototype.sort sorts strings. A small object's keys
 * are sorted in place by insertion: sort() allocates a work copy on every call, which was most of
 * the bytes a record's encoding allocated (12.7 of 32 KB for a socket ALLOW's draft, perf34).
 */
function sortedKeys(o: object): string[] {
  const keys = Object.keys(o);
  if (keys.length > INSERTION_SORT_MAX) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/**
 * Writes an object whose keys the caller already sorted (callers with a fixed shape pass a
 * constant sorted key list, and optionally the keys already quoted, and skip the per-call sort).
 * Keys absent or undefined are dropped.
 */
export function writeObject(
  obj: Record<string, unknown>,
  sortedKeys: readonly string[],
  quotedKeys?: readonly string[],
): string {
  return writeFields(obj, sortedKeys, quotedKeys, 1);
}

/** writeObject for an object whose members sit at nesting `depth`. */
function writeFields(
  obj: Record<string, unknown>,
  sortedKeys: readonly string[],
  quotedKeys: readonly string[] | undefined,
  depth: number,
): string {
  let s = "{";
  let first = true;
  for (let i = 0; i < sortedKeys.length; i++) {
    const k = sortedKeys[i]!;
    const e = obj[k];
    if (e === undefined) continue;
    if (!first) s += ",";
    first = false;
    s += `${quotedKeys === undefined ? quotedKey(k) : quotedKeys[i]}:${write(e, depth)}`;
  }
  return `${s}}`;
}

/** sha256 as lowercase hex (one-shot crypto.hash: no Hash object per call). */
export function sha256Hex(data: string | Uint8Array): string {
  return hash("sha256", data, "hex");
}
