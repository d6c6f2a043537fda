import json
import sys

from gen6 import ATT, BEN

out = sys.argv[1]
n_multi = 0
with open(f"{out}/attacks.jsonl", "w") as fh:
    for fam, entries in ATT.items():
        for i, e in enumerate(entries, 1):
            rec = {"id": f"{fam}-{i:03d}", "family": fam, "claim": e["claim"], "pass": 1, "steps": e["steps"]}
            n_multi += len(e["steps"]) > 1
            fh.write(json.dumps(rec) + "\n")
b_multi = 0
with open(f"{out}/benign.jsonl", "w") as fh:
    for i, e in enumerate(BEN, 1):
        b_multi += len(e["steps"]) > 1
        fh.write(json.dumps({"id": f"everyday-{i:03d}", "family": "everyday", "claim": e["claim"], "pass": 1, "steps": e["steps"]}) + "\n")
for fam, entries in ATT.items():
    print(fam, len(entries))
print("attacks", sum(len(v) for v in ATT.values()), "multi", n_multi, "everyday", len(BEN), "multi", b_multi)
