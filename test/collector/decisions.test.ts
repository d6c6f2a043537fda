import { afterEach, describe, expect, it } from "vitest";
import { type DecisionRow, openStorage } from "../../src/collector/storage.js";
import { storageBackends } from "./helpers.js";

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
