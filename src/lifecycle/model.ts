/** A model in the registry, pulled and verified: its manifest digest, descriptor and weight file. */
import { Codes, ForgeError } from "../errors.js";
import {
  type ArtifactKind,
  type Descriptor,
  MODEL_ARTIFACT,
  MODEL_WEIGHT_RAW,
  type PulledArtifact,
  parseReference,
  pullArtifact,
  pushArtifact,
  type Reference,
  type RegistryClient,
  sha256,
} from "../registry/index.js";
import { BUNDLE_MEDIA_TYPE, type LocalSigner, signStatement } from "./dsse.js";
import type { Statement } from "./statement.js";

export interface PulledModel {
  ref: Reference;
  client: RegistryClient;
  digest: string;
  /** The model manifest as a descriptor (the `subject` its referrers name). */
  descriptor: Descriptor;
  pulled: PulledArtifact;
  /** The GGUF weight layer, re-verified in the cache. */
  weights: { name: string; digest: string; path: string };
  /** `oci://host/repo@sha256:…` */
  pinned: string;
}

/** Resolves a tag, pulls every layer verified, and picks the GGUF weight layer. */
export async function pullModel(
  refText: string,
  client: (r: string) => RegistryClient,
): Promise<PulledModel> {
  const ref = parseReference(refText);
  const c = client(ref.registry);
  const digest = ref.digest ?? (await c.resolve(ref.repository, ref.tag ?? "latest"));
  if (!digest)
    throw new ForgeError(Codes.REGISTRY_NOT_FOUND, `${refText} does not exist: check the repository and tag`);
  const m = await c.getManifest(ref.repository, digest);
  const pulled = await pullArtifact(c, ref.repository, digest);
  if (pulled.manifest.artifactType !== MODEL_ARTIFACT)
    throw new ForgeError(
      Codes.ARTIFACT_INVALID,
      `${refText} is a ${pulled.manifest.artifactType ?? "plain image"}, not a ModelPack model`,
    );
  const w = pulled.files.filter((f) => f.mediaType === MODEL_WEIGHT_RAW);
  const gguf = w.find((f) => f.name.endsWith(".gguf")) ?? w[0];
  if (!gguf) throw new ForgeError(Codes.ARTIFACT_INVALID, `${refText} has no ${MODEL_WEIGHT_RAW} layer`);
  const path = await c.cache.verify(gguf.digest);
  return {
    ref,
    client: c,
    digest,
    descriptor: { mediaType: m.mediaType, digest, size: m.bytes.length },
    pulled,
    weights: { name: gguf.name, digest: gguf.digest, path },
    pinned: `oci://${ref.registry}/${ref.repository}@${digest}`,
  };
}

/**
 * Signs `statement` (a DSSE bundle with the host's key) and pushes it as a `kind` referrer of the
 * model: where it landed, and the sha256 of the statement it signs.
 */
export async function pushSignedReferrer(
  model: PulledModel,
  signer: LocalSigner,
  o: { kind: ArtifactKind; file: string; statement: Statement; annotations: Record<string, string> },
): Promise<{ digest: string; reference: string; statement_sha256: string }> {
  const bundle = Buffer.from(JSON.stringify(await signStatement(o.statement, signer)));
  const p = await pushArtifact(model.client, {
    repository: model.ref.repository,
    kind: o.kind,
    subject: model.descriptor,
    files: [{ name: o.file, bytes: bundle, mediaType: BUNDLE_MEDIA_TYPE }],
    annotations: o.annotations,
  });
  return {
    digest: p.digest,
    reference: p.reference,
    statement_sha256: sha256(Buffer.from(JSON.stringify(o.statement))),
  };
}
