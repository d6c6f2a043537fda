import { execFile, spawnSync } from "node:child_process";
import { createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, request as httpRequest } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectorGet } from "../../src/agent/collector-http.js";
import { Codes } from "../../src/errors.js";
import { keyFingerprint, publicKeyFromPem } from "../../src/protocol/collector-auth.js";
import {
  AGENT_BIN,
  COLLECTOR_BIN,
  type CollectorProc,
  ensureBuilt,
  startCollectorProcess,
  stopsAfterAll,
  tempDir,
} from "./helpers.js";

/**
 * Issue 20: the agent's own HTTP reads from the collector go over https to the pinned key, not
 * the system CA store. A real https server with a `forge-collector tls init` (self-signed) pair:
 * the pinned key reads; another pin is refused with a code before any request bytes are sent.
 */

/** Awaits `p`, expects it to reject with a ForgeError of `code`; returns its message. */
async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<string> {
  const err = await p.then(
    () => null,
    (e: Error & { code?: string }) => e,
  );
  expect(err?.code).toBe(code);
  return err!.message;
}

function tlsInit(dir: string): { cert: string; key: string } {
  const r = spawnSync(process.execPath, [COLLECTOR_BIN, "tls", "init", "--out", dir, "--json"], {
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

let server: Server;
let base: string;
const seen: Array<{ url: string; authorization: string | undefined }> = [];
let real: { cert: string; key: string };
let other: { cert: string; key: string };

beforeAll(async () => {
  ensureBuilt();
  const dir = tempDir("fa-chttp-");
  real = tlsInit(join(dir, "real"));
  other = tlsInit(join(dir, "other"));
  server = createServer({ cert: readFileSync(real.cert), key: readFileSync(real.key) }, (req, res) => {
    seen.push({ url: req.url ?? "", authorization: req.headers.authorization });
    res.setHeader("content-type", "application/json");
    if (req.url?.startsWith("/v1/lineage/")) res.statusCode = 418; // the CLI test below: reached, not a lineage
    res.end(JSON.stringify({ records: [{ seq: 1 }] }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe("collectorGet over https", () => {
  it("reads from a self-signed collector whose certificate is pinned (no CA involved)", async () => {
    const pin = publicKeyFromPem(readFileSync(real.cert, "utf8"));
    const res = await collectorGet(new URL("/v1/records?host_id=h", base), {
      pinned: () => pin,
      headers: { authorization: "Bearer s3cret" },
    });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ records: [{ seq: 1 }] });
    expect(seen.at(-1)).toEqual({ url: "/v1/records?host_id=h", authorization: "Bearer s3cret" });
  });

  it("refuses a collector with another certificate: FORGE_COLLECTOR_UNTRUSTED, the credential never sent", async () => {
    const before = seen.length;
    const pin = publicKeyFromPem(readFileSync(other.cert, "utf8"));
    await rejectsWithCode(
      collectorGet(new URL("/v1/records", base), {
        pinned: () => pin,
        headers: { authorization: "Bearer s3cret" },
      }),
      Codes.COLLECTOR_UNTRUSTED,
    ).then((m) => expect(m).toMatch(/not the pinned sha256:/));
    expect(seen.length).toBe(before);
  });

  it("refuses https with no pinned key, and never falls back to the system CA store", async () => {
    const before = seen.length;
    await rejectsWithCode(
      collectorGet(new URL("/v1/records", base), { pinned: () => null }),
      Codes.COLLECTOR_UNTRUSTED,
    );
    await rejectsWithCode(collectorGet(new URL("/v1/records", base)), Codes.COLLECTOR_UNTRUSTED);
    expect(seen.length).toBe(before);
  });
});

describe("forge-agent lineage --collector https://…", () => {
  // Not spawnSync: the https server answering it lives in this process's event loop.
  const lineage = (key: string) =>
    new Promise<{ status: number; stderr: string }>((resolve) => {
      const args = [AGENT_BIN, "lineage", "act-1", "--collector", base, "--collector-key", key];
      execFile(process.execPath, args, { encoding: "utf8" }, (err, _out, stderr) =>
        resolve({ status: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });

  it("reaches the collector with the pinned certificate; another is refused with a code, nothing sent", async () => {
    const before = seen.length;
    const bad = await lineage(other.cert);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain("FORGE_COLLECTOR_UNTRUSTED");
    expect(seen.length).toBe(before);
    const good = await lineage(real.cert);
    expect(good.stderr).toContain("HTTP 418");
    expect(seen.at(-1)?.url).toBe("/v1/lineage/act-1");
  });
});

/**
 * Issue 20, reads bound to the pin without TLS: a real `forge-collector run` on loopback plain
 * http signs each answer for the agent's nonce; the pinned key reads, another is refused, and a
 * first use pins the key the read proved (http: the signed answer; https: the certificate).
 */
describe("collectorGet against real collector processes", () => {
  const stops = stopsAfterAll();
  let dir: string;
  let plain: CollectorProc;
  let plainKey: KeyObject;
  let secure: CollectorProc;
  let secureKey: KeyObject;

  beforeAll(async () => {
    dir = tempDir("fa-chttp-real-");
    plain = await startCollectorProcess(join(dir));
    stops.push(() => plain.stop());
    // Without TLS the collector's signing key is kept beside its database.
    plainKey = createPublicKey(readFileSync(join(dir, "collector.db.key"), "utf8"));
    const pair = tlsInit(join(dir, "tls"));
    secure = await startCollectorProcess(tempDir("fa-chttp-tls-"), [
      "--tls-cert",
      pair.cert,
      "--tls-key",
      pair.key,
    ]);
    stops.push(() => secure.stop());
    secureKey = publicKeyFromPem(readFileSync(pair.cert, "utf8"));
  }, 60_000);

  /** A first-use pin held in memory, as the daemon's is (without its file). */
  function firstUse() {
    let pin: KeyObject | null = null;
    const seen: string[] = [];
    return {
      seen,
      pin: () => pin,
      trust: {
        pinned: () => pin,
        pinFirstUse: (key: KeyObject, seenIn: string) => {
          seen.push(seenIn);
          pin = key;
          return true;
        },
      },
    };
  }

  /** A read with no pin yet: it pins `key`, proved in `seenIn`, once. */
  async function pinsOnFirstUse(base: string, seenIn: string, key: KeyObject) {
    const f = firstUse();
    const res = await collectorGet(new URL("/v1/fleet", base), f.trust);
    expect(res.status).toBe(200);
    expect(f.seen).toEqual([seenIn]);
    expect(keyFingerprint(f.pin()!)).toBe(keyFingerprint(key));
    return f;
  }

  it("plain http: the pinned key's signed answer reads; another pin or no pin is FORGE_COLLECTOR_UNTRUSTED", async () => {
    const url = new URL("/v1/fleet", plain.http);
    const ok = await collectorGet(url, { pinned: () => plainKey });
    expect(ok.status).toBe(200);
    expect(ok.json()).toHaveProperty("hosts");
    const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" }).publicKey;
    const wrong = await rejectsWithCode(
      collectorGet(url, { pinned: () => other }),
      Codes.COLLECTOR_UNTRUSTED,
    );
    expect(wrong).toContain(`presented key ${keyFingerprint(plainKey)} in its signed http answer`);
    expect(wrong).toContain(`not the pinned ${keyFingerprint(other)}`);
    await rejectsWithCode(collectorGet(url, { pinned: () => null }), Codes.COLLECTOR_UNTRUSTED);
    // An error answer is signed too: the agent still reads the collector's own refusal.
    const missing = await collectorGet(new URL("/v1/nowhere", plain.http), { pinned: () => plainKey });
    expect(missing.status).toBe(404);
  });

  it("plain http: with no pin, a first use pins the key that signed the answer", async () => {
    const f = await pinsOnFirstUse(plain.http, "signed http answer", plainKey);
    // Pinned now: the TLS collector (another key) is refused under it.
    await rejectsWithCode(
      collectorGet(new URL("/v1/fleet", secure.http), f.trust),
      Codes.COLLECTOR_UNTRUSTED,
    );
  });

  it("https: with no pin, a first use pins the certificate's key; that pin then refuses another collector", async () => {
    const f = await pinsOnFirstUse(secure.http, "TLS certificate", secureKey);
    const again = await collectorGet(new URL("/v1/fleet", secure.http), f.trust);
    expect(again.status).toBe(200);
    expect(f.seen).toHaveLength(1); // pinned once
    const refused = await rejectsWithCode(
      collectorGet(new URL("/v1/fleet", plain.http), f.trust),
      Codes.COLLECTOR_UNTRUSTED,
    );
    expect(refused).toContain(`not the pinned ${keyFingerprint(secureKey)}`);
  });

  it("plain http: a bearer token goes only after the answer proved the pinned key; a fake collector never sees it", async () => {
    // A fake on a loopback port: answers everything, signs nothing, records what it was sent.
    const sent: Array<string | undefined> = [];
    const fake = createHttpServer((req, res) => {
      sent.push(req.headers.authorization);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ records: [] }));
    });
    await new Promise<void>((r) => fake.listen(0, "127.0.0.1", r));
    stops.push(() => new Promise<void>((r) => fake.close(() => r())));
    const fakeUrl = new URL(
      "/v1/records?host_id=h",
      `http://127.0.0.1:${(fake.address() as AddressInfo).port}`,
    );
    await rejectsWithCode(
      collectorGet(fakeUrl, { pinned: () => plainKey, headers: { Authorization: "Bearer s3cret" } }),
      Codes.COLLECTOR_UNTRUSTED,
    );
    expect(sent).toEqual([undefined]);

    // In front of the real collector (a relay that records the headers): the proof read goes
    // bare, the signed answer proves the key, and only then the read with the token.
    const relayed: Array<string | undefined> = [];
    const target = new URL(plain.http);
    const relay = createHttpServer((req, res) => {
      relayed.push(req.headers.authorization);
      const up = httpRequest(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
        (u) => {
          res.writeHead(u.statusCode ?? 502, u.headers);
          u.pipe(res);
        },
      );
      req.pipe(up);
    });
    await new Promise<void>((r) => relay.listen(0, "127.0.0.1", r));
    stops.push(() => new Promise<void>((r) => relay.close(() => r())));
    const viaRelay = new URL("/v1/fleet", `http://127.0.0.1:${(relay.address() as AddressInfo).port}`);
    const ok = await collectorGet(viaRelay, {
      pinned: () => plainKey,
      headers: { authorization: "Bearer s3cret" },
    });
    expect(ok.status).toBe(200);
    expect(relayed).toEqual([undefined, "Bearer s3cret"]);
    // A host-read signature (bound to its target and time) is not held back: one request.
    relayed.length = 0;
    await collectorGet(viaRelay, { pinned: () => plainKey, headers: { authorization: "ForgeHost x" } });
    expect(relayed).toEqual(["ForgeHost x"]);
  });

  it("a first use that is refused (pinning off) pins nothing and reads nothing", async () => {
    const refused = await rejectsWithCode(
      collectorGet(new URL("/v1/fleet", secure.http), { pinned: () => null, pinFirstUse: () => false }),
      Codes.COLLECTOR_UNTRUSTED,
    );
    expect(refused).toMatch(/no collector key is pinned .*nothing sent/);
  });
});
