/**
 * The native parser (tree-sitter's C runtime in our addon) against the reference (web-tree-sitter):
 * the same extracted commands and the same decisions on the default pack, line for line.
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { novelLine } from "../../bench/gate.js";
import { defaultPolicyPath, Gate, initGate, loadPolicy } from "../../src/gate/index.js";
import {
  initShell,
  parseShell,
  type ShellBackend,
  shellBackend,
  useShellBackend,
} from "../../src/gate/shell/index.js";
import { nativeShell } from "../../src/platform/native.js";

const HOME = "/Users/dev";
const CWD = `${HOME}/project`;

/** The parse as comparable text (flags are a Set). */
function parsed(which: ShellBackend, line: string): string {
  useShellBackend(which);
  try {
    const p = parseShell(line, CWD, HOME);
    return JSON.stringify(p, (_k, v) => (v instanceof Set ? [...v] : v));
  } catch (err) {
    return `throws ${(err as Error & { code?: string }).code}: ${(err as Error).message}`;
  }
}

const gates = {} as Record<ShellBackend, Gate>;

/** evaluation, rules, risk and reasons: everything in a decision but its timing. */
function decided(which: ShellBackend, line: string, session = "diff"): string {
  useShellBackend(which);
  const d = gates[which].evaluate({ session_id: session, action: { kind: "shell", command: line } });
  // A label's provenance names the time it was set, which differs by a millisecond between the two gates.
  const reasons = d.reasons.map((r) => r.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z/g, "<time>"));
  return JSON.stringify([d.evaluation, d.policy_matched, d.risk, reasons]);
}

function same(line: string, session?: string): void {
  expect(parsed("native", line), line).toBe(parsed("wasm", line));
  expect(decided("native", line, session), line).toBe(decided("wasm", line, session));
}

beforeAll(async () => {
  await initGate();
  // The default path: the addon is built in this repo, so the gate must be using it.
  expect(shellBackend()).toEqual({ backend: "native" });
  await initShell("wasm"); // throws if the two grammars' symbol tables differ
  const bundle = loadPolicy(defaultPolicyPath());
  for (const which of ["native", "wasm"] as const)
    gates[which] = new Gate(bundle, { home: HOME, cwd: CWD, maxSessions: 64 });
});

const TOKENS = [
  ...["rm", "-rf", "~", "/", "|", "||", "&&", ";", "&", "(", ")", "{", "}", "$(", "`", "'", '"', "\\"],
  ...["$", "${", "<(", ">(", ">", ">>", "<<", "<<-", "<<<", "EOF", "\n", "bash", "-c", "eval", "sudo"],
  ...["x", "=", "*", "#", "!", "[[", "]]", "if", "then", "fi", "for", "do", "done", "$'\\x72'", "2>&1"],
  ...["cat", "~/.ssh/id_rsa", "curl", "sh", " ", "\t", "case", "esac", ";;", "é", "日本", "😀", "\u3000"],
  ...["\u0085", "\u00a0", "\0", "\ud800", "\udfff", "$((", "))", "[", "]", "-", "--", "X=1", "ä=1"],
  ...["${x:-$(rm -rf ~)}", "find . -exec rm {} \\;", "xargs", "env", "python3 -c", "'a b'", '"$x"'],
];
const soup = (sep: string) => fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }).map((t) => t.join(sep));
const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));

describe("native and web-tree-sitter parse to the same commands and decisions", () => {
  it("on the default pack's test commands and the benchmark's lines", () => {
    const pack = parseYaml(readFileSync(defaultPolicyPath(), "utf8")) as { tests: { command?: string }[] };
    const corpus = pack.tests.flatMap((t) => (t.command ? [t.command] : []));
    expect(corpus.length).toBeGreaterThan(100);
    for (let i = 0; i < 800; i++) corpus.push(novelLine(i));
    for (const line of corpus) same(line, "corpus");
  });

  it("on generated token soup, arbitrary UTF-16 (lone surrogates, NUL) and code points", () => {
    const line = fc.oneof(
      soup(" "),
      soup(""),
      fc.string({ maxLength: 120 }),
      fc.string({ unit: anyUnit, maxLength: 120 }),
      fc.string({ unit: "binary", maxLength: 80 }),
    );
    fc.assert(
      fc.property(line, fc.nat(7), (l, s) => same(l, `prop-${s}`)),
      { numRuns: 3000 },
    );
  });

  it("on empty, huge, deeply nested and over-long input", () => {
    const cases = [
      "",
      " ",
      "\0",
      "\0rm -rf ~",
      "rm\0 -rf ~",
      "\ud800",
      "echo \udc00\ud800 | sh",
      "echo 😀😀 > ~/.zshrc; cat ~/.ssh/id_é",
      "é=1; ä=$(rm -rf ~) ls",
      "a; ".repeat(300), // over maxCommands
      `${"$(".repeat(200)}rm -rf ~${")".repeat(200)}`,
      `${"(".repeat(500)}x${")".repeat(500)}`,
      `${"{ ".repeat(300)}rm -rf /${"; }".repeat(300)}`,
      `bash -c ${"\"eval '".repeat(8)}rm -rf ~`,
      `echo ${"x".repeat(16000)} && rm -rf ~`,
      `echo ${"😀".repeat(9000)}`, // over maxLength in UTF-16 units, under it in code points
      "cat <<EOF | sh\nrm -rf ~\nEOF",
      "if [[ $(id -u) -eq 0 ]]; then rm -rf /; fi",
    ];
    for (const line of cases) same(line, "edge");
  });
});

describe("parseShellFlat", () => {
  it("reports UTF-16 offsets, so they index the JS string", () => {
    const { grammar, parseShellFlat } = nativeShell();
    const line = "echo 😀é | wc";
    const r = parseShellFlat(line);
    const words: string[] = [];
    for (let i = grammar.header; i < r.length; i += grammar.stride)
      if (grammar.names[r[i]!] === "word") words.push(line.slice(r[i + 1]!, r[i + 2]!));
    expect(words).toEqual(["echo", "😀é", "wc"]);
    expect(r[1]).toBe((r.length - grammar.header) / grammar.stride);
    expect(r[0]! & 1).toBe(0);
    expect(parseShellFlat("echo $(")[0]! & 1).toBe(1);
  });

  it("gives a coded error for a non-string and survives a multi-megabyte line", () => {
    const { parseShellFlat } = nativeShell();
    // Called as JavaScript may call it, past the declared signature.
    expect(() => Reflect.apply(parseShellFlat, undefined, [42])).toThrow(
      expect.objectContaining({ code: "FORGE_NATIVE_BAD_ARGUMENT" }),
    );
    expect(() => Reflect.apply(parseShellFlat, undefined, [])).toThrow(
      expect.objectContaining({ code: "FORGE_NATIVE_BAD_ARGUMENT" }),
    );
    const big = parseShellFlat(`echo ${"a ".repeat(1 << 20)}`);
    expect(big[1]).toBeGreaterThan(1 << 20);
    expect(() => parseShellFlat("x".repeat((1 << 24) + 1))).toThrow(
      expect.objectContaining({ code: "FORGE_NATIVE_BAD_ARGUMENT" }),
    );
  });

  it("keeps the outer line intact when a nested parse outgrows the buffer", () => {
    // 20 000 words are 100 000 words of records, over the buffer's initial 65 536.
    const line = `bash -c "echo ${"w ".repeat(20_000)}"; rm -rf ~`;
    const limits = { maxLength: 100_000, maxCommands: 256, maxDepth: 6 };
    useShellBackend("wasm");
    const want = parseShell(line, CWD, HOME, limits);
    useShellBackend("native");
    const p = parseShell(line, CWD, HOME, limits);
    expect(p.commands.map((c) => c.program)).toEqual(["bash", "echo", "rm"]);
    expect(p.commands[1]!.words).toHaveLength(20_000);
    expect(p.commands.map((c) => c.text)).toEqual(want.commands.map((c) => c.text));
    expect(p.commands[2]!.paths).toEqual([HOME]);
  });

  it("is the gate's parser by default, and a bad line through it is never ALLOW", () => {
    useShellBackend("native");
    for (const line of ["rm -rf ~ \0", "echo $(", "X=rm; $X -rf ~", `eval ${"$(".repeat(50)}`])
      expect(decided("native", line, "never")).not.toMatch(/^\["ALLOW"/);
  });
});

describe("without the addon", () => {
  it("initGate falls back to web-tree-sitter and says why", () => {
    // The built gate, copied where no native/build is found walking up from it.
    const dir = mkdtempSync(join(tmpdir(), "forge-noaddon-"));
    try {
      const dist = fileURLToPath(new URL("../../dist/src", import.meta.url));
      cpSync(dist, join(dir, "dist", "src"), { recursive: true });
      symlinkSync(fileURLToPath(new URL("../../node_modules", import.meta.url)), join(dir, "node_modules"));
      writeFileSync(join(dir, "package.json"), '{"type":"module"}');
      const script = `
        const s = await import("./dist/src/gate/shell/index.js");
        const { nativeShell } = await import("./dist/src/platform/native.js");
        const backend = await s.initShell("auto", nativeShell); // as initGate does
        const p = s.parseShell("cat ~/.ssh/id_rsa | é=1 sh", "/w", "/h");
        console.log(JSON.stringify({ backend, info: s.shellBackend(), programs: p.commands.map((c) => c.program) }));`;
      const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
        cwd: dir,
        encoding: "utf8",
      });
      const r = JSON.parse(out);
      expect(r.backend).toBe("wasm");
      expect(r.info.nativeUnavailable).toMatch(/could not be loaded/);
      expect(r.programs).toEqual(["cat", "sh"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
