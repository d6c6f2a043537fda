#!/usr/bin/env node
// Prints the closing line CI reads, `N passed, N failed`, from vitest's own JSON report.
import { readFileSync } from "node:fs";

const file = process.argv[2] ?? ".test-tmp/vitest.json";
let report;
try {
  report = JSON.parse(readFileSync(file, "utf8"));
} catch (err) {
  process.stdout.write(`test report unreadable (${err.message})\n0 passed, 1 failed\n`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// A suite that failed to load counts as a failure too, or a broken import would pass silently.
const failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0);
const skipped = report.numPendingTests ?? 0;
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
