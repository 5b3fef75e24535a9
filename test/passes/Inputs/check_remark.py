#!/usr/bin/env python3
"""Runs the qn-opt command given as arguments (with qn-assign-backends) and
checks its remark: the exact placement needs no more splits than the greedy
one (nor more bytes at equal splits), and the IR got exactly one qn.transfer
per split. Also checks that the process used under a second of CPU time
(CPU, not wall time: the test machines are shared and often loaded).
Prints qn-opt's stderr, then one OK line, for FileCheck."""
import re
import resource
import subprocess
import sys

proc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,
                      stderr=subprocess.PIPE, text=True)
text = proc.stderr
if proc.returncode != 0:
    sys.exit(f"FAIL: {sys.argv[1]} exited {proc.returncode}:\n{text}")
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
m = re.search(r"qn-assign-backends: (\d+) splits, (\d+) bytes \(greedy: (\d+) "
              r"splits, (\d+) bytes\); (\d+) transfers inserted", text)
if not m:
    sys.exit("FAIL: no qn-assign-backends remark in:\n" + text)
ours, ours_b, greedy, greedy_b, inserted = map(int, m.groups())
if not (ours < greedy or (ours == greedy and ours_b <= greedy_b)):
    sys.exit(f"FAIL: exact {ours}/{ours_b} B worse than greedy {greedy}/{greedy_b} B")
if inserted != ours:
    sys.exit(f"FAIL: {inserted} transfers inserted for {ours} splits")
if cpu >= 1.0:
    sys.exit(f"FAIL: qn-opt used {cpu:.2f} s of CPU time")
sys.stdout.write(text)
print(f"OK splits={ours} <= greedy={greedy} inserted={inserted} under 1 s")
