/**
 * A model reference (`oci://host/repo:tag[@sha256:…]`) → a verified GGUF on disk, for serving.
 * The pull is a `model.pull` action judged by the gate before any blob is fetched: the judge sees
 * the registry host, whether the reference is pinned, and whether a signature refers to it. The
 * weights are re-hashed from the cache every time they are resolved, so a file changed on disk
 * since the pull is refused, never served.
 */
import { mkdir, readlink, rename, symlink } from "node:fs/promises";
import { join } from "node:path";
import { Codes, ForgeError } from "../errors.js";
import { type PulledArtifact, pullArtifact } from "./artifacts.js";
import { hexOf } from "./cache.js";
import type { RegistryClient } from "./client.js";
import { KINDS, MODEL_ARTIFACT, MODEL_WEIGHT_RAW } from "./media-types.js";
import { formatReference, parseReference, type Reference } from "./reference.js";

/** The `model.pull` action, as src/gate/actions.ts declares it. */
export interface ModelPullProposal {
  kind: "model.pull";
  ref: string;
  registry: string;
  repository: string;
  tag: string | null;
  digest: string | null;
  pinned: boolean;
  signed: boolean;
  artifact_type?: string;
  purpose: "serve" | "pull";
}

export interface Verdict {
  evaluation: "ALLOW" | "DENY" | "ESCALATE";
  reasons: string[];
  action_id?: string | null;
}

/** Asks the gate (and records the decision); only ALLOW lets the pull go on. */
export type Judge = (action: ModelPullProposal) => Promise<Verdict>;

/** Facts about a reference the gate needs: its digest and whether a signature refers to it. */
export async function describeRef(
  client: RegistryClient,
  ref: Reference,
  purpose: "serve" | "pull",
): Promise<ModelPullProposal> {
  const digest = ref.digest ?? (await client.resolve(ref.repository, ref.tag ?? "latest"));
  if (!digest)
    throw new ForgeError(
      Codes.REGISTRY_NOT_FOUND,
      `${formatReference(ref)} does not exist: check the repository and tag ('forge-agent registry ls')`,
    );
  const sigs = await client.referrers(ref.repository, digest, KINDS.signature.artifactType);
  return {
    kind: "model.pull",
    ref: formatReference(ref),
    registry: ref.registry,
    repository: ref.repository,
    tag: ref.tag,
    digest,
    pinned: ref.digest !== null,
    signed: sigs.length > 0,
    purpose,
  };
}

/** Throws FORGE_FORBIDDEN unless the verdict is ALLOW (ESCALATE unanswered is not ALLOW). */
export function requireAllow(v: Verdict, what: string): void {
  if (v.evaluation === "ALLOW") return;
  throw new ForgeError(
    Codes.FORBIDDEN,
    `the gate answered ${v.evaluation} to ${what}${v.reasons.length ? `: ${v.reasons.join("; ")}` : ""}`,
    { details: { evaluation: v.evaluation, action_id: v.action_id ?? null } },
  );
}

export interface ServableModel {
  /** A path node-llama-cpp can load: `<home>/models/oci/<hex>.gguf`, a link to the verified blob. */
  path: string;
  /** The manifest digest. */
  digest: string;
  /** The weight layer's digest. */
  weights: string;
  reference: string;
  action_id: string | null;
}

/**
 * Resolves `oci://…` for serving: judge, pull (cache, verified), pick the GGUF weight layer,
 * re-verify it, and link it under `<modelsDir>/oci/`.
 */
export async function resolveServableModel(
  refText: string,
  o: { client: (registry: string) => RegistryClient; judge: Judge; modelsDir: string },
): Promise<ServableModel> {
  const m = await resolveModelFile(refText, o);
  const dir = join(o.modelsDir, "oci");
  await mkdir(dir, { recursive: true });
  const link = join(dir, `${hexOf(m.weights)}.gguf`);
  if ((await readlink(link).catch(() => null)) !== m.path) {
    const tmp = `${link}.${process.pid}.tmp`;
    await symlink(m.path, tmp);
    await rename(tmp, link);
  }
  return { ...m, path: link };
}

/**
 * A ModelPack model's GGUF weight layer, judged (`model.pull`), pulled and re-verified in the
 * cache: `path` is the verified blob. For serving (`resolveServableModel`) and for training's base
 * models (`purpose: "pull"`, `pinned`: a digest is required, as a fine-tune must be reproducible).
 */
export async function resolveModelFile(
  refText: string,
  o: { client: (registry: string) => RegistryClient; judge: Judge },
  how: { purpose?: "serve" | "pull"; pinned?: boolean } = {},
): Promise<ServableModel> {
  if (how.pinned && !parseReference(refText).digest)
    throw new ForgeError(
      Codes.REF_INVALID,
      `model '${refText}' is not pinned: name it by digest (oci://HOST/REPO@sha256:…)`,
    );
  const { ref, client, pulled, verdict, proposal } = await pullToServe(
    refText,
    o,
    MODEL_ARTIFACT,
    "a ModelPack model",
    how.purpose ?? "serve",
  );
  const weights = pulled.files.filter((f) => f.mediaType === MODEL_WEIGHT_RAW);
  const gguf = weights.find((f) => f.name.endsWith(".gguf")) ?? weights[0];
  if (!gguf)
    throw new ForgeError(Codes.ARTIFACT_INVALID, `${proposal.ref} has no ${MODEL_WEIGHT_RAW} layer to serve`);
  return {
    path: await client.cache.verify(gguf.digest),
    digest: pulled.digest,
    weights: gguf.digest,
    reference: `oci://${ref.registry}/${ref.repository}@${pulled.digest}`,
    action_id: verdict.action_id ?? null,
  };
}

/** Judge (`model.pull`, purpose serve) and pull an artifact that must be of `artifactType`. */
async function pullToServe(
  refText: string,
  o: { client: (registry: string) => RegistryClient; judge: Judge },
  artifactType: string,
  what: string,
  purpose: "serve" | "pull" = "serve",
) {
  const ref = parseReference(refText);
  const client = o.client(ref.registry);
  const proposal = { ...(await describeRef(client, ref, purpose)), artifact_type: artifactType };
  const verdict = await o.judge(proposal);
  requireAllow(verdict, `model.pull ${proposal.ref}`);
  const pulled = await pullArtifact(client, ref.repository, proposal.digest!);
  if (pulled.manifest.artifactType !== artifactType)
    throw new ForgeError(
      Codes.ARTIFACT_INVALID,
      `${proposal.ref} is a ${pulled.manifest.artifactType ?? "plain image"}, not ${what} (${artifactType})`,
    );
  return { ref, client, pulled, verdict, proposal };
}

/**
 * A prompt template (`--type prompt-template`) for the facade: judged and pulled like a model,
 * its one file re-verified and read as UTF-8. The reference returned names the manifest digest.
 */
export async function resolvePromptTemplate(
  refText: string,
  o: { client: (registry: string) => RegistryClient; judge: Judge },
): Promise<{ reference: string; digest: string; text: string }> {
  const { ref, client, pulled } = await pullToServe(
    refText,
    o,
    KINDS["prompt-template"].artifactType,
    "a prompt template",
  );
  if (pulled.files.length !== 1)
    throw new ForgeError(
      Codes.ARTIFACT_INVALID,
      `${refText} has ${pulled.files.length} files; a prompt template has one`,
    );
  const f = pulled.files[0]!;
  await client.cache.verify(f.digest);
  const text = (await client.cache.readBytes(f.digest)).toString("utf8");
  return {
    reference: `oci://${ref.registry}/${ref.repository}@${pulled.digest}`,
    digest: pulled.digest,
    text,
  };
}

/**
 * The resolver seam for training data: a dataset named `oci://host/repo@sha256:…` (a digest is
 * required: a run must be reproducible), judged as `model.pull` and pulled verified. Returns the
 * files in the cache; the digest is what the training record cites.
 */
export async function resolveDataset(
  refText: string,
  o: { client: (registry: string) => RegistryClient; judge: Judge },
): Promise<{ reference: string; digest: string; files: PulledArtifact["files"] }> {
  const ref = parseReference(refText);
  if (!ref.digest)
    throw new ForgeError(
      Codes.REF_INVALID,
      `dataset '${refText}' is not pinned: training data must be named by digest (oci://HOST/REPO@sha256:…)`,
    );
  const { pulled } = await pullToServe(refText, o, KINDS.dataset.artifactType, "a dataset", "pull");
  return {
    reference: `oci://${ref.registry}/${ref.repository}@${pulled.digest}`,
    digest: pulled.digest,
    files: pulled.files,
  };
}
