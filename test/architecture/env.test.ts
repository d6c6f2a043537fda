import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * Issue 11 §4: the environment is read once, by the bin/ entry points, and handed down
 * (`main(argv, process.env)` → each command's `env`). No module under src/ reads process.env.
 */
const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/** Files that are a process's own entry point (run by `node FILE`), not a module of the CLI. */
const ENTRY_POINTS = new Set([
  // Runs inside the sandbox before the action and hands its environment to the action.
  "agent/sandbox/forwarder.ts",
]);

/** "file:line" of each code line (comments aside) that names process.env. */
function envReaders(files: Iterable<[name: string, text: string]>): string[] {
  const out: string[] = [];
  for (const [name, text] of files) {
    if (ENTRY_POINTS.has(name)) continue;
    text.split("\n").forEach((line, i) => {
      const code = line.replace(/\/\/.*$/, "").trim();
      if (code.startsWith("*") || code.startsWith("/*")) return;
      if (/\bprocess\.env\b/.test(code)) out.push(`${name}:${i + 1}`);
    });
  }
  return out;
}

function* sources(dir: string): Generator<[string, string]> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) yield* sources(p);
    else if (e.name.endsWith(".ts")) yield [relative(SRC, p), readFileSync(p, "utf8")];
  }
}

describe("the environment is handed down", () => {
  it("no module under src/ reads process.env", () => {
    expect(envReaders(sources(SRC))).toEqual([]);
  });

  it("the check finds a reader, and not a comment that names it", () => {
    const planted: [string, string][] = [
      ["cli/x.ts", "// process.env is not read here\n/** nor process.env here */\nconst a = 1;\n"],
      ["training/y.ts", "const a = 1;\nexport const P = process.env.FORGE_X ?? '/usr/bin/x';\n"],
      ["agent/z.ts", "const env = { ...process.env };\n"],
    ];
    expect(envReaders(planted)).toEqual(["training/y.ts:2", "agent/z.ts:1"]);
  });
});
