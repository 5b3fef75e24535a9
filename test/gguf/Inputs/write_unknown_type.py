"""Writes a GGUF v3 file holding one tensor 'w' {32} of ggml type id
sys.argv[2] (no metadata), for the reader's unknown-id errors."""
import struct
import sys

out = bytearray(b"GGUF" + struct.pack("<IQQ", 3, 1, 0))
out += struct.pack("<Q", 1) + b"w" + struct.pack("<I", 1)
out += struct.pack("<qIQ", 32, int(sys.argv[2]), 0)
out += b"\0" * ((-len(out)) % 32) + b"\0" * 256
open(sys.argv[1], "wb").write(out)
