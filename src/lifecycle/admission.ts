/**
 * Serving admission: the agent loads a registry model only if a verified promotion, a passing
 * eval and a verified provenance exist for its exact digest, and the model-signing signature
 * covers the weights on disk. The decision is a `model.serve` action judged by the gate (a DENY is
 * an evidence record) and a refusal names what is missing. In `strict` mode a local GGUF is
 * refused (it has no registry digest to verify against); the embedded smoke-test model is exempt.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Codes, ForgeError } from "../errors.js";
import type { ModelAdmission } from "../inference/facade-turn.js";
import type { RegistryClient } from "../registry/index.js";
import type { LifecycleContext } from "./context.js";
import { servingFacts } from "./facts.js";
import { pullModel } from "./model.js";

export const EXEMPT_LABEL = "smoke-test model (random weights): exempt from serving admission";

export interface ServeVerdict {
  evaluation: "ALLOW" | "DENY" | "ESCALATE";
  reasons: string[];
  action_id: string | null;
}

export interface AdmissionDeps {
  client: (registry: string) => RegistryClient;
  trust: LifecycleContext["trust"];
  config: LifecycleContext["config"];
  /** Gate + record the `model.serve` action (the daemon proposes it on its own action service). */
  judge: (action: object) => Promise<ServeVerdict>;
  now?: () => number;
}

/** sha256 (hex) of a file, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** Admission for `oci://…` (already pulled and verified into `weightsPath`). Throws FORGE_MODEL_NOT_ADMITTED. */
export async function admitRegistryModel(
  reference: string,
  weightsPath: string,
  d: AdmissionDeps,
): Promise<ModelAdmission> {
  const ctx = { trust: d.trust, config: d.config, now: d.now ?? Date.now } as LifecycleContext;
  const model = await pullModel(reference, d.client);
  const onDisk = await fileSha256(weightsPath);
  const f = await servingFacts(model, onDisk, ctx);
  const action = {
    kind: "model.serve",
    ref: model.pinned,
    registry: model.ref.registry,
    repository: model.ref.repository,
    digest: model.digest,
    stage: f.stage,
    facts: f.facts,
  };
  const v = await d.judge(action);
  if (v.evaluation !== "ALLOW")
    throw new ForgeError(
      Codes.MODEL_NOT_ADMITTED,
      `model ${model.pinned} is not admitted for serving (${v.evaluation}): ${f.missing.join("; ") || v.reasons.join("; ")}`,
      { details: { facts: f.facts, missing: f.missing, action_id: v.action_id } },
    );
  return {
    digest: model.digest,
    reference: model.pinned,
    stage: f.stage,
    exempt: false,
    label: `admitted: promoted${f.stage ? ` to ${f.stage}` : ""}, eval passed, provenance and signature verified`,
    action_id: v.action_id,
  };
}

/** Admission for a local GGUF: admitted unchecked (labelled) in `registry` mode, refused in `strict`. */
export async function admitLocalModel(path: string, d: AdmissionDeps): Promise<ModelAdmission> {
  if (d.config.admission !== "strict")
    return {
      digest: null,
      reference: null,
      stage: null,
      exempt: false,
      label: `local file, not admission-checked (lifecycle.admission: ${d.config.admission})`,
      action_id: null,
    };
  const hex = await fileSha256(path);
  const action = {
    kind: "model.serve",
    ref: `file:${path}`,
    registry: "local",
    repository: path.split("/").pop() ?? "model",
    digest: `sha256:${hex}`,
    stage: null,
    facts: {},
  };
  const v = await d.judge(action);
  if (v.evaluation !== "ALLOW")
    throw new ForgeError(
      Codes.MODEL_NOT_ADMITTED,
      `model file ${path} is not admitted for serving (lifecycle.admission: strict): a local GGUF has no promotion, eval or provenance to verify; push it, evaluate and promote it, then serve model: oci://HOST/REPO@sha256:…`,
      { details: { action_id: v.action_id } },
    );
  return {
    digest: null,
    reference: null,
    stage: null,
    exempt: false,
    label: "local file admitted by policy",
    action_id: v.action_id,
  };
}

export function exemptAdmission(): ModelAdmission {
  return { digest: null, reference: null, stage: null, exempt: true, label: EXEMPT_LABEL, action_id: null };
}
