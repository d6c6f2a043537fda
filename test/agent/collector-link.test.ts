import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Collector, startCollector } from "../../src/collector/index.js";
import { until } from "../support/wait.js";
import { CLI, startTestAgent, type TestAgent, tempHome } from "./helpers.js";

/**
 * Issue 21, the collector: a handshake refusal shows as an error with its fix in /v1/health, in
 * `forge-agent status`, and, once the link is up again, in the heartbeat the collector holds.
 */
describe("a refused collector handshake, where a user looks", () => {
  const dir = tempHome("fa-link-");
  let t: TestAgent | undefined;
  let other: Server | undefined;
  let collector: Collector | undefined;
  afterAll(async () => {
    await t?.stop();
    other?.close();
    await collector?.close();
  });

  it("shows in /v1/health and status while refused, then in the heartbeat once the collector answers", async () => {
    // Something else on the collector's port: every request, the WebSocket upgrade too, is a 404.
    other = createServer((_req, res) => res.writeHead(404).end("not here"));
    // An upgrade's socket comes without Node's error listener: the agent resetting after the 404 must
    // not be an uncaught ECONNRESET in the test process.
    other.on("upgrade", (_req, sock) =>
      sock.on("error", () => sock.destroy()).end("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n"),
    );
    await new Promise<void>((r) => other!.listen(0, "127.0.0.1", r));
    const port = (other.address() as AddressInfo).port;
    const url = `ws://127.0.0.1:${port}/v1/ws`;
    t = await startTestAgent({ collector_url: url, heartbeat_ms: 100 }, dir);

    const health = await until(
      async () => {
        const h = (await t!.client.get("/v1/health")).body;
        return h.collector?.error ? h : null;
      },
      "the refusal in /v1/health",
      30_000,
    );
    expect(health.collector).toMatchObject({
      connected: false,
      error: { code: "FORGE_COLLECTOR_REFUSED", reason: "http-404" },
    });
    expect(health.collector.error.fix).toContain("/v1/ws");

    const status = await new Promise<string>((resolve) =>
      execFile(process.execPath, [CLI, "status", "--socket", t!.agent.socketPath], (_e, out) => resolve(out)),
    );
    expect(status).toContain(`collector: NOT CONNECTED to ${url}: FORGE_COLLECTOR_REFUSED (http-404)`);
    expect(status).toMatch(/^ {11}fix: .*\/v1\/ws/m);

    // The collector comes up on that port: the link connects, and the heartbeat keeps what happened.
    await new Promise((r) => other!.close(r));
    other = undefined;
    collector = await startCollector({
      database: `sqlite:${join(dir, "collector.db")}`,
      listen: `127.0.0.1:${port}`,
    });
    const hb = await until(
      async () => {
        const host = (await (await fetch(`${collector!.httpUrl}/v1/hosts/test-host`)).json()) as {
          heartbeat?: {
            collector?: { connected: boolean; error: unknown; lastError?: { code: string; reason: string } };
          };
        };
        return host.heartbeat?.collector?.connected ? host.heartbeat.collector : null;
      },
      "a heartbeat at the collector",
      60_000,
    );
    expect(hb.error).toBeNull();
    // The last failure before it connected: the 404, or a reconnect that fell in the gap between the
    // stand-in closing and the collector listening on its port (ECONNREFUSED; seen in CI at 00:54).
    // The 404's own reporting is checked above, in /v1/health and status.
    expect([
      { code: "FORGE_COLLECTOR_REFUSED", reason: "http-404" },
      { code: "FORGE_COLLECTOR_UNAVAILABLE", reason: "econnrefused" },
    ]).toContainEqual({ code: hb.lastError?.code, reason: hb.lastError?.reason });
  }, 120_000);
});
