#!/usr/bin/env python3
"""Checks a `qn-run plan --json` report read from stdin: the exact
assignment never needs more splits than the ggml-like greedy one (nor more
bytes when the split counts are equal), and it was computed in under a
second. Prints one summary line for FileCheck."""
import json
import sys

report = json.load(sys.stdin)
ours, greedy = report["splits"], report["greedy_splits"]
ours_b, greedy_b = report["transfer_bytes"], report["greedy_transfer_bytes"]
ok = ours < greedy or (ours == greedy and ours_b <= greedy_b)
if not ok:
    sys.exit(f"FAIL: exact {ours} splits / {ours_b} B worse than greedy "
             f"{greedy} / {greedy_b} B")
if report["assign_ms"] >= 1000:
    sys.exit(f"FAIL: assignment took {report['assign_ms']} ms")
print(f"OK n_cpu_moe={report['n_cpu_moe']} splits={ours} <= greedy={greedy}")
