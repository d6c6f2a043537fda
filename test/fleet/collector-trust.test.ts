import { spawnSync } from "node:child_process";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { Shipper } from "../../src/evidence/shipper.js";
import {
  keyFingerprint,
  publicKeyFromPem,
  READ_KEY_HEADER,
  READ_SIG_HEADER,
  signCollectorMessage,
} from "../../src/protocol/collector-auth.js";
import { shell } from "../agent/helpers.js";
import { until } from "../support/wait.js";
import {
  AGENT_BIN,
  type AgentProc,
  COLLECTOR_BIN,
  type CollectorProc,
  ensureBuilt,
  startAgentProcess,
  startCollectorProcess,
  stopsAfterAll,
  tempDir,
} from "./helpers.js";

/**
 * Issue 20, "the collector is authenticated to the agent": the probe that found a fake collector
 * trusted completely, against real agent and collector processes on loopback. A fake collector on
 * the agent's URL gets no prune and no review; a wrong certificate is refused at the handshake.
 */

const stops = stopsAfterAll();

/** `forge-collector tls init` as a user runs it; returns the certificate and key paths. */
function tlsInit(dir: string): { cert: string; key: string; fingerprint: string } {
  const r = spawnSync(process.execPath, [COLLECTOR_BIN, "tls", "init", "--out", dir, "--json"], {
    encoding: "utf8",
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

type Health = {
  evidence: { lastSeq: number; ackedSeq: number; backlog: number };
  collector: { connected: boolean; lastAckedSeq: number; lastClose: { code: number } | null };
};
const health = async (a: AgentProc) => (await a.client.get("/v1/health")).body as Health;

/** The agent's own alert records (session agent:<host>), by proposed_action.kind. */
async function alertKinds(a: AgentProc): Promise<string[]> {
  const t = (await a.client.get(`/v1/sessions/agent:${a.hostId}/trace`)).body as {
    steps?: Array<{ proposed_action?: { kind?: string } }>;
  };
  return (t.steps ?? []).map((s) => s.proposed_action?.kind ?? "");
}

/** The trace's `sources` (local, collector, incomplete) as the agent's socket API answers it. */
async function traceSources(a: AgentProc, session: string) {
  const t = (await a.client.get(`/v1/sessions/${session}/trace`)).body as {
    sources: { local: number; collector: number; incomplete?: string };
  };
  return t.sources;
}

/**
 * The fake collector: a real WebSocket server on the real collector's port that speaks the
 * protocol, claims `claimKey` in its challenge, acks everything the agent holds and approves
 * `approve` as operator:ceo, all signed with its own key.
 */
async function fakeCollector(port: number, claimKeyPem: string | null, approve: string) {
  const own = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const wss = new WebSocketServer({ host: "127.0.0.1", port });
  await new Promise<void>((r) => wss.once("listening", () => r()));
  const closes: number[] = [];
  let hellos = 0;
  wss.on("connection", (ws: WebSocket) => {
    ws.on("close", (code) => closes.push(code));
    ws.send(
      JSON.stringify({
        type: "challenge",
        nonce: "fake",
        protocol: 2,
        ...(claimKeyPem === null ? {} : { public_key_pem: claimKeyPem }),
      }),
    );
    ws.on("message", (data) => {
      const m = JSON.parse(data.toString());
      if (m.type !== "hello") return;
      hellos++;
      const signed = (msg: Record<string, unknown>) =>
        JSON.stringify(signCollectorMessage(own.privateKey as KeyObject, m.agent_nonce ?? "", msg));
      ws.send(signed({ type: "ack", seq: m.last_seq, hash: m.head_hash, checkpoint_seq: 0 }));
      ws.send(
        signed({
          type: "review",
          action_id: approve,
          decision: "approve",
          reason: null,
          reviewer: "operator:ceo",
        }),
      );
    });
  });
  const stop = () => new Promise<void>((r) => wss.close(() => r()));
  return { closes, hellos: () => hellos, stop };
}

describe("a fake collector on the agent's URL", () => {
  let dir: string;
  let collector: CollectorProc;
  let agent: AgentProc;
  let port: number;

  beforeAll(async () => {
    ensureBuilt();
    dir = tempDir("fa-trust-");
    collector = await startCollectorProcess(dir);
    stops.push(() => collector.stop());
    port = Number(new URL(collector.url).port);
    // No collector_trust.key: the agent pins the real collector's key on first use.
    agent = await startAgentProcess("trust-a", { collector_url: collector.url, heartbeat_ms: 500 });
    stops.push(() => agent.stop());
  }, 60_000);

  it("pins the real collector on first use (loudly), then refuses a fake one: nothing pruned, no review applied, alerts recorded", async () => {
    await agent.client.post("/v1/actions", { session_id: "t", proposed_action: shell("echo one") });
    await until(
      async () => (await health(agent)).evidence.backlog === 0,
      "records acked by the real collector",
    );
    const pin = readFileSync(join(agent.home, "var", "collector-key.pem"), "utf8");
    expect(pin).toMatch(/BEGIN PUBLIC KEY/);
    expect(await alertKinds(agent)).toContain("collector.collector-pinned-first-use");

    await collector.stop();
    const esc = await agent.client.post("/v1/actions", {
      session_id: "t",
      proposed_action: shell("deploy prod"),
    });
    expect(esc.body.evaluation).toBe("ESCALATE");
    const id = esc.body.action_id as string;
    // A DENY is recorded at once: records the fake collector would like the agent to prune.
    for (let i = 0; i < 3; i++)
      await agent.client.post("/v1/actions", { session_id: "t", proposed_action: shell("rm -rf /") });
    await until(async () => (await health(agent)).evidence.backlog >= 3, "DENY records committed");
    const before = await health(agent);
    expect(before.evidence.backlog).toBeGreaterThan(0);

    // 1. A fake that claims its own key: refused at the challenge.
    const other = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    let fake = await fakeCollector(
      port,
      other.publicKey.export({ type: "spki", format: "pem" }).toString(),
      id,
    );
    await until(
      async () => (await alertKinds(agent)).includes("collector.collector-key-mismatch"),
      "key-mismatch alert",
    );
    expect(fake.hellos()).toBe(0); // the agent never even said hello to it
    await fake.stop();

    // 2. A fake that claims the real collector's public key (it is public) but cannot sign as it:
    // the agent says hello, then refuses the unsigned ack and never sees the review.
    fake = await fakeCollector(port, pin, id);
    await until(
      async () => (await alertKinds(agent)).includes("collector.collector-unsigned-ack"),
      "unsigned-ack alert",
    );
    expect(fake.hellos()).toBeGreaterThan(0);
    await until(() => fake.closes.includes(4012), "the agent closing with 4012");
    await fake.stop();

    // 3. A fake that sends no key at all (what every fake did before issue 20).
    fake = await fakeCollector(port, null, id);
    await until(async () => (await alertKinds(agent)).includes("collector.collector-no-key"), "no-key alert");
    await fake.stop();

    const after = await health(agent);
    expect(after.evidence.ackedSeq).toBe(before.evidence.ackedSeq);
    expect(after.evidence.backlog).toBeGreaterThanOrEqual(before.evidence.backlog);
    expect(after.collector.lastAckedSeq).toBe(before.collector.lastAckedSeq);
    const view = (await agent.client.get(`/v1/actions/${id}`)).body;
    expect(view.state).toBe("escalated");
    expect(view.principal_review).toBeNull();

    // The real collector back on its port (same key, kept beside its database): the backlog drains.
    collector = await startCollectorProcess(dir, ["--listen", `127.0.0.1:${port}`]);
    stops.push(() => collector.stop());
    await until(
      async () => (await health(agent)).evidence.backlog === 0,
      "backlog drained to the real collector",
    );
  }, 90_000);
});

/**
 * Item 4 of 20-fleet24: the agent's plain-http reads of a loopback collector (the trace archive)
 * are bound to the key the WebSocket pinned. A real imposter collector on the port signs its
 * answers correctly, with its own key; a plain server answers unsigned; a fake copies the real
 * collector's public key but cannot sign. Each read is refused with FORGE_COLLECTOR_UNTRUSTED.
 */
describe("plain http reads on loopback", () => {
  it("read the real collector's copy under the pin; an imposter, an unsigned and a copied-key answer are refused", async () => {
    const dir = tempDir("fa-httpread-");
    ensureBuilt();
    let collector = await startCollectorProcess(dir);
    stops.push(() => collector.stop());
    const port = Number(new URL(collector.url).port);
    const agent = await startAgentProcess("read-a", { collector_url: collector.url, heartbeat_ms: 500 });
    stops.push(() => agent.stop());
    await agent.client.post("/v1/actions", { session_id: "r", proposed_action: shell("rm -rf /") });
    await until(async () => {
      const h = await health(agent);
      return h.collector.connected && h.evidence.backlog === 0;
    }, "the DENY acked (pruned here)");
    await until(async () => (await traceSources(agent, "r")).collector > 0, "the trace read back over http");
    expect((await traceSources(agent, "r")).incomplete).toBeUndefined();
    const pinned = keyFingerprint(
      publicKeyFromPem(readFileSync(join(agent.home, "var", "collector-key.pem"), "utf8")),
    );

    // 1. A real collector process with another key on the port: its answers verify, under its key.
    await collector.stop();
    const imposter = await startCollectorProcess(tempDir("fa-httpread-imp-"), [
      "--listen",
      `127.0.0.1:${port}`,
    ]);
    stops.push(() => imposter.stop());
    let s = await traceSources(agent, "r");
    expect(s.collector).toBe(0);
    expect(s.incomplete).toMatch(/FORGE_COLLECTOR_UNTRUSTED: .* in its signed http answer, not the pinned /);
    expect(s.incomplete).toContain(pinned);
    await imposter.stop();

    // 2. A plain server answering forged records unsigned; 3. one copying the real key, signing nothing valid.
    const realKeyDer = publicKeyFromPem(readFileSync(join(agent.home, "var", "collector-key.pem"), "utf8"))
      .export({ type: "spki", format: "der" })
      .toString("base64");
    for (const [headers, why] of [
      [{}, /is not signed by a collector key/],
      [
        { [READ_KEY_HEADER]: realKeyDer, [READ_SIG_HEADER]: Buffer.alloc(64, 1).toString("base64") },
        /did not make/,
      ],
    ] as const) {
      const fake = createServer((_req, res) => {
        res.writeHead(200, { ...headers, "content-type": "application/json" });
        res.end(JSON.stringify({ records: [{ seq: 99, session_id: "r", host_id: "read-a" }] }));
      });
      await new Promise<void>((r) => fake.listen(port, "127.0.0.1", r));
      s = await traceSources(agent, "r");
      await new Promise<void>((r) => fake.close(() => r()));
      expect(s.collector).toBe(0);
      expect(s.incomplete).toMatch(/FORGE_COLLECTOR_UNTRUSTED/);
      expect(s.incomplete).toMatch(why);
    }

    // The real collector back (same key beside its database): the read works again.
    collector = await startCollectorProcess(dir, ["--listen", `127.0.0.1:${port}`]);
    stops.push(() => collector.stop());
    await until(async () => (await traceSources(agent, "r")).collector > 0, "the trace read back again");
  }, 90_000);
});

describe("wss:// with a pinned certificate", () => {
  it("ships to the collector whose certificate is pinned; refuses one with another certificate at the handshake", async () => {
    ensureBuilt();
    const dir = tempDir("fa-tls-");
    const real = tlsInit(join(dir, "real"));
    const wrong = tlsInit(join(dir, "wrong"));
    expect(real.fingerprint).not.toBe(wrong.fingerprint);

    const good = await startCollectorProcess(join(dir), ["--tls-cert", real.cert, "--tls-key", real.key]);
    stops.push(() => good.stop());
    expect(good.url).toMatch(/^wss:\/\//);
    const a = await startAgentProcess("tls-a", {
      collector_url: good.url,
      collector_trust: { key: real.cert },
      heartbeat_ms: 500,
    });
    stops.push(() => a.stop());
    await a.client.post("/v1/actions", { session_id: "t", proposed_action: shell("echo hi") });
    // A DENY is chained at once: a record of session t for the trace to read back once pruned.
    await a.client.post("/v1/actions", { session_id: "t", proposed_action: shell("rm -rf /") });
    await until(async () => {
      const h = await health(a);
      return h.collector.connected && h.evidence.backlog === 0;
    }, "records acked over wss");
    expect(await alertKinds(a)).not.toContain("collector.collector-pinned-first-use");
    // The agent's own read of what it shipped goes over https to the same pin: it works self-signed.
    let lastSources = {};
    await until(
      async () => {
        const s = await traceSources(a, "t");
        lastSources = s;
        return s.collector > 0;
      },
      () => `the trace read back over pinned https (${JSON.stringify(lastSources)})`,
    );
    expect((await traceSources(a, "t")).incomplete).toBeUndefined();

    // Another collector, another certificate, on the URL the agent trusts for `real`.
    const imposterDir = tempDir("fa-tls-imp-");
    const imposter = await startCollectorProcess(imposterDir, [
      "--tls-cert",
      wrong.cert,
      "--tls-key",
      wrong.key,
    ]);
    stops.push(() => imposter.stop());
    const b = await startAgentProcess("tls-b", {
      collector_url: imposter.url,
      collector_trust: { key: real.cert },
      heartbeat_ms: 500,
    });
    stops.push(() => b.stop());
    await b.client.post("/v1/actions", { session_id: "t", proposed_action: shell("echo hi") });
    await until(
      async () => (await alertKinds(b)).includes("collector.collector-key-mismatch"),
      "key-mismatch alert over wss",
    );
    const hb = await health(b);
    expect(hb.collector.connected).toBe(false);
    expect(hb.evidence.ackedSeq).toBe(0);
    // Its https read from the imposter is refused with a code, the same pin deciding.
    const sb = await traceSources(b, "t");
    expect(sb.collector).toBe(0);
    expect(sb.incomplete).toMatch(/FORGE_COLLECTOR_UNTRUSTED: the collector at .* not the pinned sha256:/);

    // The CLI's trace with no agent running: --collector-key is the pin (the real one reads, another is refused).
    await a.stop();
    const cliTrace = (key: string) => {
      const r = spawnSync(
        process.execPath,
        [
          AGENT_BIN,
          "trace",
          "t",
          "--json",
          "--socket",
          join(a.home, "var", "agent.sock"),
          "--collector-url",
          good.url,
          "--collector-key",
          key,
        ],
        { encoding: "utf8" },
      );
      return JSON.parse(r.stdout) as { sources: { collector: number; incomplete?: string } };
    };
    const ok = cliTrace(real.cert);
    expect(ok.sources.collector).toBeGreaterThan(0);
    expect(ok.sources.incomplete).toBeUndefined();
    const refused = cliTrace(wrong.cert);
    expect(refused.sources.collector).toBe(0);
    expect(refused.sources.incomplete).toMatch(/FORGE_COLLECTOR_UNTRUSTED/);

    // A plain ws:// server at a wss:// URL: no TLS certificate, no connection, nothing acked.
    const plain = await startCollectorProcess(tempDir("fa-tls-plain-"));
    stops.push(() => plain.stop());
    const c = await startAgentProcess("tls-c", {
      collector_url: plain.url.replace(/^ws:/, "wss:"),
      collector_trust: { key: real.cert },
      heartbeat_ms: 500,
    });
    stops.push(() => c.stop());
    await c.client.post("/v1/actions", { session_id: "t", proposed_action: shell("echo hi") });
    await until(async () => (await health(c)).collector.lastClose !== null, "the failed TLS connection");
    const hc = await health(c);
    expect(hc.collector.connected).toBe(false);
    expect(hc.evidence.ackedSeq).toBe(0);
  }, 90_000);

  it("plain ws:// is refused for a host that is not loopback", () => {
    expect(() => new Shipper({ store: {} as never, url: "ws://192.0.2.7:8787/v1/ws" })).toThrow(
      /loopback only; use wss:\/\//,
    );
    expect(() => new Shipper({ store: {} as never, url: "ws://[::1]:8787/v1/ws" })).not.toThrow();
  });
});

describe("key rotation", () => {
  it("tls rotate: the agent verifies the new key against the pinned one and re-pins (logged, alerted); a rotation the pinned key did not sign is refused", async () => {
    ensureBuilt();
    const dir = tempDir("fa-rotate-");
    const old = tlsInit(join(dir, "tls"));
    const args = ["--tls-cert", old.cert, "--tls-key", old.key];
    let col = await startCollectorProcess(dir, args);
    stops.push(() => col.stop());
    const port = new URL(col.url).port;
    const a = await startAgentProcess("rot-a", { collector_url: col.url, heartbeat_ms: 500 });
    stops.push(() => a.stop());
    const pinFile = join(a.home, "var", "collector-key.pem");
    const pinned = () => keyFingerprint(publicKeyFromPem(readFileSync(pinFile, "utf8")));
    await until(async () => (await health(a)).collector.connected, "connected, pinned on first use");
    expect(pinned()).toBe(old.fingerprint);

    // The operator rotates the collector's key and restarts it on the same files and port.
    await col.stop();
    const r = spawnSync(
      process.execPath,
      [COLLECTOR_BIN, "tls", "rotate", "--dir", join(dir, "tls"), "--json"],
      {
        encoding: "utf8",
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const rotated = JSON.parse(r.stdout) as { fingerprint: string; previous_fingerprint: string };
    expect(rotated.previous_fingerprint).toBe(old.fingerprint);
    expect(rotated.fingerprint).not.toBe(old.fingerprint);
    col = await startCollectorProcess(dir, [...args, "--listen", `127.0.0.1:${port}`]);
    stops.push(() => col.stop());
    await until(
      async () => (await alertKinds(a)).includes("collector.collector-key-rotated"),
      "the re-pin alert",
      60_000,
    );
    await until(async () => (await health(a)).collector.connected, "connected with the new key", 60_000);
    expect(pinned()).toBe(rotated.fingerprint);
    // Acks signed by the new key are acted on: the backlog drains.
    await a.client.post("/v1/actions", { session_id: "rot", proposed_action: shell("rm -rf /") });
    await until(async () => (await health(a)).evidence.backlog === 0, "acked under the new key");

    // Another pair whose rotation statement its own old key signed, not the pinned one.
    const other = tlsInit(join(dir, "other"));
    const r2 = spawnSync(
      process.execPath,
      [COLLECTOR_BIN, "tls", "rotate", "--dir", join(dir, "other"), "--json"],
      {
        encoding: "utf8",
      },
    );
    expect(r2.status, r2.stderr).toBe(0);
    await col.stop();
    const fake = await startCollectorProcess(tempDir("fa-rotate-fake-"), [
      "--tls-cert",
      other.cert,
      "--tls-key",
      other.key,
      "--listen",
      `127.0.0.1:${port}`,
    ]);
    stops.push(() => fake.stop());
    await a.client.post("/v1/actions", { session_id: "rot", proposed_action: shell("rm -rf /tmp/x") });
    await until(
      async () => (await alertKinds(a)).includes("collector.collector-rotation-invalid"),
      "the refused rotation's alert",
      60_000,
    );
    const h = await health(a);
    expect(h.collector.connected).toBe(false);
    expect(h.evidence.backlog).toBeGreaterThan(0);
    expect(pinned()).toBe(rotated.fingerprint);
  }, 150_000);
});
