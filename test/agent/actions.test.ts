import { mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ActionService } from "../../src/agent/actions.js";
import { Sandbox } from "../../src/agent/sandbox/index.js";
import { EvidenceStore } from "../../src/evidence/index.js";
import { Gate, initGate, loadPolicy, parseAction } from "../../src/gate/index.js";
import { FIXTURE_POLICY } from "./helpers.js";

/** The action lifecycle on a real gate and a real SQLite store, without HTTP in between. */
describe("ActionService", () => {
  const dir = mkdtempSync(join(tmpdir(), "fa-actions-"));
  let gate: Gate;
  beforeAll(async () => {
    await initGate();
    gate = new Gate(loadPolicy(FIXTURE_POLICY), { home: homedir(), cwd: dir });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const service = (store: EvidenceStore, maxUnacked: number) =>
    new ActionService({
      gate: () => gate,
      store,
      limits: {
        cwd: dir,
        shell_timeout_ms: 5000,
        excerpt_bytes: 64,
        max_output_bytes: 1 << 20,
        http_timeout_ms: 1000,
        http_max_bytes: 1024,
        file_max_bytes: 1024,
        file_timeout_ms: 10_000,
        base_env: { PATH: "/usr/bin:/bin" },
      },
      // These tests report delegated results; nothing the service executes needs containing.
      sandbox: new Sandbox(
        {
          engine: "off",
          bwrap_path: "/usr/bin/bwrap",
          prlimit_path: "/usr/bin/prlimit",
          on_unavailable: "unconfined",
        },
        { workspace: dir, home: dir, protect: [] },
      ),
      reviewDeadlineMs: 60_000,
      resultDeadlineMs: 60_000,
      onRestart: "restore",
      recordPrompts: false,
      maxUnacked,
      logger: pino({ level: "silent" }),
    });
  const who = { gate: "uid:1", record: "uid:1 pid:1" };
  const echo = parseAction({ kind: "shell", command: "echo hi" });

  it("reserves room for every allowed action's final record, even when proposals race", async () => {
    const store = EvidenceStore.open({
      path: join(dir, "race.db"),
      hostId: "h",
      keyDir: join(dir, "keys"),
      maxUnackedRecords: 4,
    });
    const svc = service(store, 4);
    const views = await Promise.all(
      Array.from({ length: 20 }, (_, i) => svc.propose({ session_id: `s${i}`, proposed_action: echo }, who)),
    );
    expect(views.filter((v) => v.evaluation === "ALLOW")).toHaveLength(4);
    expect(views.filter((v) => v.reasons[0] === "evidence-unavailable")).toHaveLength(16);
    // Every allowed action can be finished: its record has room.
    for (const v of views.filter((x) => x.evaluation === "ALLOW")) {
      expect((await svc.report(v.action_id, { status: "ok" }, who)).seq).toBeGreaterThan(0);
    }
    await svc.close();
    await store.close();
  });

  it("a delegated ALLOW is final at once; a delegated escalation is final when approved, even across a restart", async () => {
    const path = join(dir, "delegate.db");
    let store = EvidenceStore.open({ path, hostId: "h", keyDir: join(dir, "keys") });
    let svc = service(store, 100);
    const allow = await svc.propose({ session_id: "d", proposed_action: echo, delegate: "test client" }, who);
    expect(allow).toMatchObject({
      state: "done",
      evaluation: "ALLOW",
      execution_result: { status: "delegated", to: "test client" },
    });
    expect(store.listPending()).toEqual([]);
    const deploy = parseAction({ kind: "shell", command: "deploy prod" });
    const esc = await svc.propose({ session_id: "d", proposed_action: deploy, delegate: "test client" }, who);
    expect(esc.state).toBe("escalated");
    // The proposer ("uid:1 pid:1") may not review its own action, whatever the path.
    await expect(svc.review(esc.action_id, "approve", null, "uid:0 pid:1")).rejects.toMatchObject({
      code: "FORGE_SELF_REVIEW",
    });
    const ok = await svc.review(esc.action_id, "approve", null, "uid:0 pid:2");
    expect(ok).toMatchObject({
      state: "done",
      evaluation: "ALLOW",
      execution_result: { status: "delegated" },
    });
    // An escalation approved in the store whose final record was not yet chained when the agent stopped.
    const esc2 = await svc.propose(
      { session_id: "d", proposed_action: deploy, delegate: "test client" },
      who,
    );
    const row = store.getPending(esc2.action_id)!;
    await store.updatePending(esc2.action_id, {
      state: "allowed",
      record: { ...row.record, evaluation: "ALLOW" },
    });
    await svc.close();
    await store.close();
    store = EvidenceStore.open({ path, hostId: "h", keyDir: join(dir, "keys") });
    svc = service(store, 100);
    expect(await svc.restore()).toEqual({ restored: 0, resolved: 1 });
    expect(await svc.wait(esc2.action_id, 10_000)).toMatchObject({
      state: "done",
      execution_result: { status: "delegated" },
    });
    await svc.close();
    await store.close();
  });

  it("does not block start-up on a full buffer: what restart must chain waits for the collector's acks", async () => {
    const path = join(dir, "full.db");
    const opts = { path, hostId: "h", keyDir: join(dir, "keys"), maxUnackedRecords: 2 };
    let store = EvidenceStore.open(opts);
    let svc = service(store, 2);
    const allow = await svc.propose({ session_id: "f", proposed_action: echo }, who);
    // Mark it as "the agent was executing this" and fill the buffer.
    const row = store.getPending(allow.action_id)!;
    const plan = { ...(row.record.execution_result as object), execute: true };
    await store.updatePending(allow.action_id, { record: { ...row.record, execution_result: plan } });
    const deny = parseAction({ kind: "shell", command: "rm -rf /" });
    await svc.propose({ session_id: "f", proposed_action: deny }, who);
    await svc.propose({ session_id: "f", proposed_action: deny }, who);
    await svc.close();
    await store.close();

    store = EvidenceStore.open(opts);
    svc = service(store, 2);
    expect(await svc.restore()).toEqual({ restored: 0, resolved: 1 }); // returns: start-up goes on
    expect((await svc.wait(allow.action_id, 200))?.state).not.toBe("done"); // no room yet
    await store.markAcked(store.lastSeq()); // the collector acked: room again
    expect(await svc.wait(allow.action_id, 10_000)).toMatchObject({
      state: "done",
      execution_result: { status: "unknown" },
    });
    await svc.close();
    await store.close();
  });

  it("restores escalations from the store and resolves an interrupted execution as unknown", async () => {
    const path = join(dir, "restore.db");
    let store = EvidenceStore.open({ path, hostId: "h", keyDir: join(dir, "keys") });
    let svc = service(store, 100);
    const esc = await svc.propose(
      { session_id: "r", proposed_action: parseAction({ kind: "shell", command: "deploy prod" }) },
      who,
    );
    // What a crash mid-execution leaves: an allowed pending row whose plan says execute.
    const draft = store.getPending(esc.action_id)!.record;
    await store.putPending({
      action_id: "interrupted",
      session_id: "r",
      state: "allowed",
      record: {
        ...draft,
        action_id: "interrupted",
        evaluation: "ALLOW",
        execution_result: { status: "pending", execute: true, reasons: [], risk: 0 },
      },
      deadline_ms: null,
      created_ms: Date.now(),
    });
    await svc.close();
    await store.close();

    store = EvidenceStore.open({ path, hostId: "h", keyDir: join(dir, "keys") });
    svc = service(store, 100);
    expect(await svc.restore()).toEqual({ restored: 1, resolved: 1 });
    expect(svc.reviews().map((v) => v.action_id)).toEqual([esc.action_id]);
    expect(await svc.wait("interrupted", 10_000)).toMatchObject({
      state: "done",
      execution_result: { status: "unknown" },
    });
    const approved = await svc.review(esc.action_id, "approve", "ok", "uid:0 pid:9");
    expect(approved).toMatchObject({ state: "allowed", evaluation: "ALLOW" });
    await svc.close();
    await store.close();
  });
});
