#!/usr/bin/env python3
"""Writes IR nested `depth` levels deep in one construct, for qn-opt tests.

  deep-ir.py KIND DEPTH OUT     KIND: module region attr type paren dict
"""
import sys

kind, d, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
text = {
    "module": "module {\n" * d + "}\n" * d,
    "region": '"test.op"() ({\n' * d + "}) : () -> ()\n" * d,
    "attr": "module attributes {test.x = " + "[" * d + "]" * d + "} {}\n",
    "type": "func.func private @f(%a: " + "tuple<" * d + "i32" + ">" * d + ")\n",
    "paren": "func.func private @f() -> " + "(" * d + "i32" + ")" * d + "\n",
    "dict": "module attributes {test.x = " + "{a = " * d + "1" + "}" * d + "} {}\n",
}[kind]
with open(out, "w") as f:
    f.write(text)
