/**
 * The gate's lookup tables are keyed by words the proposer chooses (a program, a subcommand, a
 * variable, a header, a host). A plain object literal answers a key like `toString`,
 * `constructor` or `__proto__` with Object.prototype's members, so `toString x` reached
 * `CODE_FLAGS["toString"]` (a function) and the decision was DENY with
 * `FORGE_GATE_ERROR: loads is not iterable`: closed, but an internal error instead of a judgement.
 * Every such table has no prototype (wordTable); these words are judged like any unknown word.
 */
import { describe, expect, it } from "vitest";
import { wordTable } from "../../src/gate/word-table.js";
import { packSteps } from "./pack-verdict.js";

const steps = packSteps("wt");

const PROTO = [
  "constructor",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "__proto__",
  "__defineGetter__",
  "__lookupSetter__",
];

const lines = (w: string): string[] => [
  w,
  `${w} x`,
  `${w} -C /tmp install`,
  `${w} --prefix /tmp install`,
  `git ${w}`,
  `git -c core.pager=less ${w} --all`,
  `npm ${w}`,
  `kubectl ${w}`,
  `cmake -E ${w} a b`,
  `php artisan ${w}`,
  `python3 manage.py ${w}`,
  `dotnet ${w} list`,
  `${w}=1 make`,
  `export ${w}=x`,
  `curl https://${w}/x`,
  `curl https://proxy.golang.org/${w}/@v/list`,
];

describe("a word named like an Object.prototype member is judged, never an internal error", () => {
  for (const w of PROTO) {
    it.each(lines(w))("%s", (line) => {
      const v = steps(line);
      expect(v.reasons.join("\n")).not.toMatch(/gate-error|FORGE_GATE_ERROR/);
    });
    it(`an http action with a '${w}' header, to a '${w}' host`, () => {
      for (const action of [
        { kind: "http", method: "GET", url: "https://docs.example.org/x", headers: { [w]: "x" } },
        { kind: "http", method: "GET", url: `https://${w.toLowerCase().replace(/_/g, "")}.example/x` },
        { kind: "tool", name: w, arguments: { [w]: w } },
      ]) {
        const v = steps(action);
        expect(v.reasons.join("\n")).not.toMatch(/gate-error|FORGE_GATE_ERROR/);
      }
    });
  }
});

describe("wordTable", () => {
  it("has the entries it was given and nothing from Object.prototype", () => {
    const t = wordTable({ make: 1, git: 2 });
    expect(t.make).toBe(1);
    expect(Object.keys(t)).toEqual(["make", "git"]);
    for (const w of PROTO) expect(t[w]).toBeUndefined();
  });
});
