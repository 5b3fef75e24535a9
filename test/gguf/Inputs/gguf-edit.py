#!/usr/bin/env python3
"""Writes a copy of a GGUF file with its header edited, for bad-input tests.

The tensor data is copied unchanged (tensor offsets are relative to the data
section, which starts at the next alignment boundary after the header), so a
renamed or dropped tensor or a changed key gives a file that differs from a
valid one in exactly that respect.

Usage: gguf-edit.py IN OUT [--rename-tensor OLD=NEW] [--drop-tensor NAME]
                           [--set-u32 KEY=N] [--set-i32s KEY=A,B,...]
                           [--drop-key KEY]   (each option may repeat)
"""
import argparse
import struct

U32, I32, STR, ARR, U64 = 4, 5, 8, 9, 10
FIXED = {0: 'B', 1: 'b', 2: 'H', 3: 'h', 4: 'I', 5: 'i', 6: 'f', 7: '?',
         10: 'Q', 11: 'q', 12: 'd'}


class Reader:
    def __init__(self, data):
        self.d, self.o = data, 0

    def take(self, fmt):
        v = struct.unpack_from('<' + fmt, self.d, self.o)
        self.o += struct.calcsize('<' + fmt)
        return v[0]

    def raw_value(self, t):
        """The encoded bytes of one value of type t."""
        start = self.o
        if t == STR:
            n = self.take('Q')
            self.o += n
        elif t == ARR:
            et, n = self.take('I'), self.take('Q')
            for _ in range(n):
                self.raw_value(et)
        else:
            self.o += struct.calcsize('<' + FIXED[t])
        return self.d[start:self.o]

    def string(self):
        n = self.take('Q')
        s = self.d[self.o:self.o + n].decode()
        self.o += n
        return s


def enc_str(s):
    b = s.encode()
    return struct.pack('<Q', len(b)) + b


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('src')
    ap.add_argument('dst')
    ap.add_argument('--rename-tensor', action='append', default=[])
    ap.add_argument('--drop-tensor', action='append', default=[])
    ap.add_argument('--set-u32', action='append', default=[])
    ap.add_argument('--set-i32s', action='append', default=[])
    ap.add_argument('--drop-key', action='append', default=[])
    a = ap.parse_args()

    data = open(a.src, 'rb').read()
    r = Reader(data)
    assert r.take('I') == 0x46554747, 'not GGUF'
    version, n_tensors, n_kv = r.take('I'), r.take('Q'), r.take('Q')
    kvs = []
    for _ in range(n_kv):
        key = r.string()
        t = r.take('I')
        kvs.append([key, t, r.raw_value(t)])
    tensors = []
    for _ in range(n_tensors):
        name = r.string()
        nd = r.take('I')
        rest = struct.pack('<I', nd) + b''.join(
            struct.pack('<Q', r.take('Q')) for _ in range(nd))
        rest += struct.pack('<I', r.take('I')) + struct.pack('<Q', r.take('Q'))
        tensors.append([name, rest])
    align = 32
    for key, t, raw in kvs:
        if key == 'general.alignment':
            align = struct.unpack('<I', raw)[0]
    data_start = (r.o + align - 1) // align * align

    kvs = [kv for kv in kvs if kv[0] not in a.drop_key]
    def set_kv(key, t, raw):
        for kv in kvs:
            if kv[0] == key:
                kv[1], kv[2] = t, raw
                return
        kvs.append([key, t, raw])
    for spec in a.set_u32:
        key, v = spec.split('=')
        set_kv(key, U32, struct.pack('<I', int(v)))
    for spec in a.set_i32s:
        key, v = spec.split('=')
        vals = [int(x) for x in v.split(',')]
        set_kv(key, ARR, struct.pack('<IQ', I32, len(vals)) +
               b''.join(struct.pack('<i', x) for x in vals))
    renames = dict(s.split('=') for s in a.rename_tensor)
    for name in list(renames) + a.drop_tensor:
        assert any(t[0] == name for t in tensors), 'no tensor ' + name
    tensors = [t for t in tensors if t[0] not in a.drop_tensor]
    for t in tensors:
        t[0] = renames.get(t[0], t[0])

    out = struct.pack('<IIQQ', 0x46554747, version, len(tensors), len(kvs))
    for key, t, raw in kvs:
        out += enc_str(key) + struct.pack('<I', t) + raw
    for name, rest in tensors:
        out += enc_str(name) + rest
    out += b'\0' * ((-len(out)) % align)
    with open(a.dst, 'wb') as f:
        f.write(out)
        f.write(data[data_start:])


if __name__ == '__main__':
    main()
