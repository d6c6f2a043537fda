import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { AllowlistProxy } from "../../src/agent/sandbox/proxy.js";
import { until } from "../support/wait.js";

/**
 * The sandbox's allowlist proxy on a real Unix socket, with clients that hang up before the proxy
 * answers their CONNECT. Node hands a CONNECT's socket over without its error listener, so
 * the proxy must add one: without it a refusal written to a client that hung up is an uncaught EPIPE.
 */

let dir: string;
let proxy: AllowlistProxy;
const uncaught: unknown[] = [];
const note = (err: unknown) => uncaught.push(err);

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "forge-proxy-"));
  proxy = new AllowlistProxy(["allowed.example"]);
  await proxy.listen(join(dir, "proxy.sock"));
  uncaught.length = 0;
  process.on("uncaughtException", note);
});
afterEach(async () => {
  process.off("uncaughtException", note);
  await proxy.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Sends a CONNECT and closes at once, so the proxy's refusal is written to a closed peer (EPIPE). */
function connectAndGo(target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = connect(join(dir, "proxy.sock"), () => {
      s.end(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
      s.destroy();
      resolve();
    });
    s.once("error", reject);
  });
}

function answer(target: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(join(dir, "proxy.sock"), () =>
      s.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`),
    );
    s.once("data", (d) => {
      s.destroy();
      resolve(d.toString("latin1").split("\r\n")[0]!);
    });
    s.once("error", reject);
  });
}

it("refuses a host off the allowlist and a malformed target, and survives clients that hang up first", async () => {
  expect(await answer("127.0.0.1:9")).toBe("HTTP/1.1 403 Forbidden");
  expect(await answer("no-port-here")).toBe("HTTP/1.1 400 Bad Request");
  for (let i = 0; i < 20; i++) await connectAndGo("127.0.0.1:9");
  await until(() => proxy.refused.length === 21, "the proxy refused every CONNECT", 10_000);
  // Still serving after the hang-ups, and nothing escaped meanwhile.
  expect(await answer("127.0.0.1:9")).toBe("HTTP/1.1 403 Forbidden");
  expect(uncaught).toEqual([]);
});
