/**
 * The lifecycle commands' shared setup (eval, promote, lineage): the agent config, the local
 * evidence store (one writer: refused while a daemon answers on the socket), the gate with the
 * configured policy, registry clients, the P-256 signing key and the trust root.
 */
import { homedir, hostname } from "node:os";
import { type AgentConfig, loadConfig } from "../agent/config.js";
import { assertSocketFree } from "../agent/server.js";
import { EvidenceStore } from "../evidence/index.js";
import { defaultPolicyPath, Gate, initGate, loadPolicy } from "../gate/index.js";
import type { LifecycleContext } from "../lifecycle/context.js";
import { loadSigningKey, TrustRoot } from "../lifecycle/keys.js";
import { openClient, type RegistryClient } from "../registry/index.js";
import type { Env } from "./forge-agent.js";

export interface Opened {
  config: AgentConfig;
  ctx: LifecycleContext;
  close(): Promise<void>;
}

type Flags = {
  home?: string | undefined;
  config?: string | undefined;
  insecure?: boolean | undefined;
  "auth-file"?: string | undefined;
};

/** The agent config these commands run under (flags over environment over file). */
export function lifecycleConfig(v: Flags, env: Env): AgentConfig {
  return loadConfig({
    flags: { ...(v.config ? { config: v.config } : {}), ...(v.home ? { home: v.home } : {}) },
    env,
    hostname: hostname(),
  });
}

/** Registry clients as the config and the flags say (--insecure, --auth-file over the config's). */
export function registryClients(
  config: AgentConfig,
  v: { insecure?: boolean | undefined; "auth-file"?: string | undefined },
  env: Env,
): (registry: string) => RegistryClient {
  const authFile = v["auth-file"] ?? config.registry.auth_file;
  return (registry) =>
    openClient(registry, {
      home: config.home,
      insecure: v.insecure === true || config.registry.insecure,
      env,
      ...(authFile ? { authFile } : {}),
    });
}

export async function openLifecycle(v: Flags, env: Env): Promise<Opened> {
  const config = lifecycleConfig(v, env);
  await assertSocketFree(config.socket);
  await initGate();
  const gate = new Gate(loadPolicy(config.policy ?? defaultPolicyPath()), {
    home: env.HOME ?? homedir(),
  });
  const store = EvidenceStore.open({
    path: config.evidence.path,
    hostId: config.host_id,
    keyDir: config.evidence.keys,
    ...(config.evidence.synchronous === undefined ? {} : { synchronous: config.evidence.synchronous }),
  });
  const signer = loadSigningKey(config.evidence.keys);
  const trust = TrustRoot.fromFiles(
    config.lifecycle.trusted_keys,
    config.lifecycle.trust_own_key ? signer.publicKeyPem : undefined,
  );
  const ctx: LifecycleContext = {
    hostId: config.host_id,
    client: registryClients(config, v, env),
    gate: () => gate,
    append: (rec) => store.append(rec),
    records: (q) => store.records(q),
    record: (seq) => store.get(seq),
    signer,
    trust,
    config: config.lifecycle,
    principal: `uid:${process.getuid?.() ?? 0} pid:${process.pid}`,
    now: () => Date.now(),
  };
  return { config, ctx, close: () => store.close() };
}
