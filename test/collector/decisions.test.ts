import { createPublicKey, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startCollector } from "../../src/collector/server.js";
import { type DecisionRow, openStorage } from "../../src/collector/storage.js";
import { verifyCollectorMessage } from "../../src/protocol/collector-auth.js";
import { CloseCodes, decisionDigest, type WireDecision } from "../../src/protocol/messages.js";
import { Client, connectHost, getJson, storageBackends, TestHost } from "./helpers.js";

/** The collector's copy of pending decisions (issue 20), on every storage backend. */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const row = (host_id: string, action_id: string, evaluation: string, received_ms: number): DecisionRow => ({
  host_id,
  action_id,
  session_id: `s-${host_id}`,
  state: evaluation === "ESCALATE" ? "escalated" : "allowed",
  created_ms: received_ms - 5,
  deadline_ms: evaluation === "ESCALATE" ? null : received_ms + 300_000,
  record: { evaluation, timestamp: new Date(received_ms).toISOString(), proposed_action: { kind: "shell" } },
  received_ms,
  host_sig: `sig-${action_id}`,
});

describe.each(storageBackends("forge-decisions"))("decisions on %s", (_name, open) => {
  it("stores each (host, action) once, keeps its current state, filters by host and session, newest first", async () => {
    const db = await open();
    const s = await openStorage(db.database);
    cleanups.push(db.cleanup, () => s.close());
    await s.putDecisions([
      row("h1", "a1", "ALLOW", 1000),
      row("h1", "a2", "ESCALATE", 2000),
      row("h2", "a1", "ALLOW", 3000),
    ]);
    // A resend of the same copy (the agent reconnected) changes nothing.
    await s.putDecisions([{ ...row("h1", "a1", "ALLOW", 1000), received_ms: 9000 }]);
    expect((await s.decisions({ limit: 10 }))[2]).toEqual(row("h1", "a1", "ALLOW", 1000));
    // A changed decision (an escalation approved, now executing) replaces state, deadline and
    // draft; its place in time (received_ms, created_ms, session) stays the first arrival's.
    const approved = { ...row("h1", "a2", "ALLOW", 9000), session_id: "other", created_ms: 1 };
    await s.putDecisions([approved]);
    const all = await s.decisions({ limit: 10 });
    expect(all.map((d) => [d.host_id, d.action_id])).toEqual([
      ["h2", "a1"],
      ["h1", "a2"],
      ["h1", "a1"],
    ]);
    expect(all[1]).toEqual({
      ...row("h1", "a2", "ESCALATE", 2000),
      state: "allowed",
      deadline_ms: approved.deadline_ms,
      record: approved.record,
    });
    expect(all[2]).toEqual(row("h1", "a1", "ALLOW", 1000));
    expect((await s.decisions({ host_id: "h1", limit: 10 })).map((d) => d.action_id)).toEqual(["a2", "a1"]);
    expect((await s.decisions({ session_id: "s-h2", limit: 10 })).map((d) => d.host_id)).toEqual(["h2"]);
    expect(await s.decisions({ host_id: "h1", limit: 1 })).toHaveLength(1);
    await s.putDecisions([]);
  });
});

describe("decisions on the wire (protocol 5)", () => {
  const decision = (action_id: string): WireDecision => ({
    action_id,
    session_id: "wire",
    state: "allowed",
    created_ms: 1000,
    deadline_ms: 301_000,
    record: { evaluation: "ALLOW", timestamp: new Date(1000).toISOString() },
  });

  it("stores a host-signed decision with its signature and acks it, signed, by digest; refuses an unsigned or forged one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "fa-dec-wire-"));
    const col = await startCollector({ database: `sqlite:${join(dir, "c.db")}`, listen: "127.0.0.1:0" });
    cleanups.push(async () => {
      await col.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const h = new TestHost(`wire-${process.pid}`);
    const agentNonce = randomBytes(18).toString("base64url");
    const c = new Client(col.url);
    await c.opened;
    const ch = (await c.next("challenge"))!;
    expect(ch.protocol).toBe(5);
    c.send(h.hello(ch.nonce as string, { agent_nonce: agentNonce }));
    await c.next("ack");

    const good = h.signDecision(decision("d-good"));
    c.send({ type: "decisions", decisions: [good] });
    const ack = (await c.next("decisions_ack"))!;
    expect(ack.decisions).toEqual([{ action_id: "d-good", digest: decisionDigest(h.hostId, good) }]);
    const collectorKey = createPublicKey(ch.public_key_pem as string);
    expect(verifyCollectorMessage(collectorKey, agentNonce, ack)).toBe(true);
    expect(verifyCollectorMessage(collectorKey, "another connection", ack)).toBe(false);
    const stored = await getJson(`${col.httpUrl}/v1/decisions?host_id=${h.hostId}`);
    expect(stored.body.decisions.map((d: DecisionRow) => [d.action_id, d.host_sig])).toEqual([
      ["d-good", good.host_sig],
    ]);

    // A forged decision (signed by another key) in a message with a good one: nothing of it is stored.
    const forged = { ...new TestHost(h.hostId).signDecision(decision("d-forged")) };
    c.send({ type: "decisions", decisions: [h.signDecision(decision("d-also")), forged] });
    expect((await c.closed).code).toBe(CloseCodes.BAD_FRAME);
    const c2 = await connectHost(col.url, h);
    c2.c.send({ type: "decisions", decisions: [decision("d-unsigned")] });
    expect((await c2.c.closed).code).toBe(CloseCodes.BAD_FRAME);
    const after = await getJson(`${col.httpUrl}/v1/decisions?host_id=${h.hostId}`);
    expect(after.body.decisions.map((d: DecisionRow) => d.action_id)).toEqual(["d-good"]);
    const alerts = await getJson(`${col.httpUrl}/v1/alerts?host_id=${h.hostId}`);
    expect(alerts.body.alerts.map((a: { code: string }) => a.code)).toContain("decision-bad-signature");
  });
});
