/**
 * Media types and artifact types, in one place (docs/registry.md is the reference for each).
 * Models follow the CNCF ModelPack spec (modelpack/model-spec docs/spec.md) exactly; the project's
 * own artifacts use `application/vnd.forge-agent.<type>.v1+json` with the OCI empty config.
 */
import { z } from "zod";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const OCI_EMPTY = "application/vnd.oci.empty.v1+json";
/** The empty config blob `{}`: its digest and size are fixed by the image-spec. */
export const EMPTY_JSON = Buffer.from("{}");
export const EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

// ModelPack (CNCF model-spec v1).
export const MODEL_ARTIFACT = "application/vnd.cncf.model.manifest.v1+json";
export const MODEL_CONFIG = "application/vnd.cncf.model.config.v1+json";
export const MODEL_WEIGHT_RAW = "application/vnd.cncf.model.weight.v1.raw";
export const MODEL_WEIGHT_CONFIG_RAW = "application/vnd.cncf.model.weight.config.v1.raw";
export const MODEL_DOC_RAW = "application/vnd.cncf.model.doc.v1.raw";
export const MODEL_CODE_RAW = "application/vnd.cncf.model.code.v1.raw";
export const MODEL_DATASET_RAW = "application/vnd.cncf.model.dataset.v1.raw";
/** ModelPack layer annotation: the file's path inside the model. */
export const MODEL_FILEPATH = "org.cncf.model.filepath";

/** The artifact kinds `registry push --type` accepts, and what each one is made of. */
export const ARTIFACT_KINDS = [
  "model",
  "dataset",
  "prompt-template",
  "eval-corpus",
  "eval-result",
  "provenance",
  "signature",
] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

interface KindSpec {
  artifactType: string;
  /** The media type of each file's layer (models pick per file: see modelLayerType). */
  layerType: string;
  /** Derived artifacts must name the artifact they describe (`subject`). */
  needsSubject: boolean;
}

export const KINDS: Record<ArtifactKind, KindSpec> = {
  model: { artifactType: MODEL_ARTIFACT, layerType: MODEL_WEIGHT_RAW, needsSubject: false },
  dataset: {
    artifactType: "application/vnd.forge-agent.dataset.v1+json",
    layerType: MODEL_DATASET_RAW,
    needsSubject: false,
  },
  "prompt-template": {
    artifactType: "application/vnd.forge-agent.prompt-template.v1+json",
    layerType: "application/vnd.forge-agent.prompt-template.v1+text",
    needsSubject: false,
  },
  "eval-corpus": {
    artifactType: "application/vnd.forge-agent.eval-corpus.v1+json",
    layerType: "application/vnd.forge-agent.eval-corpus.layer.v1.raw",
    needsSubject: false,
  },
  "eval-result": {
    artifactType: "application/vnd.forge-agent.eval-result.v1+json",
    layerType: "application/vnd.forge-agent.eval-result.layer.v1+json",
    needsSubject: true,
  },
  provenance: {
    artifactType: "application/vnd.forge-agent.provenance.v1+json",
    layerType: "application/vnd.dsse.envelope.v1+json",
    needsSubject: true,
  },
  signature: {
    artifactType: "application/vnd.forge-agent.signature.v1+json",
    layerType: "application/vnd.dev.sigstore.bundle.v0.3+json",
    needsSubject: true,
  },
};

/** The kind an artifactType names, or null for a type this project does not make. */
export function kindOfArtifactType(t: string | undefined): ArtifactKind | null {
  for (const k of ARTIFACT_KINDS) if (KINDS[k].artifactType === t) return k;
  return null;
}

/** ModelPack layer type for a model file, by name: weights, weight configs, docs, code, datasets. */
export function modelLayerType(name: string): string {
  const n = name.toLowerCase();
  const base = n.slice(n.lastIndexOf("/") + 1);
  if (/\.(gguf|safetensors|bin|pt|pth|onnx|ggml|mlx|npz|h5|pb|tflite)$/.test(base)) return MODEL_WEIGHT_RAW;
  if (
    /^(readme|license|licence|notice|changelog|model_card)(\.|$)/.test(base) ||
    /\.(md|txt|rst)$/.test(base)
  )
    return MODEL_DOC_RAW;
  if (/\.(py|sh|js|ts|ipynb)$/.test(base)) return MODEL_CODE_RAW;
  if (/\.(jsonl|csv|parquet|arrow|tsv)$/.test(base)) return MODEL_DATASET_RAW;
  return MODEL_WEIGHT_CONFIG_RAW;
}

// Annotations: the OCI pre-defined keys plus the project's own (`dev.forge-agent.*`).
export const ANN_TITLE = "org.opencontainers.image.title";
export const ANN_CREATED = "org.opencontainers.image.created";
export const ANN_DESCRIPTION = "org.opencontainers.image.description";
export const ANN_VERSION = "org.opencontainers.image.version";
export const ANN_SOURCE = "org.opencontainers.image.source";
export const ANN_REVISION = "org.opencontainers.image.revision";
export const ANN_LICENSES = "org.opencontainers.image.licenses";
export const ANN_KIND = "dev.forge-agent.kind";
export const ANN_HOST = "dev.forge-agent.host-id";
export const ANN_ACTION = "dev.forge-agent.action-id";
/** The relative path of a file inside a pushed directory (every kind; ModelPack's key for models too). */
export const ANN_PATH = "dev.forge-agent.path";

export const Descriptor = z.object({
  mediaType: z.string().min(1),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, "must be sha256:<64 hex>"),
  size: z.number().int().nonnegative(),
  artifactType: z.string().optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  urls: z.array(z.string()).optional(),
  platform: z.unknown().optional(),
});
export type Descriptor = z.infer<typeof Descriptor>;

export const ImageManifest = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.literal(OCI_MANIFEST).optional(),
  artifactType: z.string().optional(),
  config: Descriptor,
  layers: z.array(Descriptor),
  subject: Descriptor.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ImageManifest = z.infer<typeof ImageManifest>;

export const ImageIndex = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.literal(OCI_INDEX).optional(),
  artifactType: z.string().optional(),
  manifests: z.array(Descriptor),
  subject: Descriptor.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type ImageIndex = z.infer<typeof ImageIndex>;

/** ModelPack config (`application/vnd.cncf.model.config.v1+json`), field names as in specs-go/v1/config.go. */
export interface ModelPackConfig {
  descriptor: {
    createdAt?: string;
    authors?: string[];
    family?: string;
    name?: string;
    docURL?: string;
    sourceURL?: string;
    datasetsURL?: string[];
    version?: string;
    revision?: string;
    vendor?: string;
    licenses?: string[];
    title?: string;
    description?: string;
  };
  modelfs: { type: "layers"; diffIds: string[] };
  config: {
    architecture?: string;
    format?: string;
    paramSize?: string;
    precision?: string;
    quantization?: string;
    capabilities?: Record<string, unknown>;
  };
}
