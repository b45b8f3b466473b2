# Checks files the runtime wrote: a torch.save zip must load with torch.load(weights_only=True) (PyTorch's
# restricted unpickler: no code execution) and a safetensors file must pass the reference format rules (8-byte
# little-endian header length, JSON header, tensors tiling the data section without gaps or overlaps, the header
# padded to 8 bytes). Both must hold exactly the tensors of REFERENCE (a torch.save file).
# Usage: check_written.py REFERENCE WRITTEN.pt WRITTEN.safetensors
import json
import struct
import sys

import numpy as np
import torch

ref = torch.load(sys.argv[1])
pt = torch.load(sys.argv[2], weights_only=True)

DT = {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
      "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
      "BOOL": torch.bool}


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header not padded to 8 bytes"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    header.pop("__metadata__", None)
    spans = sorted((v["data_offsets"][0], v["data_offsets"][1], k) for k, v in header.items())
    cursor = 0
    for b, e, k in spans:
        assert b == cursor, "gap or overlap at %s" % k
        cursor = e
    assert cursor == len(data), "stray bytes after the data"
    out = {}
    for k, v in header.items():
        b, e = v["data_offsets"]
        dt = DT[v["dtype"]]
        assert b % torch.tensor([], dtype=dt).element_size() == 0, "misaligned %s" % k
        buf = bytearray(data[b:e])
        t = torch.frombuffer(buf, dtype=dt) if e > b else torch.empty(0, dtype=dt)
        out[k] = t.reshape(v["shape"])
    return out


st = read_safetensors(sys.argv[3])
bad = []
for name, loaded in (("torch.save", pt), ("safetensors", st)):
    if list(sorted(loaded.keys())) != list(sorted(ref.keys())):
        bad.append("%s: keys differ: %s vs %s" % (name, sorted(loaded.keys()), sorted(ref.keys())))
        continue
    for k, t in ref.items():
        u = loaded[k]
        if u.dtype != t.dtype or u.shape != t.shape or not torch.equal(u, t):
            bad.append("%s: tensor %s differs (%s %s vs %s %s)" % (name, k, u.dtype, tuple(u.shape), t.dtype, tuple(t.shape)))
if bad:
    print("\n".join(bad))
    sys.exit(1)
print("ok")
