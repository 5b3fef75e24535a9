#!/usr/bin/env python3
"""Runs `qn-run -m MODEL -p PROMPT --temp 0 -n 24 --json` on a `greedy` case
of the shared fixtures' manifest.json and compares with the peer's ids.

The prompt text goes through argv as is (newlines included), so this also
checks the tokenizer's special-token parsing against the case's prompt ids.
Only the first --ids generated ids are compared: on quantized models the
reference's margins allow no more (fixtures/README.md). Also checks that
stdout is one JSON object and nothing else, and that the streamed text (no
--json) equals the JSON "text" plus the final newline.
"""
import argparse
import json
import os
import subprocess
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--fixtures", required=True)
ap.add_argument("--case", required=True)
ap.add_argument("--ids", type=int, default=24)
ap.add_argument("extra", nargs="*", help="more qn-run flags")
args = ap.parse_args()

manifest = json.load(open(os.path.join(args.fixtures, "manifest.json")))
case = next(c for c in manifest["cases"] if c["name"] == args.case)
assert case["kind"] == "greedy", case["kind"]
model = os.path.join(args.fixtures, case["model"])
cmd = ["qn-run", "-m", model, "-p", case["prompt_text"], "--temp", "0",
       "-n", str(len(case["generated"])), "-t", "1"] + args.extra

out = subprocess.run(cmd + ["--json"], capture_output=True, text=True)
if out.returncode != 0:
    sys.exit("qn-run failed: " + out.stderr)
got = json.loads(out.stdout)  # raises if anything but JSON is on stdout
if sorted(got) != ["generated_tokens", "prompt_tokens", "text"]:
    sys.exit("unexpected keys %s" % sorted(got))
if got["prompt_tokens"] != case["prompt_tokens"]:
    sys.exit("prompt tokens differ:\n got %s\nwant %s" %
             (got["prompt_tokens"], case["prompt_tokens"]))
want = case["generated"][:args.ids]
if got["generated_tokens"][:args.ids] != want:
    sys.exit("generated ids differ:\n got %s\nwant %s" %
             (got["generated_tokens"][:args.ids], want))

streamed = subprocess.run(cmd, capture_output=True)
if streamed.returncode != 0:
    sys.exit("qn-run (streaming) failed")
if streamed.stdout.decode("utf-8", "replace") != got["text"] + "\n":
    sys.exit("streamed text %r differs from the JSON text %r" %
             (streamed.stdout, got["text"]))
print("ok %s: prompt %d ids, first %d generated ids equal" %
      (args.case, len(case["prompt_tokens"]), args.ids))
