#!/usr/bin/env python3
"""Recomputes `qn-run perplexity` from logits: the text's tokens come from
`qn-run tokenize --json`, each chunk's logits from `qn-run logits` (fresh
sequence, positions 0..c-1), and the NLL of the second half of every chunk
is summed here in plain Python (the peer's convention: positions c/2..c-2
predict the next token). PPL = exp(mean NLL), error = PPL * standard error
of the mean NLL. Compares with `qn-run perplexity --json`.

With --peer-case NAME the expected logits are the peer's own, from the
fixtures' manifest (one chunk of the case's tokens, -c = its length).
"""
import argparse
import json
import math
import os
import struct
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--model")
ap.add_argument("--text")
ap.add_argument("-c", type=int, default=32)
ap.add_argument("--fixtures")
ap.add_argument("--peer-case")
ap.add_argument("--rtol", type=float, default=1e-6)
args = ap.parse_args()


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("%s failed: %s" % (" ".join(cmd), out.stderr))
    return out.stdout


def nll_of_chunk(rows, tokens, n_vocab, c):
    """NLLs of positions c/2..c-2 (rows: flat float list [c x n_vocab])."""
    out = []
    for j in range(c // 2, c - 1):
        row = rows[j * n_vocab:(j + 1) * n_vocab]
        m = max(row)
        lse = m + math.log(sum(math.exp(x - m) for x in row))
        out.append(lse - row[tokens[j + 1]])
    return out


tmp = tempfile.mkdtemp()
nlls = []
if args.peer_case:
    manifest = json.load(open(os.path.join(args.fixtures, "manifest.json")))
    case = next(c for c in manifest["cases"] if c["name"] == args.peer_case)
    model = os.path.join(args.fixtures, case["model"])
    tokens = case["tokens"]
    c = len(tokens)
    blob = open(os.path.join(args.fixtures, case["logits"]), "rb").read()
    n_vocab = len(blob) // 4 // c
    rows = struct.unpack("<%df" % (len(blob) // 4), blob)
    nlls = nll_of_chunk(rows, tokens, n_vocab, c)
    tok_file = os.path.join(tmp, "tokens.txt")
    open(tok_file, "w").write(",".join(map(str, tokens)))
    got = json.loads(run(["qn-run", "perplexity", "-m", model, "--tokens-file",
                          tok_file, "-c", str(c), "-t", "1", "--json"]))
else:
    model, c = args.model, args.c
    tokens = json.loads(run(["qn-run", "tokenize", "-m", model, "-f",
                             args.text, "--json", "--no-parse-special"]))["ids"]
    for k in range(len(tokens) // c):
        chunk = tokens[k * c:(k + 1) * c]
        out = os.path.join(tmp, "l%d.f32" % k)
        run(["qn-run", "logits", "-m", model, "-t", "1", "--tokens",
             ",".join(map(str, chunk)), "--out", out])
        blob = open(out, "rb").read()
        n_vocab = len(blob) // 4 // c
        rows = struct.unpack("<%df" % (len(blob) // 4), blob)
        nlls += nll_of_chunk(rows, chunk, n_vocab, c)
    got = json.loads(run(["qn-run", "perplexity", "-m", model, "-f", args.text,
                          "-c", str(c), "-t", "1", "--json"]))

n = len(nlls)
mean = sum(nlls) / n
var = sum(x * x for x in nlls) / n - mean * mean
ppl = math.exp(mean)
err = ppl * math.sqrt(var / (n - 1))
ok = (got["n_scored"] == n and
      abs(got["ppl"] - ppl) <= args.rtol * ppl and
      abs(got["ppl_err"] - err) <= args.rtol * ppl + 1e-9)
print("%s: scored %d (qn %d), PPL %.6f +/- %.6f (qn %.6f +/- %.6f)" %
      ("ok" if ok else "MISMATCH", n, got["n_scored"], ppl, err, got["ppl"],
       got["ppl_err"]))
sys.exit(0 if ok else 1)
