/**
 * `forge-agent lineage ACTION_ID|MODEL_DIGEST [--json] [--collector URL]`: from an action back to
 * its inference record, model digest, promotion, evaluation, training run and dataset digest, each
 * link verified; or forward from a digest to every action the model proposed. Reads the collector
 * (`--collector http(s)://HOST:PORT`, the fleet, its answer bound to the pinned key: `--collector-key FILE`, else the
 * agent's pin), else the running agent, else this host's chain.
 * Exit 0 complete and verified, 1 a link missing or failing, 2 usage.
 */
import { readFileSync } from "node:fs";
import { callAgent, unwrap } from "../agent/client.js";
import { collectorGet } from "../agent/collector-http.js";
import { daemonCollectorTrust } from "../agent/collector-trust.js";
import type { AgentConfig } from "../agent/config.js";
import { assertSocketFree } from "../agent/server.js";
import { Codes, ForgeError, hasForgeCode } from "../errors.js";
import { EvidenceStore } from "../evidence/index.js";
import { type Lineage, walkLineage } from "../lifecycle/lineage.js";
import { publicKeyFromPem } from "../protocol/collector-auth.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { lifecycleConfig } from "./lifecycle-context.js";
import { AGENT } from "./spec.js";

/** The collector key this agent trusts, read only (a CLI never pins): configured, else its first-use pin file. */
function agentCollectorPin(config: AgentConfig) {
  return daemonCollectorTrust({
    keyPem: config.collector_trust.key_pem,
    pinFile: config.collector_trust.pin_file,
    pinFirstUse: false,
  }).pinned();
}

export default async function lineageCommand(argv: string[], env: Env): Promise<number> {
  const { values: v, positionals } = parse(argv, AGENT.lineage.flags);
  if (positionals.length !== 1) throw new UsageError("give exactly one ACTION_ID or MODEL_DIGEST (sha256:…)");
  const id = positionals[0]!;
  let l: Lineage;
  if (v.collector) {
    // A collector with operators needs a bearer secret: from a file, never from the command line.
    const headers: Record<string, string> = v["token-file"]
      ? { authorization: `Bearer ${readFileSync(v["token-file"], "utf8").trim()}` }
      : {};
    // The read proves the pinned key (pinned https, or a signed http answer), never the CA store:
    // --collector-key FILE (certificate or SPKI PEM), else the agent's (collector_trust.key, or its first-use pin).
    const keyFile = v["collector-key"];
    const pin =
      keyFile === undefined
        ? agentCollectorPin(lifecycleConfig(v, env))
        : publicKeyFromPem(readFileSync(keyFile, "utf8"));
    const res = await collectorGet(new URL(`/v1/lineage/${encodeURIComponent(id)}`, v.collector), {
      headers,
      pinned: () => pin,
      timeoutMs: 30_000,
    });
    if (res.status !== 200)
      throw new ForgeError(
        Codes.COLLECTOR_UNAVAILABLE,
        `${v.collector} answered HTTP ${res.status} to /v1/lineage`,
      );
    l = res.json() as Lineage;
  } else {
    const config = lifecycleConfig(v, env);
    try {
      await assertSocketFree(config.socket);
      const store = EvidenceStore.open({
        path: config.evidence.path,
        hostId: config.host_id,
        keyDir: config.evidence.keys,
      });
      try {
        l = walkLineage(id, store.records({ limit: 1_000_000 }));
      } finally {
        await store.close();
      }
    } catch (err) {
      if (!hasForgeCode(err) || err.code !== Codes.AGENT_RUNNING) throw err;
      l = unwrap<Lineage>(await callAgent(config.socket, "GET", `/v1/lineage/${encodeURIComponent(id)}`));
    }
  }
  if (v.json) printJson(l);
  else {
    for (const k of l.links) {
      process.stdout.write(
        `${k.verified ? "ok  " : "FAIL"}  ${k.step.padEnd(10)}  ${k.host_id ? `${k.host_id}#${k.seq}` : ""}  ${JSON.stringify(k.detail).slice(0, 160)}${k.problem ? `  (${k.problem})` : ""}\n`,
      );
      // The detail above is cut short: a run's checkpoints and export get a line each.
      if (k.step === "training") {
        const d = k.detail as { checkpoints?: { step: number; digest: string }[]; gguf_sha256?: string };
        for (const c of d.checkpoints ?? [])
          process.stdout.write(`            checkpoint ${c.step} sha256:${c.digest}\n`);
        if (d.gguf_sha256) process.stdout.write(`            exported   sha256:${d.gguf_sha256}\n`);
      }
    }
    for (const a of l.actions)
      process.stdout.write(
        `      action  ${a.host_id}#${a.seq}  ${a.kind}  ${a.evaluation}  ${a.action_id}\n`,
      );
    if (l.dataset) process.stdout.write(`dataset ${l.dataset.ref} sha256:${l.dataset.sha256}\n`);
    for (const m of l.missing) process.stdout.write(`missing: ${m}\n`);
  }
  return l.verified ? 0 : 1;
}
