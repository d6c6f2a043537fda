/**
 * Artifacts: a file or a directory packed as an OCI manifest of one kind (ModelPack for models,
 * the project's artifactTypes for the rest), pushed and pulled in one call each. A derived artifact
 * (eval result, provenance, signature) names its `subject`; pushing it also indexes it as a referrer.
 */
import { constants } from "node:fs";
import { copyFile, mkdir, readdir, stat } from "node:fs/promises";
import { basename, dirname, isAbsolute, join, normalize, relative, sep } from "node:path";
import { Codes, ForgeError } from "../errors.js";
import { sha256 } from "./cache.js";
import type { RegistryClient } from "./client.js";
import {
  ANN_CREATED,
  ANN_KIND,
  ANN_PATH,
  ANN_TITLE,
  type ArtifactKind,
  type Descriptor,
  EMPTY_DIGEST,
  EMPTY_JSON,
  type ImageManifest,
  KINDS,
  kindOfArtifactType,
  MODEL_CONFIG,
  MODEL_FILEPATH,
  MODEL_WEIGHT_RAW,
  type ModelPackConfig,
  modelLayerType,
  OCI_EMPTY,
  OCI_MANIFEST,
} from "./media-types.js";

export interface ArtifactFile {
  /** Path inside the artifact (forward slashes), e.g. `model.gguf` or `data/train.jsonl`. */
  name: string;
  /** Where the bytes are on disk, or the bytes themselves. */
  path?: string;
  bytes?: Buffer;
  mediaType?: string;
}

export interface PushArtifactInput {
  repository: string;
  /** Tag to push under; without one the manifest is pushed by digest (usual for referrers). */
  tag?: string;
  kind: ArtifactKind;
  files: ArtifactFile[];
  /** The artifact this one describes (eval result → model, signature → its subject). */
  subject?: Descriptor;
  /** Manifest annotations, merged over the defaults (created, kind). */
  annotations?: Record<string, string>;
  /** ModelPack config fields for a model (descriptor / config), merged over what is derived. */
  modelConfig?: { descriptor?: ModelPackConfig["descriptor"]; config?: ModelPackConfig["config"] };
  /** Fixed creation time (RFC 3339) for reproducible digests; default: now. */
  created?: string;
  onProgress?: (name: string, sent: number, total: number) => void;
}

export interface PushedArtifact {
  digest: string;
  size: number;
  mediaType: string;
  artifactType: string;
  reference: string;
  blobs: { digest: string; size: number; how: string }[];
  /** How the subject link was indexed: by the registry (referrers API) or the tag-schema fallback. */
  referrers: "api" | "fallback" | null;
}

/** The files of a path: itself, or a directory's regular files (recursively, sorted by name). */
export async function filesOf(path: string): Promise<ArtifactFile[]> {
  const st = await stat(path).catch((err) => {
    throw new ForgeError(Codes.ARTIFACT_INVALID, `cannot read '${path}': ${(err as Error).message}`);
  });
  if (st.isFile()) return [{ name: basename(path), path }];
  if (!st.isDirectory())
    throw new ForgeError(Codes.ARTIFACT_INVALID, `'${path}' is neither a file nor a directory`);
  const out: ArtifactFile[] = [];
  const walk = async (dir: string) => {
    for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : 1,
    )) {
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push({ name: relative(path, p).split(sep).join("/"), path: p });
    }
  };
  await walk(path);
  if (out.length === 0)
    throw new ForgeError(Codes.ARTIFACT_INVALID, `directory '${path}' has no files to push`);
  return out;
}

/** Packs and pushes an artifact; with `subject`, also indexes it as a referrer. One call. */
export async function pushArtifact(client: RegistryClient, a: PushArtifactInput): Promise<PushedArtifact> {
  const spec = KINDS[a.kind];
  if (spec.needsSubject && !a.subject)
    throw new ForgeError(
      Codes.ARTIFACT_INVALID,
      `a ${a.kind} describes another artifact: give its subject (--subject REF@DIGEST)`,
    );
  if (a.files.length === 0)
    throw new ForgeError(Codes.ARTIFACT_INVALID, "an artifact needs at least one file");
  // Layers first (a new large file is hashed while it uploads), then the config naming their digests.
  const layers: Descriptor[] = [];
  const blobs: PushedArtifact["blobs"] = [];
  for (const f of a.files) {
    checkName(f.name);
    const progress = { onProgress: (s: number, t: number) => a.onProgress?.(f.name, s, t) };
    const pushed = f.bytes
      ? await client.pushBlob(
          a.repository,
          { bytes: f.bytes },
          { digest: sha256(f.bytes), size: f.bytes.length },
          progress,
        )
      : await client.pushFile(a.repository, f.path!, progress);
    blobs.push(pushed);
    const mediaType = f.mediaType ?? (a.kind === "model" ? modelLayerType(f.name) : spec.layerType);
    const annotations: Record<string, string> = { [ANN_TITLE]: f.name, [ANN_PATH]: f.name };
    if (a.kind === "model") annotations[MODEL_FILEPATH] = f.name;
    layers.push({ mediaType, digest: pushed.digest, size: pushed.size, annotations });
  }
  const created = a.created ?? new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  let config: Descriptor;
  let configBytes: Buffer;
  if (a.kind === "model") {
    const gguf = layers.some(
      (l) => l.mediaType === MODEL_WEIGHT_RAW && l.annotations?.[ANN_PATH]?.endsWith(".gguf"),
    );
    const doc: ModelPackConfig = {
      descriptor: { createdAt: created, name: a.repository.split("/").pop(), ...a.modelConfig?.descriptor },
      modelfs: { type: "layers", diffIds: layers.map((l) => l.digest) },
      config: { ...(gguf ? { format: "gguf" } : {}), ...a.modelConfig?.config },
    };
    configBytes = Buffer.from(JSON.stringify(doc));
    config = { mediaType: MODEL_CONFIG, digest: sha256(configBytes), size: configBytes.length };
  } else {
    configBytes = EMPTY_JSON;
    config = { mediaType: OCI_EMPTY, digest: EMPTY_DIGEST, size: 2 };
  }
  blobs.unshift(await client.pushBlob(a.repository, { bytes: configBytes }, config));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: spec.artifactType,
    config,
    layers,
    ...(a.subject ? { subject: a.subject } : {}),
    annotations: { [ANN_CREATED]: created, [ANN_KIND]: a.kind, ...a.annotations },
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const digest = sha256(bytes);
  const put = await client.putManifest(a.repository, a.tag ?? digest, bytes, OCI_MANIFEST);
  await client.cache.putBytes(digest, bytes);
  let referrers: PushedArtifact["referrers"] = null;
  if (a.subject) {
    if (put.subjectHandled) referrers = "api";
    else {
      await client.addReferrerFallback(a.repository, a.subject.digest, {
        mediaType: OCI_MANIFEST,
        digest,
        size: bytes.length,
        artifactType: spec.artifactType,
        annotations: manifest.annotations,
      });
      referrers = "fallback";
    }
  }
  return {
    digest,
    size: bytes.length,
    mediaType: OCI_MANIFEST,
    artifactType: spec.artifactType,
    reference: `oci://${client.registry}/${a.repository}${a.tag ? `:${a.tag}` : ""}@${digest}`,
    blobs,
    referrers,
  };
}

export interface PulledFile {
  name: string;
  mediaType: string;
  digest: string;
  size: number;
  /** The verified blob in the cache. */
  path: string;
}

export interface PulledArtifact {
  digest: string;
  artifactType: string | null;
  kind: ArtifactKind | null;
  manifest: ImageManifest;
  config: { mediaType: string; digest: string; value: unknown };
  files: PulledFile[];
}

/**
 * Pulls the manifest at `reference` (a tag or digest) and every blob into the cache, verified.
 * With `output`, the files are also copied there under their names (checked: no `..`, no absolute).
 */
export async function pullArtifact(
  client: RegistryClient,
  repository: string,
  reference: string,
  o: {
    output?: string;
    onProgress?: (name: string, bytes: number, total: number) => void;
    onResume?: (offset: number) => void;
  } = {},
): Promise<PulledArtifact> {
  const m = await client.getManifest(repository, reference);
  if (!("layers" in m.manifest))
    throw new ForgeError(
      Codes.ARTIFACT_INVALID,
      `${repository}:${reference} is an index, not an artifact: pull one of its manifests by digest`,
    );
  const manifest = m.manifest;
  const configPath = await client.pullBlob(repository, manifest.config);
  let value: unknown = null;
  if (manifest.config.size <= 1 << 20) {
    try {
      value = JSON.parse((await client.cache.readBytes(manifest.config.digest)).toString("utf8"));
    } catch {
      value = null;
    }
  }
  void configPath;
  const files: PulledFile[] = [];
  for (const [i, l] of manifest.layers.entries()) {
    const name =
      l.annotations?.[ANN_PATH] ??
      l.annotations?.[MODEL_FILEPATH] ??
      l.annotations?.[ANN_TITLE] ??
      `layer-${i}`;
    checkName(name);
    const path = await client.pullBlob(repository, l, {
      onProgress: (b, t) => o.onProgress?.(name, b, t),
      ...(o.onResume ? { onResume: o.onResume } : {}),
    });
    files.push({ name, mediaType: l.mediaType, digest: l.digest, size: l.size, path });
  }
  if (o.output) {
    for (const f of files) {
      const dest = join(o.output, f.name);
      await mkdir(dirname(dest), { recursive: true });
      await copyFile(f.path, dest, constants.COPYFILE_FICLONE);
    }
  }
  const artifactType =
    manifest.artifactType ?? (manifest.config.mediaType === MODEL_CONFIG ? null : manifest.config.mediaType);
  return {
    digest: m.digest,
    artifactType: manifest.artifactType ?? artifactType ?? null,
    kind: kindOfArtifactType(manifest.artifactType),
    manifest,
    config: { mediaType: manifest.config.mediaType, digest: manifest.config.digest, value },
    files,
  };
}

/** A file name from a manifest is untrusted: it must stay inside the output directory. */
function checkName(name: string): void {
  const n = normalize(name);
  if (
    name === "" ||
    isAbsolute(name) ||
    n.startsWith("..") ||
    n.split(sep).includes("..") ||
    name.includes("\0")
  )
    throw new ForgeError(
      Codes.ARTIFACT_INVALID,
      `file name '${name}' would leave the artifact's directory: refused`,
    );
}
