import { z } from "zod";

/**
 * What the collector accepts as a heartbeat (issue 20): bounded before anything parses it further
 * (size, depth, keys, array and string lengths, walked without recursion), then the fields the
 * fleet view, the metrics and the dashboard read are type-checked with zod. Anything else is
 * refused with close code 4000 and an alert, never stored: one 20,000-deep heartbeat used to make
 * /v1/fleet answer 500 until restart, and 7 MiB ones from 30 hosts took the RSS to 755 MiB.
 */
export const HEARTBEAT_LIMITS = {
  /** Approximate JSON size of the whole payload. */
  maxBytes: 64 * 1024,
  maxDepth: 8,
  maxKeys: 64,
  maxArray: 256,
  maxString: 4096,
} as const;

const n = z.number().finite();
const count = z.number().int().nonnegative();
const short = z.string().max(256);

const KnownFields = z.looseObject({
  at_ms: n.optional(),
  facts: z.looseObject({}).nullable().optional(),
  reading: z
    .looseObject({
      cpu_percent: n.nullable().optional(),
      watts: z.record(z.string().max(32), n).optional(),
      temperature_c: n.nullable().optional(),
      memory_used_percent: n.nullable().optional(),
      memory_pressure_percent: n.nullable().optional(),
      interval_ms: n.optional(),
    })
    .nullable()
    .optional(),
  gate: z
    .looseObject({
      counts: z.record(short, count).optional(),
      p99_ms: n.nullable().optional(),
      deny_rate: n.nullable().optional(),
    })
    .optional(),
  evidence: z.looseObject({ backlog: count.optional(), last_seq: count.optional() }).optional(),
  policy: z
    .looseObject({
      id: short.optional(),
      version: z.number().int().optional(),
      sha256: short.optional(),
      source: short.optional(),
    })
    .nullable()
    .optional(),
  inference: z.looseObject({ tokens_per_second: n.nullable().optional() }).optional(),
  review_queue: z
    .looseObject({ pending: count.optional(), oldest_age_ms: n.nullable().optional() })
    .optional(),
  reviews: z.array(z.looseObject({ action_id: short.optional() })).optional(),
  in_flight: z
    .array(
      z.looseObject({ action_id: short.optional(), session_id: short.optional(), summary: short.optional() }),
    )
    .optional(),
  tolerances: z.looseObject({ breached: z.array(short).optional() }).optional(),
});

/** The payload (the message without `type`), or why it is refused. */
export function checkHeartbeat(
  msg: Record<string, unknown>,
): { ok: true; payload: Record<string, unknown> } | { ok: false; reason: string } {
  const { type: _t, ...payload } = msg;
  const bounds = withinBounds(payload);
  if (bounds !== null) return { ok: false, reason: `heartbeat refused: ${bounds}` };
  const r = KnownFields.safeParse(payload);
  if (!r.success) {
    const i = r.error.issues[0]!;
    return { ok: false, reason: `heartbeat refused: ${i.path.join(".") || "(root)"}: ${i.message}` };
  }
  return { ok: true, payload };
}

/** Null when `v` is within HEARTBEAT_LIMITS; otherwise what is over. Iterative: no stack to overflow. */
function withinBounds(v: unknown): string | null {
  const L = HEARTBEAT_LIMITS;
  let bytes = 0;
  const stack: Array<{ v: unknown; depth: number }> = [{ v, depth: 0 }];
  while (stack.length > 0) {
    const { v: x, depth } = stack.pop()!;
    if (typeof x === "string") {
      if (x.length > L.maxString) return `a string of ${x.length} characters (max ${L.maxString})`;
      bytes += x.length + 2;
    } else if (x !== null && typeof x === "object") {
      if (depth >= L.maxDepth) return `nested deeper than ${L.maxDepth} levels`;
      if (Array.isArray(x)) {
        if (x.length > L.maxArray) return `an array of ${x.length} items (max ${L.maxArray})`;
        for (const e of x) stack.push({ v: e, depth: depth + 1 });
        bytes += 2 + x.length;
      } else {
        const keys = Object.keys(x);
        if (keys.length > L.maxKeys) return `an object with ${keys.length} keys (max ${L.maxKeys})`;
        for (const k of keys) {
          bytes += k.length + 4;
          stack.push({ v: (x as Record<string, unknown>)[k], depth: depth + 1 });
        }
        bytes += 2;
      }
    } else {
      bytes += 8;
    }
    if (bytes > L.maxBytes) return `larger than ${L.maxBytes} bytes`;
  }
  return null;
}
