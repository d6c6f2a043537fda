#!/usr/bin/env node
// Held-out red-team measurement (issue 19): runs test/gate/corpus-fresh/{attacks,benign}.jsonl
// through the real CLI (`forge-agent check --json --batch`), one session and principal per entry,
// HOME=/Users/dev and --cwd /Users/dev/project, and prints ALLOW / ESCALATE / DENY per family.
// An entry's verdict is its strictest step (a multi-step attack is stopped by any step that is
// not ALLOW). Needs `npm run build` first.
//   node scripts/redteam-fresh.js [--json] [--allowed] [--guard] [--corpus DIR]
// --corpus DIR reads DIR/{attacks,benign}.jsonl instead (e.g. test/gate/corpus-red28, a second
// held-out corpus written without reading this one); --guard still needs DIR/baseline.json.
// When DIR/review.json lists `false_claims` (ids a hand review found not harmful if run), the
// report also gives the true ALLOW count: the ALLOWed attacks not in that list.
// --allowed lists every ALLOWed attack; --guard exits 1 when the attacks' ALLOW count rose, or the
// everyday ALLOW count fell or any everyday command is DENY, against corpus-fresh/baseline.json.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const corpusAt = argv.indexOf("--corpus");
if (corpusAt >= 0 && argv[corpusAt + 1] === undefined) throw new Error("--corpus needs a directory");
const corpus = resolve(root, corpusAt >= 0 ? argv[corpusAt + 1] : "test/gate/corpus-fresh");
const HOME = "/Users/dev";
const CWD = "/Users/dev/project";
const RANK = { ALLOW: 0, ESCALATE: 1, DENY: 2, error: 3 };

function load(name) {
  return readFileSync(join(corpus, name), "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
}

/** Runs every entry's steps in one batch; returns, per entry, the strictest verdict and the steps'. */
function judge(entries) {
  const lines = [];
  const owner = [];
  for (const e of entries) {
    for (const s of e.steps) {
      const line = { session_id: `fresh-${e.id}`, principal: `uid:fresh-${e.id}`, ...s };
      lines.push(JSON.stringify(line));
      owner.push(e.id);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "redteam-fresh-"));
  const file = join(dir, "batch.jsonl");
  writeFileSync(file, `${lines.join("\n")}\n`);
  const r = spawnSync(
    process.execPath,
    [join(root, "bin/forge-agent.js"), "check", "--json", "--cwd", CWD, "--batch", file],
    { env: { ...process.env, HOME }, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
  );
  rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`check --batch failed (${r.status}): ${r.stderr}`);
  const out = r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l));
  const byId = new Map(entries.map((e) => [e.id, { verdict: "ALLOW", steps: [] }]));
  for (const d of out) {
    const id = owner[d.line - 1];
    if (id === undefined) throw new Error(`batch output line ${d.line} has no entry`);
    const v = d.error ? "error" : d.evaluation;
    const rec = byId.get(id);
    rec.steps.push({ verdict: v, rules: (d.policy_matched ?? []).map((m) => m.rule_id) });
    if (RANK[v] > RANK[rec.verdict]) rec.verdict = v;
  }
  for (const e of entries) {
    const rec = byId.get(e.id);
    if (rec.steps.length !== e.steps.length) throw new Error(`${e.id}: ${rec.steps.length} decisions`);
  }
  return byId;
}

function table(entries, byId) {
  const fams = new Map();
  for (const e of entries) {
    const row = fams.get(e.family) ?? { n: 0, ALLOW: 0, ESCALATE: 0, DENY: 0, error: 0 };
    row.n++;
    row[byId.get(e.id).verdict]++;
    fams.set(e.family, row);
  }
  const total = { n: 0, ALLOW: 0, ESCALATE: 0, DENY: 0, error: 0 };
  for (const row of fams.values()) for (const k of Object.keys(total)) total[k] += row[k];
  return { fams, total };
}

function print(title, { fams, total }) {
  const rows = [...fams.entries(), ["TOTAL", total]];
  process.stdout.write(`\n${title}\n| family | n | ALLOW | ESCALATE | DENY |\n|---|---|---|---|---|\n`);
  for (const [f, r] of rows) {
    const err = r.error ? ` (+${r.error} error)` : "";
    process.stdout.write(`| ${f} | ${r.n} | ${r.ALLOW} | ${r.ESCALATE} | ${r.DENY}${err} |\n`);
  }
}

function show(e) {
  return e.steps.map((s) => (s.command !== undefined ? s.command : JSON.stringify(s.action))).join("  ⟶  ");
}

const args = new Set(argv);
const attacks = load("attacks.jsonl");
const benign = load("benign.jsonl");
const a = judge(attacks);
const b = judge(benign);
const at = table(attacks, a);
const bt = table(benign, b);
const reviewFile = join(corpus, "review.json");
const falseClaims = existsSync(reviewFile)
  ? new Set(Object.keys(JSON.parse(readFileSync(reviewFile, "utf8")).false_claims ?? {}))
  : null;
const allowedIds = attacks.filter((e) => a.get(e.id).verdict === "ALLOW").map((e) => e.id);
const trueAllowed = falseClaims ? allowedIds.filter((id) => !falseClaims.has(id)) : null;
if (args.has("--json")) {
  const alarms = benign.filter((e) => b.get(e.id).verdict !== "ALLOW").map((e) => e.id);
  const out = { attacks: at.total, benign: bt.total, allowed: allowedIds, false_alarms: alarms };
  if (trueAllowed) out.true_allowed = trueAllowed;
  process.stdout.write(`${JSON.stringify(out)}\n`);
} else {
  print("Held-out attacks (strictest step per attack)", at);
  print("Everyday commands", bt);
  const share = ((100 * bt.total.ALLOW) / bt.total.n).toFixed(1);
  process.stdout.write(
    `\neveryday ALLOW ${bt.total.ALLOW}/${bt.total.n} (${share}%), DENY ${bt.total.DENY}\n`,
  );
  if (trueAllowed)
    process.stdout.write(
      `attacks ALLOW ${allowedIds.length}, of which ${allowedIds.length - trueAllowed.length} false claims on review: true ALLOW ${trueAllowed.length}/${at.total.n}\n`,
    );
  if (args.has("--allowed")) {
    process.stdout.write("\nALLOWed attacks:\n");
    for (const e of attacks)
      if (a.get(e.id).verdict === "ALLOW") {
        const note = falseClaims?.has(e.id) ? " (false claim on review)" : "";
        process.stdout.write(`- ${e.id} [${e.family}]${note} ${show(e)}\n`);
      }
    process.stdout.write("\nEveryday commands not ALLOW:\n");
    for (const e of benign) {
      const r = b.get(e.id);
      if (r.verdict !== "ALLOW")
        process.stdout.write(
          `- ${e.id} ${r.verdict} ${show(e)} (${r.steps.flatMap((s) => s.rules).join(",")})\n`,
        );
    }
  }
}
if (args.has("--guard")) {
  const base = JSON.parse(readFileSync(join(corpus, "baseline.json"), "utf8"));
  const bad = [];
  if (at.total.ALLOW > base.attacks.ALLOW)
    bad.push(`attacks ALLOW ${at.total.ALLOW} > ${base.attacks.ALLOW}`);
  if (bt.total.ALLOW < base.benign.ALLOW) bad.push(`everyday ALLOW ${bt.total.ALLOW} < ${base.benign.ALLOW}`);
  if (bt.total.DENY > 0) bad.push(`everyday DENY ${bt.total.DENY}`);
  if (at.total.error + bt.total.error > 0) bad.push(`${at.total.error + bt.total.error} batch errors`);
  process.stdout.write(bad.length ? `guard: FAIL (${bad.join("; ")})\n` : "guard: ok\n");
  if (bad.length) process.exitCode = 1;
}
