import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalJson, fixCanonical, jsonString, sha256Hex } from "../../src/protocol/canonical.js";
import { recordBodyJson, recordHash } from "../../src/protocol/record.js";
import { rec } from "./helpers.js";

/** The reference: the skeleton's original canonicalJson (array of parts, sorted keys, JSON.stringify leaves). */
function reference(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new TypeError("non-finite");
    return JSON.stringify(v);
  }
  if (typeof v === "string" || typeof v === "boolean") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((e) => (e === undefined ? "null" : reference(e))).join(",")}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(o[k])}`).join(",")}}`;
}

const utf16 = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) });
const leaf = fc.oneof(
  utf16,
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(-0),
);
const value = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    leaf,
    fc.array(tie("v")),
    fc.dictionary(utf16, fc.oneof(tie("v"), fc.constant(undefined))),
  ),
})).v;

describe("canonicalJson", () => {
  it("matches the reference canonical form for any JSON value (UTF-16 strings, lone surrogates, -0, integer-like keys)", () => {
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v)).toBe(reference(v));
      }),
      { numRuns: 2000 },
    );
  });

  it("writes strings exactly as JSON.stringify does", () => {
    fc.assert(fc.property(utf16, (s) => jsonString(s) === JSON.stringify(s)));
    expect(jsonString('a"b\\c\n\u0001\u2028\ud800')).toBe(JSON.stringify('a"b\\c\n\u0001\u2028\ud800'));
  });

  it("sorts keys by code unit, not by V8's integer-first property order", () => {
    expect(canonicalJson({ b: 1, 10: 2, 9: 3, a: [undefined, { z: undefined }] })).toBe(
      '{"10":2,"9":3,"a":[null,{}],"b":1}',
    );
  });

  it("refuses values a record cannot hold", () => {
    expect(() => canonicalJson({ n: Number.POSITIVE_INFINITY })).toThrow(TypeError);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(TypeError);
    expect(() => canonicalJson({ b: 1n })).toThrow(TypeError);
  });
});

describe("recordBodyJson / recordHash", () => {
  it("equals canonicalJson of the record without hash and prev_hash, with or without unknown fields", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        value,
        fc.option(utf16),
        (i, composition_state, prompt) => {
          const r = { ...rec(i, { composition_state, prompt }), host_id: "h", seq: i + 1 };
          const { ...body } = r;
          expect(recordBodyJson(r)).toBe(reference(body));
          const withEnvelope = { ...r, prev_hash: "0".repeat(64), hash: "f".repeat(64), extra: [1] };
          const { prev_hash: _p, hash: _h, ...rest } = withEnvelope;
          expect(recordBodyJson(withEnvelope)).toBe(reference(rest));
          expect(recordHash("a".repeat(64), r)).toBe(sha256Hex("a".repeat(64) + reference(body)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("fixCanonical", () => {
  const entry = () => ({
    action_id: "a-1",
    kind: "file.read",
    summary: 'read "x"\n',
    evaluation: "ALLOW",
    at_ms: 7,
  });

  it("keeps the canonical text of a flat object: the same as canonicalJson of an unfixed copy, alone or nested in a record", () => {
    fc.assert(
      fc.property(fc.dictionary(utf16, fc.oneof(leaf, fc.constant(undefined))), (o) => {
        const want = reference(o);
        const f = fixCanonical({ ...o });
        expect(canonicalJson(f)).toBe(want);
        expect(canonicalJson({ recent: [f, f], n: 1 })).toBe(`{"n":1,"recent":[${want},${want}]}`);
      }),
      { numRuns: 500 },
    );
  });

  it("freezes it: a mutation attempt throws and the text stays true", () => {
    const f = fixCanonical(entry());
    expect(Object.isFrozen(f)).toBe(true);
    expect(() => {
      (f as { kind: string }).kind = "shell";
    }).toThrow(TypeError);
    expect(() => {
      (f as Record<string, unknown>).extra = 1;
    }).toThrow(TypeError);
    expect(() => delete (f as { summary?: string }).summary).toThrow(TypeError);
    expect(canonicalJson(f)).toBe(reference(entry()));
  });

  it("hides the text from JSON.stringify and Object.keys, and no copy carries it (spread, Object.assign, structuredClone)", () => {
    const f = fixCanonical(entry());
    expect(JSON.stringify(f)).toBe(JSON.stringify(entry()));
    expect(Object.keys(f)).toEqual(Object.keys(entry()));
    const copies: Array<{ kind: string; at_ms: number }> = [
      { ...f },
      Object.assign({}, f),
      structuredClone(f),
    ];
    for (const c of copies) {
      expect(Object.isFrozen(c)).toBe(false);
      c.kind = "shell";
      c.at_ms = 8;
      // Had the copy carried the text, it would still say file.read / 7.
      expect(canonicalJson(c)).toBe(reference({ ...entry(), kind: "shell", at_ms: 8 }));
    }
    expect(canonicalJson(f)).toBe(reference(entry()));
  });

  it("does not fix a nested, non-flat or accessor object, nor an array: their text follows what they hold", () => {
    const nested = fixCanonical({ a: 1, inner: { b: 1 } });
    expect(Object.isFrozen(nested)).toBe(true);
    nested.inner.b = 2; // freezing is shallow: the inner object can change, so no text was kept
    expect(canonicalJson(nested)).toBe('{"a":1,"inner":{"b":2}}');

    const list = [1];
    const withArray = fixCanonical({ list });
    list.push(2);
    expect(canonicalJson(withArray)).toBe('{"list":[1,2]}');

    let n = 0;
    const getter = fixCanonical({
      get n() {
        n += 1;
        return n;
      },
    });
    expect(canonicalJson(getter)).toBe('{"n":1}');
    expect(canonicalJson(getter)).toBe('{"n":2}');

    const arr = fixCanonical(["x", 1]);
    expect(Object.isFrozen(arr)).toBe(true);
    expect(canonicalJson(arr)).toBe('["x",1]');
  });

  it("does not fix an object canonicalJson refuses: it still refuses it", () => {
    const bad = fixCanonical({ n: Number.POSITIVE_INFINITY });
    expect(Object.isFrozen(bad)).toBe(true);
    expect(() => canonicalJson(bad)).toThrow(TypeError);
  });
});
