#!/usr/bin/env bash
# Runs every `logits` case of the fixture manifest with every --delta-mode
# at ubatch 1, 7, 64 and the whole prompt, on both engines (mode 0 compiled
# is the chunked delta rule in primitive ops as a generated loop kernel;
# the kernels are cached in the test's own directory, so each model
# compiles once), and checks each run with
# `qn-run compare-logits` (the fixtures README's tolerances). Prints one line
# per run and a summary; exits non-zero if any run fails.
# Usage: delta-modes-all-cases.sh FIXTURES_DIR TMP_PREFIX
set -u
fixtures=$1
tmp=$2
manifest=$fixtures/manifest.json
cases=$(/usr/bin/python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
for c in m["cases"]:
    if c["kind"] == "logits":
        print(c["name"], c["model"])
' "$manifest") || exit 1
runs=0
failed=0
while read -r name model; do
  qn-run compare-logits --manifest "$manifest" --case "$name" --print-tokens \
    >"$tmp.tokens" || exit 1
  for run in direct:0 direct:1 direct:2 direct:auto compiled:0 compiled:1 \
             compiled:2 compiled:auto; do
    engine=${run%%:*}
    mode=${run#*:}
    for ub in 1 7 64 512; do
      runs=$((runs + 1))
      if qn-run logits -m "$fixtures/$model" --tokens-file "$tmp.tokens" -t 1 \
          --ubatch $ub --delta-mode $mode --engine $engine --out "$tmp.f32" \
          --jit-cache "$tmp.kernels" \
          2>"$tmp.err" &&
         qn-run compare-logits --manifest "$manifest" --case "$name" \
           "$tmp.f32" >"$tmp.cmp" && grep -q PASS "$tmp.cmp"; then
        echo "ok $name engine=$engine mode=$mode ubatch=$ub"
      else
        failed=$((failed + 1))
        echo "FAIL $name engine=$engine mode=$mode ubatch=$ub"
        cat "$tmp.err" "$tmp.cmp" 2>/dev/null
      fi
    done
  done
done <<<"$cases"
echo "delta modes: $runs runs, $failed failed"
[ "$failed" -eq 0 ]
