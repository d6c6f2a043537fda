/**
 * What reading a written code file costs (gate58): unboundCapability (the tables, then the
 * code reader) and the reader alone on a 1,000-line everyday file per language, interleaved in
 * one process (each round times every variant once), medians of the rounds.
 *   npx tsc -p tsconfig.json && node dist/bench/code-reader.js
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { unboundCapability } from "../src/gate/capabilities.js";
import { type Lang, readCapability } from "../src/gate/code-reader.js";

const DIR = join(import.meta.dirname, "..", "..", "test", "gate", "code-reader-gate58");
const FILES: [Lang, string][] = [
  ["python", "app.py.txt"],
  ["js", "app.tsx.txt"],
  ["go", "main.go.txt"],
  ["rust", "main.rs.txt"],
  ["ruby", "app.rb.txt"],
];

/** The fixture repeated to 1,000 lines. */
function thousand(file: string): string {
  const lines = readFileSync(join(DIR, file), "utf8").split("\n");
  const out: string[] = [];
  while (out.length < 1000) out.push(...lines);
  return out.slice(0, 1000).join("\n");
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

for (const [lang, file] of FILES) {
  const text = thousand(file);
  const whole: number[] = [];
  const reader: number[] = [];
  let verdict: string | null = null;
  for (let r = 0; r < 400; r++) {
    let t = process.hrtime.bigint();
    verdict = unboundCapability(lang, text);
    whole.push(Number(process.hrtime.bigint() - t) / 1000);
    t = process.hrtime.bigint();
    readCapability(lang, text);
    reader.push(Number(process.hrtime.bigint() - t) / 1000);
  }
  process.stdout.write(
    `${lang.padEnd(7)} ${text.length} chars: unboundCapability ${median(whole).toFixed(0)} µs, reader ${median(reader).toFixed(0)} µs (median of 400; verdict ${verdict === null ? "none" : verdict})\n`,
  );
}
