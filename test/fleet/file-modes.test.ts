/**
 * Issue 20 "Files", checked by walking, not by a list: a real collector and a real agent run in
 * empty directories and do what creates their state (tls init and rotate, a signed policy bundle
 * pushed and applied, a first-use pin, records shipped, composition state saved). Then every file
 * either process (or its CLI) created must be 0600 and every directory 0700. The only files allowed
 * to be readable by others are public halves handed out on purpose: a whole file that is one PEM
 * certificate or public key. The test's own inputs (the agent's config, the policy sources it
 * signed) are recorded before the processes start and left out.
 */
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FIXTURE_POLICY, shell } from "../agent/helpers.js";
import { until } from "../support/wait.js";
import * as fleet from "./helpers.js";

const stops = fleet.stopsAfterAll();

/** Every path under `root` (directories included), relative to it. */
function walk(root: string): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      out.push(relative(root, p));
      if (lstatSync(p).isDirectory()) visit(p);
    }
  };
  visit(root);
  return out;
}

const PUBLIC_PEM = /^-----BEGIN (CERTIFICATE|PUBLIC KEY)-----\n[A-Za-z0-9+/=\n]+-----END \1-----\n?$/;

/** The paths under `root` whose mode is not private, with the mode seen: [] when all are. */
function notPrivate(root: string, inputs: ReadonlySet<string>): string[] {
  const bad: string[] = [];
  for (const rel of walk(root)) {
    if (inputs.has(rel)) continue;
    const p = join(root, rel);
    const st = lstatSync(p);
    const mode = st.mode & 0o777;
    if (st.isDirectory()) {
      if (mode !== 0o700) bad.push(`${rel}/ ${mode.toString(8)}`);
    } else if (st.isFile()) {
      if (mode === 0o600) continue;
      const publicHalf = (mode & 0o022) === 0 && PUBLIC_PEM.test(readFileSync(p, "utf8"));
      if (!publicHalf) bad.push(`${rel} ${mode.toString(8)}`);
    } else if (st.isSocket()) {
      // The agent's socket: its own mode is what lets the operator connect; its directory is 0700.
    } else bad.push(`${rel} (unexpected ${st.isSymbolicLink() ? "symlink" : "special file"})`);
  }
  return bad;
}

function collectorCli(args: string[]) {
  const r = spawnSync(process.execPath, [fleet.COLLECTOR_BIN, ...args], { encoding: "utf8" });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

describe("every file the agent and the collector create is 0600, in 0700 directories", () => {
  let cdir: string;
  let agentRoot: string;
  const inputs = { collector: new Set<string>(), agent: new Set<string>() };
  const created = { collector: [] as string[], agent: [] as string[] };

  beforeAll(async () => {
    fleet.ensureBuilt();
    // The collector's directory: TLS pair made and rotated, a policy key made, a bundle signed.
    cdir = fleet.tempDir("fa-modes-c-");
    collectorCli(["tls", "init", "--out", join(cdir, "tls")]);
    collectorCli(["tls", "rotate", "--dir", join(cdir, "tls")]);
    collectorCli(["policy", "keygen", "--out", join(cdir, "policy-key")]);
    mkdirSync(join(cdir, "policy-src"), { mode: 0o700 });
    mkdirSync(join(cdir, "bundles"), { mode: 0o700 });
    const policy = readFileSync(FIXTURE_POLICY, "utf8").replace("version: 1 }", "version: 2 }");
    writeFileSync(join(cdir, "policy-src", "policy.yaml"), policy);
    for (const rel of ["policy-src", "policy-src/policy.yaml"]) inputs.collector.add(rel);
    const keyFiles = readdirSync(join(cdir, "policy-key"));
    const priv = keyFiles.find((f) => !f.endsWith(".pub"))!;
    const pub = keyFiles.find((f) => f.endsWith(".pub"))!;
    collectorCli([
      "policy",
      "sign",
      join(cdir, "policy-src"),
      "--key",
      join(cdir, "policy-key", priv),
      "--version",
      "2",
      "--out",
      join(cdir, "bundles", "v2.json"),
    ]);
    // A collector without TLS keeps its signing key beside its database; one with TLS serves the pair.
    const plain = await fleet.startCollectorProcess(join(cdir));
    await plain.stop();
    const collector = await fleet.startCollectorProcess(
      join(cdir, "tls"),
      [
        "--tls-cert",
        join(cdir, "tls", "collector.crt"),
        "--tls-key",
        join(cdir, "tls", "collector.key"),
        "--policy-dir",
        join(cdir, "bundles"),
        "--policy-key",
        join(cdir, "policy-key", pub),
      ],
      {},
    );
    stops.push(() => collector.stop());

    // The agent: first-use pin over wss, the pushed bundle applied, records shipped, state saved.
    agentRoot = fleet.tempDir("fa-modes-a-");
    writeFileSync(join(agentRoot, "policy-signing.pub"), readFileSync(join(cdir, "policy-key", pub)));
    inputs.agent.add("policy-signing.pub");
    inputs.agent.add("config.yaml");
    const agent = await fleet.startAgentProcess(
      "modes-a",
      {
        collector_url: collector.url,
        heartbeat_ms: 300,
        policy: FIXTURE_POLICY, // bundle agent-test v1: the collector's v2 is newer, so it is pushed
        policy_updates: { public_key: join(agentRoot, "policy-signing.pub") },
      },
      agentRoot,
    );
    stops.push(() => agent.stop());
    await agent.client.post("/v1/actions", { session_id: "m", proposed_action: shell("rm -rf /") });
    let last = "";
    await until(
      async () => {
        const h = (await agent.client.get("/v1/health")).body;
        const applied = existsSync(join(agentRoot, "var", "policy", "active.json"));
        last = JSON.stringify({ collector: h.collector, backlog: h.evidence?.backlog, applied });
        return h.collector?.connected === true && h.evidence?.backlog === 0 && applied;
      },
      () =>
        `pinned, shipped and the pushed bundle applied (${last}; ${agent.stderr.join("").slice(-2000)}; ${collector.stderr.join("").slice(-2000)})`,
    );
    await agent.stop();
    await collector.stop();
    created.collector = walk(cdir).filter((p) => !inputs.collector.has(p));
    created.agent = walk(agentRoot).filter((p) => !inputs.agent.has(p));
  }, 120_000);

  it("created the state the issue names (so the walk below saw it)", () => {
    for (const f of [
      "collector.db",
      "collector.db.key",
      "tls/collector.key",
      "tls/collector.prev.key",
      "tls/collector.rotation.json",
      "tls/collector.db",
    ])
      expect(created.collector, f).toContain(f);
    for (const f of [
      "var/evidence.db",
      "var/collector-key.pem",
      "var/gate-state.json",
      "var/policy/active.json",
    ])
      expect(created.agent, f).toContain(f);
  });

  it("the collector's directory: nothing readable by group or others but public certificates and keys", () => {
    expect(notPrivate(cdir, inputs.collector)).toEqual([]);
  });

  it("the agent's directory: nothing readable by group or others", () => {
    expect(notPrivate(agentRoot, inputs.agent)).toEqual([]);
  });
});
