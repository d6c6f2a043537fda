/**
 * forge-agent registry push|pull|ls|inspect|referrers|login: OCI artifacts (models, datasets,
 * prompt templates, eval corpora, eval results, provenance, signatures) in any OCI registry.
 * Push and pull are governed actions (`model.push` / `model.pull`): a running agent judges and
 * records them; without one, the CLI judges with the configured policy and appends the record to
 * <home>/evidence.db itself. Exit 0 ok, 1 failure or not allowed, 2 bad usage.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { callAgent, unwrap, waitAction } from "../agent/client.js";
import { type AgentConfig, loadConfig } from "../agent/config.js";
import { assertSocketFree } from "../agent/server.js";
import { Codes, ForgeError, hasForgeCode } from "../errors.js";
import { EvidenceStore } from "../evidence/index.js";
import { defaultPolicyPath, Gate, initGate, loadPolicy, toPolicyMatched } from "../gate/index.js";
import { nowRfc3339 } from "../protocol/record.js";
import {
  ARTIFACT_KINDS,
  type ArtifactKind,
  describeRef,
  filesOf,
  formatReference,
  KINDS,
  parseReference,
  pullArtifact,
  pushArtifact,
  type RegistryClient,
  requireAllow,
  type Verdict,
} from "../registry/index.js";
import { parse, printJson, UsageError } from "./args.js";
import type { Env } from "./forge-agent.js";
import { registryClients } from "./lifecycle-context.js";
import { AGENT } from "./spec.js";

const SUB = AGENT.registry.sub;

export default async function registry(argv: string[], env: Env): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case "push":
      return push(rest, env);
    case "pull":
      return pull(rest, env);
    case "ls":
      return ls(rest, env);
    case "inspect":
      return inspect(rest, env);
    case "referrers":
      return referrers(rest, env);
    case "login":
      return login(rest, env);
    default:
      throw new UsageError(sub ? `unknown registry command '${sub}'` : "give a registry command");
  }
}

interface Ctx {
  config: AgentConfig;
  json: boolean;
  client: (registry: string) => RegistryClient;
}

function context(
  v: {
    home?: string;
    config?: string;
    insecure?: boolean;
    "auth-file"?: string;
    json?: boolean;
  },
  env: Env,
): Ctx {
  const config = loadConfig({
    flags: { ...(v.config ? { config: v.config } : {}), ...(v.home ? { home: v.home } : {}) },
    env,
  });
  return { config, json: v.json === true, client: registryClients(config, v, env) };
}

function one(positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`give exactly one ${what}`);
  return positionals[0]!;
}

function kindFlag(t: string | undefined, required: boolean): ArtifactKind | undefined {
  if (t === undefined) {
    if (required) throw new UsageError(`--type is required: one of ${ARTIFACT_KINDS.join(", ")}`);
    return undefined;
  }
  if (!(ARTIFACT_KINDS as readonly string[]).includes(t))
    throw new UsageError(`--type must be one of ${ARTIFACT_KINDS.join(", ")}, got '${t}'`);
  return t as ArtifactKind;
}

async function push(argv: string[], env: Env): Promise<number> {
  const { values: v, positionals } = parse(argv, SUB.push.flags);
  if (positionals.length !== 2) throw new UsageError("give PATH and REF");
  const [path, refText] = positionals as [string, string];
  const kind = kindFlag(v.type, true)!;
  const ref = parseReference(refText);
  if (ref.digest) throw new UsageError("a push REF names a tag, not a digest (the digest is the result)");
  const annotations: Record<string, string> = {};
  for (const a of v.annotation ?? []) {
    const i = a.indexOf("=");
    if (i <= 0) throw new UsageError(`--annotation '${a}' must be KEY=VALUE`);
    annotations[a.slice(0, i)] = a.slice(i + 1);
  }
  const ctx = context(v, env);
  const client = ctx.client(ref.registry);
  let subject: { mediaType: string; digest: string; size: number } | undefined;
  if (v.subject) {
    const s = parseReference(v.subject);
    const m = await ctx.client(s.registry).getManifest(s.repository, s.digest ?? s.tag ?? "latest");
    subject = { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length };
  } else if (KINDS[kind].needsSubject)
    throw new UsageError(`a ${kind} needs --subject REF (the artifact it describes)`);
  const files = await filesOf(path);
  const action = {
    kind: "model.push" as const,
    ref: formatReference(ref),
    registry: ref.registry,
    repository: ref.repository,
    tag: ref.tag,
    digest: null,
    pinned: false,
    signed: false,
    artifact_type: KINDS[kind].artifactType,
  };
  const gate = await judge(ctx.config, action, env);
  requireAllow(gate.verdict, `model.push ${action.ref}`);
  let result: Awaited<ReturnType<typeof pushArtifact>>;
  try {
    result = await pushArtifact(client, {
      repository: ref.repository,
      // A derived artifact without a tag of its own is pushed by digest (found through its subject).
      ...(subject && !explicitTag(refText) ? {} : { tag: ref.tag ?? "latest" }),
      kind,
      files,
      annotations,
      ...(subject ? { subject } : {}),
    });
  } catch (err) {
    await gate.finish({ status: "failed", error: errorOf(err) });
    throw err;
  }
  await gate.finish({
    status: "succeeded",
    digest: result.digest,
    reference: result.reference,
    blobs: result.blobs,
  });
  if (ctx.json) printJson({ ...result, action_id: gate.verdict.action_id });
  else process.stdout.write(`${result.digest}\n${result.reference}\n`);
  return 0;
}

async function pull(argv: string[], env: Env): Promise<number> {
  const { values: v, positionals } = parse(argv, SUB.pull.flags);
  const ref = parseReference(one(positionals, "REF"));
  const ctx = context(v, env);
  const client = ctx.client(ref.registry);
  const action = await describeRef(client, ref, "pull");
  const gate = await judge(ctx.config, action, env);
  requireAllow(gate.verdict, `model.pull ${action.ref}`);
  let pulled: Awaited<ReturnType<typeof pullArtifact>>;
  try {
    pulled = await pullArtifact(client, ref.repository, action.digest!, v.output ? { output: v.output } : {});
  } catch (err) {
    await gate.finish({ status: "failed", error: errorOf(err) });
    throw err;
  }
  await gate.finish({ status: "succeeded", digest: pulled.digest, files: pulled.files.length });
  const reference = `oci://${ref.registry}/${ref.repository}@${pulled.digest}`;
  if (ctx.json)
    printJson({
      digest: pulled.digest,
      reference,
      artifactType: pulled.artifactType,
      kind: pulled.kind,
      files: pulled.files,
      action_id: gate.verdict.action_id,
    });
  else {
    process.stdout.write(`${pulled.digest}\n${reference}\n`);
    for (const f of pulled.files) process.stdout.write(`  ${f.name}  ${f.size} B  ${f.path}\n`);
  }
  return 0;
}

async function ls(argv: string[], env: Env): Promise<number> {
  const { values: v, positionals } = parse(argv, SUB.ls.flags);
  const ref = parseReference(one(positionals, "HOST/REPO"));
  const ctx = context(v, env);
  const tags = await ctx.client(ref.registry).listTags(ref.repository);
  // The referrers fallback indexes are tags too; list them apart.
  const fallback = tags.filter((t) => /^sha256-[0-9a-f]{64}$/.test(t));
  const plain = tags.filter((t) => !fallback.includes(t));
  if (ctx.json)
    printJson({ repository: `${ref.registry}/${ref.repository}`, tags: plain, referrer_indexes: fallback });
  else process.stdout.write(plain.map((t) => `${t}\n`).join(""));
  return 0;
}

async function inspect(argv: string[], env: Env): Promise<number> {
  const { values: v, positionals } = parse(argv, SUB.inspect.flags);
  const ref = parseReference(one(positionals, "REF"));
  const ctx = context(v, env);
  const m = await ctx.client(ref.registry).getManifest(ref.repository, ref.digest ?? ref.tag ?? "latest");
  const out = {
    reference: formatReference(ref),
    digest: m.digest,
    mediaType: m.mediaType,
    size: m.bytes.length,
    manifest: m.manifest,
  };
  if (ctx.json) printJson(out);
  else {
    const man = m.manifest as {
      artifactType?: string;
      layers?: { mediaType: string; size: number; annotations?: Record<string, string> }[];
    };
    process.stdout.write(`${m.digest}  ${man.artifactType ?? m.mediaType}\n`);
    for (const l of man.layers ?? [])
      process.stdout.write(
        `  ${l.mediaType}  ${l.size} B  ${l.annotations?.["org.opencontainers.image.title"] ?? ""}\n`,
      );
  }
  return 0;
}

async function referrers(argv: string[], env: Env): Promise<number> {
  const { values: v, positionals } = parse(argv, SUB.referrers.flags);
  const ref = parseReference(one(positionals, "REF"));
  const kind = kindFlag(v.type, false);
  const ctx = context(v, env);
  const client = ctx.client(ref.registry);
  const digest = ref.digest ?? (await client.resolve(ref.repository, ref.tag ?? "latest"));
  if (!digest) throw new ForgeError(Codes.REGISTRY_NOT_FOUND, `${formatReference(ref)} does not exist`);
  const list = await client.referrers(ref.repository, digest, kind ? KINDS[kind].artifactType : undefined);
  if (ctx.json) printJson({ subject: digest, referrers: list });
  else for (const d of list) process.stdout.write(`${d.digest}  ${d.artifactType ?? d.mediaType}\n`);
  return 0;
}

/** Stores a credential for HOST in <home>/registry-auth.json (0600); the password comes from stdin. */
async function login(argv: string[], env: Env): Promise<number> {
  const { values: v, positionals } = parse(argv, SUB.login.flags);
  const host = one(positionals, "HOST").toLowerCase();
  if (!v.username || !v["password-stdin"])
    throw new UsageError(
      "give --username USER and the password on stdin (--password-stdin): never on the command line",
    );
  const password = readFileSync(0, "utf8").replace(/\r?\n$/, "");
  if (!password) throw new UsageError("no password on stdin");
  const ctx = context(v, env);
  const file = ctx.config.registry.auth_file ?? join(ctx.config.home, "registry-auth.json");
  let doc: { auths?: Record<string, unknown> } = {};
  try {
    doc = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    doc = {};
  }
  doc.auths = { ...doc.auths, [host]: { auth: Buffer.from(`${v.username}:${password}`).toString("base64") } };
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  if (ctx.json) printJson({ registry: host, auth_file: file });
  else process.stdout.write(`credential for ${host} stored in ${file}\n`);
  return 0;
}

interface Governed {
  verdict: Verdict;
  /** Writes the execution result (local mode); a running agent already holds a final record. */
  finish(result: Record<string, unknown>): Promise<void>;
}

/**
 * Judges a registry action: through a running agent (which records it), or with the configured
 * policy here, appending one `action` record with the outcome once the transfer is done.
 */
async function judge(config: AgentConfig, action: object, env: Env): Promise<Governed> {
  try {
    await assertSocketFree(config.socket);
  } catch (err) {
    if (!hasForgeCode(err) || err.code !== Codes.AGENT_RUNNING) throw err;
    const v = unwrap<{
      action_id: string;
      evaluation: Verdict["evaluation"];
      reasons: string[];
      state: string;
    }>(
      await callAgent(config.socket, "POST", "/v1/actions", {
        session_id: "registry-cli",
        proposed_action: action,
        delegate: "forge-agent registry",
      }),
    );
    // ESCALATE: wait (long-polling) for a principal's review; the agent turns no answer into DENY.
    let view = v;
    if (view.state === "escalated")
      process.stderr.write(
        `forge-agent: ${view.action_id} escalated (${view.reasons.join("; ")}): waiting for 'forge-agent review approve ${view.action_id}'\n`,
      );
    while (view.state === "escalated") {
      view = unwrap<typeof v>(await waitAction(config.socket, view.action_id, 25_000));
    }
    return { verdict: view, finish: async () => undefined };
  }
  await initGate();
  const bundle = loadPolicy(config.policy ?? defaultPolicyPath());
  const gate = new Gate(bundle, { home: env.HOME ?? homedir() });
  const action_id = randomUUID();
  const d = gate.evaluate({ session_id: "registry-cli", action, action_id });
  const record = async (execution_result: Record<string, unknown> | null) => {
    const store = EvidenceStore.open({
      path: config.evidence.path,
      hostId: config.host_id,
      keyDir: config.evidence.keys,
      ...(config.evidence.synchronous === undefined ? {} : { synchronous: config.evidence.synchronous }),
    });
    try {
      await store.append({
        kind: "action",
        session_id: "registry-cli",
        action_id,
        timestamp: nowRfc3339(),
        prompt_hash: null,
        proposed_action: action,
        evaluation: d.evaluation,
        policy_matched: toPolicyMatched(d),
        composition_state: d.composition_state,
        execution_result,
        principal_review: null,
        latency_ms: d.latency_ms,
        principal: `uid:${process.getuid?.() ?? 0} pid:${process.pid}`,
      });
    } finally {
      await store.close();
    }
  };
  const verdict: Verdict = { evaluation: d.evaluation, reasons: d.reasons, action_id };
  // Not allowed: the record is written now, with no execution (ESCALATE has no reviewer here).
  if (d.evaluation !== "ALLOW") await record(null);
  return { verdict, finish: (r) => record(r) };
}

/** True when REF names a tag (`host/repo:tag`), not just a repository. */
function explicitTag(refText: string): boolean {
  const path = refText.replace(/^oci:\/\//, "").replace(/@.*$/, "");
  return /:[^/]+$/.test(path.slice(path.indexOf("/")));
}

function errorOf(err: unknown): { code: string; message: string } {
  return { code: hasForgeCode(err) ? err.code : Codes.INTERNAL, message: (err as Error).message };
}
