#!/usr/bin/env python3
"""Recomputes `qn-run perplexity --kl-divergence` in plain Python from two
files written by --save-logits (base and this run): mean KL(base || this),
its maximum, the same-top-token rate, the mean and median of
dp = p_this(token) - p_base(token), and both perplexities. Compares with
the run's --json summary."""
import json
import math
import struct
import sys

base_path, this_path, summary_path = sys.argv[1:4]


def read(path):
    blob = open(path, "rb").read()
    assert blob[:8] == b"QNPPLLOG", path
    version, n_ctx, n_vocab, n_chunks = struct.unpack("<4I", blob[8:24])
    assert version == 1
    off = 24
    tokens = struct.unpack("<%di" % (n_chunks * n_ctx),
                           blob[off:off + 4 * n_chunks * n_ctx])
    off += 4 * n_chunks * n_ctx
    n_scored = n_ctx - 1 - n_ctx // 2
    vals = struct.unpack("<%df" % ((len(blob) - off) // 4), blob[off:])
    assert len(vals) == n_chunks * n_scored * n_vocab
    return n_ctx, n_vocab, n_chunks, tokens, vals


def log_softmax(row):
    m = max(row)
    lse = m + math.log(sum(math.exp(x - m) for x in row))
    return [x - lse for x in row]


n_ctx, V, n_chunks, tokens, base = read(base_path)
n_ctx2, V2, n_chunks2, tokens2, this = read(this_path)
assert (n_ctx, V, n_chunks, tokens) == (n_ctx2, V2, n_chunks2, tokens2)
first = n_ctx // 2
n_scored = n_ctx - 1 - first
kls, dps, same, nll_b, nll_t = [], [], 0, 0.0, 0.0
for c in range(n_chunks):
    for r in range(n_scored):
        i = (c * n_scored + r) * V
        b, t = base[i:i + V], this[i:i + V]
        lb, lt = log_softmax(b), log_softmax(t)
        target = tokens[c * n_ctx + first + r + 1]
        kls.append(sum(math.exp(x) * (x - y) for x, y in zip(lb, lt)))
        dps.append(math.exp(lt[target]) - math.exp(lb[target]))
        same += b.index(max(b)) == t.index(max(t))
        nll_b -= lb[target]
        nll_t -= lt[target]
n = len(kls)
dps.sort()
mid = dps[(n - 1) // 2] if n % 2 else (dps[n // 2 - 1] + dps[n // 2]) / 2
want = {"mean": sum(kls) / n, "max": max(kls), "same_top1": same / n,
        "dp_mean": sum(dps) / n, "median_dp": mid,
        "base_ppl": math.exp(nll_b / n), "ppl": math.exp(nll_t / n)}
s = json.load(open(summary_path))
got = dict(s["kld"])
got["median_dp"] = got["dp_percentiles"]["median"]
got["ppl"] = s["ppl"]
bad = [k for k in want
       if abs(got[k] - want[k]) > 1e-6 * max(abs(want[k]), 1e-6) + 1e-12]
print("%s: n=%d mean KLD %.3e (qn %.3e), same top %.4f (qn %.4f)%s" %
      ("MISMATCH" if bad else "ok", n, want["mean"], got["mean"],
       want["same_top1"], got["same_top1"], " " + str(bad) if bad else ""))
sys.exit(1 if bad else 0)
