/**
 * Ctrl-C: a real SIGINT to the CLI once the first suite is measuring. The run stops after the
 * current measurement, still writes a valid report (partial: true, the interrupted suite's figures,
 * the suites after it "not_run"), still appends its benchmark record, and exits 130.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseReport } from "../../bench/report.js";
import { until } from "../support/wait.js";
import { ensureBuilt, start } from "./helpers.js";

let dir: string;
beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), "forge-bench-int-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it("SIGINT during the first suite writes a valid partial report and exits 130", async () => {
  const home = join(dir, "home");
  const file = join(dir, "partial.json");
  // 60 s per measurement: without the interrupt this run would take minutes.
  const p = start([
    "bench",
    "--suite",
    "inference,metrics",
    "--duration",
    "60",
    "--json",
    file,
    "--home",
    home,
  ]);
  try {
    // Plain progress lines (stderr is a pipe): the round label is printed after the first measured
    // round, so from then on the suite has figures to keep.
    let exited = false;
    void p.done.then(() => (exited = true));
    await until(
      () => exited || p.err().includes("inference: inference rounds"),
      () => `the inference suite to start measuring; stderr: ${p.err()}`,
      60_000,
    );
    expect(exited, p.err()).toBe(false);
    p.child.kill("SIGINT");
    const exit = await p.done;
    expect(exit.code, exit.err).toBe(130);
    expect(exit.err).toMatch(/interrupted/);
    const report = parseReport(JSON.parse(readFileSync(file, "utf8")));
    expect(report.partial).toBe(true);
    const [inference, metrics] = report.suites;
    expect(inference).toMatchObject({ suite: "inference", status: "partial", partial: true });
    // What was measured before the interrupt is kept, and not held to the targets.
    const decode = inference!.metrics.find((m) => m.unit === "tok/s")!;
    expect(decode.stats.n).toBeGreaterThan(0);
    expect(inference!.metrics.filter((m) => m.met !== undefined)).toEqual([]);
    expect(metrics).toMatchObject({ suite: "metrics", status: "not_run", metrics: [] });
    expect(exit.out).toContain("PARTIAL: interrupted");
    expect(report.record).toMatchObject({ written: true, seq: 1 });
    const db = new Database(join(home, "evidence.db"), { readonly: true });
    const row = db.prepare("SELECT kind, body FROM records WHERE seq = 1").get() as {
      kind: string;
      body: string;
    };
    db.close();
    expect(row.kind).toBe("benchmark");
    expect(JSON.parse(row.body).execution_result.partial).toBe(true);
  } finally {
    p.child.kill("SIGKILL");
  }
}, 90_000);
