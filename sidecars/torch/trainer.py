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
import hashlib
import math
import os
import sys

# Appended, not prepended: sidecars/mlx must never shadow the real `mlx` package.
sys.path.append(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from jsonl_protocol import read_checkpoint, serve  # noqa: E402

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
        E, V, F = self.E, self.V, self.F
        self.params = []  # (name, tensor) in the embedded trainer's order

        def add(name, dims, std):
            t = torch.ones(dims) if std is None else torch.randn(dims, generator=g) * std
            self.params.append((name, t.requires_grad_(True)))

        add("embed", [V, E], 0.02 * 25)
        std = 1 / math.sqrt(E)
        for l in range(self.layers):
            p = f"blk.{l}."
            add(p + "attn_norm", [E], None)
            add(p + "wq", [E, E], std)
            add(p + "wk", [E, E], std)
            add(p + "wv", [E, E], std)
            add(p + "wo", [E, E], std / math.sqrt(2 * self.layers))
            add(p + "ffn_norm", [E], None)
            add(p + "wg", [E, F], std)
            add(p + "wu", [E, F], std)
            add(p + "wd", [F, E], 1 / math.sqrt(F) / math.sqrt(2 * self.layers))
        add("output_norm", [E], None)
        add("output", [E, V], 1 / math.sqrt(E))
        self.by_name = dict(self.params)
        self.m = [torch.zeros_like(t) for _, t in self.params]
        self.s = [torch.zeros_like(t) for _, t in self.params]
        self.t = 0
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

    def weight_bytes(self):
        return b"".join(t.detach().contiguous().numpy().astype("<f4").tobytes() for _, t in self.params)


model = None
pending = None  # the kept loss (its graph) of the last forward
gradients = 0


def handle(req):
    global model, pending, gradients
    op = req["op"]
    if op == "init":
        model = Model(req["shape"], int(req["seed"]))
        return {"parameters": model.count()}
    if model is None:
        raise RuntimeError("init first")
    if op == "forward":
        pending = None
        B, T = req["batch"], req["sequence"]
        if T > model.T:
            raise RuntimeError(f"sequence {T} exceeds the context {model.T}")
        inputs = torch.tensor(req["inputs"], dtype=torch.long).reshape(B, T)
        targets = torch.tensor(req["targets"], dtype=torch.long).reshape(B * T)
        logits = model.logits(inputs).reshape(B * T, model.V)
        loss = torch.nn.functional.cross_entropy(logits, targets)
        poison = req.get("poison")
        if poison is not None:
            loss = loss * (float("nan") if poison == "NaN" else float(poison))
        pending = loss
        value = loss.item()
        return {"loss": value if math.isfinite(value) else str(value)}
    if op == "commit":
        if pending is None:
            raise RuntimeError("commit() without a forward to commit")
        loss, pending = pending, None
        tensors = [t for _, t in model.params]
        grads = torch.autograd.grad(loss, tensors)
        gradients += 1
        norm = torch.sqrt(sum((g * g).sum() for g in grads)).item()
        scale = CLIP / norm if math.isfinite(norm) and norm > CLIP else 1.0
        model.t += 1
        bc1, bc2 = 1 - BETA1**model.t, 1 - BETA2**model.t
        lr = float(req["lr"])
        with torch.no_grad():
            for i, (t, g) in enumerate(zip(tensors, grads)):
                g = g * scale
                model.m[i].mul_(BETA1).add_(g * (1 - BETA1))
                model.s[i].mul_(BETA2).add_(g * g * (1 - BETA2))
                t.sub_((model.m[i] / bc1) / (torch.sqrt(model.s[i] / bc2) + ADAM_EPS) * lr)
        return {"grad_norm": norm if math.isfinite(norm) else str(norm)}
    if op == "reject":
        pending = None
        return {}
    if op == "save":
        d = req["dir"]
        with open(os.path.join(d, "weights.bin"), "wb") as f:
            f.write(model.weight_bytes())
        with open(os.path.join(d, "optimizer.bin"), "wb") as f:
            f.write(torch.tensor([float(model.t)]).numpy().astype("<f4").tobytes())
            for lst in (model.m, model.s):
                for t in lst:
                    f.write(t.contiguous().numpy().astype("<f4").tobytes())
        return {}
    if op == "load":
        d = req["dir"]
        wb, ob = read_checkpoint(d, model.count())
        w = torch.frombuffer(bytearray(wb), dtype=torch.float32)
        o = torch.frombuffer(bytearray(ob), dtype=torch.float32)
        with torch.no_grad():
            at = 0
            for _, t in model.params:
                t.copy_(w[at : at + t.numel()].reshape(t.shape))
                at += t.numel()
            model.t = int(o[0].item())
            at = 1
            for lst in (model.m, model.s):
                for t in lst:
                    t.copy_(o[at : at + t.numel()].reshape(t.shape))
                    at += t.numel()
        pending = None
        return {}
    if op == "digest":
        return {"sha256": hashlib.sha256(model.weight_bytes()).hexdigest(), "gradients": gradients}
    raise RuntimeError(f"unknown op '{op}'")


if __name__ == "__main__":
    serve(handle)
