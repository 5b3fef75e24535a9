#!/usr/bin/env python3
"""Executes the IR that qn-select-delta-path{mode=0} emits and compares it
with the gated delta recurrence (spec 3.2 step 8) in float64.

Reads the generic-form IR (qn-opt --mlir-print-op-generic) of one function
whose arguments are q, k [T, Hk, dk], v [T, Hv, dv], g, beta [T, Hv] and
state [Hv, dk, dv], all static. Fills them with seeded random values
(unit-norm q/k rows, g <= 0, beta in (0, 1)), interprets the ops the
chunked form uses (a tiny float64 evaluator written from the op docs, not
from the pass), and prints "max rel err out=X state=Y" followed by PASS when
both are below 1e-6, FAIL otherwise. Everything runs in float64; the bound
is not 1e-15 only because the IR carries 1/sqrt(dk) as an f32 constant
printed with 7 digits. A wrong step gives errors of 1e-2 and more. No
numpy: plain Python lists.

Usage: qn-opt in.mlir --qn-select-delta-path=mode=0 --mlir-print-op-generic
         | eval_delta_ir.py [--seed N] [--gmin G]
"""
import itertools
import math
import random
import re
import sys

DYN = -9223372036854775808


class T:
    def __init__(self, shape, data=None):
        self.shape = list(shape)
        n = 1
        for s in self.shape:
            n *= s
        self.data = data if data is not None else [0.0] * n

    def strides(self):
        st, acc = [], 1
        for s in reversed(self.shape):
            st.append(acc)
            acc *= s
        return list(reversed(st))

    def at(self, idx):
        return self.data[sum(i * s for i, s in zip(idx, self.strides()))]


def indices(shape):
    return itertools.product(*[range(s) for s in shape])


def broadcast(a, b, fn):
    ra, rb = len(a.shape), len(b.shape)
    r = max(ra, rb)
    sa = [1] * (r - ra) + a.shape
    sb = [1] * (r - rb) + b.shape
    shape = [max(x, y) for x, y in zip(sa, sb)]
    for x, y, s in zip(sa, sb, shape):
        assert x in (1, s) and y in (1, s), (a.shape, b.shape)
    out = T(shape)
    sta, stb = T(sa).strides(), T(sb).strides()
    k = 0
    for idx in indices(shape):
        ia = sum((i if d > 1 else 0) * s for i, d, s in zip(idx, sa, sta))
        ib = sum((i if d > 1 else 0) * s for i, d, s in zip(idx, sb, stb))
        out.data[k] = fn(a.data[ia], b.data[ib])
        k += 1
    return out


def gather(src, shape, fn):
    """out[idx] = src.at(fn(idx))."""
    out = T(shape)
    out.data = [src.at(fn(idx)) for idx in indices(shape)]
    return out


def matmul(a, b, transpose_rhs):
    bs_a, bs_b = a.shape[:-2], b.shape[:-2]
    r = max(len(bs_a), len(bs_b))
    bs_a = [1] * (r - len(bs_a)) + bs_a
    bs_b = [1] * (r - len(bs_b)) + bs_b
    batch = [max(x, y) for x, y in zip(bs_a, bs_b)]
    m, kk = a.shape[-2], a.shape[-1]
    n = b.shape[-2] if transpose_rhs else b.shape[-1]
    out = T(batch + [m, n])
    A = T(bs_a + a.shape[-2:], a.data)
    B = T(bs_b + b.shape[-2:], b.data)
    o = 0
    for bi in indices(batch):
        ia = [i if d > 1 else 0 for i, d in zip(bi, bs_a)]
        ib = [i if d > 1 else 0 for i, d in zip(bi, bs_b)]
        ra = [[A.at(ia + [i, t]) for t in range(kk)] for i in range(m)]
        if transpose_rhs:
            cb = [[B.at(ib + [j, t]) for t in range(kk)] for j in range(n)]
        else:
            cb = [[B.at(ib + [t, j]) for t in range(kk)] for j in range(n)]
        for i in range(m):
            for j in range(n):
                out.data[o] = sum(x * y for x, y in zip(ra[i], cb[j]))
                o += 1
    return out


def shape_of(ty):
    m = re.match(r"tensor<(.*)x[fi]\d+>", ty.strip())
    if not m:
        m2 = re.match(r"tensor<[fi]\d+>", ty.strip())
        assert m2, ty
        return []
    return [int(x) for x in m.group(1).split("x")]


def arr(props, name):
    m = re.search(name + r" = array<i64(?:: ([-\d, ]*))?>", props)
    if not m or not m.group(1):
        return []
    return [int(x) for x in m.group(1).split(",")]


def intattr(props, name):
    return int(re.search(name + r" = (-?\d+) : i\d+", props).group(1))


LINE = re.compile(r'^\s*(?:(%[\w]+)(?::(\d+))? = )?"([\w.]+)"\((.*?)\)'
                  r"(?: <\{(.*)\}>)?(?: \(\{)?(?: : (.*))?$")


def parse(lines, pos):
    """Ops until a line starting with '})'; returns (ops, pos)."""
    ops = []
    while pos < len(lines):
        line = lines[pos].rstrip()
        if line.strip().startswith("})"):
            return ops, pos
        if line.strip().startswith("^bb0"):
            args = re.findall(r"(%\w+): ", line)
            ops.append(("^bb0", args))
            pos += 1
            continue
        m = LINE.match(line)
        if not m:
            pos += 1
            continue
        res, nres, name, operands, props, types = m.groups()
        operands = [o.strip() for o in operands.split(",") if o.strip()]
        op = {"res": res, "nres": int(nres or 1), "name": name,
              "operands": operands, "props": props or "", "types": types,
              "region": None}
        pos += 1
        if line.endswith("({"):
            body, pos = parse(lines, pos)
            op["region"] = body
            op["types"] = lines[pos].strip()[len("}) : "):]
            pos += 1
        ops.append(op)
    return ops, pos


def result_shapes(types):
    out = types.split("->")[1].strip()
    if out.startswith("("):
        out = out[1:-1]
    return [shape_of(t) for t in re.findall(r"tensor<[^>]*>", out)]


def run(ops, env):
    for op in ops:
        if isinstance(op, tuple):
            continue
        name, props = op["name"], op["props"]
        args = [env[o] for o in op["operands"]]
        if name == "func.return" or name == "scf.yield":
            return args
        rs = result_shapes(op["types"]) if "->" in (op["types"] or "") else []
        if name == "qn.reshape":
            r = T(rs[0], list(args[0].data))
        elif name == "qn.repeat":
            x = args[0]
            mult = arr(props, "multiples")
            shape = [s * m for s, m in zip(x.shape, mult)]
            r = gather(x, shape, lambda i: [a % s for a, s in
                                            zip(i, x.shape)])
        elif name == "qn.permute":
            x, p = args[0], arr(props, "permutation")
            shape = [x.shape[d] for d in p]

            def src(i, p=p, x=x):
                s = [0] * len(p)
                for d, a in zip(p, i):
                    s[d] = a
                return s
            r = gather(x, shape, src)
        elif name == "qn.scale":
            f = float(re.search(r"factor = ([-\d.e+]+)", props).group(1))
            r = T(args[0].shape, [f * a for a in args[0].data])
        elif name == "qn.pad_to_multiple":
            x, d, m = args[0], intattr(props, "dim"), intattr(props,
                                                             "multiple")
            shape = list(x.shape)
            shape[d] = -(-shape[d] // m) * m
            r = T(shape)
            r.data = [x.at(i) if i[d] < x.shape[d] else 0.0
                      for i in indices(shape)]
        elif name == "qn.cumsum":
            x, d = args[0], intattr(props, "dim")

            def cs(i, x=x, d=d):
                return sum(x.at(list(i[:d]) + [m] + list(i[d + 1:]))
                           for m in range(i[d] + 1))
            r = T(x.shape, [cs(i) for i in indices(x.shape)])
        elif name in ("qn.add", "qn.sub", "qn.mul"):
            fn = {"qn.add": lambda a, b: a + b, "qn.sub": lambda a, b: a - b,
                  "qn.mul": lambda a, b: a * b}[name]
            r = broadcast(args[0], args[1], fn)
        elif name == "qn.exp":
            r = T(args[0].shape, [math.exp(a) for a in args[0].data])
        elif name == "qn.tri":
            kind = intattr(props, "kind")
            keep = [lambda i, j: j < i, lambda i, j: j <= i,
                    lambda i, j: j > i, lambda i, j: j >= i][kind]
            x = args[0]
            r = T(x.shape, [x.at(i) if keep(i[-2], i[-1]) else 0.0
                            for i in indices(x.shape)])
        elif name == "qn.batch_matmul":
            r = matmul(args[0], args[1], "transpose_rhs" in props)
        elif name == "qn.solve_tri":
            a, b = args
            assert "unit_diagonal" in props
            n, c = b.shape[-2], b.shape[-1]
            r = T(b.shape)
            st = r.strides()
            for bi in indices(b.shape[:-2]):
                bi = list(bi)
                base = sum(i * s for i, s in zip(bi, st))
                for i in range(n):
                    for col in range(c):
                        acc = b.at(bi + [i, col])
                        for t in range(i):
                            acc -= a.at(bi + [i, t]) * \
                                r.data[base + t * c + col]
                        r.data[base + i * c + col] = acc
        elif name == "qn.slice":
            x = args[0]
            off, st = arr(props, "offsets"), arr(props, "strides")
            r = gather(x, rs[0], lambda i: [o + a * s for a, o, s in
                                            zip(i, off, st)])
        elif name == "qn.crop":
            x, like, d = args[0], args[1], intattr(props, "dim")
            shape = list(x.shape)
            shape[d] = like.shape[d]
            r = gather(x, shape, lambda i: list(i))
        elif name == "arith.constant":
            r = int(re.search(r"value = (-?\d+) : index", props).group(1))
        elif name == "tensor.dim":
            r = args[0].shape[args[1]]
        elif name == "tensor.empty":
            r = T(rs[0])
        elif name == "tensor.extract_slice":
            x, dyn = args[0], iter(args[1:])
            off = [next(dyn) if o == DYN else o
                   for o in arr(props, "static_offsets")]
            sizes = arr(props, "static_sizes")
            full = gather(x, sizes, lambda i: [a + o for a, o in
                                               zip(i, off)])
            r = T(rs[0], full.data)  # rank-reduced: same elements
        elif name == "tensor.insert_slice":
            src, dest, dyn = args[0], args[1], iter(args[2:])
            off = [next(dyn) if o == DYN else o
                   for o in arr(props, "static_offsets")]
            sizes = arr(props, "static_sizes")
            r = T(dest.shape, list(dest.data))
            st = r.strides()
            for k, i in enumerate(indices(sizes)):
                r.data[sum((a + o) * s for a, o, s in
                           zip(i, off, st))] = src.data[k]
        elif name == "scf.for":
            lb, ub, step = args[:3]
            it = args[3:]
            bb = op["region"][0]
            for iv in range(lb, ub, step):
                local = dict(env)
                local[bb[1][0]] = iv
                for nme, val in zip(bb[1][1:], it):
                    local[nme] = val
                it = run(op["region"][1:], local)
            for k, val in enumerate(it):
                env["%s#%d" % (op["res"], k)] = val
            continue
        else:
            raise SystemExit("eval_delta_ir.py: unsupported op " + name)
        env[op["res"]] = r
    raise SystemExit("eval_delta_ir.py: no return")


def reference(q, k, v, g, beta, state, scale):
    Tn, Hk, dk = q.shape
    Hv, dv = v.shape[1], v.shape[2]
    rr = Hv // Hk
    out = T([Tn, Hv, dv])
    M = [[[state.at([h, j, i]) for i in range(dv)] for j in range(dk)]
         for h in range(Hv)]
    for h in range(Hv):
        kh = h // rr
        for t in range(Tn):
            a = math.exp(g.at([t, h]))
            b = beta.at([t, h])
            kv = [k.at([t, kh, j]) for j in range(dk)]
            qv = [q.at([t, kh, j]) for j in range(dk)]
            Mh = M[h]
            for j in range(dk):
                for i in range(dv):
                    Mh[j][i] *= a
            delta = [b * (v.at([t, h, i]) -
                          sum(Mh[j][i] * kv[j] for j in range(dk)))
                     for i in range(dv)]
            for j in range(dk):
                for i in range(dv):
                    Mh[j][i] += kv[j] * delta[i]
            for i in range(dv):
                out.data[(t * Hv + h) * dv + i] = sum(
                    Mh[j][i] * scale * qv[j] for j in range(dk))
    st = T([Hv, dk, dv], [M[h][j][i] for h in range(Hv) for j in range(dk)
                          for i in range(dv)])
    return out, st


def main():
    seed, gmin = 1, -2.0
    argv = sys.argv[1:]
    if "--seed" in argv:
        seed = int(argv[argv.index("--seed") + 1])
    if "--gmin" in argv:
        gmin = float(argv[argv.index("--gmin") + 1])
    lines = sys.stdin.read().splitlines()
    start = next(i for i, l in enumerate(lines) if '"func.func"' in l)
    shapes = [shape_of(t) for t in re.findall(
        r"tensor<[^>]*>", lines[start].split("->")[0])]
    ops, _ = parse(lines, start + 1)
    bb = ops[0]
    rng = random.Random(seed)
    vals = []
    for n, shp in enumerate(shapes):
        x = T(shp, [rng.uniform(-1, 1) for _ in range(len(T(shp).data))])
        if n in (0, 1):  # unit-norm q, k rows
            d = shp[-1]
            for r0 in range(0, len(x.data), d):
                nrm = math.sqrt(sum(a * a for a in x.data[r0:r0 + d]))
                x.data[r0:r0 + d] = [a / nrm for a in x.data[r0:r0 + d]]
        if n == 3:
            x.data = [rng.uniform(gmin, -0.001) for _ in x.data]
        if n == 4:
            x.data = [rng.uniform(0.05, 0.95) for _ in x.data]
        vals.append(x)
    env = dict(zip(bb[1], vals))
    got = run(ops[1:], env)
    scale = 1.0 / math.sqrt(shapes[0][2])
    ref_o, ref_s = reference(*vals, scale)

    def rel(a, b):
        err = max(abs(x - y) for x, y in zip(a.data, b.data))
        return err / max(max(abs(y) for y in b.data), 1e-300)
    eo, es = rel(got[0], ref_o), rel(got[1], ref_s)
    print("max rel err out=%.3e state=%.3e" % (eo, es))
    print("PASS" if eo < 1e-6 and es < 1e-6 else "FAIL")


main()
