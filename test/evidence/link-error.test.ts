import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { type AddressInfo, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type Collector, startCollector } from "../../src/collector/server.js";
import { EvidenceStore } from "../../src/evidence/index.js";
import { linkError } from "../../src/evidence/link-error.js";
import { memoryTrust, Shipper } from "../../src/evidence/shipper.js";
import { until } from "../support/wait.js";

/**
 * A refused handshake is reported with a stable code and its fix (issue 21): a wrong path (HTTP
 * 404), a proxy's 401, a collector that refuses hello (a 40xx close), a key that is not the pinned
 * one (4012), and nothing listening. Real collectors and real sockets throughout.
 */

let dir: string;
const closers: (() => Promise<unknown> | unknown)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "forge-link-"));
});
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

function store(): EvidenceStore {
  const s = EvidenceStore.open({
    path: join(dir, "agent.db"),
    keyDir: join(dir, "keys"),
    hostId: "host-1",
    synchronous: "NORMAL",
  });
  closers.push(() => s.close());
  return s;
}

function ship(url: string, over: Partial<ConstructorParameters<typeof Shipper>[0]> = {}): Shipper {
  const sh = new Shipper({ store: store(), url, backoff: { initialMs: 20, maxMs: 100 }, ...over });
  closers.push(() => sh.stop());
  sh.start();
  return sh;
}

async function collector(opts: { requireRegistered?: boolean } = {}): Promise<Collector> {
  const c = await startCollector({
    database: `sqlite:${join(dir, "collector.db")}`,
    listen: "127.0.0.1:0",
    ...opts,
  });
  closers.push(() => c.close());
  return c;
}

async function httpServer(status: number): Promise<string> {
  const s: Server = createServer((_req, res) => {
    res.writeHead(status).end();
  });
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  closers.push(() => new Promise((r) => s.close(r)));
  return `ws://127.0.0.1:${(s.address() as AddressInfo).port}/v1/ws`;
}

async function failed(sh: Shipper, reason: string) {
  await until(() => sh.status().error?.reason === reason, `link error ${reason}`, 10_000);
  return sh.status().error!;
}

describe("collector handshake refusals, as the shipper reports them", () => {
  it("a wrong path: HTTP 404, with the ingest path in the fix", async () => {
    const c = await collector();
    const e = await failed(ship(`${c.url.replace(/\/v1\/ws$/, "")}/wrong`), "http-404");
    expect(e.code).toBe("FORGE_COLLECTOR_REFUSED");
    expect(e.message).toContain("answered HTTP 404");
    expect(e.fix).toContain("/v1/ws");
    expect(e.fix).toContain("/wrong");
  });

  it("a client that resets the connection after the 404 leaves the collector unharmed", async () => {
    // Node hands an upgrade's socket over without its error listener; the collector must add one,
    // or the reset below is an uncaught ECONNRESET (CI on 24f143d failed on exactly that).
    const c = await collector();
    const uncaught: unknown[] = [];
    const note = (err: unknown) => uncaught.push(err);
    process.on("uncaughtException", note);
    closers.push(() => process.off("uncaughtException", note));
    const { port } = new URL(c.url);
    const answers: string[] = [];
    for (let i = 0; i < 20; i++) {
      answers.push(
        await new Promise<string>((resolve, reject) => {
          const s = connect(Number(port), "127.0.0.1", () =>
            s.write(
              "GET /wrong HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
                "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
            ),
          );
          s.once("data", (d) => {
            s.resetAndDestroy();
            resolve(d.toString("latin1").split("\r\n")[0]!);
          });
          s.once("error", reject);
        }),
      );
    }
    expect(new Set(answers)).toEqual(new Set(["HTTP/1.1 404 Not Found"]));
    // The collector still takes a shipper, and nothing escaped as an uncaught error meanwhile.
    const sh = ship(c.url);
    await until(() => sh.status().connected, "a good shipper connects", 10_000);
    expect(uncaught).toEqual([]);
  });

  it("a proxy's HTTP 401", async () => {
    const e = await failed(ship(await httpServer(401)), "http-401");
    expect(e.code).toBe("FORGE_COLLECTOR_REFUSED");
    expect(e.fix).toContain("credentials");
  });

  it("a collector that refuses hello: close 4004 (unregistered), then connected clears it", async () => {
    const c = await collector({ requireRegistered: true });
    const sh = ship(c.url);
    const e = await failed(sh, "close-4004");
    expect(e.code).toBe("FORGE_COLLECTOR_REFUSED");
    expect(e.fix).toContain("register");
    expect(sh.status().connected).toBe(false);
  });

  it("a collector whose key is not the pinned one: FORGE_COLLECTOR_UNTRUSTED with the fix", async () => {
    const c = await collector();
    const other = generateKeyPairSync("ed25519").publicKey;
    const e = await failed(ship(c.url, { trust: memoryTrust(other, false) }), "collector-key-mismatch");
    expect(e.code).toBe("FORGE_COLLECTOR_UNTRUSTED");
    expect(e.fix).toContain("collector_trust.key");
  });

  it("nothing listening: FORGE_COLLECTOR_UNAVAILABLE econnrefused; a good collector later clears error, keeps lastError", async () => {
    const c = await collector();
    const port = new URL(c.url).port;
    await c.close();
    closers.pop();
    const sh = ship(`ws://127.0.0.1:${port}/v1/ws`);
    const e = await failed(sh, "econnrefused");
    expect(e.code).toBe("FORGE_COLLECTOR_UNAVAILABLE");
    expect(e.fix).toContain("forge-collector run");
    const again = await startCollector({
      database: `sqlite:${join(dir, "collector2.db")}`,
      listen: `127.0.0.1:${port}`,
    });
    closers.push(() => again.close());
    await until(() => sh.status().connected, "connect once the collector is up", 15_000);
    expect(sh.status().error).toBeNull();
    expect(sh.status().lastError?.reason).toBe("econnrefused");
  });
});

describe("linkError", () => {
  it("closes that need no fix (a takeover, going away) are not errors", () => {
    expect(linkError({ kind: "close", code: 4010, reason: "replaced" }, "ws://h:1/v1/ws")).toBeNull();
    expect(linkError({ kind: "close", code: 1001, reason: "" }, "ws://h:1/v1/ws")).toBeNull();
  });
  it("a TLS failure says which scheme to use", () => {
    const e = linkError(
      {
        kind: "error",
        error: Object.assign(new Error("wrong version number"), { code: "ERR_SSL_WRONG_VERSION_NUMBER" }),
      },
      "wss://h:1/v1/ws",
    );
    expect(e?.reason).toBe("tls-error");
    expect(e?.fix).toContain("wss://");
  });
});
