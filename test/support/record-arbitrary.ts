import fc from "fast-check";

/**
 * Generated record inputs for the validation-boundary property tests (the store's encodeRecord,
 * the collector's isPlainBody): each against zod's verdict on the same value.
 */
// Each field is sometimes valid, sometimes not, and sometimes of a shape zod strips (extra keys)
// or counts differently (ids of astral characters), so both the fast path and zod are exercised.
const absent = Symbol("absent");
/** Valid nine times in ten; otherwise one of the odd cases. */
export const mostly = <T>(valid: fc.Arbitrary<T>, ...odd: fc.Arbitrary<unknown>[]) =>
  fc.oneof(
    { arbitrary: valid as fc.Arbitrary<unknown>, weight: 9 },
    ...odd.map((a) => ({ arbitrary: a, weight: 1 })),
  );
const id = mostly(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: "grapheme", minLength: 120, maxLength: 260 }),
  fc.constant(""),
  fc.constant(7),
);
const free = mostly(
  fc.jsonValue(),
  fc.constant(undefined),
  fc.constant({ n: Number.NaN }),
  fc.constant({ b: { z: 1, a: [1, -0, "x\u2028"] } }),
);
const ts = mostly(
  fc.integer({ min: 0, max: 4e12 }).map((ms) => new Date(ms).toISOString()),
  fc.constant("2026-01-01T00:00:00Z"),
  fc.constant("2026-01-01T00:00:00.000Z\n"),
);
const num = mostly(fc.integer(), fc.double(), fc.constant(2 ** 60), fc.constant(-0), fc.constant("1"));
const extra = mostly(fc.constant({}), fc.constant({ note: "x" }));
const bundle = mostly(
  fc.record({ id: fc.string(), version: num, sha256: fc.string(), x: extra }),
  fc.constant(null),
  fc.record({ id: id, version: num, sha256: fc.oneof(fc.string(), fc.constant(1)), x: extra }),
);
const rule = fc.record({
  rule_id: mostly(fc.string(), fc.constant(null)),
  effect: mostly(fc.constantFrom("allow", "deny", "escalate"), fc.constant("ALLOW")),
  risk: mostly(fc.double({ noNaN: true, noDefaultInfinity: true }), num),
  x: extra,
});
const review = mostly(
  fc.constant(null),
  fc.record({
    decision: mostly(fc.constantFrom("approve", "deny", "expired", "agent-restart"), fc.constant("maybe")),
    reviewer: mostly(fc.string(), fc.constant(3)),
    at: ts,
    reason: mostly(fc.oneof(fc.string(), fc.constant(null)), fc.constant(absent)),
    x: extra,
  }),
);
export const recordInputArbitrary = fc.record({
  kind: mostly(fc.constantFrom("action", "inference", "benchmark", "policy"), fc.constant("bogus")),
  session_id: id,
  action_id: id,
  timestamp: ts,
  prompt_hash: mostly(fc.constantFrom(null, "ab".repeat(32)), fc.constant("AB".repeat(32))),
  prompt: mostly(
    fc.oneof(fc.string(), fc.constant(null), fc.constant(undefined), fc.constant(absent)),
    fc.constant(5),
  ),
  proposed_action: mostly(free, fc.constant(absent)),
  evaluation: mostly(fc.constantFrom("ALLOW", "DENY", "ESCALATE", null), fc.constant("allow")),
  policy_matched: mostly(
    fc.record({ bundle, rules: fc.array(rule, { maxLength: 3 }), x: extra }),
    fc.constant([]),
  ),
  composition_state: mostly(free, fc.constant(absent)),
  execution_result: mostly(fc.oneof(free, fc.constant(null)), fc.constant(absent)),
  principal_review: review,
  latency_ms: mostly(
    fc.double({ min: 0, noNaN: true, noDefaultInfinity: true }),
    num,
    fc.constant(Number.POSITIVE_INFINITY),
    fc.constant(Number.NaN),
  ),
  principal: mostly(fc.oneof(fc.string(), fc.constant(null), fc.constant(absent)), fc.constant(5)),
  x: extra,
});
/** Builds the object: spreads the `x` extras in and leaves `absent` keys out. */
export const buildInput = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.map(buildInput);
  if (typeof v !== "object" || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, e] of Object.entries(v)) {
    if (k === "x") Object.assign(out, e);
    else if (e !== absent)
      out[k] = typeof e === "object" && e !== null && k !== "proposed_action" ? buildInput(e) : e;
  }
  return out;
};
