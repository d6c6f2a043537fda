// "A host serving an unpromoted model breaches a declared tolerance": the `unpromoted_models`
// indicator ({max: 0}), judged by the agent on its own heartbeats (an `alert` record in its chain)
// and by the collector on every host's (an alert row, and the host's status reasons). A local GGUF
// served in `registry` admission mode has no verified promotion: breach. The exempt smoke-test
// model does not breach. Real agents (sockets, facade, llama.cpp), an in-process collector.
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fleetPlugin } from "../../src/collector/fleet-plugin.js";
import { type Collector, startCollector } from "../../src/collector/index.js";
import { ensureTinyModel } from "../../src/inference/tiny-model.js";
import { snapshotOf } from "../../src/platform/tolerances.js";
import { startTestAgent, type TestAgent } from "../agent/helpers.js";
import { http, tempDir } from "../fleet/helpers.js";
import { until } from "../support/wait.js";

const TOLERANCES = { hysteresis: 0, indicators: { unpromoted_models: { max: 0 } } };

describe("snapshotOf: unpromoted_models from the heartbeat's models", () => {
  it("counts served models whose admission says unpromoted; unknown until one reports", () => {
    const m = (unpromoted?: boolean) => ({
      backend: "llama",
      model: "x",
      ...(unpromoted === undefined
        ? {}
        : { admission: { digest: null, stage: null, exempt: false, unpromoted } }),
    });
    expect(snapshotOf({ models: [] }).unpromoted_models).toBeUndefined();
    expect(snapshotOf({ models: [m()] }).unpromoted_models).toBeUndefined();
    expect(snapshotOf({ models: [m(false)] }).unpromoted_models).toBe(0);
    expect(snapshotOf({ models: [m(true), m(false), m(true)] }).unpromoted_models).toBe(2);
    expect(snapshotOf({ models: "garbage" }).unpromoted_models).toBeUndefined();
  });
});

describe("the unpromoted_models tolerance (agents and collector)", () => {
  const dir = tempDir("fa-unpromoted-");
  let collector: Collector;
  let local: TestAgent;
  let exempt: TestAgent;

  const agent = (hostId: string, extra: Record<string, unknown>) =>
    startTestAgent({
      host_id: hostId,
      backend: "llama",
      collector_url: collector.url,
      heartbeat_ms: 100,
      facade: { listen: "127.0.0.1:0" },
      tolerances: TOLERANCES,
      ...extra,
    });

  beforeAll(async () => {
    const plugin = fleetPlugin({ operators: [], fleet: { persistEveryMs: 0 }, tolerances: TOLERANCES });
    collector = await startCollector({
      database: `sqlite:${join(dir, "collector.db")}`,
      listen: "127.0.0.1:0",
      plugins: [plugin.plugin],
    });
    // A GGUF file of its own (not the smoke-test path): admitted unchecked, no promotion.
    const gguf = join(dir, "local.gguf");
    copyFileSync(ensureTinyModel(join(dir, "models")), gguf);
    local = await agent("host-local", { model: gguf });
    exempt = await agent("host-exempt", {});
  }, 60_000);
  afterAll(async () => {
    await local?.stop();
    await exempt?.stop();
    await collector?.close();
  });

  const tags = async (t: TestAgent) => {
    const r = await fetch(`http://${t.agent.facadeAddress}/api/tags`);
    expect(r.status).toBe(200);
    return (await r.json()) as { models: { forge_admission: { stage: string | null; exempt: boolean } }[] };
  };
  // The agent's tolerance alerts (its session also holds others, such as the collector key pinned on first use).
  const agentAlerts = async (t: TestAgent, hostId: string) =>
    (
      (await t.client.get(`/v1/sessions/agent:${hostId}/trace`)).body.steps as Array<{
        kind: string;
        proposed_action: Record<string, unknown>;
      }>
    ).filter((s) => s.kind === "alert" && String(s.proposed_action.kind).startsWith("tolerance."));
  const collectorAlerts = async (hostId: string) =>
    (await http("GET", `${collector.httpUrl}/v1/alerts?host_id=${hostId}`)).body.alerts as Array<{
      code: string;
      message: string;
    }>;

  it("a local GGUF with no promotion breaches: an alert record on the agent, an alert row and a reason at the collector", async () => {
    // Nothing is served until the backend opens: no reading, no breach.
    expect(await agentAlerts(local, "host-local")).toEqual([]);
    const t = await tags(local);
    expect(t.models[0]!.forge_admission).toMatchObject({ stage: null, exempt: false });
    const breach = await until(
      async () => {
        const a = await agentAlerts(local, "host-local");
        return a.length > 0 ? a : undefined;
      },
      "the agent's alert record",
      20_000,
    );
    expect(breach[0]!.proposed_action).toMatchObject({
      kind: "tolerance.breach",
      indicator: "unpromoted_models",
      value: 1,
    });
    const rows = await until(
      async () => {
        const a = await collectorAlerts("host-local");
        return a.length > 0 ? a : undefined;
      },
      "the collector's alert row",
      20_000,
    );
    expect(rows[0]!.code).toBe("tolerance-breach:unpromoted_models");
    expect(rows[0]!.message).toBe("unpromoted_models = 1 breaches its ceiling 0");
    const host = (await http("GET", `${collector.httpUrl}/v1/hosts/host-local`)).body;
    expect(host.reasons).toContain("tolerance breached: unpromoted_models");
  }, 60_000);

  it("the exempt smoke-test model does not breach", async () => {
    const t = await tags(exempt);
    expect(t.models[0]!.forge_admission.exempt).toBe(true);
    // Wait for two heartbeats that carry the admission, both judged by the collector.
    const seen: number[] = [];
    await until(
      async () => {
        const h = (await http("GET", `${collector.httpUrl}/v1/hosts/host-exempt`)).body;
        const hb = h.heartbeat as { at_ms: number; models: { admission?: { unpromoted: boolean } }[] } | null;
        if (hb?.models?.[0]?.admission && !seen.includes(hb.at_ms)) seen.push(hb.at_ms);
        return seen.length >= 2;
      },
      "two heartbeats with the exempt admission",
      20_000,
    );
    expect(await collectorAlerts("host-exempt")).toEqual([]);
    expect(await agentAlerts(exempt, "host-exempt")).toEqual([]);
  }, 60_000);
});
