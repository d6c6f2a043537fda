/**
 * Issue 21 item 3: a clone holds its own design and contracts. Every relative link in the README
 * and docs/ resolves to a file inside the repository (the README once linked ../shared/DESIGN.md,
 * which no clone has), and every command the CLIs dispatch is in docs/design.md or
 * docs/contracts.md.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../agent/helpers.js";

const DOCS = [
  "README.md",
  "bench/README.md",
  ...readdirSync(join(REPO, "docs"))
    .filter((f) => f.endsWith(".md"))
    .map((f) => `docs/${f}`),
];

/** Relative link targets of a markdown file ([text](target)), without #fragment. */
function links(file: string): string[] {
  const text = readFileSync(join(REPO, file), "utf8");
  const out: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const t = m[1]!;
    if (/^[a-z]+:/i.test(t) || t.startsWith("#")) continue;
    out.push(t.split("#")[0]!);
  }
  return out;
}

describe("the documentation a clone holds", () => {
  it("has docs/design.md with the design's sections", () => {
    const design = readFileSync(join(REPO, "docs", "design.md"), "utf8");
    for (const h of [
      "## Components",
      "## The flow of one action",
      "## The evidence record",
      "## Contracts other parts rely on",
      "## Defaults",
      "## Phase 2",
    ])
      expect(design).toContain(h);
  });

  it.each(DOCS)("%s links only to files inside the repository", (file) => {
    const broken: string[] = [];
    for (const t of links(file)) {
      const target = resolve(dirname(join(REPO, file)), t);
      const rel = relative(REPO, target);
      if (rel.startsWith("..") || !existsSync(target)) broken.push(t);
    }
    expect(broken).toEqual([]);
  });

  it("names every command of forge-agent and forge-collector in design.md or contracts.md", () => {
    const text = ["design.md", "contracts.md"]
      .map((f) => readFileSync(join(REPO, "docs", f), "utf8"))
      .join("\n");
    const missing: string[] = [];
    for (const bin of ["forge-agent", "forge-collector"]) {
      const help = execFileSync(process.execPath, [join(REPO, "bin", `${bin}.js`), "--help"], {
        encoding: "utf8",
      });
      const commands = [...help.matchAll(/^ {2}([a-z][a-z-]*)\s/gm)].map((m) => m[1]!);
      expect(commands.length, bin).toBeGreaterThan(2);
      for (const c of commands)
        if (!new RegExp(`${bin} [^\\n]*\\b${c}\\b`).test(text)) missing.push(`${bin} ${c}`);
    }
    expect(missing).toEqual([]);
  });
});
