#!/usr/bin/env python3
"""Reads qn-opt's stderr after qn-assign-backends with --mlir-timing: checks
that the exact placement needs no more splits than the greedy one (nor more
bytes at equal splits), that the IR got exactly one qn.transfer per split,
and that the pass took under a second. Prints one line for FileCheck."""
import re
import sys

text = sys.stdin.read()
m = re.search(r"qn-assign-backends: (\d+) splits, (\d+) bytes \(greedy: (\d+) "
              r"splits, (\d+) bytes\); (\d+) transfers inserted", text)
if not m:
    sys.exit("FAIL: no qn-assign-backends remark in:\n" + text)
ours, ours_b, greedy, greedy_b, inserted = map(int, m.groups())
if not (ours < greedy or (ours == greedy and ours_b <= greedy_b)):
    sys.exit(f"FAIL: exact {ours}/{ours_b} B worse than greedy {greedy}/{greedy_b} B")
if inserted != ours:
    sys.exit(f"FAIL: {inserted} transfers inserted for {ours} splits")
t = re.search(r"([0-9.]+) \([ 0-9.]+%\)\s+AssignBackendsPass", text)
if not t:
    sys.exit("FAIL: no AssignBackendsPass timing in:\n" + text)
if float(t.group(1)) >= 1.0:
    sys.exit(f"FAIL: the pass took {t.group(1)} s")
print(f"OK splits={ours} <= greedy={greedy} inserted={inserted} under 1 s")
