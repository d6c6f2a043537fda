/**
 * Canonical words (issue 19 §2): the gate's value of every generated word equals the value real
 * bash produces (`printf '%s\0' WORDS`), and a word whose value depends on run time is dynamic.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { initGate, parseShell } from "../../src/gate/index.js";
import { findTool, missing } from "../support/tools.js";

const HOME = "/home/gate-fuzz";
let dir: string;

beforeAll(async () => {
  await initGate();
  // An empty directory: a glob word matches nothing there and bash leaves it as written.
  dir = mkdtempSync(join(tmpdir(), "words-bash-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What bash makes of `printf '%s\0' <text>`: the words, in order. */
function bashWords(text: string): string[] {
  const out = execFileSync(
    findTool("bash")!,
    ["--noprofile", "--norc", "-c", `printf '%s\\0' START ${text}`],
    {
      cwd: dir,
      env: { HOME, PATH: "/usr/bin:/bin", LC_ALL: "C.UTF-8" },
      encoding: "utf8",
    },
  );
  return out.split("\0").slice(1, -1);
}

/** The gate's words for the same line; null where it says the value is only known at run time. */
function gateWords(text: string): (string | null)[] {
  const p = parseShell(`printf '%s\\0' START ${text}`, dir, HOME);
  // A line the parser cannot read is never ALLOW: as good as dynamic.
  if (p.floors.some((f) => f.startsWith("shell-unparseable"))) return [null];
  return p.commands
    .find((c) => c.program === "printf")!
    .words.slice(2)
    .map((w) => w.value);
}

const SAFE = "abcxyzABZ019._/-=:@%+,";
const PRINTABLE = `${SAFE}!#&()*;<>?[]^{|}~ "'\`$\\`;
const char = (from: string) => fc.constantFrom(...from.split(""));
const str = (from: string, max = 4) => fc.array(char(from), { maxLength: max }).map((a) => a.join(""));

/** Pieces a word is glued from: every quoting form bash has, with the escapes inside each. */
const piece = fc.oneof(
  str(SAFE, 3).filter((s) => s !== "" && !s.startsWith("~") && !s.startsWith("=")),
  // A backslash before any printable character, and backslash-newline (removed).
  char(PRINTABLE.replace("\n", "")).map((c) => `\\${c}`),
  fc.constant("\\\n"),
  // Single quotes: everything literal.
  str(PRINTABLE.replace("'", "")).map((s) => `'${s}'`),
  // Double quotes: \" \\ \$ \` and backslash-newline are escapes; other backslashes stay.
  fc
    .array(
      fc.oneof(
        char(SAFE + " !#&()*;<>?[]^{|}~'"),
        fc.constantFrom('\\"', "\\\\", "\\$", "\\`", "\\a", "\\n", "\\\n"),
      ),
      { maxLength: 4 },
    )
    .map((a) => `"${a.join("")}"`),
  // ANSI-C quoting.
  fc
    .array(
      fc.oneof(
        char(SAFE + ' "'),
        fc.constantFrom(
          "\\n",
          "\\t",
          "\\x41",
          "\\x7e",
          "\\101",
          "\\0101",
          "\\u00e9",
          "\\U0001F600",
          "\\'",
          '\\"',
          "\\\\",
          "\\cA",
          "\\e",
          "\\q",
          "\\?",
        ),
      ),
      { maxLength: 4 },
    )
    .map((a) => `$'${a.join("")}'`),
  // Brace expansion of literals.
  fc.array(str("abcxyz019._/-", 2), { minLength: 2, maxLength: 3 }).map((alts) => `{${alts.join(",")}}`),
  // Brace sequences: integers (signed, zero-padded), letters, a step of any sign (issue 19, red33).
  fc
    .tuple(
      fc.oneof(
        fc.tuple(
          fc.constantFrom("0", "1", "3", "-2", "+1", "05", "-03", "007", "12", "-0"),
          fc.constantFrom("0", "2", "4", "-1", "+3", "010", "-04", "9", "00"),
        ),
        // Letters of one case (a range from upper to lower case passes `[\\]^_\``: not modelled).
        fc.tuple(fc.constantFrom("a", "c", "x", "e"), fc.constantFrom("a", "e", "z", "b")),
        fc.tuple(fc.constantFrom("A", "C", "Z"), fc.constantFrom("B", "C", "A")),
      ),
      fc.option(fc.constantFrom("0", "1", "2", "-2", "+3", "7"), { nil: undefined }),
    )
    .map(([[x, y], step]) => `{${x}..${y}${step === undefined ? "" : `..${step}`}}`),
  // Lone braces, commas and dots: nested and unmatched braces, `{a..}`, `{1...3}`.
  fc.constantFrom("{", "}", ",", "..", "{}"),
);

function seqPiece() {
  return fc
    .tuple(
      fc.constantFrom("1", "3", "01", "-2", "10", "a", "c", "C", "z", "x1", ""),
      fc.constantFrom("1", "4", "003", "-1", "12", "a", "e", "A", "Z", "b", "."),
      fc.constantFrom("", "..2", "..-3", "..0", "..x"),
    )
    .map(([a, b, step]) => `{${a}..${b}${step}}`);
}
// A word of nothing but line continuations is no word at all (to bash and to the gate).
const word = fc
  .array(piece, { minLength: 1, maxLength: 4 })
  .map((ps) => ps.join(""))
  .filter((w) => w.replaceAll("\\\n", "") !== "");

describe.skipIf(missing("bash"))("gate word values equal bash's (differential)", () => {
  it("static words: quote removal, escapes, backslash-newline, $'…', brace expansion", () => {
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 4 }), (ws) => {
        const text = ws.join(" ");
        const mine = gateWords(text);
        // A word the gate calls dynamic is never ALLOW; a static one must be exactly bash's.
        if (mine.includes(null)) return;
        expect(mine, JSON.stringify(text)).toEqual(bashWords(text));
      }),
      { numRuns: 400, seed: 19 },
    );
  });

  it("brace sequences, glued to text and to each other, make bash's words", () => {
    const seqWord = fc
      .array(fc.oneof(seqPiece(), str("abz19/.", 2)), { minLength: 1, maxLength: 3 })
      .map((ps) => ps.join(""))
      .filter((w) => w !== "");
    let statics = 0;
    fc.assert(
      fc.property(seqWord, (w) => {
        const mine = gateWords(w);
        if (mine.includes(null)) return;
        statics++;
        expect(mine, JSON.stringify(w)).toEqual(bashWords(w));
      }),
      { numRuns: 200, seed: 33 },
    );
    expect(statics).toBeGreaterThan(150);
  });

  it("the generated words are overwhelmingly static (the comparison is not vacuous)", () => {
    const sample = fc.sample(fc.array(word, { minLength: 1, maxLength: 4 }), { numRuns: 300, seed: 7 });
    const dyn = sample.filter((ws) => gateWords(ws.join(" ")).includes(null));
    if (process.env.WORDS_DEBUG) console.log(dyn.slice(0, 30).map((ws) => ws.join(" ")));
    const staticLines = sample.length - dyn.length;
    expect(staticLines).toBeGreaterThan(240);
  });

  it.each([
    ["cat ~/.ss\\\nh/id_rsa", [`${HOME}/.ssh/id_rsa`]],
    ["$'\\x2f'etc/pass\"wd\"", ["/etc/passwd"]],
    ["'~/x' ~ ~/y", ["~/x", HOME, `${HOME}/y`]],
    ["a{b,c}d", ["abd", "acd"]],
    ['"a{b,c}"', ["a{b,c}"]],
    ["x\\{a,b}", ["x{a,b}"]],
    ["~/Library/Key{c..c}hains", [`${HOME}/Library/Keychains`]],
    ["/dev/{z..z}ero", ["/dev/zero"]],
    ["x{1..3}", ["x1", "x2", "x3"]],
    ["{01..10..3}", ["01", "04", "07", "10"]],
    ["{e..a..2}", ["e", "c", "a"]],
    ['"{a..c}"', ["{a..c}"]],
    ["{a..1}", ["{a..1}"]],
    // Sequences (red33: `node -{e..e}`, `find -exe{c..c}`, `~/Library/Keychain{s..s}`).
    ["-{e..e} -exe{c..c}", ["-e", "-exec"]],
    ["~/Library/Keychain{s..s}", [`${HOME}/Library/Keychains`]],
    ["{01..10..4} {c..a} {a..e..2}", ["01", "05", "09", "c", "b", "a", "a", "c", "e"]],
    ["{a{b,c}} {x..y{1,2}} {1...2}", ["{ab}", "{ac}", "x..y1", "x..y2", "{1...2}"]],
  ])("%j", (text, want) => {
    const got = gateWords(text).filter((w) => w !== "cat");
    expect(got).toEqual(want);
    expect(bashWords(text).filter((w) => w !== "cat")).toEqual(want);
  });

  it.each(["$X", '"$X"', "${X:-a}", "$(id)", "`id`", "~root", "a$((1+1))"])("%s is dynamic", (text) => {
    expect(gateWords(text)).toEqual([null]);
  });
});
