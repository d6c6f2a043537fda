#!/usr/bin/env python3
"""forge-agent's `mlx` trainer (Apple Silicon): the step protocol of src/training/trainer.ts as JSON
lines over stdio, the same messages as sidecars/torch/trainer.py. NOT RUN on the machine this was
written on (Linux, no MLX): it is written against MLX's public API (mlx.core, mlx.nn) only.

Why not mlx_lm.lora: it compiles value-and-grad together with the optimizer update, so nothing can
be decided between the loss and the gradient. Here `forward` evaluates the loss alone (no
gradient graph is built: MLX is lazy, and only mx.eval(loss) runs), the TypeScript loop decides,
and `commit` runs value_and_grad + clip + Adam on the same batch; `reject` drops the batch.

  init {shape, seed} -> {parameters}
  forward {batch, sequence, inputs, targets, poison?} -> {loss}
  commit {lr} -> {grad_norm}
  reject {} -> {}
  save {dir} / load {dir} -> {}    (weights.bin, optimizer.bin: F32 little-endian, the embedded format)
  digest {} -> {sha256, gradients}
"""
import math
import os
import sys

# Appended, not prepended: sidecars/mlx must never shadow the real `mlx` package.
sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from jsonl_protocol import layout, serve_trainer  # noqa: E402

import mlx.core as mx
import numpy as np

EPS = 1e-5
ROPE_BASE = 10000.0
BETA1, BETA2, ADAM_EPS, CLIP = 0.9, 0.95, 1e-8, 1.0


class Model:
    def __init__(self, shape, seed):
        self.shape = shape
        self.E, self.H, self.T = shape["width"], shape["heads"], shape["context"]
        self.V = shape.get("vocab", 259)
        self.L = shape["layers"]
        specs = layout(shape)
        keys = mx.random.split(mx.random.key(seed), len(specs))
        self.names = [name for name, _, _ in specs]
        self.params = {
            name: mx.ones(dims) if std is None else mx.random.normal(dims, key=keys[i]) * std
            for i, (name, dims, std) in enumerate(specs)
        }
        self.m = {k: mx.zeros_like(v) for k, v in self.params.items()}
        self.s = {k: mx.zeros_like(v) for k, v in self.params.items()}
        self.t = 0
        self.pending = None  # what commit() needs of the last forward
        D = self.E // self.H
        pos = mx.arange(self.T, dtype=mx.float32)[:, None]
        inv = ROPE_BASE ** (-2 * mx.arange(D // 2, dtype=mx.float32) / D)
        ang = pos * inv[None, :]
        self.cos, self.sin = mx.cos(ang), mx.sin(ang)
        self.mask = mx.triu(mx.full((self.T, self.T), -1e9), k=1)

    def count(self):
        return sum(v.size for v in self.params.values())

    def loss(self, params, inputs, targets):
        B, T = inputs.shape
        E, H = self.E, self.H
        D = E // H
        w = params

        def rms(x, weight):
            return x * mx.rsqrt(mx.mean(x * x, axis=-1, keepdims=True) + EPS) * weight

        cos, sin = self.cos[:T][None, None], self.sin[:T][None, None]

        def rope(x):  # adjacent pairs, llama.cpp's NORM mode (as embedded.ts and the torch sidecar)
            pairs = x.reshape(B, H, T, D // 2, 2)
            a, b = pairs[..., 0], pairs[..., 1]
            return mx.stack([a * cos - b * sin, a * sin + b * cos], axis=-1).reshape(B, H, T, D)

        def heads(x):
            return x.reshape(B, T, H, D).transpose(0, 2, 1, 3)

        x = w["embed"][inputs]
        for l in range(self.L):
            p = f"blk.{l}."
            h = rms(x, w[p + "attn_norm"])
            q, k, v = rope(heads(h @ w[p + "wq"])), rope(heads(h @ w[p + "wk"])), heads(h @ w[p + "wv"])
            att = mx.softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(D) + self.mask[:T, :T], axis=-1)
            x = x + (att @ v).transpose(0, 2, 1, 3).reshape(B, T, E) @ w[p + "wo"]
            h2 = rms(x, w[p + "ffn_norm"])
            g = h2 @ w[p + "wg"]
            x = x + ((g * mx.sigmoid(g)) * (h2 @ w[p + "wu"])) @ w[p + "wd"]
        logits = (rms(x, w["output_norm"]) @ w["output"]).reshape(B * T, self.V)
        logz = mx.logsumexp(logits, axis=-1)
        picked = mx.take_along_axis(logits, targets.reshape(-1, 1), axis=-1).squeeze(-1)
        return mx.mean(logz - picked)

    def forward(self, inputs, targets, B, T, scale):
        inputs = mx.array(inputs, dtype=mx.int32).reshape(B, T)
        targets = mx.array(targets, dtype=mx.int32).reshape(B * T)
        loss = self.loss(self.params, inputs, targets) * scale
        mx.eval(loss)  # the loss only: no gradient has been computed
        self.pending = (inputs, targets, scale)
        return loss.item()

    def commit(self, lr):
        inputs, targets, scale = self.pending
        self.pending = None
        _, grads = mx.value_and_grad(lambda p: self.loss(p, inputs, targets) * scale)(self.params)
        norm = math.sqrt(sum(mx.sum(g * g).item() for g in grads.values()))
        clip = CLIP / norm if math.isfinite(norm) and norm > CLIP else 1.0
        self.t += 1
        bc1, bc2 = 1 - BETA1**self.t, 1 - BETA2**self.t
        for k in self.names:
            g = grads[k] * clip
            self.m[k] = self.m[k] * BETA1 + g * (1 - BETA1)
            self.s[k] = self.s[k] * BETA2 + g * g * (1 - BETA2)
            self.params[k] = self.params[k] - (self.m[k] / bc1) / (mx.sqrt(self.s[k] / bc2) + ADAM_EPS) * lr
        mx.eval(self.params, self.m, self.s)
        return norm

    def drop(self):
        self.pending = None

    def weight_bytes(self):
        return b"".join(np.array(self.params[n], dtype="<f4").tobytes() for n in self.names)

    def optimizer_bytes(self):
        moments = [np.array(store[n], dtype="<f4").tobytes() for store in (self.m, self.s) for n in self.names]
        return np.array([float(self.t)], dtype="<f4").tobytes() + b"".join(moments)

    def load(self, wb, ob):
        w = np.frombuffer(wb, dtype="<f4")
        o = np.frombuffer(ob, dtype="<f4")
        at = 0
        for n in self.names:
            size = self.params[n].size
            self.params[n] = mx.array(w[at : at + size].reshape(self.params[n].shape))
            at += size
        self.t = int(o[0])
        at = 1
        for store in (self.m, self.s):
            for n in self.names:
                size = store[n].size
                store[n] = mx.array(o[at : at + size].reshape(store[n].shape))
                at += size


if __name__ == "__main__":
    serve_trainer(Model)
