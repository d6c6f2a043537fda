/**
 * Datasets: the project's generated corpus, local files, and (later) registry references, behind
 * one resolver seam; the byte tokenizer; and the deterministic batch for each step.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { Codes, ForgeError } from "../errors.js";
import { prng } from "../inference/tiny-model.js";

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

/** Where dataset bytes come from. The registry engineer's OCI client plugs in as `oci`. */
export interface DatasetResolver {
  resolve(ref: string, baseDir: string): Promise<Buffer>;
}

/** Local paths and the generated corpus; `oci://…@sha256:…` is refused until a registry resolver is wired. */
export const localResolver: DatasetResolver = {
  async resolve(ref, baseDir) {
    if (ref === GENERATED_CORPUS_REF) return generatedCorpus();
    if (ref.startsWith("oci://"))
      throw new ForgeError(
        Codes.DATASET_UNAVAILABLE,
        `dataset '${ref}': registry datasets are not resolved by this build yet; pull it to a local file and give its path`,
      );
    const path = isAbsolute(ref) ? ref : join(baseDir, ref);
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ForgeError(
        Codes.DATASET_UNAVAILABLE,
        `dataset '${ref}' (${path}): ${(err as Error).message}`,
      );
    }
  },
};

/** Resolves a dataset and checks its pin; a mismatch is FORGE_DATASET_UNAVAILABLE naming both digests. */
export async function loadDataset(
  ref: string,
  sha256: string,
  baseDir: string,
  resolver: DatasetResolver = localResolver,
): Promise<Uint8Array> {
  const bytes = await resolver.resolve(ref, baseDir);
  const got = createHash("sha256").update(bytes).digest("hex");
  if (got !== sha256)
    throw new ForgeError(
      Codes.DATASET_UNAVAILABLE,
      `dataset '${ref}' has sha256 ${got}, the job pins ${sha256}: fix the pin or the file`,
    );
  return new Uint8Array(bytes);
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
