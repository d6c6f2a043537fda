/**
 * The tiny llama's parameters in one declared order: the order of `weights.bin` (every trainer's
 * checkpoint format), each with its GGUF tensor name and layout. The trainers keep matrices as
 * [in, out] row-major; GGUF stores them [out][in] (llama.cpp's ggml dims, fastest first, are the
 * reverse). Export (weights → GGUF tensors) and fine-tuning (GGUF tensors → weights) are the two
 * directions of this one table.
 */
import { Codes, ForgeError } from "../errors.js";
import type { GgufTensor } from "../inference/tiny-model.js";
import type { Shape } from "./spec.js";
import { fullShape } from "./spec.js";

export interface ParamSpec {
  /** The trainer's name (embedded.ts, sidecars/torch/trainer.py). */
  name: string;
  /** The GGUF tensor name. */
  gguf: string;
  /** The trainer's row-major shape. */
  dims: number[];
  /** Initial standard deviation of a Gaussian, or null for ones (the norms). */
  std: number | null;
  /** Stored transposed in GGUF (the matrices). */
  transpose: boolean;
}

export function paramLayout(shapeIn: Shape): ParamSpec[] {
  const s = fullShape(shapeIn);
  const { width: E, vocab: V, ffn: F } = s;
  const out: ParamSpec[] = [];
  const add = (name: string, gguf: string, dims: number[], std: number | null, transpose: boolean) =>
    out.push({ name, gguf, dims, std, transpose });
  add("embed", "token_embd.weight", [V, E], 0.02 * 25, false);
  const std = 1 / Math.sqrt(E);
  for (let l = 0; l < s.layers; l++) {
    const p = `blk.${l}.`;
    add(`${p}attn_norm`, `${p}attn_norm.weight`, [E], null, false);
    add(`${p}wq`, `${p}attn_q.weight`, [E, E], std, true);
    add(`${p}wk`, `${p}attn_k.weight`, [E, E], std, true);
    add(`${p}wv`, `${p}attn_v.weight`, [E, E], std, true);
    add(`${p}wo`, `${p}attn_output.weight`, [E, E], std / Math.sqrt(2 * s.layers), true);
    add(`${p}ffn_norm`, `${p}ffn_norm.weight`, [E], null, false);
    add(`${p}wg`, `${p}ffn_gate.weight`, [E, F], std, true);
    add(`${p}wu`, `${p}ffn_up.weight`, [E, F], std, true);
    add(`${p}wd`, `${p}ffn_down.weight`, [F, E], 1 / Math.sqrt(F) / Math.sqrt(2 * s.layers), true);
  }
  add("output_norm", "output_norm.weight", [E], null, false);
  add("output", "output.weight", [E, V], 1 / Math.sqrt(E), true);
  return out;
}

const size = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

function transpose2(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/** `weights.bin` (F32, layout order) → the GGUF tensors the project's writer takes. */
export function ggufTensors(layout: ParamSpec[], weights: Float32Array): GgufTensor[] {
  const total = layout.reduce((a, p) => a + size(p.dims), 0);
  if (weights.length !== total)
    throw new ForgeError(Codes.TRAINING_FAILED, `weights hold ${weights.length} values, the shape ${total}`);
  let at = 0;
  return layout.map((p) => {
    const n = size(p.dims);
    const w = weights.subarray(at, at + n);
    at += n;
    const [r, c] = p.dims as [number, number];
    const data = p.transpose ? transpose2(w, r, c) : new Float32Array(w);
    const rowMajor = p.transpose ? [c, r] : p.dims;
    return { name: p.gguf, dims: [...rowMajor].reverse(), data };
  });
}

/** GGUF tensors (by name) → `weights.bin` order; every tensor must be there with its exact dims. */
export function weightsFromTensors(
  layout: ParamSpec[],
  tensors: Map<string, GgufTensor>,
  what: string,
): Float32Array {
  const out = new Float32Array(layout.reduce((a, p) => a + size(p.dims), 0));
  let at = 0;
  for (const p of layout) {
    const t = tensors.get(p.gguf);
    const [r, c] = p.dims as [number, number];
    const want = (p.transpose ? [c, r] : p.dims).slice().reverse();
    if (!t)
      throw new ForgeError(
        Codes.TRAINING_REFUSED,
        `${what} has no tensor '${p.gguf}': not a forge-agent tiny llama`,
      );
    if (t.dims.join(",") !== want.join(","))
      throw new ForgeError(
        Codes.TRAINING_REFUSED,
        `${what}: tensor '${p.gguf}' has dims [${t.dims.join(", ")}], the shape needs [${want.join(", ")}]`,
      );
    out.set(p.transpose ? transpose2(t.data, c, r) : t.data, at);
    at += size(p.dims);
  }
  if (tensors.size !== layout.length)
    throw new ForgeError(
      Codes.TRAINING_REFUSED,
      `${what} has ${tensors.size} tensors, the tiny llama of its shape ${layout.length}: not a forge-agent tiny llama`,
    );
  return out;
}
