/**
 * Fine-tuning's starting point: a base model named by `model.base`, a GGUF path (relative to the
 * job file) or `oci://HOST/REPO@sha256:…` (a `model.pull` the judge decides, verified into the
 * cache). Only the project's own tiny llama is accepted (llama architecture, the 259-token byte
 * vocabulary, F32/F16 tensors in layout.ts's names and dims): its shape is read from the GGUF
 * metadata, and its weights become the trainer's starting weights (a fresh optimizer).
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { Codes, ForgeError } from "../errors.js";
import { fromHalf, type GgufTensor } from "../inference/tiny-model.js";
import { type Judge, type RegistryClient, resolveModelFile } from "../registry/index.js";
import { VOCAB } from "./dataset.js";
import { paramLayout, weightsFromTensors } from "./layout.js";
import { type Shape, ShapeSchema } from "./spec.js";

export interface BaseSource {
  ref: string;
  /** sha256 of the GGUF file (for a registry model, its weight layer's digest). */
  sha256: string;
  /** The registry model's manifest digest (null for a file). */
  manifest_digest: string | null;
  pull: { evaluation: "ALLOW" | "DENY" | "ESCALATE"; reasons: string[] } | null;
}

export interface BaseModel {
  shape: Shape;
  /** In weights.bin order (layout.ts). */
  weights: Float32Array;
  source: BaseSource;
}

/** Where a base GGUF comes from. */
export interface BaseResolver {
  resolve(ref: string, baseDir: string): Promise<{ path: string; source: Omit<BaseSource, "sha256"> }>;
}

export const localBase: BaseResolver = {
  async resolve(ref, baseDir) {
    if (ref.startsWith("oci://"))
      throw new ForgeError(
        Codes.TRAINING_REFUSED,
        `base '${ref}': this run has no registry client; run it with 'forge-agent train' or give a GGUF path`,
      );
    return {
      path: isAbsolute(ref) ? ref : join(baseDir, ref),
      source: { ref, manifest_digest: null, pull: null },
    };
  },
};

/** `oci://…@sha256:…` through the registry (judged, verified); anything else is a local path. */
export function registryBase(o: {
  client: (registry: string) => RegistryClient;
  judge: Judge;
}): BaseResolver {
  return {
    async resolve(ref, baseDir) {
      if (!ref.startsWith("oci://")) return localBase.resolve(ref, baseDir);
      let pull: BaseSource["pull"] = null;
      const judge: Judge = async (action) => {
        const v = await o.judge(action);
        pull = { evaluation: v.evaluation, reasons: v.reasons };
        return v;
      };
      const m = await resolveModelFile(ref, { client: o.client, judge }, { purpose: "pull", pinned: true });
      return { path: m.path, source: { ref: m.reference, manifest_digest: m.digest, pull } };
    },
  };
}

/** Resolves and reads a base model. FORGE_TRAINING_REFUSED for anything that is not a tiny llama. */
export async function loadBase(
  ref: string,
  baseDir: string,
  resolver: BaseResolver = localBase,
): Promise<BaseModel> {
  const { path, source } = await resolver.resolve(ref, baseDir);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new ForgeError(Codes.TRAINING_REFUSED, `base '${ref}' (${path}): ${(err as Error).message}`);
  }
  const { shape, tensors } = readTinyLlama(bytes, `base '${ref}'`);
  return {
    shape,
    weights: weightsFromTensors(paramLayout(shape), tensors, `base '${ref}'`),
    source: { ...source, sha256: createHash("sha256").update(bytes).digest("hex") },
  };
}

const T = {
  U8: 0,
  I8: 1,
  U16: 2,
  I16: 3,
  U32: 4,
  I32: 5,
  F32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  U64: 10,
  I64: 11,
  F64: 12,
};
const SCALAR: Record<number, number> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};

/** Reads a GGUF v2/v3 file of the project's tiny llama: shape from metadata, F32/F16 tensors. */
export function readTinyLlama(b: Buffer, what: string): { shape: Shape; tensors: Map<string, GgufTensor> } {
  let at = 0;
  const bad = (why: string): never => {
    throw new ForgeError(Codes.TRAINING_REFUSED, `${what}: ${why}`);
  };
  const need = (n: number) => {
    if (at + n > b.length) bad("truncated GGUF");
  };
  const u32 = () => {
    need(4);
    at += 4;
    return b.readUInt32LE(at - 4);
  };
  const u64 = () => {
    need(8);
    const v = b.readBigUInt64LE(at);
    at += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) bad("a size field is too large");
    return Number(v);
  };
  const str = () => {
    const n = u64();
    need(n);
    at += n;
    return b.toString("utf8", at - n, at);
  };
  const scalar = (type: number): unknown => {
    const n = SCALAR[type];
    if (n === undefined) return bad(`unknown metadata type ${type}`);
    need(n);
    at += n;
    const o = at - n;
    switch (type) {
      case T.U32:
        return b.readUInt32LE(o);
      case T.I32:
        return b.readInt32LE(o);
      case T.F32:
        return b.readFloatLE(o);
      case T.U64:
        return Number(b.readBigUInt64LE(o));
      default:
        return null; // not read by this reader (skipped)
    }
  };
  const value = (type: number): unknown => {
    if (type === T.STRING) return str();
    if (type === T.ARRAY) {
      const of = u32();
      const n = u64();
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const v = value(of);
        if (out.length < 4) out.push(v); // only the count of a long array matters here
      }
      return { count: n, head: out };
    }
    return scalar(type);
  };
  if (u32() !== 0x46554747) bad("not a GGUF file (bad magic)");
  const version = u32();
  if (version !== 2 && version !== 3) bad(`GGUF version ${version} is not supported (2 or 3)`);
  const nTensors = u64();
  const nKv = u64();
  const kv = new Map<string, unknown>();
  for (let i = 0; i < nKv; i++) {
    const key = str();
    kv.set(key, value(u32()));
  }
  const num = (k: string): number => {
    const v = kv.get(k);
    return typeof v === "number" ? v : bad(`metadata '${k}' is missing`);
  };
  if (kv.get("general.architecture") !== "llama")
    bad(`architecture '${String(kv.get("general.architecture"))}', not llama`);
  const tokens = kv.get("tokenizer.ggml.tokens") as { count?: number } | undefined;
  if (tokens?.count !== VOCAB)
    bad(`vocabulary of ${tokens?.count ?? "?"} tokens: only the ${VOCAB}-token byte vocabulary is accepted`);
  const heads = num("llama.attention.head_count");
  if (kv.has("llama.attention.head_count_kv") && num("llama.attention.head_count_kv") !== heads)
    bad("grouped-query attention (head_count_kv ≠ head_count) is not the tiny llama");
  const parsed = ShapeSchema.safeParse({
    layers: num("llama.block_count"),
    width: num("llama.embedding_length"),
    heads,
    ffn: num("llama.feed_forward_length"),
    context: num("llama.context_length"),
  });
  if (!parsed.success) bad(`its shape does not fit the tiny llama: ${parsed.error.issues[0]!.message}`);
  const shape = parsed.data!;
  const infos: { name: string; dims: number[]; type: number; offset: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const nd = u32();
    if (nd < 1 || nd > 4) bad(`tensor '${name}' has ${nd} dimensions`);
    const dims = Array.from({ length: nd }, u64);
    const type = u32();
    if (type !== 0 && type !== 1)
      bad(`tensor '${name}' is ggml type ${type}: only F32 (0) and F16 (1) are read`);
    infos.push({ name, dims, type, offset: u64() });
  }
  const align =
    typeof kv.get("general.alignment") === "number" ? (kv.get("general.alignment") as number) : 32;
  const base = Math.ceil(at / align) * align;
  const tensors = new Map<string, GgufTensor>();
  for (const t of infos) {
    const n = t.dims.reduce((x, y) => x * y, 1);
    const start = base + t.offset;
    const len = n * (t.type === 0 ? 4 : 2);
    if (start + len > b.length) bad(`tensor '${t.name}' runs past the end of the file`);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++)
      data[i] = t.type === 0 ? b.readFloatLE(start + 4 * i) : fromHalf(b.readUInt16LE(start + 2 * i));
    tensors.set(t.name, { name: t.name, dims: t.dims, data });
  }
  return { shape, tensors };
}
