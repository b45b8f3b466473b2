#!/usr/bin/python3
"""Reference PNG/JPEG files and OpenCV-Python results, for io_raster_test.cpp.

Usage: /usr/bin/python3 tests/data/make_rasters.py OUTDIR

Images: <name>.png/.jpg with <name>.grey.u16 = the grey codes OpenCV-Python gives (cv2.imread unchanged,
colour converted with cv2.cvtColor *2GRAY), uint16 little-endian. CLAHE: clahe_<h>x<w>.in.u16 (8-bit codes)
and .out.u16 = cv2.createCLAHE(clipLimit=2, tileGridSize=(8, 8)).apply. Resampling: resize_<name>.in.f32
and .out.f32 = cv2.resize(INTER_AREA or INTER_LINEAR), with the shapes in resize.txt.
"""
import os
import struct
import sys
import zlib

import cv2
import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(99)
cv2.setNumThreads(1)


def save_grey(name, grey):
    grey.astype("<u2").tofile(os.path.join(out, name + ".grey.u16"))


def smooth(h, w, channels=None, depth=np.uint8):
    top = 255 if depth == np.uint8 else 65535
    y, x = np.mgrid[0:h, 0:w]
    base = (np.sin(x / 7.0) + np.cos(y / 5.0) + 2) / 4 * top
    if channels is None:
        return base.astype(depth)
    return np.stack([np.roll(base, 3 * c, axis=1) for c in range(channels)], axis=2).astype(depth)


g8 = rng.integers(0, 256, size=(37, 29), dtype=np.uint8)
cv2.imwrite(os.path.join(out, "grey8.png"), g8)
save_grey("grey8", g8)
g16 = rng.integers(0, 65536, size=(31, 27), dtype=np.uint16)
cv2.imwrite(os.path.join(out, "grey16.png"), g16)
save_grey("grey16", g16)
rgb = rng.integers(0, 256, size=(23, 41, 3), dtype=np.uint8)
cv2.imwrite(os.path.join(out, "rgb8.png"), rgb)
save_grey("rgb8", cv2.cvtColor(cv2.imread(os.path.join(out, "rgb8.png"), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2GRAY))
rgb16 = rng.integers(0, 65536, size=(19, 17, 3), dtype=np.uint16)
cv2.imwrite(os.path.join(out, "rgb16.png"), rgb16)
save_grey("rgb16", cv2.cvtColor(cv2.imread(os.path.join(out, "rgb16.png"), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2GRAY))
rgba = rng.integers(0, 256, size=(21, 13, 4), dtype=np.uint8)
cv2.imwrite(os.path.join(out, "rgba8.png"), rgba)
save_grey("rgba8", cv2.cvtColor(cv2.imread(os.path.join(out, "rgba8.png"), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGRA2GRAY))
jg = smooth(40, 48)
cv2.imwrite(os.path.join(out, "grey.jpg"), jg)
save_grey("grey_jpg", cv2.imread(os.path.join(out, "grey.jpg"), cv2.IMREAD_UNCHANGED))
jc = smooth(40, 48, 3)
cv2.imwrite(os.path.join(out, "colour.jpg"), jc)
save_grey("colour_jpg", cv2.cvtColor(cv2.imread(os.path.join(out, "colour.jpg"), cv2.IMREAD_UNCHANGED), cv2.COLOR_BGR2GRAY))


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


# Grey + alpha (colour type 4), as some ChestX-ray14 files are; written by hand since cv2 cannot.
ga_grey = rng.integers(0, 256, size=(15, 11), dtype=np.uint8)
ga_alpha = rng.integers(0, 256, size=(15, 11), dtype=np.uint8)
raw = b"".join(b"\0" + np.stack([ga_grey[r], ga_alpha[r]], axis=1).tobytes() for r in range(15))
png = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", 11, 15, 8, 4, 0, 0, 0))
png += png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b"")
open(os.path.join(out, "ga8.png"), "wb").write(png)
save_grey("ga8", ga_grey)

data = open(os.path.join(out, "grey16.png"), "rb").read()
open(os.path.join(out, "truncated.png"), "wb").write(data[: len(data) // 2])

for h, w in [(96, 80), (100, 90), (64, 64)]:
    img = (smooth(h, w).astype(np.int32) // 3 + rng.integers(0, 60, size=(h, w))).clip(0, 255).astype(np.uint8)
    img.astype("<u2").tofile(os.path.join(out, f"clahe_{h}x{w}.in.u16"))
    res = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8)).apply(img)
    res.astype("<u2").tofile(os.path.join(out, f"clahe_{h}x{w}.out.u16"))

lines = []
for name, (h, w), (oh, ow), interp in [("area_int", (64, 48), (8, 6), cv2.INTER_AREA),
                                        ("area_frac", (250, 150), (61, 37), cv2.INTER_AREA),
                                        ("area_mammo", (500, 300), (103, 62), cv2.INTER_AREA),
                                        ("linear_up", (20, 15), (50, 40), cv2.INTER_LINEAR)]:
    src = rng.random((h, w), dtype=np.float32)
    src.astype("<f4").tofile(os.path.join(out, f"resize_{name}.in.f32"))
    cv2.resize(src, (ow, oh), interpolation=interp).astype("<f4").tofile(os.path.join(out, f"resize_{name}.out.f32"))
    lines.append(f"{name} {h} {w} {oh} {ow}")
open(os.path.join(out, "resize.txt"), "w").write("\n".join(lines) + "\n")
