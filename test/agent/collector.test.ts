import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Collector, startCollector } from "../../src/collector/index.js";
import { until } from "../support/wait.js";
import { CLI, shell, startTestAgent, type TestAgent, tempHome } from "./helpers.js";

/** The daemon wired to a real collector on 127.0.0.1: records ship and are acked, heartbeats arrive. */
describe("agent → collector", () => {
  const dir = tempHome("fa-coll-");
  let collector: Collector;
  let t: TestAgent;
  beforeAll(async () => {
    collector = await startCollector({
      database: `sqlite:${join(dir, "collector.db")}`,
      listen: "127.0.0.1:0",
    });
    t = await startTestAgent({ collector_url: collector.url, heartbeat_ms: 100 });
  });
  afterAll(async () => {
    await t.stop();
    await collector.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("ships final records, prunes what the collector acked, and sends heartbeats with pending reviews", async () => {
    const deny = await t.client.post("/v1/actions", {
      session_id: "ship",
      proposed_action: shell("rm -rf /"),
    });
    const esc = await t.client.post("/v1/actions", {
      session_id: "ship",
      proposed_action: shell("deploy prod"),
    });
    let records: { seq: number; action_id: string }[] = [];
    let host: { heartbeat?: { reviews?: { action_id: string }[] } } = {};
    await until(
      async () => {
        const shipped = await fetch(`${collector.httpUrl}/v1/records?host_id=test-host`);
        records = ((await shipped.json()) as { records: typeof records }).records;
        host = (await (await fetch(`${collector.httpUrl}/v1/hosts/test-host`)).json()) as typeof host;
        const acked = (await t.client.get("/v1/health")).body.evidence.ackedSeq;
        return records.length >= 2 && acked >= deny.body.seq && host.heartbeat?.reviews?.length;
      },
      "records shipped and acked, and the review in a heartbeat",
      30_000,
    );
    expect(records.map((r) => r.action_id)).toContain(deny.body.action_id);
    const health = (await t.client.get("/v1/health")).body;
    expect(health.evidence.ackedSeq).toBeGreaterThanOrEqual(deny.body.seq);
    expect(health.collector.connected).toBe(true);
    expect(host.heartbeat?.reviews?.map((r) => r.action_id)).toEqual([esc.body.action_id]);
  });

  it("traces a session whose records were acked and pruned locally, from the collector's copy", async () => {
    const deny = await t.client.post("/v1/actions", {
      session_id: "pruned",
      proposed_action: shell("rm -rf /"),
    });
    await until(
      async () => (await t.client.get("/v1/health")).body.evidence.ackedSeq >= deny.body.seq,
      "the record acked",
      30_000,
    );
    const tr = (await t.client.get("/v1/sessions/pruned/trace")).body;
    expect(tr.sources).toEqual({ local: 0, collector: 1 });
    expect(tr.steps).toHaveLength(1);
    expect(tr.steps[0]).toMatchObject({
      action_id: deny.body.action_id,
      evaluation: "DENY",
      seq: deny.body.seq,
    });

    // With the daemon stopped, the CLI reads the local file and asks the collector for the rest.
    await t.agent.close();
    // Asynchronously: the collector answering the CLI lives in this process.
    const out = await new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [CLI, "trace", "pruned", "--json", "--socket", t.agent.socketPath, "--collector-url", collector.url],
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
    expect(JSON.parse(out).steps.map((s: { action_id: string }) => s.action_id)).toEqual([
      deny.body.action_id,
    ]);
  });
});
