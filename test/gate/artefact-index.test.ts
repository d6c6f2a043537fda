import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { dumpTrack, MAX_ARTEFACTS, Track, trackOf } from "../../src/gate/state.js";

/**
 * Issue 18: a Track finds the artefacts below a directory from its directory index (`below`), not
 * by scanning every key. The scan is the oracle: after any sequence of makes (new paths, the same
 * path again, other spellings of one file, more than MAX_ARTEFACTS so the oldest are forgotten) and
 * after a state export and import, `below(head)` is exactly the keys that start with `head`, in
 * the artefacts' order, for every directory any key has and for ones none has.
 */
const scan = (t: Track, head: string) => [...t.artefacts.keys()].filter((k) => k.startsWith(head));

const segment = fc.constantFrom("a", "b", "A", "src", "Src", "x.ts", "", "é", "e\u0301", ".git", "hooks");
const key = fc
  .tuple(fc.constantFrom("/", "/u/", "/u/p/", "", "/u//"), fc.array(segment, { minLength: 0, maxLength: 4 }))
  .map(([top, segs]) => top + segs.join("/"));

/** Every head a query may ask: each key's prefixes ending in `/`, with others no key has. */
function heads(t: Track): string[] {
  const out = new Set(["/", "/nope/", "/u/p/src/", "//", "/u//"]);
  for (const k of t.artefacts.keys())
    for (let i = k.indexOf("/"); i >= 0; i = k.indexOf("/", i + 1)) out.add(k.slice(0, i + 1));
  return [...out];
}

function agrees(t: Track): void {
  for (const h of heads(t)) expect([...t.below(h)]).toEqual(scan(t, h));
}

describe("artefact directory index", () => {
  it("below(head) is the scan of every key, after makes, re-makes, respellings and eviction", () => {
    fc.assert(
      fc.property(
        fc.array(key, { minLength: 1, maxLength: 80 }),
        fc.integer({ min: 0, max: 300 }),
        (keys, fill) => {
          const t = new Track();
          // Enough other artefacts first that the oldest of these are forgotten (MAX_ARTEFACTS).
          for (let i = 0; i < fill; i++)
            t.made(`/fill/${i % 7}/f${i}`, { summary: "fill", action_id: null, at_ms: i });
          for (const [i, k] of keys.entries()) t.made(k, { summary: `s${i}`, action_id: null, at_ms: i });
          expect(t.artefacts.size).toBeLessThanOrEqual(MAX_ARTEFACTS);
          agrees(t);
          // A restart keeps it: the state's export and import rebuild the same index.
          agrees(trackOf(dumpTrack("k", t), 16));
        },
      ),
      { numRuns: 300, seed: 44 },
    );
  });

  it("an emptied directory leaves the index", () => {
    const t = new Track();
    t.made("/w/gen/a.ts", { summary: "one", action_id: null, at_ms: 0 });
    t.made("/w/Gen/a.ts", { summary: "two", action_id: null, at_ms: 1 });
    // The second spelling replaced the first (one file on APFS): nothing is left below /w/gen/.
    expect(t.below("/w/gen/")).toEqual([]);
    expect(t.below("/w/")).toEqual(["/w/Gen/a.ts"]);
    for (let i = 0; i < MAX_ARTEFACTS; i++) t.made(`/o/${i}`, { summary: "o", action_id: null, at_ms: i });
    expect(t.below("/w/")).toEqual([]);
    expect(t.below("/")).toEqual(scan(t, "/"));
  });
});
