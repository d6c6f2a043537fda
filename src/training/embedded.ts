/**
 * The `embedded` trainer: a llama-shaped model on @tensorflow/tfjs-core with the wasm backend,
 * in-process, needing nothing but npm. The embedding is one-hot × matMul because the wasm backend
 * has no UnsortedSegmentSum (tf.gather's gradient). The loss check runs inside tf.variableGrads:
 * reading the loss and throwing aborts before backward; the aborted tape is disposed (no leak).
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-wasm";
// tfjs-core's Node build registers no gradients, and its per-file ESM gradients do not load in
// Node (extensionless imports): @tensorflow/tfjs's bundle registers the full set on this core.
import "@tensorflow/tfjs";
import { Codes, ForgeError } from "../errors.js";
import { type GgufTensor, gaussian, prng } from "../inference/tiny-model.js";
import type { Batch } from "./dataset.js";
import { ggufTensors, paramLayout } from "./layout.js";
import { fullShape, parameterCount, type Shape } from "./spec.js";
import type { LossVerdict, StepStats, Trainer } from "./trainer.js";

const EPS = 1e-5;
const ROPE_BASE = 10000;
const BETA1 = 0.9;
const BETA2 = 0.95;
const ADAM_EPS = 1e-8;
const CLIP = 1.0;

class Abort extends Error {}

let backendReady: Promise<void> | null = null;

/** Selects the wasm backend once per process. */
export function initBackend(): Promise<void> {
  backendReady ??= (async () => {
    // The tfjs "Hi there" banner and kernel warnings are not ours to print.
    tf.enableProdMode();
    if (!(await tf.setBackend("wasm")))
      throw new ForgeError(Codes.TRAINING_FAILED, "the tfjs wasm backend did not initialise");
    await tf.ready();
  })();
  return backendReady;
}

interface Param {
  /** The name in layout.ts (its GGUF name and layout are there). */
  name: string;
  v: tf.Variable;
}

/** Builds the trainer; weights are seeded Gaussians (norms 1). */
export async function createEmbeddedTrainer(shapeIn: Shape, seed: number): Promise<EmbeddedTrainer> {
  await initBackend();
  return new EmbeddedTrainer(shapeIn, seed);
}

export class EmbeddedTrainer implements Trainer {
  readonly name = "embedded" as const;
  readonly parameters: number;
  gradients = 0;
  private readonly shape: Required<Shape>;
  private readonly params: Param[] = [];
  private m: tf.Variable[] = [];
  private s: tf.Variable[] = [];
  private t = 0;
  private pending: { grads: tf.NamedTensorMap; batch: Batch } | null = null;
  private held: Batch | null = null;
  private readonly ropeCos: tf.Tensor;
  private readonly ropeSin: tf.Tensor;
  private readonly mask: tf.Tensor;
  private ropeT = 0;

  constructor(shapeIn: Shape, seed: number) {
    const s = fullShape(shapeIn);
    this.shape = s;
    this.parameters = parameterCount(s);
    const rand = prng(seed);
    for (const p of paramLayout(s)) {
      const n = p.dims.reduce((a, b) => a * b, 1);
      const data = p.std === null ? new Float32Array(n).fill(1) : gaussian(rand, n, p.std);
      this.params.push({ name: p.name, v: tf.variable(tf.tensor(data, p.dims), true) });
    }
    const { width: E } = s;
    this.m = this.params.map((p) => tf.variable(tf.zerosLike(p.v), false));
    this.s = this.params.map((p) => tf.variable(tf.zerosLike(p.v), false));
    const D = E / s.heads;
    const T = s.context;
    const ang = new Float32Array(T * (D / 2));
    for (let t = 0; t < T; t++)
      for (let i = 0; i < D / 2; i++) ang[t * (D / 2) + i] = t * ROPE_BASE ** ((-2 * i) / D);
    this.ropeCos = tf.tidy(() => tf.cos(tf.tensor(ang, [T, D / 2])));
    this.ropeSin = tf.tidy(() => tf.sin(tf.tensor(ang, [T, D / 2])));
    this.mask = tf.tidy(() => tf.mul(tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), -1e9));
    this.ropeT = T;
  }

  private p(name: string): tf.Variable {
    return this.params.find((x) => x.name === name)!.v;
  }

  /** Logits [B, T, V] for token ids [B, T]. */
  logits(inputs: tf.Tensor2D): tf.Tensor3D {
    const [B, T] = inputs.shape;
    const { width: E, heads: H, vocab: V } = this.shape;
    const D = E / H;
    if (T > this.ropeT)
      throw new ForgeError(Codes.TRAINING_FAILED, `sequence ${T} exceeds the context ${this.ropeT}`);
    const rms = (x: tf.Tensor, w: tf.Tensor) =>
      tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), EPS))), w);
    const cos = tf.reshape(tf.slice(this.ropeCos, [0, 0], [T, D / 2]), [1, 1, T, D / 2]);
    const sin = tf.reshape(tf.slice(this.ropeSin, [0, 0], [T, D / 2]), [1, 1, T, D / 2]);
    const rope = (x: tf.Tensor) => {
      // Adjacent pairs (llama.cpp's NORM mode): (x0, x1) → (x0 cos − x1 sin, x0 sin + x1 cos).
      const pairs = tf.reshape(x, [B, H, T, D / 2, 2]);
      const [a, b] = tf.split(pairs, 2, 4).map((t) => tf.reshape(t, [B, H, T, D / 2]));
      const ra = tf.sub(tf.mul(a!, cos), tf.mul(b!, sin));
      const rb = tf.add(tf.mul(a!, sin), tf.mul(b!, cos));
      return tf.reshape(tf.stack([ra, rb], 4), [B, H, T, D]);
    };
    const heads = (x: tf.Tensor) => tf.transpose(tf.reshape(x, [B, T, H, D]), [0, 2, 1, 3]);
    const mask = tf.slice(this.mask, [0, 0], [T, T]);
    const oneHot = tf.oneHot(tf.reshape(inputs, [B * T]), V);
    let x: tf.Tensor = tf.reshape(tf.matMul(oneHot, this.p("embed")), [B, T, E]);
    for (let l = 0; l < this.shape.layers; l++) {
      const p = `blk.${l}.`;
      const h = tf.reshape(rms(x, this.p(`${p}attn_norm`)), [B * T, E]);
      const q = rope(heads(tf.matMul(h, this.p(`${p}wq`))));
      const k = rope(heads(tf.matMul(h, this.p(`${p}wk`))));
      const v = heads(tf.matMul(h, this.p(`${p}wv`)));
      const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(D)), mask));
      const o = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * T, E]);
      x = tf.add(x, tf.reshape(tf.matMul(o, this.p(`${p}wo`)), [B, T, E]));
      const h2 = tf.reshape(rms(x, this.p(`${p}ffn_norm`)), [B * T, E]);
      const g = tf.matMul(h2, this.p(`${p}wg`));
      const ff = tf.matMul(
        tf.mul(tf.mul(g, tf.sigmoid(g)), tf.matMul(h2, this.p(`${p}wu`))),
        this.p(`${p}wd`),
      );
      x = tf.add(x, tf.reshape(ff, [B, T, E]));
    }
    const out = tf.reshape(rms(x, this.p("output_norm")), [B * T, E]);
    return tf.reshape(tf.matMul(out, this.p("output")), [B, T, V]) as tf.Tensor3D;
  }

  private lossOf(batch: Batch): tf.Scalar {
    const { vocab: V } = this.shape;
    const inputs = tf.tensor2d(batch.inputs, [batch.batch, batch.sequence], "int32");
    const logits = tf.reshape(this.logits(inputs), [batch.batch * batch.sequence, V]);
    const labels = tf.oneHot(tf.tensor1d(batch.targets, "int32"), V);
    const nll = tf.neg(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), -1));
    let loss = tf.mean(nll) as tf.Scalar;
    if (batch.poison !== undefined) loss = tf.mul(loss, batch.poison) as tf.Scalar;
    return loss;
  }

  async forward(batch: Batch, check: (loss: number) => LossVerdict): Promise<number> {
    this.dropPending();
    let value = Number.NaN;
    const vars = this.params.map((p) => p.v);
    try {
      const { value: lossT, grads } = tf.variableGrads(() => {
        const loss = this.lossOf(batch);
        value = loss.dataSync()[0]!;
        if (check(value) === "hold") throw new Abort();
        return loss;
      }, vars);
      lossT.dispose();
      this.gradients++;
      this.pending = { grads, batch };
    } catch (err) {
      if (!(err instanceof Abort)) throw err;
      disposeAbortedTape();
      this.held = batch;
    }
    return value;
  }

  async commit(lr: number): Promise<StepStats> {
    if (this.pending === null && this.held !== null) {
      // An approved review: the gradient was never computed; compute it now.
      const batch = this.held;
      this.held = null;
      await this.forward(batch, () => "backward");
    }
    const pending = this.pending;
    if (pending === null) throw new ForgeError(Codes.TRAINING_FAILED, "commit() without a forward to commit");
    this.pending = null;
    this.t++;
    const grads = this.params.map((p) => pending.grads[p.v.name]!);
    const norm = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))).dataSync()[0]!);
    const scale = Number.isFinite(norm) && norm > CLIP ? CLIP / norm : 1;
    const bc1 = 1 - BETA1 ** this.t;
    const bc2 = 1 - BETA2 ** this.t;
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        const g = tf.mul(grads[i]!, scale);
        const m = this.m[i]!;
        const s = this.s[i]!;
        m.assign(tf.add(tf.mul(m, BETA1), tf.mul(g, 1 - BETA1)));
        s.assign(tf.add(tf.mul(s, BETA2), tf.mul(tf.square(g), 1 - BETA2)));
        const upd = tf.div(tf.div(m, bc1), tf.add(tf.sqrt(tf.div(s, bc2)), ADAM_EPS));
        p.v.assign(tf.sub(p.v, tf.mul(upd, lr)));
      });
    });
    tf.dispose(Object.values(pending.grads));
    return { grad_norm: norm };
  }

  async reject(): Promise<void> {
    this.dropPending();
  }

  private dropPending(): void {
    if (this.pending) tf.dispose(Object.values(this.pending.grads));
    this.pending = null;
    this.held = null;
  }

  private weightBytes(): Buffer {
    return concatF32(this.params.map((p) => p.v.dataSync() as Float32Array));
  }

  async save(dir: string): Promise<void> {
    writeFileSync(join(dir, "weights.bin"), this.weightBytes());
    const opt = concatF32([
      new Float32Array([this.t]),
      ...this.m.map((v) => v.dataSync() as Float32Array),
      ...this.s.map((v) => v.dataSync() as Float32Array),
    ]);
    writeFileSync(join(dir, "optimizer.bin"), opt);
  }

  async load(dir: string): Promise<void> {
    const w = readF32(join(dir, "weights.bin"));
    const o = readF32(join(dir, "optimizer.bin"));
    const total = this.params.reduce((a, p) => a + p.v.size, 0);
    if (w.length !== total || o.length !== 1 + 2 * total)
      throw new ForgeError(
        Codes.TRAINING_FAILED,
        `checkpoint in ${dir} does not fit this model's shape (${w.length} weights, expected ${total})`,
      );
    let at = 0;
    this.params.forEach((p) => {
      p.v.assign(tf.tensor(w.subarray(at, at + p.v.size), p.v.shape));
      at += p.v.size;
    });
    this.t = o[0]!;
    at = 1;
    for (const list of [this.m, this.s])
      for (const v of list) {
        v.assign(tf.tensor(o.subarray(at, at + v.size), v.shape));
        at += v.size;
      }
  }

  async weightsDigest(): Promise<string> {
    return createHash("sha256").update(this.weightBytes()).digest("hex");
  }

  async exportTensors(): Promise<GgufTensor[]> {
    const w = this.weightBytes();
    return ggufTensors(paramLayout(this.shape), new Float32Array(w.buffer, w.byteOffset, w.byteLength / 4));
  }

  /** Next-token probabilities [T, V] for one sequence (the faithfulness test compares these). */
  probabilities(tokens: number[]): Float32Array[] {
    return tf.tidy(() => {
      const probs = tf.softmax(
        tf.reshape(this.logits(tf.tensor2d(tokens, [1, tokens.length], "int32")), [
          tokens.length,
          this.shape.vocab,
        ]),
      );
      const flat = probs.dataSync() as Float32Array;
      const V = this.shape.vocab;
      return tokens.map((_, i) => flat.slice(i * V, (i + 1) * V));
    });
  }

  async close(): Promise<void> {
    this.dropPending();
    tf.dispose([...this.params.map((p) => p.v), ...this.m, ...this.s, this.ropeCos, this.ropeSin, this.mask]);
  }
}

function concatF32(parts: Float32Array[]): Buffer {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const out = new Float32Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/**
 * After an aborted tf.variableGrads the tape still holds the tensors its nodes saved for backward
 * (kept, so no tidy frees them). Free them exactly as the engine does after a completed backward.
 */
function disposeAbortedTape(): void {
  const state = tf.engine().state as unknown as {
    gradientDepth: number;
    activeTape: { saved: tf.Tensor[] }[] | null;
  };
  if (state.gradientDepth !== 0 || state.activeTape === null) return;
  for (const node of state.activeTape) for (const t of node.saved) t.dispose();
  state.activeTape = null;
}
