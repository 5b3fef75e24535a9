# Reads a CUDA check bundle and checks it against the source and float64
# (plain Python: no numpy needed).
import array, json, math, os, re, sys

d = sys.argv[1]
m = json.load(open(os.path.join(d, "cases.json")))
src = open(os.path.join(d, m["source"])).read()
kernels = re.findall(r'extern "C" __global__ void (\w+)\(', src)
names = [c["kernel"] for c in m["cases"]]
print("cases match kernels:",
      "yes" if names and sorted(names) == sorted(kernels) else "no")


def load(f, n):
    a = array.array("f")
    with open(os.path.join(d, f), "rb") as fh:
        a.frombytes(fh.read())
    if sys.byteorder != "little":
        a.byteswap()
    assert len(a) == n, (f, len(a), n)
    return a


ok = True
for c in m["cases"]:
    ins = [load(i["file"], i["elements"]) for i in c["inputs"]]
    load(c["expected"]["file"], c["expected"]["elements"])
    ok = ok and all(v != 0 for x in ins for v in x)
print("sizes:", "ok" if ok else "zeros in inputs")

c = next(c for c in m["cases"] if c["kernel"] == "prefill_2eg__in_2d0")
alpha, dt, a = [load(i["file"], i["elements"]) for i in c["inputs"]]
want = load(c["expected"]["file"], c["expected"]["elements"])
err = 0.0
for i, w in enumerate(want):
    h = i % len(dt)
    x = float(alpha[i]) + dt[h]
    sp = x if x > 20 else math.log1p(math.exp(x))
    g = sp * a[h]
    err = max(err, abs(g - w) / max(1.0, abs(g)))
print("decay vs float64:", "ok" if err < 2e-6 else "error %g" % err)
