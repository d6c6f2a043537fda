import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO } from "../agent/helpers.js";
import { launchHeadless } from "../support/chromium.js";
import { missing } from "../support/tools.js";
import { until } from "../support/wait.js";
import {
  type AgentProc,
  type CollectorProc,
  ensureBuilt,
  operatorsFile,
  startAgentProcess,
  startCollectorProcess,
  tempDir,
} from "./helpers.js";

/**
 * The dashboard in real headless Chromium against a real collector process and three real agent
 * processes: sign in, see the fleet, approve an escalation in the browser, and check on the agent
 * that the action ran with the operator recorded. Screenshots: see SHOTS.
 */

/** FORGE_UPDATE_SCREENSHOTS=1 refreshes docs/screenshots; otherwise they go to the test's temp dir. */
const SHOTS = process.env.FORGE_UPDATE_SCREENSHOTS ? join(REPO, "docs", "screenshots") : tempDir("fa-shots-");
const HOSTS = ["mac-studio-01", "mbp-ml-02", "mac-mini-03"];
const OPERATOR = { name: "alice", password: "correct horse battery" };
const SESSION = "browser-demo";
const COMMAND = `python3 -c 'print("approved-by-operator")'`;

describe.skipIf(missing("chromium"))("dashboard in headless Chromium, three agent processes", () => {
  const dir = tempDir("fa-dash-");
  let collector: CollectorProc;
  const agents: AgentProc[] = [];
  let browser: Browser;
  let page: Page;
  let actionId: string;
  let inFlightId: string;

  beforeAll(async () => {
    ensureBuilt();
    mkdirSync(SHOTS, { recursive: true });
    collector = await startCollectorProcess(dir, ["--operators-file", operatorsFile(dir, [OPERATOR])]);
    agents.push(
      ...(await Promise.all(
        HOSTS.map((h) => startAgentProcess(h, { collector_url: collector.url, heartbeat_ms: 1000 })),
      )),
    );
    ({ browser, page } = await launchHeadless());
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(agents.map((a) => a.stop()));
    await collector?.stop();
    for (const a of agents) rmSync(a.home, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
    if (!process.env.FORGE_UPDATE_SCREENSHOTS) rmSync(SHOTS, { recursive: true, force: true });
  });

  it("refuses the API without a session; the operator signs in and sees three hosts online", async () => {
    const anon = await page.request.get(`${collector.http}/v1/fleet`);
    expect(anon.status()).toBe(401);
    expect((await anon.json()).error.code).toBe("FORGE_UNAUTHENTICATED");

    await page.goto(`${collector.http}/`);
    await page.locator("#login-form").waitFor();
    await page.fill('input[name="password"]', "wrong password");
    await page.fill('input[name="name"]', OPERATOR.name);
    await page.click('button[type="submit"]');
    await expect.poll(() => page.textContent("#login-error")).toMatch(/wrong password/);
    await page.fill('input[name="password"]', OPERATOR.password);
    await page.click('button[type="submit"]');
    await page.locator('[data-count="online"]:text-is("3")').waitFor({ timeout: 20_000 });
    const rows = page.locator("#hosts tbody tr");
    expect(await rows.count()).toBe(3);
    for (const h of HOSTS) {
      await expect.poll(() => page.locator(`tr[data-host="${h}"] .status`).textContent()).toBe("online");
    }
  });

  it("approves an escalation in the browser; the action runs on the agent with the operator recorded", async () => {
    const agent = agents[1]!;
    // A little history in the same session for the timeline: an ALLOW that runs, a DENY.
    await agent.client.post("/v1/actions", {
      session_id: SESSION,
      proposed_action: { kind: "shell", command: "echo preparing" },
      execute: true,
    });
    await agent.client.post("/v1/actions", {
      session_id: SESSION,
      proposed_action: { kind: "shell", command: "rm -rf /" },
      execute: true,
    });
    const esc = await agent.client.post("/v1/actions", {
      session_id: SESSION,
      proposed_action: { kind: "shell", command: COMMAND },
      execute: true,
    });
    expect(esc.body.evaluation).toBe("ESCALATE");
    actionId = esc.body.action_id;
    // Allowed, not executed: in flight until the caller reports its result.
    const caller = await agent.client.post("/v1/actions", {
      session_id: SESSION,
      proposed_action: { kind: "shell", command: "echo the-caller-runs-this" },
    });
    expect(caller.body.state).toBe("allowed");
    inFlightId = caller.body.action_id;

    // One view shows the whole session: records, the escalation waiting, the action in flight.
    await page.goto(`${collector.http}/#/session/${SESSION}`);
    const waiting = page.locator(`.timeline li.pending[data-action="${actionId}"]`);
    await waiting.waitFor({ timeout: 15_000 });
    expect(await waiting.textContent()).toContain("waiting for review");
    expect(await waiting.textContent()).toContain("approved-by-operator");
    const flying = page.locator(`.timeline li.pending[data-action="${inFlightId}"]`);
    await flying.waitFor({ timeout: 15_000 });
    expect(await flying.textContent()).toContain("echo the-caller-runs-this");
    expect(await flying.locator(".state").textContent()).toBe("allowed");

    // Fleet overview, once the gate counts of the new actions arrived.
    await page.goto(`${collector.http}/#/`);
    await expect
      .poll(() => page.locator(`tr[data-host="${agent.hostId}"] .ev.DENY`).textContent(), { timeout: 15_000 })
      .toBe("1");
    await page.screenshot({ path: join(SHOTS, "fleet-overview.png"), fullPage: true });

    // Host detail with a few points on each chart.
    await page.click(`tr[data-host="${agent.hostId}"]`);
    await page.locator('svg[aria-label="CPU"] polyline').waitFor();
    await expect
      .poll(
        async () =>
          ((await page.locator('svg[aria-label="CPU"] polyline').getAttribute("points")) ?? "").split(" ")
            .length,
        {
          timeout: 15_000,
        },
      )
      .toBeGreaterThanOrEqual(4);
    await page.screenshot({ path: join(SHOTS, "host-detail.png"), fullPage: true });

    // The review queue: the escalation is listed; approve it.
    await page.click('a[data-nav="reviews"]');
    const row = page.locator(`tr[data-review="${actionId}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain(agent.hostId);
    await row.locator(".reason").fill("looked at it: prints a line");
    await page.screenshot({ path: join(SHOTS, "review-queue.png"), fullPage: true });
    await row.locator("button.approve").click();
    await page.locator("#decided td", { hasText: "operator:alice" }).first().waitFor({ timeout: 15_000 });

    // On the agent: approved by the operator, executed, final.
    const view = await until(async () => {
      const v = (await agent.client.get(`/v1/actions/${actionId}?wait=2000`)).body;
      return v.state === "done" ? v : undefined;
    });
    expect(view.evaluation).toBe("ALLOW");
    expect(view.principal_review).toMatchObject({
      decision: "approve",
      reviewer: "operator:alice",
      reason: "looked at it: prints a line",
    });
    expect(view.execution_result.exit_code).toBe(0);
    expect(view.execution_result.stdout.excerpt).toBe("approved-by-operator\n");
  });

  it("reconstructs the session timeline from the evidence the collector holds", async () => {
    // The caller reports its result: that action becomes a record too, and nothing is pending.
    const agent = agents[1]!;
    const done = await agent.client.post(`/v1/actions/${inFlightId}/result`, { status: "ok", exit_code: 0 });
    expect(done.status).toBe(200);
    await page.goto(`${collector.http}/#/session/${SESSION}`);
    await expect.poll(() => page.locator(".timeline li.pending").count(), { timeout: 20_000 }).toBe(0);
    const reviewer = page.locator(".timeline .reviewer");
    await expect
      .poll(async () => ((await reviewer.count()) > 0 ? reviewer.first().textContent() : null), {
        timeout: 20_000,
      })
      .toBe("operator:alice");
    const items = page.locator(".timeline li[data-seq]");
    await expect.poll(() => items.count(), { timeout: 10_000 }).toBe(4);
    expect(await page.locator(".timeline li.DENY").count()).toBe(1);
    expect(await page.locator(".timeline pre", { hasText: "approved-by-operator" }).count()).toBe(1);
    await page.screenshot({ path: join(SHOTS, "session-timeline.png"), fullPage: true });
  });
});
