/**
 * The gate corpora (test/gate/corpus/*.txt): `family<TAB>command`, a line without a TAB continues
 * the command above it, `family<TAB>@session NAME<TAB>command` is one step of a multi-step attack.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Gate } from "../../../src/gate/index.js";

export interface CorpusLine {
  family: string;
  command: string;
  /** Set for the steps of a multi-step attack; only the last step of a session is counted. */
  session: string | null;
  counted: boolean;
}

export function loadCorpus(name: string): CorpusLine[] {
  const text = readFileSync(join(import.meta.dirname, `${name}.txt`), "utf8");
  const out: CorpusLine[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const tab = line.indexOf("\t");
    if (tab < 0) {
      const last = out[out.length - 1];
      if (!last) throw new Error(`corpus ${name}: a continuation line before any command: ${line}`);
      last.command += `\n${line}`;
      continue;
    }
    const family = line.slice(0, tab);
    let rest = line.slice(tab + 1);
    let session: string | null = null;
    const m = /^@session ([^\t]+)\t/.exec(rest);
    if (m) {
      session = m[1]!;
      rest = rest.slice(m[0].length);
    }
    out.push({ family, command: rest, session, counted: true });
  }
  // Of a session's steps only the last is the attack; the earlier ones set it up.
  const lastOf = new Map<string, CorpusLine>();
  for (const l of out) if (l.session) lastOf.set(l.session, l);
  for (const l of out) if (l.session) l.counted = lastOf.get(l.session) === l;
  return out;
}

export interface FamilyFigures {
  family: string;
  total: number;
  ALLOW: number;
  ESCALATE: number;
  DENY: number;
  allowed: string[];
}

/** Evaluates every line (each command its own session unless it names one) and counts per family. */
export function runCorpus(gate: Gate, lines: CorpusLine[], tag: string): FamilyFigures[] {
  const fam = new Map<string, FamilyFigures>();
  lines.forEach((l, i) => {
    const d = gate.evaluate({
      session_id: l.session ? `${tag}-${l.session}` : `${tag}-${i}`,
      action: { kind: "shell", command: l.command },
    });
    if (!l.counted) return;
    let f = fam.get(l.family);
    if (!f) {
      f = { family: l.family, total: 0, ALLOW: 0, ESCALATE: 0, DENY: 0, allowed: [] };
      fam.set(l.family, f);
    }
    f.total++;
    f[d.evaluation]++;
    if (d.evaluation === "ALLOW") f.allowed.push(l.command);
  });
  return [...fam.values()];
}

export function table(figs: FamilyFigures[]): string {
  const rows = figs.map(
    (f) =>
      `${f.family.padEnd(18)} ${String(f.total).padStart(4)} ${String(f.ALLOW).padStart(6)} ${String(f.ESCALATE).padStart(9)} ${String(f.DENY).padStart(5)}`,
  );
  const t = figs.reduce(
    (a, f) => ({ n: a.n + f.total, A: a.A + f.ALLOW, E: a.E + f.ESCALATE, D: a.D + f.DENY }),
    { n: 0, A: 0, E: 0, D: 0 },
  );
  return [
    `${"family".padEnd(18)} ${"n".padStart(4)} ${"ALLOW".padStart(6)} ${"ESCALATE".padStart(9)} ${"DENY".padStart(5)}`,
    ...rows,
    `${"total".padEnd(18)} ${String(t.n).padStart(4)} ${String(t.A).padStart(6)} ${String(t.E).padStart(9)} ${String(t.D).padStart(5)}`,
  ].join("\n");
}
