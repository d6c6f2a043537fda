// Drift in a real daemon: actions proposed over the socket feed the monitor from the store's
// commits; a shift in the action mix becomes an `alert` record (proposed_action.kind "drift"),
// GET /v1/drift and `forge-agent drift` show it, and /metrics carries the gauge.
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../support/wait.js";
import { CLI, FIXTURE_POLICY, shell, startTestAgent, type TestAgent, tempHome } from "./helpers.js";

const run = promisify(execFile);

describe("agent drift", () => {
  let t: TestAgent;
  beforeAll(async () => {
    t = await startTestAgent({
      drift: { reference: { kind: "first", n: 60 }, window: 40, every: 20, split_by: [] },
    });
  });
  afterAll(async () => {
    await t.stop();
  });

  const propose = (action: unknown, session = "claude-code:ref") =>
    t.client.post("/v1/actions", { session_id: session, proposed_action: action });

  it("a shift in the action mix is found, recorded, served and exported", async () => {
    // Reference: 70% shell rm, 30% http, all DENY (final at once, so chained in order).
    for (let i = 0; i < 100; i++) {
      const r = await propose(
        i % 10 < 7 ? shell("rm -rf /tmp/x") : { kind: "http", method: "GET", url: "https://example.com/" },
      );
      expect(r.body.evaluation).toBe("DENY");
    }
    const before = await t.client.get("/v1/drift?signal=action.kind");
    expect(before.status).toBe(200);
    expect(before.body.signals[0]).toMatchObject({ signal: "action.kind", status: "ok", reference_n: 60 });
    // Current: file writes appear and take over.
    for (let i = 0; i < 60; i++) {
      await propose({ kind: "file.write", path: "/etc/passwd" }, `claude-code:shifted-${i % 3}`);
    }
    const view = await t.client.get("/v1/drift?signal=action.kind");
    const s = view.body.signals[0];
    expect(s.status).toBe("drift");
    expect(s.last.method).toBe("chisquare");
    expect(s.last.top[0].category).toBe("file.write");
    expect(s.last.examples[0]).toMatch(/^claude-code:shifted-/);
    expect(view.body.events.some((e: { event: string }) => e.event === "finding")).toBe(true);

    // The finding is an alert record in the host's chain.
    type Step = { kind: string; proposed_action: Record<string, unknown> };
    let steps: Step[] = [];
    await until(async () => {
      const trace = await t.client.get(`/v1/sessions/${encodeURIComponent("drift:test-host")}/trace`);
      steps = trace.body.steps ?? [];
      return steps.some((r) => r.proposed_action.signal === "action.kind");
    }, "the drift record");
    const rec = steps.find((r) => r.proposed_action.signal === "action.kind")!;
    expect(rec.kind).toBe("alert");
    expect(rec.proposed_action).toMatchObject({ kind: "drift", event: "finding", method: "chisquare" });
    expect(rec.proposed_action.reference).toMatchObject({ n: 60 });
    expect(rec.proposed_action.current).toMatchObject({ n: 40 });

    const metrics = await t.client.get("/metrics");
    expect(metrics.text).toMatch(/forge_drift_detected\{signal="action.kind"\} 1/);

    // The CLI, over the socket: JSON and text, --signal and --since.
    const json = await run("node", [
      CLI,
      "drift",
      "--json",
      "--signal",
      "action.kind",
      "--socket",
      t.agent.socketPath,
    ]);
    const doc = JSON.parse(json.stdout);
    expect(doc.signals.map((x: { signal: string }) => x.signal)).toEqual(["action.kind"]);
    expect(doc.events.length).toBeGreaterThan(0);
    const later = await run("node", [
      CLI,
      "drift",
      "--json",
      "--since",
      "2099-01-01T00:00:00Z",
      "--socket",
      t.agent.socketPath,
    ]);
    expect(JSON.parse(later.stdout).events).toEqual([]);
    const text = await run("node", [CLI, "drift", "--socket", t.agent.socketPath]);
    expect(text.stdout).toContain("action.kind");
    expect(text.stdout).toMatch(/investigate: forge-agent trace claude-code:shifted-/);
  });

  it("refuses a bad --since with exit 2, and a bad query with 400", async () => {
    const bad = await run("node", [
      CLI,
      "drift",
      "--since",
      "yesterday",
      "--socket",
      t.agent.socketPath,
    ]).catch((e) => e as { code: number; stderr: string });
    expect((bad as { code: number }).code).toBe(2);
    const r = await t.client.get("/v1/drift?since=soon");
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("FORGE_BAD_REQUEST");
  });
});

describe("agent drift: a policy change resets the reference, and the record says so", () => {
  it("reload with another policy → a reset record closing the open finding; the signals learn again", async () => {
    const home = tempHome();
    const policy = join(home, "policy.yaml");
    writeFileSync(policy, readFileSync(FIXTURE_POLICY, "utf8"));
    const t = await startTestAgent(
      { policy, drift: { reference: { kind: "first", n: 30 }, window: 20, every: 10, split_by: [] } },
      home,
    );
    try {
      const propose = (action: unknown) =>
        t.client.post("/v1/actions", { session_id: "s", proposed_action: action });
      for (let i = 0; i < 40; i++) await propose(shell("rm -rf /tmp/x"));
      for (let i = 0; i < 30; i++)
        await propose({ kind: "http", method: "GET", url: "https://example.com/" });
      expect((await t.client.get("/v1/drift?signal=action.kind")).body.signals[0].status).toBe("drift");
      writeFileSync(policy, readFileSync(FIXTURE_POLICY, "utf8").replace("version: 1", "version: 2"));
      const r = t.agent.reloadPolicy();
      expect(r.ok).toBe(true);
      let reset: Record<string, unknown> | undefined;
      await until(async () => {
        const v = await t.client.get("/v1/drift");
        reset = v.body.events.find((e: { event: string }) => e.event === "reset");
        return reset !== undefined;
      }, "the reset event");
      expect(reset).toMatchObject({ trigger: "policy" });
      expect(reset!.closed).toContain("action.kind");
      const after = (await t.client.get("/v1/drift?signal=action.kind")).body.signals[0];
      expect(after).toMatchObject({ status: "learning", reference_n: 0 });
      await until(async () => {
        const trace = await t.client.get(`/v1/sessions/${encodeURIComponent("drift:test-host")}/trace`);
        return (trace.body.steps ?? []).some(
          (x: { proposed_action: { event?: string } }) => x.proposed_action.event === "reset",
        );
      }, "the reset record");
    } finally {
      await t.stop();
    }
  });
});

describe("agent drift config", () => {
  it("a range whose end is before its start is refused at start, with the field named", async () => {
    const home = tempHome();
    const err = await startTestAgent(
      {
        drift: { reference: { kind: "range", since: "2026-12-02T10:00:00Z", until: "2026-12-01T10:00:00Z" } },
      },
      home,
    ).catch((e) => e as { code: string; message: string });
    rmSync(home, { recursive: true, force: true });
    expect((err as { code: string }).code).toBe("FORGE_CONFIG_INVALID");
    expect((err as { message: string }).message).toContain("drift.reference");
  });
});
