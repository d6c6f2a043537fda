"""The sidecars' wire and bookkeeping, shared by sidecars/torch/trainer.py and sidecars/mlx/trainer.py
(src/training/torch.ts is the other end): one JSON request a line on stdin, one reply a line on
stdout. Everything here is the same for every framework; a trainer supplies only the math (a
`Model`, below) and calls serve_trainer(Model)."""
import errno
import hashlib
import json
import math
import os
import resource
import sys

# ru_maxrss is KiB on Linux and bytes on macOS (getrusage(2) on each).
_MAXRSS_BYTES = 1 if sys.platform == "darwin" else 1024


def peak_rss_mb():
    """This process's peak resident memory, MB (one getrusage): the model, its graph and the optimizer."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _MAXRSS_BYTES / 1e6


def serve(handle):
    """Answers each request with {"id", "ok": true, ...handle(req)} or {"id", "ok": false, "error"}
    (and "errno", its symbolic name, when the error is an OSError)."""
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            reply = {"id": req.get("id"), "ok": True, **handle(req)}
        except Exception as e:  # the loop decides; the sidecar reports
            reply = {"id": req.get("id"), "ok": False, "error": f"{type(e).__name__}: {e}"}
            if isinstance(e, OSError) and e.errno in errno.errorcode:
                reply["errno"] = errno.errorcode[e.errno]  # e.g. ENOSPC: the loop names a full disk
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def layout(shape):
    """src/training/layout.ts paramLayout: (name, dims, std or None for ones) in weights.bin order."""
    E, V, L = shape["width"], shape.get("vocab", 259), shape["layers"]
    F = shape.get("ffn") or 2 * E
    std = 1 / math.sqrt(E)
    out = [("embed", [V, E], 0.02 * 25)]
    for l in range(L):
        p = f"blk.{l}."
        out += [
            (p + "attn_norm", [E], None),
            (p + "wq", [E, E], std),
            (p + "wk", [E, E], std),
            (p + "wv", [E, E], std),
            (p + "wo", [E, E], std / math.sqrt(2 * L)),
            (p + "ffn_norm", [E], None),
            (p + "wg", [E, F], std),
            (p + "wu", [E, F], std),
            (p + "wd", [F, E], 1 / math.sqrt(F) / math.sqrt(2 * L)),
        ]
    out += [("output_norm", [E], None), ("output", [E, V], 1 / math.sqrt(E))]
    return out


def read_checkpoint(d, total):
    """weights.bin and optimizer.bin of `d` as raw little-endian F32 bytes, checked against `total` parameters."""
    w = open(os.path.join(d, "weights.bin"), "rb").read()
    o = open(os.path.join(d, "optimizer.bin"), "rb").read()
    if len(w) != 4 * total or len(o) != 4 * (1 + 2 * total):
        raise RuntimeError(f"checkpoint in {d} does not fit this model's shape ({len(w) // 4} weights, expected {total})")
    return w, o


def finite_or_text(x):
    """JSON has no NaN or Infinity: a non-finite value travels as its text ("nan", "inf")."""
    return x if math.isfinite(x) else str(x)


def serve_trainer(Model):
    """Serves the step protocol of src/training/trainer.ts with `Model(shape, seed)`, which has:

    T (its context), count() -> parameters,
    forward(inputs, targets, B, T, scale) -> loss   the loss alone: no gradient is computed, and
                                                    the model keeps what commit needs of the batch
    commit(lr) -> grad norm                          backward + clip + Adam on the kept batch
    drop()                                           forget the kept batch (no gradient)
    weight_bytes(), optimizer_bytes() -> bytes       weights.bin, optimizer.bin (F32 little-endian)
    load(weights, optimizer)                         the same bytes back

    The requests:
      init {shape, seed}                                   -> {parameters}
      forward {batch, sequence, inputs, targets, poison?}  -> {loss, peak_rss_mb}
      commit {lr}                                          -> {grad_norm, peak_rss_mb}
      reject {}                                            -> {}
      save {dir} / load {dir}                              -> {}
      digest {}                                            -> {sha256, gradients}
    """
    state = {"model": None, "pending": False, "gradients": 0}

    def handle(req):
        op = req["op"]
        if op == "init":
            state["model"] = Model(req["shape"], int(req["seed"]))
            return {"parameters": state["model"].count()}
        model = state["model"]
        if model is None:
            raise RuntimeError("init first")
        if op == "forward":
            model.drop()
            state["pending"] = False
            B, T = req["batch"], req["sequence"]
            if T > model.T:
                raise RuntimeError(f"sequence {T} exceeds the context {model.T}")
            poison = req.get("poison")  # a drill: the loss is scaled, or made NaN
            scale = 1.0 if poison is None else (float("nan") if poison == "NaN" else float(poison))
            loss = model.forward(req["inputs"], req["targets"], B, T, scale)
            state["pending"] = True
            return {"loss": finite_or_text(loss), "peak_rss_mb": peak_rss_mb()}
        if op == "commit":
            if not state["pending"]:
                raise RuntimeError("commit() without a forward to commit")
            state["pending"] = False
            norm = model.commit(float(req["lr"]))
            state["gradients"] += 1
            return {"grad_norm": finite_or_text(norm), "peak_rss_mb": peak_rss_mb()}
        if op == "reject":
            model.drop()
            state["pending"] = False
            return {}
        if op == "save":
            d = req["dir"]
            with open(os.path.join(d, "weights.bin"), "wb") as f:
                f.write(model.weight_bytes())
            with open(os.path.join(d, "optimizer.bin"), "wb") as f:
                f.write(model.optimizer_bytes())
            return {}
        if op == "load":
            model.load(*read_checkpoint(req["dir"], model.count()))
            model.drop()
            state["pending"] = False
            return {}
        if op == "digest":
            return {"sha256": hashlib.sha256(model.weight_bytes()).hexdigest(), "gradients": state["gradients"]}
        raise RuntimeError(f"unknown op '{op}'")

    serve(handle)
