import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PolicyUpdates } from "../../src/agent/policy-updates.js";
import { fleetPlugin } from "../../src/collector/fleet-plugin.js";
import { type Collector, startCollector } from "../../src/collector/index.js";
import { Gate, initGate, loadPolicy } from "../../src/gate/index.js";
import {
  type Bundle,
  bundleSha256,
  generateBundleKeys,
  type SignedBundle,
  signBundle,
} from "../../src/protocol/policy-bundle.js";
import type { RecordInput } from "../../src/protocol/record.js";
import { FIXTURE_POLICY, shell, startTestAgent, type TestAgent } from "../agent/helpers.js";
import { until } from "../support/wait.js";
import {
  COLLECTOR_BIN,
  type CollectorProc,
  ensureBuilt,
  http,
  operatorsFile,
  startCollectorProcess,
  tempDir,
} from "./helpers.js";

const keys = generateBundleKeys();
const other = generateBundleKeys();
const FIXTURE = readFileSync(FIXTURE_POLICY, "utf8");

/** The fixture policy at `version`; from version 3 on, `deploy` is denied instead of escalated. */
function policyText(version: number): string {
  let t = FIXTURE.replace("version: 1 }", `version: ${version} }`);
  if (version >= 3) {
    t = t
      .replace(/(id: escalate-deploy[\s\S]*?effect: )escalate/, "$1deny")
      .replace('{ command: "deploy prod", expect: ESCALATE }', '{ command: "deploy prod", expect: DENY }');
  }
  return t;
}

function bundle(
  version: number,
  files: Record<string, string> = { "policy.yaml": policyText(version) },
): Bundle {
  return { id: "agent-test", version, files, created_at: "2026-11-25T04:00:00.000Z" };
}

/** Writes a signed bundle the way `forge-collector policy sign --out` does (temp file + rename). */
function publish(dir: string, name: string, signed: SignedBundle): void {
  const tmp = join(dir, `.${name}.tmp`);
  writeFileSync(tmp, JSON.stringify(signed));
  renameSync(tmp, join(dir, name));
}

describe("signed policy distribution, end to end", () => {
  const dir = tempDir("fa-pol-");
  const bundles = join(dir, "bundles");
  const pub = join(dir, "policy-signing.pub");
  let collector: Collector;
  let plugin: ReturnType<typeof fleetPlugin>;
  let a: TestAgent;

  beforeAll(async () => {
    mkdirSync(bundles);
    writeFileSync(pub, keys.publicKeyPem);
    publish(bundles, "v2.json", signBundle(bundle(2), keys.privateKeyPem));
    plugin = fleetPlugin({
      operators: [{ name: "alice", secret: "alice-secret-1" }],
      policyDir: bundles,
      policyKeyPem: keys.publicKeyPem,
    });
    collector = await startCollector({
      database: `sqlite:${join(dir, "collector.db")}`,
      listen: "127.0.0.1:0",
      plugins: [plugin.plugin],
    });
    a = await startTestAgent({
      collector_url: collector.url,
      heartbeat_ms: 100,
      host_id: "agent-p",
      policy_updates: { public_key: pub },
    });
  });
  afterAll(async () => {
    await a.stop();
    await collector.close();
    plugin.close();
  });

  const auth = { authorization: "Bearer alice-secret-1" };
  const hb = async () =>
    (await http("GET", `${collector.httpUrl}/v1/hosts/agent-p`, undefined, auth)).body.heartbeat;

  it("an agent gets the newest bundle on connect, applies it, records it and reports its version", async () => {
    const sha2 = bundleSha256(bundle(2));
    const policy = await until(async () =>
      (await hb())?.policy?.version === 2 ? (await hb()).policy : undefined,
    );
    expect(policy).toEqual({ id: "agent-test", version: 2, sha256: sha2, source: "bundle" });
    // The active bundle is the agent's own state: 0600 in a 0700 directory (issue 20, Files).
    expect(statSync(join(a.agent.config.home, "policy", "active.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(a.agent.config.home, "policy")).mode & 0o777).toBe(0o700);
    const esc = await a.client.post("/v1/actions", {
      session_id: "p",
      proposed_action: shell("deploy prod"),
    });
    expect(esc.body.evaluation).toBe("ESCALATE");
    expect(esc.body.policy_matched.bundle).toEqual({ id: "agent-test", version: 2, sha256: sha2 });
    // The agent prunes what the collector acked: the shipped evidence is where the record lives now.
    const records = await until(async () => {
      const r = await http(
        "GET",
        `${collector.httpUrl}/v1/records?session_id=agent:agent-p`,
        undefined,
        auth,
      );
      const applied = (r.body.records as Array<Record<string, any>>).filter(
        (s) => s.kind === "policy" && s.proposed_action.kind === "policy.apply",
      );
      return applied.length > 0 ? applied : undefined;
    });
    expect(records).toHaveLength(1);
    const applied = records;
    expect(applied[0]!.policy_matched.bundle).toEqual({ id: "agent-test", version: 2, sha256: sha2 });
    expect(applied[0]!.proposed_action.previous).toMatchObject({ version: 1, source: "file" });
  });

  it("a new bundle in the directory is pushed to connected agents; one signed by another key is never offered", async () => {
    publish(bundles, "v4-other-key.json", signBundle(bundle(4), other.privateKeyPem));
    publish(bundles, "v3.json", signBundle(bundle(3), keys.privateKeyPem));
    await until(async () => (await hb())?.policy?.version === 3);
    const deny = await a.client.post("/v1/actions", {
      session_id: "p",
      proposed_action: shell("deploy prod"),
    });
    expect(deny.body.evaluation).toBe("DENY");
    expect(deny.body.policy_matched.bundle.version).toBe(3);
    const served = (await http("GET", `${collector.httpUrl}/v1/policy`, undefined, auth)).body;
    expect(served.current).toMatchObject({ version: 3, key_id: keys.keyId });
    expect(served.hosts["agent-p"]).toMatchObject({ ok: true, version: 3 });
    // SIGHUP's file reload must not roll the signed bundle back to the configured file.
    const reload = a.agent.reloadPolicy();
    expect(reload.ok).toBe(false);
    expect((await a.client.get("/v1/health")).body.policy).toMatchObject({ version: 3 });
  });
});

describe("a bundle the agent refuses (collector as a courier without the key)", () => {
  const dir = tempDir("fa-polr-");
  let collector: Collector;
  let plugin: ReturnType<typeof fleetPlugin>;
  let a: TestAgent;
  beforeAll(async () => {
    const bundles = join(dir, "bundles");
    mkdirSync(bundles);
    writeFileSync(join(dir, "pub"), keys.publicKeyPem);
    publish(bundles, "v5.json", signBundle(bundle(5), other.privateKeyPem));
    plugin = fleetPlugin({ operators: [{ name: "alice", secret: "alice-secret-1" }], policyDir: bundles });
    collector = await startCollector({
      database: `sqlite:${join(dir, "c.db")}`,
      listen: "127.0.0.1:0",
      plugins: [plugin.plugin],
    });
    a = await startTestAgent({
      collector_url: collector.url,
      heartbeat_ms: 100,
      host_id: "agent-r",
      policy_updates: { public_key: join(dir, "pub") },
    });
  });
  afterAll(async () => {
    await a.stop();
    await collector.close();
    plugin.close();
  });

  it("keeps the old policy, writes an alert record, and the collector stores an alert", async () => {
    const auth = { authorization: "Bearer alice-secret-1" };
    const alerts = await until(async () => {
      const r = await http("GET", `${collector.httpUrl}/v1/alerts?host_id=agent-r`, undefined, auth);
      return r.body.alerts.length > 0 ? r.body.alerts : undefined;
    });
    expect(alerts[0].code).toBe("policy-rejected:unknown-key");
    const rejected = await until(async () => {
      const r = await http(
        "GET",
        `${collector.httpUrl}/v1/records?session_id=agent:agent-r`,
        undefined,
        auth,
      );
      // The session also holds the first-use pin of the collector's key (issue 20).
      const alerts = (r.body.records as Array<Record<string, any>>).filter(
        (s) => s.kind === "alert" && s.proposed_action?.kind === "policy.rejected",
      );
      return alerts.length > 0 ? alerts : undefined;
    });
    expect(rejected[0]!.proposed_action).toMatchObject({
      kind: "policy.rejected",
      reason: "unknown-key",
      version: 5,
    });
    const health = (await a.client.get("/v1/health")).body;
    expect(health.policy).toMatchObject({ id: "agent-test", version: 1 });
  });
});

describe("PolicyUpdates against a real gate: every rejection keeps the old policy; restarts keep the version", () => {
  const state = tempDir("fa-polu-");
  const records: RecordInput[] = [];
  let gate: Gate;
  const logger = { info() {}, error() {} };
  const make = (publicKeyPem: string | null = keys.publicKeyPem) =>
    new PolicyUpdates({
      hostId: "h",
      publicKeyPem,
      stateDir: state,
      gate,
      append: async (r) => void records.push(r),
      logger,
    });
  beforeAll(async () => {
    await initGate();
    gate = new Gate(loadPolicy(FIXTURE_POLICY), { home: homedir() });
  });

  it("refuses unsigned, tampered, foreign-key, invalid, reused and older bundles with the reason, each as an alert record", async () => {
    const u = make();
    expect(await u.receive({ type: "policy", ...signBundle(bundle(4), keys.privateKeyPem) })).toMatchObject({
      ok: true,
      version: 4,
    });
    const v4 = gate.bundle;
    const signed5 = signBundle(bundle(5), keys.privateKeyPem);
    const tampered = {
      ...signed5,
      bundle: { ...signed5.bundle, files: { "policy.yaml": `${policyText(5)}\n# x` } },
    };
    const broken = bundle(6, { "policy.yaml": "rules: [ {id: x, effect: teleport} ]" });
    const cases: Array<[unknown, string]> = [
      [{ ...signed5, signature: "" }, "unsigned"],
      [tampered, "bad-signature"],
      [signBundle(bundle(5), other.privateKeyPem), "unknown-key"],
      [signBundle(broken, keys.privateKeyPem), "invalid-policy"],
      [signBundle(bundle(4, { "policy.yaml": policyText(3) }), keys.privateKeyPem), "version-reused"],
      [signBundle(bundle(3), keys.privateKeyPem), "rollback"],
      [{ signature: signed5.signature, key_id: keys.keyId }, "malformed"],
    ];
    for (const [msg, reason] of cases) {
      records.length = 0;
      const r = await u.receive({ type: "policy", ...(msg as object) });
      expect(r, reason).toMatchObject({ ok: false, reason });
      expect(gate.bundle, reason).toBe(v4);
      expect(records.map((x) => [x.kind, (x.proposed_action as { reason: string }).reason])).toEqual([
        ["alert", reason],
      ]);
    }
    // The same bundle again is not an error and not a change.
    expect(await u.receive({ type: "policy", ...signBundle(bundle(4), keys.privateKeyPem) })).toMatchObject({
      ok: true,
      unchanged: true,
    });
  });

  it("restores the accepted bundle after a restart, so an older one is still a rollback", async () => {
    gate = new Gate(loadPolicy(FIXTURE_POLICY), { home: homedir() }); // a fresh process: the configured file again (version 1)
    const u = make();
    expect(u.restore()).toBe(4);
    expect(u.active()).toMatchObject({ version: 4, source: "bundle" });
    expect(await u.receive({ type: "policy", ...signBundle(bundle(2), keys.privateKeyPem) })).toMatchObject({
      ok: false,
      reason: "rollback",
    });
    // Without the pinned key the stored bundle cannot be trusted: starting fails rather than falling back.
    expect(() => make(null).restore()).toThrow(expect.objectContaining({ code: "FORGE_BUNDLE_REJECTED" }));
    // And no key means every bundle is refused.
    expect(
      await make(null).receive({ type: "policy", ...signBundle(bundle(9), keys.privateKeyPem) }),
    ).toMatchObject({
      ok: false,
      reason: "unknown-key",
    });
  });
});

describe("forge-collector run --policy-dir --policy-key --tolerances (the CLI, as a child process)", () => {
  const dir = tempDir("fa-polc-");
  let collector: CollectorProc;
  let a: TestAgent;
  beforeAll(async () => {
    ensureBuilt();
    const bundles = join(dir, "bundles");
    mkdirSync(bundles);
    writeFileSync(join(dir, "pub"), keys.publicKeyPem);
    writeFileSync(
      join(dir, "tolerances.yaml"),
      "hysteresis: 0\nindicators:\n  evidence_backlog: { max: 1000 }\n",
    );
    publish(bundles, "v7.json", signBundle(bundle(7), keys.privateKeyPem));
    collector = await startCollectorProcess(dir, [
      "--policy-dir",
      bundles,
      "--policy-key",
      join(dir, "pub"),
      "--tolerances",
      join(dir, "tolerances.yaml"),
      "--operators-file",
      operatorsFile(dir, [{ name: "alice", password: "alice-secret-1" }]),
    ]);
    a = await startTestAgent({
      collector_url: collector.url,
      heartbeat_ms: 100,
      host_id: "agent-cli",
      policy_updates: { public_key: join(dir, "pub") },
    });
  }, 90_000);
  afterAll(async () => {
    await a?.stop();
    await collector?.stop();
  });

  it("serves the directory's bundle to a connecting agent", async () => {
    const auth = { authorization: "Bearer alice-secret-1" };
    await until(async () => {
      const h = (await http("GET", `${collector.http}/v1/hosts/agent-cli`, undefined, auth)).body;
      return h.heartbeat?.policy?.version === 7;
    });
    expect((await a.client.get("/v1/health")).body.policy).toMatchObject({ id: "agent-test", version: 7 });
  });

  it("refuses --policy-key without --policy-dir and a bad tolerances file, before listening", () => {
    const run = (args: string[]) =>
      spawnSync(
        process.execPath,
        [
          COLLECTOR_BIN,
          "run",
          "--listen",
          "127.0.0.1:0",
          "--database",
          `sqlite:${join(dir, "x.db")}`,
          ...args,
        ],
        {
          encoding: "utf8",
          timeout: 20_000,
        },
      );
    const noDir = run(["--policy-key", join(dir, "pub")]);
    expect(noDir.status).toBe(2);
    expect(noDir.stderr).toMatch(/--policy-key needs --policy-dir/);
    writeFileSync(join(dir, "bad.yaml"), "indicators:\n  evidence_backlog: { maximum: 3 }\n");
    const bad = run(["--tolerances", join(dir, "bad.yaml")]);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/FORGE_CONFIG_INVALID/);
  });
});
