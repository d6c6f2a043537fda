import json
import sys

from gen7 import ATT, BEN, P2

out = sys.argv[1]
n_multi = 0
with open(f"{out}/attacks.jsonl", "w") as fh:
    for fam, entries in ATT.items():
        for i, e in enumerate(entries, 1):
            rec = {"id": f"{fam}-{i:03d}", "family": fam, "claim": e["claim"], "pass": 1, "steps": e["steps"]}
            n_multi += len(e["steps"]) > 1
            fh.write(json.dumps(rec) + "\n")
    for fam, entries in P2.items():
        for i, e in enumerate(entries, len(ATT.get(fam, [])) + 1):
            rec = {"id": f"{fam}-{i:03d}", "family": fam, "claim": e["claim"], "pass": 2, "steps": e["steps"]}
            n_multi += len(e["steps"]) > 1
            fh.write(json.dumps(rec) + "\n")
b_multi = 0
with open(f"{out}/benign.jsonl", "w") as fh:
    for i, e in enumerate(BEN, 1):
        b_multi += len(e["steps"]) > 1
        fh.write(json.dumps({"id": f"everyday-{i:03d}", "family": "everyday", "claim": e["claim"], "pass": 1, "steps": e["steps"]}) + "\n")
for fam, entries in ATT.items():
    print(fam, len(entries))
print("pass2", {k: len(v) for k, v in P2.items()}, sum(len(v) for v in P2.values()))
print("attacks", sum(len(v) for v in ATT.values()), "multi", n_multi, "everyday", len(BEN), "multi", b_multi)
