// The dashboard's training view in headless Chromium, real processes: a collector, an agent, and
// `forge-agent train` (through the agent's socket). The job's injected spike falls under an
// `escalate` rule: the escalation waits in the console's review queue, operator alice approves it
// there, the job finishes DONE, and #/training shows the run (state, progress, budgets, loss curve,
// the anomaly approved by operator:alice, checkpoints), and the collector's copy of the host's chain
// verifies and holds the session's records as the agent does. Screenshot: training.png (see SHOTS).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defaultPolicyPath } from "../../src/gate/index.js";
import { verifyRecord } from "../../src/lifecycle/lineage.js";
import type { StoredRecord } from "../../src/protocol/record.js";
import { generatedCorpus } from "../../src/training/dataset.js";
import { REPO } from "../agent/helpers.js";
import {
  AGENT_BIN,
  type AgentProc,
  type CollectorProc,
  ensureBuilt,
  operatorsFile,
  startAgentProcess,
  startCollectorProcess,
  tempDir,
} from "../fleet/helpers.js";
import { launchHeadless } from "../support/chromium.js";
import { missing } from "../support/tools.js";
import { until } from "../support/wait.js";

/** FORGE_UPDATE_SCREENSHOTS=1 refreshes docs/screenshots; otherwise they go to the test's temp dir. */
const SHOTS = process.env.FORGE_UPDATE_SCREENSHOTS ? join(REPO, "docs", "screenshots") : tempDir("fa-shots-");
const ALICE = { name: "alice", password: "correct horse battery" };
const SHA = createHash("sha256").update(generatedCorpus()).digest("hex");

describe.skipIf(missing("chromium"))("the dashboard's training view (Chromium)", () => {
  const dir = tempDir("fa-train-dash-");
  let collector: CollectorProc;
  let agent: AgentProc;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(SHOTS, { recursive: true });
    collector = await startCollectorProcess(dir, ["--operators-file", operatorsFile(dir, [ALICE])]);
    agent = await startAgentProcess("host-train", {
      collector_url: collector.url,
      heartbeat_ms: 300,
      policy: defaultPolicyPath(),
      review: { deadline_ms: 120_000 },
    });
    ({ browser, page } = await launchHeadless());
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await agent?.stop();
    await collector?.stop();
    if (!process.env.FORGE_UPDATE_SCREENSHOTS) rmSync(SHOTS, { recursive: true, force: true });
  });

  it("an escalated anomaly is approved in the console; #/training shows the run", async () => {
    const job = join(dir, "dash.yaml");
    writeFileSync(
      job,
      `job: dash
model:
  shape: {layers: 1, width: 16, heads: 2, context: 16}
dataset: {ref: generated:corpus-v1, sha256: "${SHA}"}
hyperparameters: {learning_rate: 0.02, batch: 2, sequence: 8, steps: 12, seed: 1}
budgets: {max_parameters: 100000, max_tokens: 100000, max_steps: 100, max_wall_seconds: 3600, max_memory_mb: 8192}
anomaly:
  non_finite: {action: skip}
  spike: {factor: 10, window: 20, warmup: 2, action: escalate}
checkpoints: {every: 4, dir: ck}
inject: [{step: 2, kind: nan}, {step: 4, kind: spike, factor: 1000}]
`,
    );
    const child = spawn(
      process.execPath,
      [AGENT_BIN, "train", job, "--home", join(agent.home, "var"), "--json"],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    let err = "";
    child.stdout!.on("data", (b) => (out += b));
    child.stderr!.on("data", (b) => (err += b));
    const exited = new Promise<number | null>((r) => child.once("exit", r));

    await page.goto(`${collector.http}/`);
    await page.fill('input[name="name"]', ALICE.name);
    await page.fill('input[name="password"]', ALICE.password);
    await page.click('button[type="submit"]');
    await page.click('a[data-nav="reviews"]');
    const row = page.locator("tr[data-review]", { hasText: "training anomaly" });
    await row.first().waitFor({ timeout: 90_000 });
    await page.screenshot({ path: join(SHOTS, "training-review.png") });
    await row.first().locator(".reason").fill("drill: the spike was injected");
    await row.first().locator("button.approve").click();
    expect(await exited, err).toBe(0);
    const report = JSON.parse(out);
    expect(report.state).toBe("DONE");
    expect(report.anomalies.map((a: { rule: string; outcome: string }) => `${a.rule}:${a.outcome}`)).toEqual([
      "non_finite:skipped",
      "spike:approved",
    ]);

    // The run's records reach the collector; the view draws it.
    await until(
      async () => {
        const r = await (await page.request.get(`${collector.http}/v1/training`)).json();
        return r.runs?.find((x: { state: string }) => x.state === "DONE");
      },
      "the finished run at the collector",
      60_000,
    );
    await page.click('a[data-nav="training"]');
    const run = page.locator(`tr[data-run="${report.session_id}"]`);
    await run.waitFor({ timeout: 20_000 });
    await expect.poll(() => run.locator(".state").textContent(), { timeout: 20_000 }).toBe("DONE");
    expect(await run.textContent()).toContain("12 steps");
    expect(await run.locator(".anomalies").textContent()).toMatch(
      /spike @4: escalate → approved by operator:alice/,
    );
    expect(await run.locator(".anomalies").textContent()).toMatch(/non_finite @2: skip → skipped/);
    expect(await run.locator(".checkpoints li").count()).toBe(3);
    // The loss curve is per step: every trained step's loss from the per-step logs beside the
    // checkpoints (step 2, the skipped NaN, has none), as the collector received them.
    const logged = report.checkpoints.flatMap((c: { path: string }) =>
      readFileSync(join(c.path, "steps.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as { step: number; loss: number; outcome: string })
        .filter((l) => l.outcome === "trained")
        .map((l) => ({ step: l.step, loss: l.loss })),
    );
    expect(logged.map((l: { step: number }) => l.step)).toEqual([1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const atCollector = await (await page.request.get(`${collector.http}/v1/training`)).json();
    expect(
      atCollector.runs.find((x: { session_id: string }) => x.session_id === report.session_id).loss,
    ).toEqual(logged);
    expect(await run.locator("svg.loss").getAttribute("data-points")).toBe("11");
    expect(await run.locator(".budgets").textContent()).toMatch(/tokens: 192 \/ 100000/);
    await page.screenshot({ path: join(SHOTS, "training.png"), fullPage: true });

    // The chain verifies at the collector: its copy of this host's records (from seq 1, no gap)
    // recomputes every hash and chains each to its predecessor, the session's training records are
    // among them, each equal to the agent's own (same seq, same hash), and nothing was alerted.
    const held = (
      await (await page.request.get(`${collector.http}/v1/records?host_id=host-train&limit=10000`)).json()
    ).records as StoredRecord[];
    expect(held.map((r) => r.seq)).toEqual(held.map((_, i) => i + 1));
    const byKey = new Map(held.map((r) => [`${r.host_id}#${r.seq}`, r]));
    expect(held.map((r) => verifyRecord(r, byKey)).filter((p) => p !== null)).toEqual([]);
    const local = (
      (await agent.client.get(`/v1/sessions/${report.session_id}/trace`)).body.steps as {
        seq: number;
        hash: string;
        execution_result: { event: string };
      }[]
    ).map((x) => ({ seq: x.seq, hash: x.hash, event: x.execution_result.event }));
    const central = held
      .filter((r) => r.session_id === report.session_id)
      .map((r) => ({ seq: r.seq, hash: r.hash, event: (r.execution_result as { event: string }).event }));
    expect(central).toEqual(local);
    expect(central.map((x) => x.event)).toEqual([
      "start",
      "anomaly",
      "anomaly",
      "checkpoint",
      "checkpoint",
      "checkpoint",
      "end",
    ]);
    const alerts = (await (await page.request.get(`${collector.http}/v1/alerts?host_id=host-train`)).json())
      .alerts as unknown[];
    expect(alerts).toEqual([]);
  }, 240_000);
});
