#!/usr/bin/python3
"""forge-agent's `torch` trainer: the step protocol of src/training/trainer.ts as JSON lines over stdio.

One request a line on stdin, one reply a line on stdout: {"id", "ok": true, ...} or
{"id", "ok": false, "error"}. The TypeScript loop owns every decision; this process only executes:

  init {shape, seed}                -> {parameters}
  forward {batch, sequence, inputs, targets, poison?} -> {loss}   (graph kept, no gradient yet)
  commit {lr}                       -> {grad_norm}  (backward + clip + Adam, on the kept graph)
  reject {}                         -> {}           (the graph is dropped: no gradient computed)
  save {dir} / load {dir}           -> {}           (weights.bin, optimizer.bin: F32, little-endian)
  digest {}                         -> {sha256, gradients}

The model is the embedded trainer's (src/training/embedded.ts): a llama with RMSNorm, attention
with RoPE in adjacent-pair mode, a SwiGLU FFN, byte vocabulary; the parameters are kept in the
same order and [in, out] layout, and the optimizer (Adam, beta 0.9/0.95, eps 1e-8, clip 1.0) the
same, so weights.bin and optimizer.bin have the embedded trainer's format. Debian's python3-torch
(1.13), one thread.
"""
import math
import os
import sys

# Appended, not prepended: sidecars/mlx must never shadow the real `mlx` package.
sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from jsonl_protocol import layout, serve_trainer  # noqa: E402

import torch

torch.set_num_threads(1)

EPS = 1e-5
ROPE_BASE = 10000.0
BETA1, BETA2, ADAM_EPS, CLIP = 0.9, 0.95, 1e-8, 1.0


class Model:
    def __init__(self, shape, seed):
        self.layers = shape["layers"]
        self.E = shape["width"]
        self.H = shape["heads"]
        self.V = shape.get("vocab", 259)
        self.F = shape.get("ffn") or 2 * self.E
        self.T = shape["context"]
        g = torch.Generator().manual_seed(seed)
        E = self.E
        self.params = []  # (name, tensor) in the embedded trainer's order

        def add(name, dims, std):
            t = torch.ones(dims) if std is None else torch.randn(dims, generator=g) * std
            self.params.append((name, t.requires_grad_(True)))

        for name, dims, std in layout(shape):
            add(name, dims, std)
        self.by_name = dict(self.params)
        self.m = [torch.zeros_like(t) for _, t in self.params]
        self.s = [torch.zeros_like(t) for _, t in self.params]
        self.t = 0
        self.pending = None  # what commit() needs of the last forward
        D = E // self.H
        pos = torch.arange(self.T, dtype=torch.float32)[:, None]
        inv = ROPE_BASE ** (-2 * torch.arange(D // 2, dtype=torch.float32) / D)
        ang = pos * inv[None, :]
        self.cos, self.sin = torch.cos(ang), torch.sin(ang)
        self.mask = torch.triu(torch.full((self.T, self.T), -1e9), diagonal=1)

    def count(self):
        return sum(t.numel() for _, t in self.params)

    def logits(self, inputs):
        B, T = inputs.shape
        E, H = self.E, self.H
        D = E // H
        w = self.by_name

        def rms(x, weight):
            return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS) * weight

        cos, sin = self.cos[:T][None, None], self.sin[:T][None, None]

        def rope(x):  # adjacent pairs: (x0, x1) -> (x0 cos - x1 sin, x0 sin + x1 cos)
            pairs = x.reshape(B, H, T, D // 2, 2)
            a, b = pairs[..., 0], pairs[..., 1]
            return torch.stack([a * cos - b * sin, a * sin + b * cos], -1).reshape(B, H, T, D)

        def heads(x):
            return x.reshape(B, T, H, D).transpose(1, 2)

        x = w["embed"][inputs]
        for l in range(self.layers):
            p = f"blk.{l}."
            h = rms(x, w[p + "attn_norm"])
            q, k, v = rope(heads(h @ w[p + "wq"])), rope(heads(h @ w[p + "wk"])), heads(h @ w[p + "wv"])
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D) + self.mask[:T, :T], -1)
            x = x + (att @ v).transpose(1, 2).reshape(B, T, E) @ w[p + "wo"]
            h2 = rms(x, w[p + "ffn_norm"])
            g = h2 @ w[p + "wg"]
            x = x + (torch.nn.functional.silu(g) * (h2 @ w[p + "wu"])) @ w[p + "wd"]
        return rms(x, w["output_norm"]) @ w["output"]

    def forward(self, inputs, targets, B, T, scale):
        inputs = torch.tensor(inputs, dtype=torch.long).reshape(B, T)
        targets = torch.tensor(targets, dtype=torch.long).reshape(B * T)
        logits = self.logits(inputs).reshape(B * T, self.V)
        loss = torch.nn.functional.cross_entropy(logits, targets) * scale
        self.pending = loss  # its graph: commit differentiates it, drop frees it
        return loss.item()

    def commit(self, lr):
        loss, self.pending = self.pending, None
        tensors = [t for _, t in self.params]
        grads = torch.autograd.grad(loss, tensors)
        norm = torch.sqrt(sum((g * g).sum() for g in grads)).item()
        scale = CLIP / norm if math.isfinite(norm) and norm > CLIP else 1.0
        self.t += 1
        bc1, bc2 = 1 - BETA1**self.t, 1 - BETA2**self.t
        with torch.no_grad():
            for i, (t, g) in enumerate(zip(tensors, grads)):
                g = g * scale
                self.m[i].mul_(BETA1).add_(g * (1 - BETA1))
                self.s[i].mul_(BETA2).add_(g * g * (1 - BETA2))
                t.sub_((self.m[i] / bc1) / (torch.sqrt(self.s[i] / bc2) + ADAM_EPS) * lr)
        return norm

    def drop(self):
        self.pending = None

    def weight_bytes(self):
        return b"".join(t.detach().contiguous().numpy().astype("<f4").tobytes() for _, t in self.params)

    def optimizer_bytes(self):
        moments = [t.contiguous().numpy().astype("<f4").tobytes() for t in self.m + self.s]
        return torch.tensor([float(self.t)]).numpy().astype("<f4").tobytes() + b"".join(moments)

    def load(self, wb, ob):
        w = torch.frombuffer(bytearray(wb), dtype=torch.float32)
        o = torch.frombuffer(bytearray(ob), dtype=torch.float32)
        with torch.no_grad():
            at = 0
            for _, t in self.params:
                t.copy_(w[at : at + t.numel()].reshape(t.shape))
                at += t.numel()
            self.t = int(o[0].item())
            at = 1
            for t in self.m + self.s:
                t.copy_(o[at : at + t.numel()].reshape(t.shape))
                at += t.numel()


if __name__ == "__main__":
    serve_trainer(Model)
