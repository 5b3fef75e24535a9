"""Checks `qn-gguf info --json` of quant2/quant-types.gguf against the
fixture's own description of each type (quant-types.json): the name, id and
family the peer gives it and its bits per weight from the block geometry."""
import json
import sys

info = json.load(open(sys.argv[1]))
fixture = json.load(open(sys.argv[2]))
ours = {t["id"]: t for t in info["types"]}
bad = 0
for t in fixture["types"]:
    o = ours.get(t["ggml_type"])
    bpw = 8.0 * t["block_bytes"] / t["block_size"]
    if (o is None or o["type"] != t["name"] or o["family"] != t["family"]
            or abs(o["bits_per_weight"] - bpw) > 1e-9 or o["tensors"] != 1):
        print("mismatch:", t["name"], t["ggml_type"], o)
        bad += 1
print("types checked:", len(fixture["types"]), "mismatches:", bad)
