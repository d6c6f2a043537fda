/**
 * Datasets: the project's generated corpus, local files, and (later) registry references, behind
 * one resolver seam; the byte tokenizer; and the deterministic batch for each step.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { Codes, ForgeError } from "../errors.js";
import { prng } from "../inference/tiny-model.js";
import { type Judge, type RegistryClient, resolveDataset } from "../registry/index.js";

/** Token ids: 0 unk, 1 bos, 2 eos, then byte b is 3 + b (the GGUF vocab's `<0xNN>` tokens). */
export const BYTE_OFFSET = 3;
export const VOCAB = 259;

export const GENERATED_CORPUS_REF = "generated:corpus-v1";

const WORDS = {
  subject: ["the agent", "a model", "the gate", "an operator", "the collector", "a host", "the trainer"],
  verb: ["checks", "records", "ships", "reviews", "signs", "verifies", "trains", "serves"],
  object: ["the action", "a record", "the chain", "a checkpoint", "the policy", "a batch", "the weights"],
  tail: [
    "before it runs",
    "in the evidence store",
    "with a digest",
    "on every step",
    "at the boundary",
    "for the fleet",
  ],
};

/** The project's own small text corpus (deterministic: same bytes, same sha256, every time). */
export function generatedCorpus(bytes = 64 * 1024): Buffer {
  const rand = prng(0x5eed);
  const pick = (l: string[]) => l[Math.floor(rand() * l.length)]!;
  let out = "";
  while (out.length < bytes)
    out += `${pick(WORDS.subject)} ${pick(WORDS.verb)} ${pick(WORDS.object)} ${pick(WORDS.tail)}.\n`;
  return Buffer.from(out.slice(0, bytes), "utf8");
}

/** A registry dataset as pulled: the manifest it came from and the gate's answer to the pull. */
export interface DatasetSource {
  reference: string;
  manifest_digest: string;
  files: { name: string; digest: string; size: number }[];
  /** The gate's answer to the `model.pull` (the start record carries it). */
  pull: { evaluation: "ALLOW" | "DENY" | "ESCALATE"; reasons: string[] };
}

export interface ResolvedDataset {
  bytes: Buffer;
  /** Set for a registry dataset (the start record cites it). */
  source?: DatasetSource;
}

/** Where dataset bytes come from: local paths and the generated corpus, or a registry too. */
export interface DatasetResolver {
  resolve(ref: string, baseDir: string): Promise<ResolvedDataset>;
}

/** Local paths and the generated corpus; `oci://…` needs `registryResolver`. */
export const localResolver: DatasetResolver = {
  async resolve(ref, baseDir) {
    if (ref === GENERATED_CORPUS_REF) return { bytes: generatedCorpus() };
    if (ref.startsWith("oci://"))
      throw new ForgeError(
        Codes.DATASET_UNAVAILABLE,
        `dataset '${ref}': this run has no registry client; run it with 'forge-agent train' (which pulls registry datasets) or give a local path`,
      );
    const path = isAbsolute(ref) ? ref : join(baseDir, ref);
    try {
      return { bytes: readFileSync(path) };
    } catch (err) {
      throw new ForgeError(
        Codes.DATASET_UNAVAILABLE,
        `dataset '${ref}' (${path}): ${(err as Error).message}`,
      );
    }
  },
};

/**
 * `oci://HOST/REPO@sha256:…` from the registry: the pull is a `model.pull` the judge decides
 * before any layer is fetched (only ALLOW pulls), the manifest must be a dataset artifact and
 * pinned by digest, and every layer is verified into the cache. The training bytes are the files
 * in manifest order (sorted by name at push), concatenated: for a one-file dataset, that file, so
 * the job's `sha256` is its layer digest. Anything else falls through to `localResolver`.
 */
export function registryResolver(o: {
  client: (registry: string) => RegistryClient;
  judge: Judge;
}): DatasetResolver {
  return {
    async resolve(ref, baseDir) {
      if (!ref.startsWith("oci://")) return localResolver.resolve(ref, baseDir);
      let pull: DatasetSource["pull"] = { evaluation: "DENY", reasons: [] };
      const judge: Judge = async (action) => {
        const v = await o.judge(action);
        pull = { evaluation: v.evaluation, reasons: v.reasons };
        return v;
      };
      const r = await resolveDataset(ref, { client: o.client, judge });
      if (r.files.length === 0)
        throw new ForgeError(Codes.DATASET_UNAVAILABLE, `dataset '${ref}' has no files`);
      const bytes = Buffer.concat(await Promise.all(r.files.map((f) => readFile(f.path))));
      return {
        bytes,
        source: {
          reference: r.reference,
          manifest_digest: r.digest,
          files: r.files.map((f) => ({ name: f.name, digest: f.digest, size: f.size })),
          pull,
        },
      };
    },
  };
}

/** Resolves a dataset and checks its pin; a mismatch is FORGE_DATASET_UNAVAILABLE naming both digests. */
export async function loadDataset(
  ref: string,
  sha256: string,
  baseDir: string,
  resolver: DatasetResolver = localResolver,
): Promise<{ data: Uint8Array; source: DatasetSource | null }> {
  const { bytes, source } = await resolver.resolve(ref, baseDir);
  const got = createHash("sha256").update(bytes).digest("hex");
  if (got !== sha256)
    throw new ForgeError(
      Codes.DATASET_UNAVAILABLE,
      `dataset '${ref}' has sha256 ${got}, the job pins ${sha256}: fix the pin or the dataset`,
    );
  return { data: new Uint8Array(bytes), source: source ?? null };
}

/** One step's input: token ids and next-token targets, [batch × sequence] row-major. */
export interface Batch {
  step: number;
  batch: number;
  sequence: number;
  inputs: Int32Array;
  targets: Int32Array;
  /** A drill: the trainer scales its real loss by this (NaN for a NaN drill). */
  poison?: number;
}

/** The batch for `step`, the same for the same (data, seed, step): a resumed job sees the same data. */
export function batchFor(
  data: Uint8Array,
  step: number,
  batch: number,
  sequence: number,
  seed: number,
): Batch {
  if (data.length < sequence + 2)
    throw new ForgeError(
      Codes.DATASET_UNAVAILABLE,
      `the dataset has ${data.length} bytes, fewer than sequence + 2`,
    );
  const rand = prng((seed * 0x9e3779b1 + step * 0x85ebca6b) >>> 0);
  const inputs = new Int32Array(batch * sequence);
  const targets = new Int32Array(batch * sequence);
  const span = data.length - sequence - 1;
  for (let b = 0; b < batch; b++) {
    const at = Math.floor(rand() * span);
    for (let t = 0; t < sequence; t++) {
      inputs[b * sequence + t] = BYTE_OFFSET + data[at + t]!;
      targets[b * sequence + t] = BYTE_OFFSET + data[at + t + 1]!;
    }
  }
  return { step, batch, sequence, inputs, targets };
}

/** Byte tokens of a text (no BOS), as the trainer sees them. */
export function tokenize(text: string): number[] {
  return [...Buffer.from(text, "utf8")].map((b) => BYTE_OFFSET + b);
}
