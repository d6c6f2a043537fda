import { createPublicKey, sign } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { collectorRecords } from "../../src/agent/archive.js";
import { fleetPlugin } from "../../src/collector/fleet-plugin.js";
import { type Collector, startCollector } from "../../src/collector/server.js";
import { hostReadAuthorization } from "../../src/protocol/host-read.js";
import { connectHost, TestHost } from "./helpers.js";

/**
 * A host reads its own records back with its host key (issue 21 item 1): the collector with
 * operators (as `npm start` runs it) lets the signed request through for that host's records only.
 */
describe("host-key reads of GET /v1/records", () => {
  const dir = mkdtempSync(join(tmpdir(), "fa-hostread-"));
  const OPERATOR = { name: "alice", secret: "correct horse battery" };
  let col: Collector;
  /** The collector's own key, as the agent pins it: its plain-http answers are signed with it. */
  const pin = () => ({ pinned: () => createPublicKey(col.identity.publicKeyPem) });
  const a = new TestHost("read-a");
  const b = new TestHost("read-b");
  const signer = (h: TestHost) => (data: Buffer) => sign(null, data, h.key);

  beforeAll(async () => {
    col = await startCollector({
      database: `sqlite:${join(dir, "c.db")}`,
      listen: "127.0.0.1:0",
      plugins: [fleetPlugin({ operators: [OPERATOR] }).plugin],
    });
    for (const [h, session] of [
      [a, "sa"],
      [b, "sb"],
    ] as const) {
      const { c } = await connectHost(col.url, h);
      const recs = h.extend(3, session);
      c.send({ type: "records", from_seq: 1, records: recs });
      await c.ackAtLeast(3);
      c.close();
    }
  });
  afterAll(async () => {
    await col?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const raw = (path: string, authorization?: string) =>
    fetch(`${col.httpUrl}${path}`, { headers: authorization ? { authorization } : {} });

  it("answers the host's own records, one session or all, to its signed request", async () => {
    const read = collectorRecords({ url: col.url, hostId: a.hostId, sign: signer(a), trust: pin() });
    expect((await read({ session_id: "sa" })).map((r) => r.seq)).toEqual([1, 2, 3]);
    expect((await read()).every((r) => r.host_id === a.hostId)).toBe(true);
    // Without a credential the operator guard still refuses.
    const anon = await raw(`/v1/records?host_id=${a.hostId}`);
    expect(anon.status).toBe(401);
  });

  it("refuses another host's records, another key, a stale time, a tampered target and other routes", async () => {
    const path = `/v1/records?host_id=${b.hostId}&limit=10`;
    // a's key, b's records: the host_id must be the signer's own.
    const asA = hostReadAuthorization(a.hostId, "GET", path, signer(a), Date.now());
    const r1 = await raw(path, asA);
    expect(r1.status).toBe(401);
    expect(((await r1.json()) as { error: { message: string } }).error.message).toMatch(
      /its own records only/,
    );
    // Claims to be b, signed by a's key.
    const forged = hostReadAuthorization(b.hostId, "GET", path, signer(a), Date.now());
    const r2 = await raw(path, forged);
    expect(r2.status).toBe(401);
    expect(((await r2.json()) as { error: { message: string } }).error.message).toMatch(/does not verify/);
    // b's own key, but signed two minutes ago.
    const stale = hostReadAuthorization(b.hostId, "GET", path, signer(b), Date.now() - 120_000);
    expect((await raw(path, stale)).status).toBe(401);
    // Signed for limit=10, sent with limit=10000.
    const good = hostReadAuthorization(b.hostId, "GET", path, signer(b), Date.now());
    expect((await raw(path.replace("limit=10", "limit=10000"), good)).status).toBe(401);
    expect((await raw(path, good)).status).toBe(200);
    // A host key opens nothing else (the fleet, reviews).
    const fleet = hostReadAuthorization(b.hostId, "GET", "/v1/fleet", signer(b), Date.now());
    expect((await raw("/v1/fleet", fleet)).status).toBe(401);
    expect((await raw(path, "ForgeHost not-a-credential")).status).toBe(401);
  });

  it("refuses an unknown host and a revoked one", async () => {
    const stranger = new TestHost("read-never-connected");
    await expect(
      collectorRecords({ url: col.url, hostId: stranger.hostId, sign: signer(stranger), trust: pin() })(),
    ).rejects.toThrow(/unknown here/);
    await col.ctx.storage.revokeHost(b.hostId);
    await expect(
      collectorRecords({ url: col.url, hostId: b.hostId, sign: signer(b), trust: pin() })(),
    ).rejects.toThrow(/revoked/);
  });

  it("uses a configured operator token instead of the host key when one is given", async () => {
    const file = join(dir, "token");
    writeFileSync(file, `${OPERATOR.secret}\n`);
    const read = collectorRecords({ url: col.url, hostId: a.hostId, tokenFile: file, trust: pin() });
    expect((await read({ session_id: "sa" })).length).toBe(3);
  });
});
