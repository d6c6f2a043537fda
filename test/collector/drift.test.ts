// Drift at the collector: two hosts ship real chained records over the WebSocket protocol, one
// of them shifted; per-host and fleet-wide monitors find it; GET /v1/drift, the alert rows and
// /metrics show it; and the Reconnaissance panel renders both distributions in headless Chromium
// (escaping a hostile category label) and links to the trace of an example session.
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionRecord, BASE, inferenceRecord, type StreamShape } from "../../bench/drift-streams.js";
import { driftPlugin } from "../../src/collector/drift.js";
import { fleetPlugin } from "../../src/collector/fleet-plugin.js";
import { type Collector, startCollector } from "../../src/collector/server.js";
import { Rng } from "../../src/drift/random.js";
import type { RecordLike } from "../../src/drift/signals.js";
import type { RecordInput } from "../../src/protocol/record.js";
import { REPO } from "../agent/helpers.js";
import { launchHeadless } from "../support/chromium.js";
import { missing } from "../support/tools.js";
import { until } from "../support/wait.js";
import { connectHost, ship, TestHost } from "./helpers.js";

// The page's globals, as far as the functions run in Chromium (page.evaluate) use them: tsc checks
// test/ against Node's lib, which has no DOM.
declare const window: unknown;
declare const document: { body: { dataset: Record<string, string | undefined> } };

// biome-ignore lint/suspicious/noExplicitAny: tests read JSON answers by shape
type Json = Record<string, any>;

const OPERATOR = { name: "alice", secret: "correct horse battery" };
const AUTH = { authorization: `Bearer ${OPERATOR.secret}` };
const HOSTILE = `<img src=x onerror="window.__xss=1">`;
const SHOTS = process.env.FORGE_UPDATE_SCREENSHOTS
  ? join(REPO, "docs", "screenshots")
  : mkdtempSync(join(tmpdir(), "fa-drift-shots-"));

/** A drift-stream record as a full RecordInput (rules with effect and risk, ids, hashes). */
function toInput(r: RecordLike, i: number): RecordInput {
  return {
    kind: r.kind as RecordInput["kind"],
    session_id: r.session_id,
    action_id: `a-${i}`,
    timestamp: r.timestamp,
    prompt_hash: null,
    proposed_action: r.proposed_action,
    evaluation: r.evaluation as RecordInput["evaluation"],
    policy_matched: {
      bundle: null,
      rules: r.policy_matched.rules.map((x) => ({ rule_id: x.rule_id, effect: "deny" as const, risk: 50 })),
    },
    composition_state: null,
    execution_result: r.execution_result,
    principal_review: null,
    latency_ms: r.latency_ms,
    principal: r.principal ?? null,
  };
}

function stream(seed: number, n: number, from: number, shape: StreamShape): RecordInput[] {
  const rng = new Rng(seed);
  const out: RecordInput[] = [];
  for (let i = 0; i < n; i++) {
    out.push(toInput(actionRecord(rng, from + i, shape), from + 2 * i));
    out.push(toInput(inferenceRecord(rng, from + i, shape), from + 2 * i + 1));
  }
  return out;
}

describe("collector drift: per host and fleet-wide", () => {
  const dir = mkdtempSync(join(tmpdir(), "fa-cdrift-"));
  let collector: Collector;
  const steady = new TestHost("mac-studio-01");
  const shifted = new TestHost("mbp-ml-02");
  const hooks: Record<string, unknown>[] = [];
  let hookServer: Server;

  beforeAll(async () => {
    // A real HTTP endpoint for the webhook, answering 500 once so a retry is exercised.
    let first = true;
    hookServer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        if (first) {
          first = false;
          res.writeHead(500).end();
          return;
        }
        hooks.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => hookServer.listen(0, "127.0.0.1", () => r()));
    const hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/hook`;
    const fleet = fleetPlugin({ operators: [{ name: OPERATOR.name, secret: OPERATOR.secret }] });
    const drift = driftPlugin({
      config: {
        reference: { kind: "first", n: 200 },
        window: 100,
        every: 50,
        split_by: [],
        webhook: { url: hookUrl, retries: 2, backoff_ms: 10 },
      },
    });
    collector = await startCollector({
      database: `sqlite:${join(dir, "collector.db")}`,
      listen: "127.0.0.1:0",
      plugins: [fleet.plugin, drift.plugin],
    });
    const a = await connectHost(collector.url, steady);
    const b = await connectHost(collector.url, shifted);
    await ship(a.c, steady.append(stream(1, 400, 0, BASE)));
    await ship(b.c, shifted.append(stream(2, 250, 0, BASE)));
    // The shift: a new (hostile-looking) kind takes half the actions, TTFT doubles.
    const after: StreamShape = {
      ...BASE,
      kinds: [...BASE.kinds, HOSTILE],
      weights: [0.2, 0.15, 0.1, 0.05, 0.5],
      ttftMean: BASE.ttftMean * 2,
    };
    await ship(b.c, shifted.append(stream(3, 150, 1000, after)));
    a.c.close();
    b.c.close();
  }, 60_000);

  afterAll(async () => {
    await collector?.close();
    await new Promise((r) => hookServer?.close(r));
    rmSync(dir, { recursive: true, force: true });
    if (!process.env.FORGE_UPDATE_SCREENSHOTS) rmSync(SHOTS, { recursive: true, force: true });
  });

  const get = async (path: string, headers: Record<string, string> = AUTH) => {
    const r = await fetch(`${collector.httpUrl}${path}`, { headers });
    return { status: r.status, body: (await r.json()) as Json };
  };

  it("serves host and fleet views; only the shifted host drifts", async () => {
    expect((await get("/v1/drift", {})).status).toBe(401);
    const { status, body } = await get("/v1/drift");
    expect(status).toBe(200);
    const host = (id: string) => body.hosts.find((h: { host_id: string }) => h.host_id === id);
    const sig = (v: { signals: { signal: string }[] }, name: string) =>
      v.signals.find((s) => s.signal === name) as Json;
    expect(sig(host("mac-studio-01"), "action.kind").status).toBe("ok");
    const kind = sig(host("mbp-ml-02"), "action.kind");
    expect(kind.status).toBe("drift");
    expect(kind.last.top[0].category).toBe(HOSTILE);
    const ttft = sig(host("mbp-ml-02"), "inference.ttft_ms{model=tiny}");
    expect(ttft.status).toBe("drift");
    expect(ttft.last.method).toBe("ks");
    // Fleet-wide: both hosts' records in one stream.
    expect(body.fleet.host_id).toBe("(fleet)");
    expect(body.fleet.stats.records).toBe(2 * 400 + 2 * (250 + 150));
    const one = await get("/v1/drift?host_id=mbp-ml-02&signal=action.kind");
    expect(one.body.hosts).toHaveLength(1);
    expect(one.body.hosts[0].signals.map((s: { signal: string }) => s.signal)).toEqual(["action.kind"]);
    expect((await get("/v1/drift?host_id=nope")).status).toBe(404);
    expect((await get("/v1/drift?since=later")).status).toBe(400);
  });

  it("alerts and gauges, as for tolerances", async () => {
    const alerts = (await get("/v1/alerts?host_id=mbp-ml-02")).body.alerts as {
      code: string;
      message: string;
    }[];
    expect(alerts.map((a) => a.code)).toContain("drift-finding:action.kind");
    const metrics = await (await fetch(`${collector.httpUrl}/metrics`)).text();
    expect(metrics).toContain('forge_drift_detected{host_id="mbp-ml-02",signal="action.kind"} 1');
    expect(metrics).toContain('forge_drift_detected{host_id="mac-studio-01",signal="action.kind"} 0');
  });

  it("calls the webhook for each finding (retried after a 500), host and fleet scope", async () => {
    await until(
      () => hooks.some((h) => h.scope === "host" && h.signal === "action.kind" && h.event === "finding"),
      "the host finding's webhook",
    );
    const host = hooks.find((h) => h.scope === "host" && h.signal === "action.kind")!;
    expect(host).toMatchObject({
      host_id: "mbp-ml-02",
      source: "collector",
      kind: "drift",
      method: "chisquare",
    });
    expect(typeof host.message).toBe("string");
    await until(() => hooks.some((h) => h.scope === "fleet"), "a fleet-wide webhook");
    expect(hooks.find((h) => h.scope === "fleet")!.host_id).toBeNull();
  });

  describe.skipIf(missing("chromium"))("Reconnaissance panel in headless Chromium", () => {
    it("shows reference and current side by side per drifted signal, escaped, linking to the trace", async () => {
      mkdirSync(SHOTS, { recursive: true });
      const { browser, page } = await launchHeadless({ width: 1400, height: 1000 });
      try {
        await panel(page);
      } finally {
        await browser.close();
      }
    }, 60_000);
  });

  async function panel(page: Page): Promise<void> {
    {
      await page.goto(`${collector.httpUrl}/`);
      await page.fill('input[name="name"]', OPERATOR.name);
      await page.fill('input[name="password"]', OPERATOR.secret);
      await page.click('button[type="submit"]');
      await page.locator("#nav").waitFor();
      await page.goto(`${collector.httpUrl}/#/drift`);
      const card = page.locator('.finding[data-scope="host mbp-ml-02"][data-signal="action.kind"]');
      await card.waitFor();
      expect(await card.locator("svg.dist.ref").count()).toBe(1);
      expect(await card.locator("svg.dist.cur").count()).toBe(1);
      // The hostile label is text, not markup.
      expect(await card.locator("svg.dist.cur").textContent()).toContain("<img src=x");
      expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
      expect(await page.locator(".finding img").count()).toBe(0);
      await page
        .locator('.finding[data-scope="host mbp-ml-02"][data-signal="inference.ttft_ms{model=tiny}"]')
        .waitFor();
      await page.screenshot({ path: join(SHOTS, "reconnaissance.png"), fullPage: false });
      // An example session from the current window opens its trace.
      const link = card.locator("a.trace").first();
      const session = await link.textContent();
      expect(session).toMatch(/^claude-code:s\d+$/);
      await link.click();
      await page.waitForFunction(
        (id) => document.body.dataset.ready === `#/session/${encodeURIComponent(id!)}`,
        session,
      );
      expect(await page.locator("ol.timeline li").count()).toBeGreaterThan(0);
    }
  }
});

describe("collector drift: records another collector stored", () => {
  it("are read from storage when a batch does not follow what the monitor was fed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fa-cdrift-gap-"));
    const open = () =>
      startCollector({
        database: `sqlite:${join(dir, "collector.db")}`,
        listen: "127.0.0.1:0",
        plugins: [driftPlugin({ config: { every: 10, split_by: [] } }).plugin],
      });
    const a = await open();
    const b = await open();
    try {
      const host = new TestHost("gap-host");
      const viaA = await connectHost(a.url, host);
      await ship(viaA.c, host.extend(100));
      // The host's next 100 go to the other collector over the same database, then it is back on A.
      const viaB = await connectHost(b.url, host);
      await ship(viaB.c, host.extend(100));
      viaB.c.close();
      await ship(viaA.c, host.extend(100));
      viaA.c.close();
      const r = await fetch(`${a.httpUrl}/v1/drift?host_id=gap-host`);
      const body = (await r.json()) as Json;
      // A fed its own 200 from the batches and B's 100 from storage, each once and in order.
      expect(body.hosts[0].stats.records).toBe(300);
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
