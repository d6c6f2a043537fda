import type { CompiledRule, PolicyBundle } from "./policy.js";

/**
 * Would replacing `before` with `after` allow something `before` did not? Conservative: any change
 * to a deny or escalate rule, any new allow rule, a more permissive default or a higher risk
 * threshold counts. Returns the reasons (empty: `after` only narrows or keeps what `before` allowed).
 * Pure; used by the daemon to decide whether a reload needs a reviewer.
 */
export function wideningReasons(before: PolicyBundle, after: PolicyBundle): string[] {
  const rank = { allow: 0, escalate: 1, deny: 2 } as const;
  const out: string[] = [];
  if (rank[after.defaultEffect] < rank[before.defaultEffect])
    out.push(`the default effect goes from ${before.defaultEffect} to ${after.defaultEffect}`);
  if (after.riskThreshold > before.riskThreshold)
    out.push(`the risk threshold rises from ${before.riskThreshold} to ${after.riskThreshold}`);
  const old = new Map(before.rules.map((r) => [r.id, r]));
  const next = new Map(after.rules.map((r) => [r.id, r]));
  for (const [id, r] of old) {
    if (r.effect === "allow") continue;
    const n = next.get(id);
    if (n === undefined) out.push(`${r.effect} rule '${id}' is removed`);
    else if (rank[n.effect] < rank[r.effect]) out.push(`rule '${id}' goes from ${r.effect} to ${n.effect}`);
    else if (fingerprint(n) !== fingerprint(r)) out.push(`${r.effect} rule '${id}' matches differently`);
  }
  for (const [id, n] of next) {
    if (n.effect !== "allow") continue;
    const r = old.get(id);
    if (r === undefined) out.push(`allow rule '${id}' is new`);
    else if (fingerprint(n) !== fingerprint(r)) out.push(`allow rule '${id}' matches differently`);
  }
  return out;
}

/** What a rule matches, independent of where it was written. */
function fingerprint(r: CompiledRule): string {
  const { file: _f, line: _l, description: _d, ...rest } = r;
  return JSON.stringify(rest, (_k, v) => (v instanceof RegExp ? `/${v.source}/${v.flags}` : v));
}
