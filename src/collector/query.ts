/**
 * Query parameters of the collector's read API, validated: a bad value is FORGE_BAD_REQUEST (400)
 * with `details.param` naming it, never a silently widened query.
 */
import { Codes, ForgeError } from "../errors.js";

export function badParam(param: string, message: string): never {
  throw new ForgeError(Codes.BAD_REQUEST, message, { details: { param } });
}

/** A whole number >= min, or `fallback` when absent or empty. */
export function intParam(q: URLSearchParams, name: string, fallback?: number, min = 0): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) badParam(name, `'${name}' must be a whole number >= ${min}`);
  return n;
}

/** RFC 3339 or epoch milliseconds, as epoch ms. */
export function timeParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n))
    badParam(name, `'${name}' must be RFC 3339 (2026-11-25T03:00:00Z) or epoch milliseconds`);
  return n;
}

/** `since` and `until` (timeParam), refused when since is after until. */
export function rangeParams(q: URLSearchParams): { since_ms?: number; until_ms?: number } {
  const since_ms = timeParam(q, "since");
  const until_ms = timeParam(q, "until");
  if (since_ms !== undefined && until_ms !== undefined && since_ms > until_ms)
    badParam("since", "'since' is after 'until'");
  return { since_ms, until_ms };
}

/** A text parameter of at most `max` characters without control characters; undefined when absent or empty. */
export function textParam(q: URLSearchParams, name: string, max: number): string | undefined {
  const v = q.get(name);
  if (v === null || v === "") return undefined;
  if (v.length > max) badParam(name, `'${name}' must be at most ${max} characters`);
  if (/[\u0000-\u001f\u007f]/.test(v)) badParam(name, `'${name}' must not contain control characters`);
  return v;
}

/** Refuses a parameter the route does not take (a typo would otherwise widen the query silently). */
export function onlyParams(q: URLSearchParams, names: readonly string[]): void {
  for (const k of q.keys())
    if (!names.includes(k)) badParam(k, `unknown parameter '${k}': this route takes ${names.join(", ")}`);
}
