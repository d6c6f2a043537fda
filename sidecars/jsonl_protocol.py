"""The sidecars' wire: one JSON request a line on stdin, one reply a line on stdout, shared by
sidecars/torch/trainer.py and sidecars/mlx/trainer.py (src/training/torch.ts is the other end)."""
import json
import os
import sys


def serve(handle):
    """Answers each request with {"id", "ok": true, ...handle(req)} or {"id", "ok": false, "error"}."""
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        try:
            reply = {"id": req.get("id"), "ok": True, **handle(req)}
        except Exception as e:  # the loop decides; the sidecar reports
            reply = {"id": req.get("id"), "ok": False, "error": f"{type(e).__name__}: {e}"}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def read_checkpoint(d, total):
    """weights.bin and optimizer.bin of `d` as raw little-endian F32 bytes, checked against `total` parameters."""
    w = open(os.path.join(d, "weights.bin"), "rb").read()
    o = open(os.path.join(d, "optimizer.bin"), "rb").read()
    if len(w) != 4 * total or len(o) != 4 * (1 + 2 * total):
        raise RuntimeError(f"checkpoint in {d} does not fit this model's shape ({len(w) // 4} weights, expected {total})")
    return w, o
