#!/usr/bin/env python3
"""Copies a GGUF file with some metadata values or tensor dims changed.

  mutate-gguf.py IN OUT [--kv KEY=TYPE:VALUE]... [--dims TENSOR=D0,D1,...]...

TYPE is one of u8 i8 u16 i16 u32 i32 u64 i64 f32 f64 bool str; VALUE may be
nan, inf or -inf for floats. A key that is absent is added. The header is
rewritten and re-padded; the data section is copied unchanged (tensor
offsets are relative to it), so the result differs from IN only where asked.
Used by the reliability tests to make hostile models from the fixtures.
"""
import struct
import sys

SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f",
           7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
NAMES = {"u8": 0, "i8": 1, "u16": 2, "i16": 3, "u32": 4, "i32": 5, "f32": 6,
         "bool": 7, "str": 8, "u64": 10, "i64": 11, "f64": 12}


class Reader:
    def __init__(self, data):
        self.data, self.pos = data, 0

    def take(self, fmt):
        (v,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.data[self.pos:self.pos + n]
        self.pos += n
        return s

    def value(self, t):
        """Returns the raw bytes of a value of type t."""
        start = self.pos
        if t in SCALARS:
            self.take(SCALARS[t])
        elif t == 8:
            self.string()
        elif t == 9:
            et, n = self.take("<I"), self.take("<Q")
            for _ in range(n):
                self.value(et)
        else:
            sys.exit("mutate-gguf: unknown value type %d" % t)
        return self.data[start:self.pos]


def gstring(b):
    return struct.pack("<Q", len(b)) + b


def encode(spec):
    tname, _, text = spec.partition(":")
    if tname not in NAMES:
        sys.exit("mutate-gguf: unknown type '%s'" % tname)
    t = NAMES[tname]
    if t == 8:
        return t, gstring(text.encode())
    if t == 7:
        return t, struct.pack("<?", text in ("1", "true"))
    if t in (6, 12):
        return t, struct.pack(SCALARS[t], float(text))
    return t, struct.pack(SCALARS[t], int(text))


def main(argv):
    if len(argv) < 3:
        sys.exit(__doc__)
    src, dst, ops = argv[1], argv[2], argv[3:]
    kv_set, dims_set = {}, {}
    for i in range(0, len(ops), 2):
        key, _, val = ops[i + 1].partition("=")
        if ops[i] == "--kv":
            kv_set[key.encode()] = encode(val)
        elif ops[i] == "--dims":
            dims_set[key.encode()] = [int(d) for d in val.split(",")]
        else:
            sys.exit("mutate-gguf: unknown option " + ops[i])

    data = open(src, "rb").read()
    r = Reader(data)
    magic, version = r.take("<I"), r.take("<I")
    n_tensors, n_kv = r.take("<Q"), r.take("<Q")
    kvs, alignment = [], 32
    for _ in range(n_kv):
        key = r.string()
        t = r.take("<I")
        raw = r.value(t)
        if key == b"general.alignment":
            alignment = struct.unpack("<I", raw)[0]
        kvs.append([key, t, raw])
    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        nd = r.take("<I")
        dims = [r.take("<Q") for _ in range(nd)]
        ttype, offset = r.take("<I"), r.take("<Q")
        tensors.append([name, dims, ttype, offset])
    data_start = (r.pos + alignment - 1) // alignment * alignment

    for key, (t, raw) in kv_set.items():
        for kv in kvs:
            if kv[0] == key:
                kv[1], kv[2] = t, raw
                break
        else:
            kvs.append([key, t, raw])
    for name, dims in dims_set.items():
        for ti in tensors:
            if ti[0] == name:
                ti[1] = dims
                break
        else:
            sys.exit("mutate-gguf: no tensor '%s'" % name.decode())

    out = bytearray(struct.pack("<IIQQ", magic, version, len(tensors), len(kvs)))
    for key, t, raw in kvs:
        out += gstring(key) + struct.pack("<I", t) + raw
    for name, dims, ttype, offset in tensors:
        out += gstring(name) + struct.pack("<I", len(dims))
        out += b"".join(struct.pack("<q", d) for d in dims)
        out += struct.pack("<IQ", ttype, offset)
    out += b"\0" * ((-len(out)) % alignment)
    with open(dst, "wb") as f:
        f.write(out)
        f.write(data[data_start:])


if __name__ == "__main__":
    main(sys.argv)
