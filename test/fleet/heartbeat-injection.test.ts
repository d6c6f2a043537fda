import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetPlugin } from "../../src/collector/fleet-plugin.js";
import { type Collector, startCollector } from "../../src/collector/server.js";
import { CloseCodes } from "../../src/protocol/messages.js";
import { connectHost, TestHost } from "../collector/helpers.js";
import { launchHeadless } from "../support/chromium.js";
import { missing } from "../support/tools.js";
import { until } from "../support/wait.js";
import { http, tempDir } from "./helpers.js";

/**
 * Issue 20, "The dashboard takes hostile input" and "Heartbeats can exhaust the collector": hosts
 * pinned on first use send hostile heartbeats over the real WebSocket; the collector refuses what
 * is out of bounds or mistyped, and headless Chromium renders every hostile string as text.
 */

// The page's globals, as far as the functions run in Chromium (page.evaluate) use them: tsc checks
// test/ against Node's lib, which has no DOM.
declare const location: { hash: string };
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
};
declare const window: unknown;

const SECRET = "ops-secret-123";
const auth = { authorization: `Bearer ${SECRET}` };
const HOSTILE =
  '<img src=x onerror="window.pwned=1" id=pwn><a id=pwnlink href="//evil.example">x</a><form id=pwnform action="//evil.example"><input name=p></form><base href="//evil.example/">';
let n = 0;
const hostName = (p: string) => `${p}-${process.pid}-${++n}`;

/** A heartbeat of the agent's shape with a hostile string in every string field and key. */
function hostileHeartbeat(): Record<string, unknown> {
  return {
    type: "heartbeat",
    at_ms: Date.now(),
    version: HOSTILE,
    facts: {
      model: HOSTILE,
      chip: HOSTILE,
      cores: 2,
      memory_bytes: 1,
      os: HOSTILE,
      arch: HOSTILE,
      node: HOSTILE,
      version: HOSTILE,
    },
    reading: {
      cpu_percent: 5,
      watts: { [HOSTILE.slice(0, 30)]: 1.5 },
      temperature_c: null,
      memory_used_percent: 10,
      memory_pressure_percent: null,
      memory_pressure_level: HOSTILE,
      interval_ms: 1000,
    },
    reading_error: HOSTILE,
    gate: {
      counts: { ALLOW: 1, DENY: 2, ESCALATE: 3, [HOSTILE.slice(0, 200)]: 4 },
      p99_ms: 0.01,
      deny_rate: 0.5,
    },
    evidence: { backlog: 7, last_seq: 9 },
    policy: {
      id: HOSTILE.slice(0, 200),
      version: 1,
      sha256: HOSTILE.slice(0, 200),
      source: HOSTILE.slice(0, 200),
    },
    models: [{ backend: HOSTILE, model: HOSTILE }],
    inference: { tokens_per_second: null },
    review_queue: { pending: 1, oldest_age_ms: 5 },
    reviews: [
      {
        action_id: HOSTILE.slice(0, 200),
        session_id: HOSTILE,
        timestamp: HOSTILE,
        proposed_action: { kind: "shell", command: HOSTILE },
        reasons: [HOSTILE],
        risk: 50,
        deadline_ms: null,
        policy_matched: { bundle: { id: HOSTILE }, rules: [{ rule_id: HOSTILE }] },
      },
    ],
    tolerances: { breached: [HOSTILE.slice(0, 200)] },
    [HOSTILE.slice(0, 40)]: HOSTILE,
  };
}

/** A `decisions` message (host-signed, protocol 5) with a hostile string in every field the dashboard shows. */
function hostileDecisions(host: TestHost): Record<string, unknown> {
  const decision = (action_id: string, state: "allowed" | "escalated") =>
    host.signDecision({
      action_id,
      session_id: HOSTILE,
      state,
      created_ms: Date.now(),
      deadline_ms: null,
      record: {
        evaluation: HOSTILE,
        timestamp: HOSTILE,
        proposed_action: { kind: "shell", command: `${HOSTILE} decided-${state}` },
        policy_matched: { bundle: null, rules: [{ rule_id: HOSTILE }] },
      },
    });
  return {
    type: "decisions",
    decisions: [
      decision(`a-${HOSTILE.slice(0, 100)}`, "allowed"),
      decision(`e-${HOSTILE.slice(0, 100)}`, "escalated"),
    ],
  };
}

describe("hostile heartbeats", () => {
  let col: Collector;
  let good: TestHost;
  beforeAll(async () => {
    col = await startCollector({
      database: `sqlite:${join(tempDir("fa-inject-"), "c.db")}`,
      listen: "127.0.0.1:0",
      maxPinnedHosts: 5, // the hostile host and the four below
      plugins: [
        fleetPlugin({
          operators: [
            { name: "ops", secret: SECRET },
            { name: "rev", secret: "rev-secret-123" },
          ],
          reviewAnswerTimeoutMs: 300,
        }).plugin,
      ],
    });
    good = new TestHost(hostName("hostile"));
    const { c } = await connectHost(col.url, good);
    c.send(hostileHeartbeat());
    c.send(hostileDecisions(good));
    await until(
      async () =>
        (await http("GET", `${col.httpUrl}/v1/hosts/${good.hostId}`, undefined, auth)).body?.heartbeat,
    );
    await until(
      async () =>
        (await http("GET", `${col.httpUrl}/v1/decisions?host_id=${good.hostId}`, undefined, auth)).body
          ?.decisions?.length === 2,
      "the hostile decisions at the collector",
    );
  });
  afterAll(async () => {
    await col?.close();
  });

  it("refuses mistyped, deep and oversized heartbeats with 4000 and an alert, and /v1/fleet keeps answering", async () => {
    const deep = `{"type":"heartbeat","x":${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}}`;
    const cases: Array<[string, unknown, RegExp]> = [
      ["typed", { ...hostileHeartbeat(), evidence: { backlog: HOSTILE } }, /evidence\.backlog/],
      ["counts", { ...hostileHeartbeat(), gate: { counts: { ALLOW: "<b>1</b>" } } }, /gate\.counts\.ALLOW/],
      ["deep", deep, /nested deeper than 8 levels/],
      [
        "big",
        {
          type: "heartbeat",
          blob: "x".repeat(4000),
          more: Array.from({ length: 40 }, () => "y".repeat(4000)),
        },
        /larger than 65536 bytes/,
      ],
    ];
    for (const [name, msg, reason] of cases) {
      const h = new TestHost(hostName(name));
      const { c } = await connectHost(col.url, h);
      c.send(msg);
      const closed = await c.closed;
      expect({ name, code: closed.code }).toEqual({ name, code: CloseCodes.BAD_FRAME });
      expect(closed.reason).toMatch(reason);
      const stored = await http("GET", `${col.httpUrl}/v1/hosts/${h.hostId}`, undefined, auth);
      expect(stored.body.heartbeat ?? null).toBeNull();
    }
    const fleet = await http("GET", `${col.httpUrl}/v1/fleet`, undefined, auth);
    expect(fleet.status).toBe(200);
    const alerts = (await http("GET", `${col.httpUrl}/v1/alerts`, undefined, auth)).body.alerts as {
      code: string;
    }[];
    expect(alerts.filter((a) => a.code === "heartbeat-invalid").length).toBe(4);
  });

  it("caps the hosts pinned on first use, with an alert", async () => {
    const extra = new TestHost(hostName("over-cap"));
    const c = await connectHost(col.url, extra);
    expect((await c.c.closed).code).toBe(CloseCodes.UNREGISTERED);
    const alerts = (await http("GET", `${col.httpUrl}/v1/alerts`, undefined, auth)).body.alerts as {
      code: string;
    }[];
    expect(alerts.map((a) => a.code)).toContain("pin-cap-reached");
    // A known host still connects (and stays connected: the reviews view lists connected hosts).
    const again = await connectHost(col.url, good);
    expect(again.welcome).toMatchObject({ type: "ack" });
    again.c.send(hostileHeartbeat());
  });

  it("refuses an operator reviewing an action they proposed; another operator's review reaches the host", async () => {
    const h = good;
    const { c } = await connectHost(col.url, h);
    c.send({
      ...hostileHeartbeat(),
      reviews: [
        {
          action_id: "self-1",
          session_id: "s",
          principal: "operator:ops",
          proposed_action: { kind: "shell", command: "deploy" },
        },
      ],
    });
    await until(
      async () => (await http("GET", `${col.httpUrl}/v1/reviews`, undefined, auth)).body.reviews.length === 1,
    );
    const own = await http("POST", `${col.httpUrl}/v1/reviews/self-1`, { decision: "approve" }, auth);
    expect(own.status).toBe(403);
    expect(own.body.error.message).toMatch(/proposed action 'self-1' and cannot review it/);
    const other = await http(
      "POST",
      `${col.httpUrl}/v1/reviews/self-1`,
      { decision: "approve" },
      {
        authorization: "Bearer rev-secret-123",
      },
    );
    expect(other.status).toBe(504); // this test host never answers
    expect(await c.next("review")).toMatchObject({ action_id: "self-1", reviewer: "operator:rev" });
    c.send(hostileHeartbeat());
  });

  it.skipIf(missing("chromium"))(
    "renders every hostile heartbeat field as text in Chromium: no element, link, form or base is injected",
    async () => {
      const csp = (await fetch(`${col.httpUrl}/`)).headers.get("content-security-policy") ?? "";
      for (const d of [
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "object-src 'none'",
      ])
        expect(csp).toContain(d);
      const { browser, page } = await launchHeadless();
      try {
        await page.goto(`${col.httpUrl}/`);
        await page.fill('input[name="name"]', "ops");
        await page.fill('input[name="password"]', SECRET);
        await page.click('button[type="submit"]');
        await page.locator("#nav").waitFor();
        const decisionViews = ["#/decisions", `#/session/${encodeURIComponent(HOSTILE)}`];
        for (const view of [
          "#/",
          `#/host/${encodeURIComponent(good.hostId)}`,
          "#/reviews",
          ...decisionViews,
        ]) {
          await page.evaluate((h) => {
            location.hash = h;
          }, view);
          await page
            .waitForFunction(
              (h) => location.hash === h && document.querySelector("#view")?.textContent?.includes("<img"),
              view,
              { timeout: 15_000 },
            )
            .catch(async (err) => {
              throw new Error(`${view}: ${(await page.textContent("#view"))?.slice(0, 600)}: ${err}`);
            });
          const injected = await page.evaluate(() => ({
            elements: document.querySelectorAll("#pwn, #pwnlink, #pwnform, base, #view img, #view form")
              .length,
            pwned: (window as unknown as { pwned?: number }).pwned ?? null,
          }));
          expect({ view, ...injected }).toEqual({ view, elements: 0, pwned: null });
          // The decisions are there, as text: both states, the hostile command verbatim.
          if (decisionViews.includes(view)) {
            const text = (await page.textContent("#view")) ?? "";
            expect(text).toContain(`$ ${HOSTILE} decided-allowed`);
            expect(text).toContain(`$ ${HOSTILE} decided-escalated`);
          }
        }
      } finally {
        await browser.close();
      }
    },
    90_000,
  );
});
