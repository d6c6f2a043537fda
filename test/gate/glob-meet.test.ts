/**
 * Glob word against pack pattern (src/gate/glob-meet.ts): "can they match a common path" equals a
 * brute-force search over every short string of a small alphabet, with the pack side matched by the
 * real matcher (paths.ts) and the word side by bash's rules written as a regex here.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  globsMeet,
  meetSet,
  meetsSet,
  packPattern,
  patternsMeet,
  shellPattern,
  shellWord,
} from "../../src/gate/glob-meet.js";
import { compilePathGlob, matchPathGlob } from "../../src/gate/paths.js";

const HOME = "/a";
const CWD = "/a/b";
/** Every string over the alphabet up to LEN characters; `c` is a character no pattern names. */
const ALPHABET = ["a", "b", "c", ".", "/"];
const LEN = 6;
const STRINGS: string[] = [""];
for (let n = 1, layer = [""]; n <= LEN; n++) {
  layer = layer.flatMap((s) => ALPHABET.map((c) => s + c));
  STRINGS.push(...layer);
}

/** Bash's pathname expansion of a word, as a regex (no dotglob; `**` as zsh's, any run). */
function shellRegex(word: string): RegExp {
  let re = "";
  for (let i = 0; i < word.length; i++) {
    const c = word[i]!;
    const seg = i === 0 || word[i - 1] === "/";
    const noDot = seg ? "(?!\\.)" : "";
    if (c === "*" && word[i + 1] === "*") {
      re += ".*";
      i++;
    } else if (c === "*") re += seg ? "(?:[^./][^/]*)?" : "[^/]*";
    else if (c === "?") re += `${noDot}[^/]`;
    else if (c === "[") {
      const end = word.indexOf("]", i + 2);
      const body = word.slice(i + 1, end);
      const neg = body.startsWith("!");
      re += `(?!/)${noDot}[${neg ? "^" : ""}${(neg ? body.slice(1) : body).replace(/[\\\]^]/g, "\\$&")}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`, "i");
}

const wordTok = fc.constantFrom("a", "b", "A", ".", "/", "*", "?", "**", "[ab]", "[!a]", "[.a]");
const packTok = fc.constantFrom("a", "B", ".", "/", "*", "?", "**", "[ab]", "[!b]", "[A-Z]", "{a,b}", "{,.}");
const word = fc.array(wordTok, { minLength: 1, maxLength: 2 }).map((t) => `/${t.join("")}`);
const pack = fc.oneof(
  fc.array(packTok, { minLength: 1, maxLength: 2 }).map((t) => `/${t.join("")}`),
  fc.array(packTok, { minLength: 0, maxLength: 1 }).map((t) => `~/${t.join("")}`),
  fc.array(packTok, { minLength: 1, maxLength: 1 }).map((t) => `$CWD/${t.join("")}`),
  fc.array(packTok, { minLength: 1, maxLength: 2 }).map((t) => t.join("")),
);

function brute(w: string, g: string): string | null {
  const re = shellRegex(w);
  const pg = compilePathGlob(g);
  for (const s of STRINGS) if (re.test(s) && matchPathGlob(pg, s, HOME, CWD)) return s;
  return null;
}

describe("globsMeet", () => {
  it("equals the brute-force answer (a witness is found exactly when it says they meet)", () => {
    let met = 0;
    fc.assert(
      fc.property(word, pack, (w, g) => {
        const witness = brute(w, g);
        const mine = globsMeet(w, g, HOME, CWD);
        if (witness !== null) met++;
        expect(mine, `${w} vs ${g}: witness ${JSON.stringify(witness)}`).toBe(witness !== null);
        // The set form (fixed ends compared first, as the gate uses it) gives the same answer.
        expect(meetsSet(meetSet([g], HOME, CWD, false), shellWord(w)), `${w} vs ${g} (set)`).toBe(mine);
      }),
      { numRuns: 600, seed: 33 },
    );
    // Both answers occur often: the comparison is not vacuous.
    expect(met).toBeGreaterThan(60);
    expect(met).toBeLessThan(540);
  });

  it.each([
    ["/dev/[z]ero", "/dev/zero", true],
    ["/dev/ze*", "/dev/zero", true],
    ["/dev/zer?", "/dev/zero", true],
    ["/dev/[!z]ero", "/dev/zero", false],
    ["/Users/dev/Library/Keychain?/login.keychain-db", "~/Library/Keychains/**", true],
    [
      "/Users/dev/Library/Application?Support/Google/Chrome/Default/Cookies",
      "~/Library/Application Support/Google/Chrome/**",
      true,
    ],
    ["/Users/dev/.ss*/id_rsa", "~/.ssh/**", true],
    ["/Users/dev/*/id_rsa", "~/.ssh/**", false], // `*` does not match a leading `.`
    ["/Users/dev/**/id_rsa", "~/.ssh/**", true],
    ["/Users/dev/project/src/*.ts", "~/.ssh/**", false],
    ["/Users/dev/project/*.md", "**/.env*", false],
    ["/Users/dev/project/.e*", "**/.env*", true],
    ["/Users/dev/project/src/*.ts", "**/{vite,vitest}.config.{js,ts}", true],
    ["/Users/dev/project/src/*.ts", "**/*.key", false],
    ["/ETC/PASS*", "/etc/passwd", true],
  ])("%s meets %s: %s", (w, g, want) => {
    expect(globsMeet(w, g, "/Users/dev", "/Users/dev/project")).toBe(want);
  });

  it.each([
    ["/Users/dev/project/dist/*.js", "$CWD/{,**/}*.config.js", false],
    ["/Users/dev/project/*.js", "$CWD/{,**/}*.config.js", true],
    ["/tmp/scratch/*", "**/Cookies", false],
    ["/Users/dev/Library/Keychain?/x", "~/Library/Keychains/**", true],
  ])("anchored: %s meets the fixed places of %s: %s", (w, g, want) => {
    const p = packPattern(g, "/Users/dev", "/Users/dev/project", true)!;
    expect(patternsMeet(shellPattern(w), p)).toBe(want);
  });

  it("is bounded: long patterns answer at once (as meeting, when too long to search)", () => {
    const w = `/${"*a".repeat(400)}*`;
    expect(globsMeet(w, `/${"*b".repeat(400)}*`, HOME, CWD)).toBe(true);
    expect(globsMeet(`/${"[ab]".repeat(200)}x`, `/${"?".repeat(200)}y`, HOME, CWD)).toBe(false);
  });
});
