import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetPlugin } from "../../src/collector/fleet-plugin.js";
import { type Collector, startCollector } from "../../src/collector/index.js";
import { parseOperator } from "../../src/collector/operators.js";
import { http, tempDir } from "./helpers.js";

async function collectorWith(operators: Array<{ name: string; secret: string }>): Promise<Collector> {
  const dir = tempDir("fa-ops-");
  return startCollector({
    database: `sqlite:${join(dir, "c.db")}`,
    listen: "127.0.0.1:0",
    plugins: [fleetPlugin({ operators }).plugin],
  });
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
