import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { endianness } from "node:os";
import { dirname, join } from "node:path";

/**
 * A tiny llama-architecture GGUF v3 file with random weights, written from a seed without
 * downloading anything. It is a smoke-test model: llama.cpp loads it and generates tokens at a
 * realistic pace, but the text is noise. Layout follows NOTES.md ("Tiny GGUF model").
 */

export const TINY_MODEL_FILE = "forge-tiny-smoke-test.gguf";
export const TINY_MODEL_NAME = "forge-agent tiny smoke-test model (random weights, not a language model)";

/** The architecture's sizes. Every shape is a valid llama model; only the default is the smoke-test model. */
export interface ModelShape {
  /** llama.embedding_length; a multiple of `heads`. */
  embedding: number;
  /** llama.block_count. */
  blocks: number;
  /** llama.feed_forward_length. */
  feedForward: number;
  /** llama.attention.head_count (= head_count_kv). */
  heads: number;
  /** llama.context_length, tokens. */
  context: number;
}

/** The tiny smoke-test model: about 530 KB, fits in cache. Its bytes must never change. */
export const TINY_SHAPE: Readonly<ModelShape> = Object.freeze({
  embedding: 64,
  blocks: 2,
  feedForward: 128,
  heads: 4,
  context: 256,
});

/**
 * A benchmark-sized shape: about 100 MB of F32 weights (26M parameters), so each generated token
 * reads ~100 MB like a real small model does, instead of the tiny model's cache-resident 0.5 MB.
 * Still random weights.
 */
export const SMALL_SHAPE: Readonly<ModelShape> = Object.freeze({
  embedding: 512,
  blocks: 8,
  feedForward: 1408,
  heads: 8,
  context: 512,
});

const ALIGN = 32;

// GGUF metadata value types.
const T_U32 = 4;
const T_I32 = 5;
const T_F32 = 6;
const T_STRING = 8;
const T_ARRAY = 9;

// tokenizer.ggml.token_type values.
const TOK_NORMAL = 1;
const TOK_UNKNOWN = 2;
const TOK_CONTROL = 3;
const TOK_BYTE = 6;

/** Plain pieces after the byte tokens, so ordinary text does not fall back to bytes entirely. */
const PIECES: string[] = (() => {
  const out = ["▁"];
  const letters = "abcdefghijklmnopqrstuvwxyz";
  for (const c of letters) out.push(c);
  for (const c of letters) out.push(`▁${c}`);
  for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,:;!?'\"-_/(){}[]<>=+*#@$%&|~`^\\") out.push(c);
  for (const w of ["the", "and", "to", "of", "in", "is", "it", "you", "that", "for", "on", "with", "as"])
    out.push(`▁${w}`);
  return out;
})();

/** The byte vocabulary (3 control + 256 byte tokens), plus the plain pieces unless `bytesOnly`. */
function vocab(bytesOnly = false): { tokens: string[]; scores: number[]; types: number[] } {
  const tokens = ["<unk>", "<s>", "</s>"];
  const scores = [0, 0, 0];
  const types = [TOK_UNKNOWN, TOK_CONTROL, TOK_CONTROL];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    scores.push(0);
    types.push(TOK_BYTE);
  }
  if (bytesOnly) return { tokens, scores, types };
  PIECES.forEach((p, i) => {
    tokens.push(p);
    // SentencePiece merges prefer higher scores; longer pieces win over their parts.
    scores.push(-i + 10 * [...p].length);
    types.push(TOK_NORMAL);
  });
  return { tokens, scores, types };
}

const LITTLE_ENDIAN = endianness() === "LE";

const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/** F16 bits → the number (exact: every half is a float); toHalf's inverse. */
export function fromHalf(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** F32 → F16 bits (round to nearest even; overflow → ±Inf; NaN kept). */
function toHalf(x: number): number {
  F32[0] = x;
  const f = U32[0]!;
  const sign = (f >>> 16) & 0x8000;
  const exp = (f >>> 23) & 0xff;
  let mant = f & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rem > halfway || (rem === halfway && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

/** Little-endian byte sink that grows as needed. */
class Sink {
  private buf = Buffer.alloc(1 << 20);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
  }
  i32(v: number): void {
    this.room(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
  }
  u64(v: number): void {
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
  }
  f32(v: number): void {
    this.room(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
  }
  /** F32 values, little-endian (a straight copy on little-endian hosts: 100 MB models stay fast). */
  /** IEEE half precision, round to nearest even. */
  halves(v: Float32Array): void {
    const b = Buffer.alloc(v.length * 2);
    for (let i = 0; i < v.length; i++) b.writeUInt16LE(toHalf(v[i]!), i * 2);
    this.room(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }

  floats(v: Float32Array): void {
    this.room(v.byteLength);
    if (LITTLE_ENDIAN) Buffer.from(v.buffer, v.byteOffset, v.byteLength).copy(this.buf, this.length);
    else for (let i = 0; i < v.length; i++) this.buf.writeFloatLE(v[i]!, this.length + i * 4);
    this.length += v.byteLength;
  }
  str(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.u64(b.length);
    this.room(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }
  pad(align: number): void {
    const n = (align - (this.length % align)) % align;
    this.room(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
  }
  bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

type Kv =
  | { key: string; type: typeof T_U32 | typeof T_I32 | typeof T_F32; value: number }
  | { key: string; type: typeof T_STRING; value: string }
  | { key: string; type: typeof T_ARRAY; of: typeof T_STRING; value: string[] }
  | { key: string; type: typeof T_ARRAY; of: typeof T_F32 | typeof T_I32; value: number[] };

function writeKv(s: Sink, kv: Kv): void {
  s.str(kv.key);
  s.u32(kv.type);
  switch (kv.type) {
    case T_U32:
      s.u32(kv.value);
      return;
    case T_I32:
      s.i32(kv.value);
      return;
    case T_F32:
      s.f32(kv.value);
      return;
    case T_STRING:
      s.str(kv.value);
      return;
    case T_ARRAY:
      s.u32(kv.of);
      s.u64(kv.value.length);
      for (const v of kv.value) {
        if (kv.of === T_STRING) s.str(v as string);
        else if (kv.of === T_F32) s.f32(v as number);
        else s.i32(v as number);
      }
  }
}

/** mulberry32: a small, well-mixed 32-bit PRNG; enough for reproducible weights. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples by Box-Muller, scaled by `std`. */
export function gaussian(rand: () => number, n: number, std: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

interface Tensor {
  name: string;
  /** ggml order: fastest-varying dimension first. */
  dims: number[];
  data: Float32Array;
}

function tensors(seed: number, V: number, shape: ModelShape): Tensor[] {
  const { embedding: E, feedForward: F, blocks } = shape;
  const rand = prng(seed);
  const ones = (n: number) => new Float32Array(n).fill(1);
  const w = (dims: number[], std = 0.08): Tensor["data"] =>
    gaussian(
      rand,
      dims.reduce((a, b) => a * b, 1),
      std,
    );
  const out: Tensor[] = [
    { name: "token_embd.weight", dims: [E, V], data: w([E, V], 0.5) },
    { name: "output_norm.weight", dims: [E], data: ones(E) },
    { name: "output.weight", dims: [E, V], data: w([E, V], 0.3) },
  ];
  for (let b = 0; b < blocks; b++) {
    const p = `blk.${b}.`;
    out.push(
      { name: `${p}attn_norm.weight`, dims: [E], data: ones(E) },
      { name: `${p}attn_q.weight`, dims: [E, E], data: w([E, E]) },
      { name: `${p}attn_k.weight`, dims: [E, E], data: w([E, E]) },
      { name: `${p}attn_v.weight`, dims: [E, E], data: w([E, E]) },
      { name: `${p}attn_output.weight`, dims: [E, E], data: w([E, E]) },
      { name: `${p}ffn_norm.weight`, dims: [E], data: ones(E) },
      { name: `${p}ffn_gate.weight`, dims: [E, F], data: w([E, F]) },
      { name: `${p}ffn_up.weight`, dims: [E, F], data: w([E, F]) },
      { name: `${p}ffn_down.weight`, dims: [F, E], data: w([F, E]) },
    );
  }
  return out;
}

/**
 * The GGUF bytes of a random-weight model for `seed` and `shape` (same inputs, same bytes).
 * Default shape: the tiny smoke-test model.
 */
export function tinyModelBytes(seed = 0, shape: ModelShape = TINY_SHAPE): Buffer {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new RangeError(`seed must be a whole number in 0..2^32-1, got ${seed}`);
  checkShape(shape);
  const { embedding: E, blocks, feedForward: F, heads, context } = shape;
  const tiny = isTiny(shape);
  return llamaGgufBytes({
    shape,
    name: TINY_MODEL_NAME,
    description: `Generated by forge-agent from seed ${seed}${tiny ? "" : ` in shape E=${E}, ${blocks} blocks, F=${F}, ${heads} heads, context ${context}`} for smoke tests and benchmarks. Random weights: its output is noise.`,
    tensors: tensors(seed, vocab().tokens.length, shape),
  });
}

/** One tensor for the GGUF writer: ggml dims (fastest first) and F32 data. */
export interface GgufTensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

/**
 * A llama GGUF v3 file for `tensors` (in file order). `f16` stores 2-D weights as F16; 1-D
 * tensors (norms) stay F32, since llama.cpp aborts on F16 norms. `bytesOnly`: the vocabulary is
 * the 259 control + byte tokens a byte-level trainer uses.
 */
export function llamaGgufBytes(o: {
  shape: ModelShape;
  name: string;
  description: string;
  tensors: GgufTensor[];
  f16?: boolean;
  bytesOnly?: boolean;
}): Buffer {
  checkShape(o.shape);
  const { embedding: E, blocks, feedForward: F, heads, context } = o.shape;
  const { tokens, scores, types } = vocab(o.bytesOnly ?? false);
  const kvs: Kv[] = [
    { key: "general.architecture", type: T_STRING, value: "llama" },
    { key: "general.name", type: T_STRING, value: o.name },
    { key: "general.description", type: T_STRING, value: o.description },
    { key: "general.alignment", type: T_U32, value: ALIGN },
    // 0 = all F32, 1 = mostly F16.
    { key: "general.file_type", type: T_U32, value: o.f16 ? 1 : 0 },
    { key: "llama.context_length", type: T_U32, value: context },
    { key: "llama.embedding_length", type: T_U32, value: E },
    { key: "llama.block_count", type: T_U32, value: blocks },
    { key: "llama.feed_forward_length", type: T_U32, value: F },
    { key: "llama.attention.head_count", type: T_U32, value: heads },
    { key: "llama.attention.head_count_kv", type: T_U32, value: heads },
    { key: "llama.attention.layer_norm_rms_epsilon", type: T_F32, value: 1e-5 },
    { key: "llama.rope.dimension_count", type: T_U32, value: E / heads },
    { key: "tokenizer.ggml.model", type: T_STRING, value: "llama" },
    { key: "tokenizer.ggml.tokens", type: T_ARRAY, of: T_STRING, value: tokens },
    { key: "tokenizer.ggml.scores", type: T_ARRAY, of: T_F32, value: scores },
    { key: "tokenizer.ggml.token_type", type: T_ARRAY, of: T_I32, value: types },
    { key: "tokenizer.ggml.unknown_token_id", type: T_U32, value: 0 },
    { key: "tokenizer.ggml.bos_token_id", type: T_U32, value: 1 },
    { key: "tokenizer.ggml.eos_token_id", type: T_U32, value: 2 },
  ];
  const ts = o.tensors;
  const half = (t: GgufTensor) => o.f16 === true && t.dims.length === 2;
  const s = new Sink();
  s.u32(0x46554747); // "GGUF" read as little-endian u32
  s.u32(3);
  s.u64(ts.length);
  s.u64(kvs.length);
  for (const kv of kvs) writeKv(s, kv);
  let offset = 0;
  for (const t of ts) {
    s.str(t.name);
    s.u32(t.dims.length);
    for (const d of t.dims) s.u64(d);
    s.u32(half(t) ? 1 : 0); // ggml type: 0 F32, 1 F16
    s.u64(offset);
    offset += Math.ceil((t.data.length * (half(t) ? 2 : 4)) / ALIGN) * ALIGN;
  }
  s.pad(ALIGN);
  for (const t of ts) {
    if (half(t)) s.halves(t.data);
    else s.floats(t.data);
    s.pad(ALIGN);
  }
  return s.bytes();
}

function isTiny(shape: ModelShape): boolean {
  return (Object.keys(TINY_SHAPE) as (keyof ModelShape)[]).every((k) => shape[k] === TINY_SHAPE[k]);
}

/** Sizes llama.cpp accepts: whole, positive, embedding split evenly into heads of even width (RoPE). */
function checkShape(shape: ModelShape): void {
  for (const k of Object.keys(TINY_SHAPE) as (keyof ModelShape)[]) {
    const v = shape[k];
    if (!Number.isInteger(v) || v < 1 || v > 1 << 16)
      throw new RangeError(`shape.${k} must be a whole number in 1..65536, got ${v}`);
  }
  if (shape.embedding % shape.heads !== 0 || (shape.embedding / shape.heads) % 2 !== 0)
    throw new RangeError(
      `shape.embedding (${shape.embedding}) must split into ${shape.heads} heads of even width`,
    );
}

/** Writes the model (default: the tiny shape, seed 0) to `path` atomically (temp file + rename). */
export function writeTinyModel(path: string, opts: { seed?: number; shape?: ModelShape } = {}): string {
  const bytes = tinyModelBytes(opts.seed ?? 0, opts.shape);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, bytes);
  renameSync(tmp, path);
  return path;
}

/** The tiny model's path in `dir`, generating it (seed 0) when it is missing. */
export function ensureTinyModel(dir: string): string {
  const path = join(dir, TINY_MODEL_FILE);
  if (!existsSync(path)) writeTinyModel(path, { seed: 0 });
  return path;
}
