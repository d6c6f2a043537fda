import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetPlugin } from "../../src/collector/fleet-plugin.js";
import { type Collector, startCollector } from "../../src/collector/index.js";
import { parseOperator } from "../../src/collector/operators.js";
import { launchHeadless } from "../support/chromium.js";
import { missing } from "../support/tools.js";
import { until } from "../support/wait.js";
import { http, tempDir } from "./helpers.js";

async function collectorWith(
  operators: Array<{ name: string; secret: string }>,
  logger?: pino.Logger,
): Promise<Collector> {
  const dir = tempDir("fa-ops-");
  return startCollector({
    database: `sqlite:${join(dir, "c.db")}`,
    listen: "127.0.0.1:0",
    plugins: [fleetPlugin({ operators }).plugin],
    ...(logger === undefined ? {} : { logger }),
  });
}

/** A pino logger whose JSON lines land in `lines`. */
function capture(lines: Array<Record<string, unknown>>): pino.Logger {
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split("\n")) if (l !== "") lines.push(JSON.parse(l));
      done();
    },
  });
  return pino({ level: "info" }, sink);
}

describe("operator sign-in", () => {
  let c: Collector;
  let open: Collector;
  beforeAll(async () => {
    c = await collectorWith([
      { name: "alice", secret: "correct horse" },
      { name: "bob", secret: "bob-token-123" },
    ]);
    open = await collectorWith([]);
  });
  afterAll(async () => {
    await c.close();
    await open.close();
  });

  it("refuses every API route without a session with 401 JSON, and serves the sign-in page", async () => {
    for (const path of [
      "/v1/fleet",
      "/v1/hosts/x",
      "/v1/records",
      "/v1/alerts",
      "/v1/reviews",
      "/v1/session",
    ]) {
      const r = await http("GET", `${c.httpUrl}${path}`);
      expect(r.status, path).toBe(401);
      expect(r.body.error.code, path).toBe("FORGE_UNAUTHENTICATED");
    }
    const post = await http("POST", `${c.httpUrl}/v1/reviews/abc`, { decision: "approve" });
    expect(post.status).toBe(401);
    const page = await fetch(`${c.httpUrl}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(page.headers.get("content-security-policy")).toMatch(/default-src 'self'/);
    expect(await page.text()).toContain('id="login-form"');
    expect((await fetch(`${c.httpUrl}/dashboard/app.js`)).status).toBe(200);
  });

  it("signs in with a password (cookie session) or a token (Bearer), and signs out", async () => {
    expect((await http("POST", `${c.httpUrl}/v1/session`, { name: "alice", password: "wrong" })).status).toBe(
      401,
    );
    expect(
      (await http("POST", `${c.httpUrl}/v1/session`, { name: "bob", password: "correct horse" })).status,
    ).toBe(401);
    expect((await http("POST", `${c.httpUrl}/v1/session`, {})).status).toBe(401);
    const ok = await http("POST", `${c.httpUrl}/v1/session`, { name: "alice", password: "correct horse" });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ operator: "alice" });
    const setCookie = ok.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^forge_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\//);
    const cookie = setCookie.split(";")[0]!;
    expect((await http("GET", `${c.httpUrl}/v1/session`, undefined, { cookie })).body).toEqual({
      operator: "alice",
    });
    expect((await http("GET", `${c.httpUrl}/v1/fleet`, undefined, { cookie })).status).toBe(200);
    expect(
      (await http("GET", `${c.httpUrl}/v1/fleet`, undefined, { cookie: "forge_session=forged" })).status,
    ).toBe(401);
    const bearer = await http("GET", `${c.httpUrl}/v1/session`, undefined, {
      authorization: "Bearer bob-token-123",
    });
    expect(bearer.body).toEqual({ operator: "bob" });
    // A token signs in without a name, too.
    expect((await http("POST", `${c.httpUrl}/v1/session`, { token: "bob-token-123" })).body).toEqual({
      operator: "bob",
    });
    await http("DELETE", `${c.httpUrl}/v1/session`, undefined, { cookie });
    expect((await http("GET", `${c.httpUrl}/v1/fleet`, undefined, { cookie })).status).toBe(401);
  });

  it("without operators configured, acting on agents is refused and says how to configure it", async () => {
    const r = await http("POST", `${open.httpUrl}/v1/reviews/abc`, { decision: "approve" });
    expect(r.status).toBe(401);
    expect(r.body.error.message).toMatch(/--operators-file FILE/);
    expect((await http("GET", `${open.httpUrl}/v1/reviews`)).status).toBe(401);
    expect((await http("POST", `${open.httpUrl}/v1/session`, { name: "x", password: "" })).status).toBe(401);
    // Read-only API stays as the collector had it (loopback by default).
    expect((await http("GET", `${open.httpUrl}/v1/fleet`)).status).toBe(200);
  });

  it("without operators, the sign-in answer and the start-up log say what to configure", async () => {
    const session = await http("GET", `${open.httpUrl}/v1/session`);
    expect(session.status).toBe(401);
    expect(session.body.error.code).toBe("FORGE_UNAUTHENTICATED");
    expect(session.body.error.details).toEqual({ operators_configured: false });
    expect(session.body.error.message).toMatch(/nobody can sign in/);
    expect(session.body.error.message).toMatch(/forge-collector operator add NAME --file FILE/);
    expect(session.body.error.message).toMatch(/--operators-file FILE/);
    // A collector with operators answers the plain prompt, without the detail.
    const signedOut = await http("GET", `${c.httpUrl}/v1/session`);
    expect(signedOut.body.error.details).toBeUndefined();
    expect(signedOut.body.error.message).toMatch(/^sign in first/);

    const lines: Array<Record<string, unknown>> = [];
    const logged = await collectorWith([], capture(lines));
    const withOps: Array<Record<string, unknown>> = [];
    const quiet = await collectorWith([{ name: "alice", secret: "correct horse" }], capture(withOps));
    await logged.close();
    await quiet.close();
    const warn = lines.find((l) => /no operators configured/.test(String(l.msg)));
    expect(warn?.level).toBe(40);
    expect(String(warn?.fix)).toMatch(/forge-collector operator add NAME --file FILE/);
    expect(withOps.some((l) => /no operators configured/.test(String(l.msg)))).toBe(false);
  });

  it.skipIf(missing("chromium"))(
    "without operators, the sign-in page shows what to configure and disables the form",
    async () => {
      const { browser, page } = await launchHeadless();
      try {
        await page.goto(`${open.httpUrl}/`);
        await until(async () => (await page.locator("#login").isVisible()) === true, "sign-in shown");
        await until(
          async () => /nobody can sign in/.test((await page.locator("#login-error").textContent()) ?? ""),
          "the no-operators message on the page",
        );
        expect(await page.locator("#login-error").textContent()).toMatch(/--operators-file FILE/);
        expect(await page.locator('#login-form button[type="submit"]').isDisabled()).toBe(true);
        // With operators the form stays usable and silent.
        await page.goto(`${c.httpUrl}/`);
        await until(async () => (await page.locator("#login").isVisible()) === true, "sign-in shown");
        expect(await page.locator('#login-form button[type="submit"]').isDisabled()).toBe(false);
        expect(await page.locator("#login-error").textContent()).toBe("");
      } finally {
        await browser.close();
      }
    },
    60_000,
  );

  it("parses NAME=SECRET and refuses short secrets and odd names", () => {
    expect(parseOperator("alice=correct horse")).toEqual({ name: "alice", secret: "correct horse" });
    expect(parseOperator("a.b@c=x=y=z=1234")).toEqual({ name: "a.b@c", secret: "x=y=z=1234" });
    for (const bad of ["alice=short", "=secretsecret", "al ice=secretsecret", "nosecret"]) {
      expect(() => parseOperator(bad), bad).toThrow(
        expect.objectContaining({ code: "FORGE_CONFIG_INVALID" }),
      );
    }
  });
});
