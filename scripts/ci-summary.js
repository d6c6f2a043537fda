#!/usr/bin/env node
// Prints the closing line CI reads, `N passed, N failed`, from vitest's own JSON report, and, when
// a second file is named, the result scripts/newcomer-check wrote with --json (one check: it passed
// or it failed, with the steps that failed). A named file that is missing or unreadable is a failure.
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? ".test-tmp/vitest.json";
const newcomerFile = process.argv[3];

function read(path) {
  try {
    return { ok: true, value: JSON.parse(readFileSync(path, "utf8")) };
  } catch (err) {
    return { ok: false, error: err.message };
  }
}

const lines = [];
let passed = 0;
let failed = 0;
let skipped = 0;
let unreadable = false;
const report = read(file);
if (!report.ok) {
  lines.push(`test report unreadable (${report.error})`);
  failed += 1;
  unreadable = true;
} else {
  passed += report.value.numPassedTests ?? 0;
  // A suite that failed to load counts as a failure too, or a broken import would pass silently.
  failed += (report.value.numFailedTests ?? 0) + (report.value.numFailedTestSuites ?? 0);
  skipped += report.value.numPendingTests ?? 0;
}
if (newcomerFile !== undefined) {
  const n = read(newcomerFile);
  if (!n.ok || typeof n.value?.ok !== "boolean" || !Array.isArray(n.value.steps)) {
    lines.push(`newcomer-check: no result (${n.ok ? "not a newcomer-check result" : n.error})`);
    failed += 1;
    unreadable = true;
  } else if (n.value.ok) {
    lines.push(
      `newcomer-check: PASS (${n.value.steps.length} steps, ${n.value.wall_s} s, install ${n.value.install})`,
    );
    passed += 1;
  } else {
    const bad = n.value.steps.filter((s) => !s.ok).map((s) => s.step);
    lines.push(`newcomer-check: FAIL (${bad.length ? bad.join(", ") : "it did not finish"})`);
    failed += 1;
  }
}
lines.push(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.stdout.write(`${lines.join("\n")}\n`);
// The exit status of the runs is CI's own; this fails only when a report it was given is missing.
process.exit(unreadable ? 1 : 0);
