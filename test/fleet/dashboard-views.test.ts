// Issue 21, "The dashboard" and the reviewer notes, in real headless Chromium against a real
// collector: hosts speak the real WebSocket protocol (TestHost: signed hello, chained records,
// heartbeats, review answers). Inference steps show the model and a summary; the gate latency is
// the gate's; timestamps are relative and local (the browser runs in Asia/Tokyo); the models table
// names the model; an empty Power panel is one line; "Decided here" shows the command and the
// reason; a review's deadline is a duration; alerts link to their host; a range selector and a
// session search drive the server's query parameters; the charts survive a collector restart; and
// a record's hostile text stays text in every new view.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetPlugin } from "../../src/collector/fleet-plugin.js";
import { type Collector, startCollector } from "../../src/collector/server.js";
import type { RecordInput } from "../../src/protocol/record.js";
import { type Client, connectHost, input, ship, TestHost } from "../collector/helpers.js";
import { launchHeadless } from "../support/chromium.js";
import { missing } from "../support/tools.js";
import { nextMs, until } from "../support/wait.js";

// The page's globals, as far as the functions run in Chromium (page.evaluate) use them.
declare const location: { hash: string };
declare const document: {
  body: { dataset: Record<string, string | undefined> };
  querySelectorAll(selector: string): { length: number };
};
declare const window: unknown;

const SECRET = "ops-secret-views";
const HOSTILE = `<img src=x onerror="window.__xss=1" id=pwn><a id=pwnlink href="//evil.example">x</a>`;
const TZ = "Asia/Tokyo";
const MIN = 60_000;
const MODEL = "qwen2.5:0.5b-instruct";

const iso = (ms: number) => new Date(ms).toISOString();

/** An inference record as the facade writes it (src/inference/facade-turn.ts inferenceRecord). */
function inference(session: string, at: number, i: number, over: Partial<RecordInput> = {}): RecordInput {
  return {
    ...input(session, i),
    kind: "inference",
    timestamp: iso(at),
    evaluation: null,
    proposed_action: {
      kind: "inference",
      endpoint: "/api/chat",
      model: MODEL,
      backend: "llama",
      options: {},
      model_admission: {
        digest: `sha256:${"ab".repeat(32)}`,
        reference: null,
        stage: "production",
        exempt: false,
        label: "promoted",
      },
    },
    execution_result: {
      model: MODEL,
      backend: "llama",
      duration_ms: 7095.782,
      done_reason: "stop",
      timing: { prompt_tokens: 31, generated_tokens: 12, ttft_ms: 412, total_ms: 7090, tokens_per_s: 18.5 },
      tool_calls: [{ name: "shell", action_id: "a-tool", evaluation: "DENY" }],
    },
    latency_ms: 0,
    ...over,
  };
}

function shell(session: string, at: number, i: number, command: string): RecordInput {
  return {
    ...input(session, i),
    timestamp: iso(at),
    proposed_action: { kind: "shell", command },
    evaluation: "ALLOW",
    latency_ms: 0.042,
    policy_matched: { bundle: null, rules: [{ rule_id: "allow-echo", effect: "allow", risk: 1 }] },
  };
}

function start(database: string): Promise<Collector> {
  const fleet = fleetPlugin({ operators: [{ name: "alice", secret: SECRET }], fleet: { persistEveryMs: 0 } });
  return startCollector({ database, listen: "127.0.0.1:0", plugins: [fleet.plugin] });
}

describe.skipIf(missing("chromium"))("dashboard views for issue 21 (Chromium, real collector)", () => {
  const dir = mkdtempSync(join(tmpdir(), "fa-dash21-"));
  const database = `sqlite:${join(dir, "collector.db")}`;
  let collector: Collector;
  let browser: Browser;
  let page: Page;
  const web = new TestHost("web-01");
  const power = new TestHost("gpu-02");
  const bad = new TestHost("bad-03");
  let webClient: Client;
  const now = Date.now();

  const signIn = async () => {
    await page.goto(`${collector.httpUrl}/`);
    await page.fill('input[name="name"]', "alice");
    await page.fill('input[name="password"]', SECRET);
    await page.click('button[type="submit"]');
    await page.locator("#nav").waitFor();
  };
  /** Opens a view and waits until it rendered (the app marks body[data-ready] with the hash). */
  const open = async (hash: string) => {
    await page.evaluate((h) => {
      location.hash = h;
    }, hash);
    await page.waitForFunction((h) => document.body.dataset.ready === h, hash, { timeout: 15_000 });
  };
  /** Nothing injected: no hostile element, link or handler ran. */
  const inert = async () =>
    page.evaluate(() => ({
      elements: document.querySelectorAll("#pwn, #pwnlink, #view img").length,
      xss: (window as { __xss?: number }).__xss ?? null,
    }));

  beforeAll(async () => {
    collector = await start(database);
    ({ c: webClient } = await connectHost(collector.url, web));
    // Heartbeats without power counters (web-01) and with them (gpu-02).
    for (const cpu of [10, 20, 30, 40]) {
      webClient.send({ type: "heartbeat", reading: { cpu_percent: cpu, watts: {} } });
      await nextMs();
    }
    const p = await connectHost(collector.url, power);
    for (const w of [5, 6, 7]) {
      p.c.send({ type: "heartbeat", reading: { cpu_percent: 50, watts: { cpu: w, gpu: w * 2 } } });
      await nextMs();
    }
    await ship(
      webClient,
      web.append([
        shell("old-session", now - 120 * MIN, 1, "echo two hours ago"),
        inference("chat-1", now - 5 * MIN, 2),
        // A record from before execution_result.duration_ms: its latency_ms was the request's.
        inference("chat-1", now - 4 * MIN, 3, {
          latency_ms: 7095.782,
          execution_result: {
            model: MODEL,
            backend: "llama",
            done_reason: "length",
            timing: null,
            tool_calls: [],
          },
        }),
        shell("chat-1", now - 3 * MIN, 4, "echo gated"),
        inference(HOSTILE, now - 2 * MIN, 5, {
          proposed_action: {
            kind: "inference",
            endpoint: HOSTILE,
            model: HOSTILE,
            backend: HOSTILE,
            model_admission: {
              digest: HOSTILE,
              reference: null,
              stage: HOSTILE,
              exempt: false,
              label: HOSTILE,
            },
          },
          execution_result: {
            model: HOSTILE,
            backend: HOSTILE,
            done_reason: HOSTILE,
            timing: { prompt_tokens: HOSTILE, generated_tokens: 1, ttft_ms: HOSTILE, tokens_per_s: HOSTILE },
            tool_calls: [{ name: HOSTILE, evaluation: HOSTILE }],
            error: { code: HOSTILE, message: HOSTILE },
          },
        }),
      ]),
    );
    // An allowed action whose caller has not reported yet: its result deadline shows as a duration.
    webClient.send({
      type: "decisions",
      decisions: [
        web.signDecision({
          action_id: "in-flight-1",
          session_id: "chat-1",
          state: "allowed",
          created_ms: now - MIN,
          deadline_ms: now + 5 * MIN,
          record: {
            evaluation: "ALLOW",
            timestamp: iso(now - MIN),
            proposed_action: { kind: "shell", command: "echo the caller runs this" },
            policy_matched: { bundle: null, rules: [] },
          },
        }),
      ],
    });
    // A mistyped heartbeat: the collector refuses it with an alert for bad-03.
    const b = await connectHost(collector.url, bad);
    b.c.send({ type: "heartbeat", reading: { cpu_percent: "hot" } });
    await b.c.closed;
    await until(async () => {
      const r = await fetch(`${collector.httpUrl}/v1/hosts/${power.hostId}`, {
        headers: { authorization: `Bearer ${SECRET}` },
      });
      return ((await r.json()) as { series?: unknown[] }).series?.length === 3;
    });
    p.c.close();
    ({ browser } = await launchHeadless());
    page = await browser.newPage({ viewport: { width: 1400, height: 900 }, timezoneId: TZ, locale: "en-US" });
    await signIn();
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    webClient?.close();
    await collector?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows an inference step as its model and a summary; gate latency only where a gate decided", async () => {
    await open("#/session/chat-1");
    const items = page.locator(".timeline li[data-seq]");
    await expect.poll(() => items.count()).toBe(3);
    const first = (await page.locator('.timeline li[data-seq="2"]').textContent()) ?? "";
    expect(first).toContain(MODEL);
    expect(first).toContain("31 prompt → 12 generated tokens");
    expect(first).toContain("18.5 tokens/s");
    expect(first).toContain("request 7 s");
    expect(first).toContain("shell");
    expect(first).not.toContain("{"); // no raw JSON
    expect(first).not.toContain("gate");
    // The older record's request time was in latency_ms: shown as the request's, not as the gate's.
    const legacy = (await page.locator('.timeline li[data-seq="3"]').textContent()) ?? "";
    expect(legacy).toContain("request 7 s");
    expect(legacy).not.toContain("µs");
    // The gated action shows its gate time: 0.042 ms.
    expect(await page.locator('.timeline li[data-seq="4"] .gate-latency').textContent()).toBe("gate 42 µs");
    // The pending action's deadline (an epoch on the wire) reads as the time left.
    const pending = page.locator('.timeline li.pending[data-action="in-flight-1"]');
    await pending.waitFor();
    expect(await pending.textContent()).toMatch(
      /recorded as unreported in [45] min unless the caller reports its result/,
    );
  });

  it("shows timestamps relative and in the browser's time zone", async () => {
    const ts = page.locator('.timeline li[data-seq="2"] time.ts');
    const text = (await ts.textContent()) ?? "";
    expect(text).toMatch(/^[5-9] min ago /);
    const tokyo = new Date(now - 5 * MIN).toLocaleTimeString("en-US", { hour12: false, timeZone: TZ });
    expect(text).toContain(tokyo);
    expect(await ts.getAttribute("datetime")).toBe(iso(now - 5 * MIN));
    expect(await ts.getAttribute("title")).toContain(tokyo);
  });

  it("names the served model in the models table", async () => {
    await open("#/models");
    await expect
      .poll(() => page.locator(`tr[data-host="${web.hostId}"] .model`).textContent())
      .toContain(HOSTILE);
    // The hostile record is the host's newest; the table shows its name as text.
    expect(await inert()).toEqual({ elements: 0, xss: null });
  });

  it("collapses an empty Power panel to one line and draws it where there are counters", async () => {
    await open(`#/host/${web.hostId}`);
    const empty = page.locator("#power-empty");
    await empty.waitFor();
    expect(await page.locator('svg[aria-label="Power"]').count()).toBe(0);
    const line = (await empty.boundingBox())!;
    const cpu = (await page.locator('svg[aria-label="CPU"]').boundingBox())!;
    expect(line.height).toBeLessThan(cpu.height / 2);
    await open(`#/host/${power.hostId}`);
    await page.locator('svg[aria-label="Power"] polyline').first().waitFor();
    expect(await page.locator("#power-empty").count()).toBe(0);
  });

  it("the range selector asks the server for that range", async () => {
    await open(`#/host/${web.hostId}`);
    const sessions = () =>
      page
        .locator("#host-sessions tr[data-session]")
        .evaluateAll((trs) =>
          trs.map((tr) => (tr as unknown as { dataset: { session: string } }).dataset.session),
        );
    // Default: the last hour, so the two-hour-old session is not listed.
    await expect.poll(sessions).toEqual([HOSTILE, "chat-1"]);
    await page.selectOption("#range", "6h");
    await page.waitForFunction(() => document.body.dataset.ready?.endsWith("?range=6h"));
    await expect.poll(sessions).toEqual([HOSTILE, "chat-1", "old-session"]);
    await page.selectOption("#range", "15m");
    await page.waitForFunction(() => document.body.dataset.ready?.endsWith("?range=15m"));
    await expect.poll(sessions).toEqual([HOSTILE, "chat-1"]);
    expect(await inert()).toEqual({ elements: 0, xss: null });
  });

  it("searches sessions on the server; a bad query shows the server's error", async () => {
    await open("#/sessions");
    const rows = page.locator("#sessions tbody tr[data-session]");
    await expect.poll(() => rows.count()).toBe(3);
    await page.fill('#session-search input[name="q"]', "gated");
    await page.click('#session-search button[type="submit"]');
    await page.waitForFunction(() => document.body.dataset.ready === "#/sessions?q=gated&range=24h");
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().getAttribute("data-session")).toBe("chat-1");
    expect(await rows.first().locator("a.host-link").getAttribute("href")).toBe(`#/host/${web.hostId}`);
    // The hostile session id is listed as text and links to its (encoded) timeline.
    await page.fill('#session-search input[name="q"]', "onerror");
    await page.click('#session-search button[type="submit"]');
    await expect.poll(() => rows.first().getAttribute("data-session")).toBe(HOSTILE);
    expect(await rows.first().locator("code").first().textContent()).toBe(HOSTILE);
    expect(await inert()).toEqual({ elements: 0, xss: null });
    // A query the server refuses: its message, nothing listed.
    await open(`#/sessions?q=${"x".repeat(201)}`);
    expect(await page.textContent("#search-error")).toBe("'q' must be at most 200 characters");
    expect(await rows.count()).toBe(0);
  });

  it("renders the hostile inference record's timeline as text", async () => {
    await open(`#/session/${encodeURIComponent(HOSTILE)}`);
    const li = page.locator(".timeline li.inference");
    await li.waitFor();
    const text = (await li.textContent()) ?? "";
    expect(text.split(HOSTILE).length - 1).toBeGreaterThanOrEqual(5);
    expect(await inert()).toEqual({ elements: 0, xss: null });
  });

  it("links each alert to its host", async () => {
    await open("#/alerts");
    const link = page.locator("#alerts a.host-link", { hasText: bad.hostId }).first();
    await link.waitFor();
    expect(await link.getAttribute("href")).toBe(`#/host/${bad.hostId}`);
    await link.click();
    await page.waitForFunction((h) => document.body.dataset.ready === h, `#/host/${bad.hostId}`);
    expect(await page.textContent("#view h1")).toContain(bad.hostId);
    // The fleet's recent alerts link too.
    await open("#/");
    expect(await page.locator(`a.host-link[href="#/host/${bad.hostId}"]`).count()).toBeGreaterThan(0);
  });

  it("shows a review's deadline as a duration, and what was decided with its reason under Decided here", async () => {
    webClient.send({
      type: "heartbeat",
      reading: { cpu_percent: 12 },
      reviews: [
        {
          action_id: "esc-1",
          session_id: "deploy",
          timestamp: iso(Date.now()),
          proposed_action: { kind: "shell", command: `deploy --prod ${HOSTILE}` },
          reasons: ["deploys need a human"],
          risk: 80,
          deadline_ms: Date.now() + 15 * MIN,
        },
      ],
    });
    await open("#/reviews");
    const row = page.locator('tr[data-review="esc-1"]');
    await row.waitFor();
    expect(await row.locator(".deadline").textContent()).toMatch(/^denied in 1[45] min unless reviewed$/);
    // The host answers the review the way an agent does.
    const answered = webClient.next("review").then((m) => {
      webClient.send({
        type: "review_result",
        action_id: m!.action_id,
        ok: true,
        state: "allowed",
        evaluation: "ALLOW",
      });
      return m;
    });
    await row.locator(".reason").fill("change window approved");
    await row.locator("button.approve").click();
    expect(await answered).toMatchObject({
      action_id: "esc-1",
      decision: "approve",
      reviewer: "operator:alice",
    });
    const decided = page.locator('#decided tr[data-decided="esc-1"]');
    await decided.waitFor({ timeout: 15_000 });
    const text = (await decided.textContent()) ?? "";
    expect(text).toContain(`$ deploy --prod ${HOSTILE}`);
    expect(await decided.locator(".reason").textContent()).toBe("change window approved");
    expect(text).not.toContain("esc-1"); // the command, not the bare id
    expect(await inert()).toEqual({ elements: 0, xss: null });
  });

  it("keeps the charts and what was decided here across a collector restart", async () => {
    await open(`#/host/${web.hostId}`);
    const points = async () =>
      ((await page.locator('svg[aria-label="CPU"] polyline').getAttribute("points")) ?? "").split(" ").length;
    const before = await points();
    expect(before).toBeGreaterThanOrEqual(5);
    webClient.close();
    await webClient.closed;
    await collector.close();
    collector = await start(database);
    await signIn();
    await open(`#/host/${web.hostId}`);
    await page.locator('svg[aria-label="CPU"] polyline').waitFor();
    expect(await points()).toBe(before);
    // What was decided here before the restart is still listed, with its command and reason.
    await open("#/reviews");
    const decided = page.locator('#decided tr[data-decided="esc-1"]');
    await decided.waitFor({ timeout: 15_000 });
    expect(await decided.textContent()).toContain("$ deploy --prod");
    expect(await decided.locator(".reason").textContent()).toBe("change window approved");
  });
});
