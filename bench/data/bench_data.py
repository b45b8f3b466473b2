#!/usr/bin/python3
"""The anchor of the data benchmark: pydicom + OpenCV-Python doing what mhr's default preprocessing does.

Usage: /usr/bin/python3 bench/data/bench_data.py DIR PROCESSES HxW [REPEAT] [--codes-first]

Each file: pydicom.dcmread -> pixel_array -> float32 -> modality (RescaleSlope/Intercept) and the nominal
range of the stored bits mapped to 0..1 (MONOCHROME1 inverted) -> keep the aspect ratio, cv2.resize with
INTER_AREA -> pad (centred, zeros) to H x W. With --codes-first the stored uint16 codes are resized first
and converted afterwards (what a careful user writes: 30x fewer float pixels; the result differs by the
rounding of the resized codes to integers, at most 0.5 / 65535). A pool of PROCESSES workers, each with
OpenCV single-threaded, so both sides use the same number of cores. Prints "images_per_second N".
"""
import glob
import multiprocessing as mp
import os
import sys
import time

import cv2
import numpy as np
import pydicom

H = W = 0
CODES_FIRST = False


def init():
    cv2.setNumThreads(1)


def process(path):
    ds = pydicom.dcmread(path)
    img = ds.pixel_array
    h, w = img.shape
    s = min(H / h, W / w)
    nh, nw = min(H, max(1, round(h * s))), min(W, max(1, round(w * s)))
    if CODES_FIRST:
        img = cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    img = img.astype(np.float32)
    slope = float(ds.get("RescaleSlope", 1.0))
    intercept = float(ds.get("RescaleIntercept", 0.0))
    bits = int(ds.BitsStored)
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if ds.PixelRepresentation == 1 else (0, (1 << bits) - 1)
    vmin, vmax = sorted([lo * slope + intercept, hi * slope + intercept])
    img = (img * slope + intercept - vmin) / (vmax - vmin)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        img = 1.0 - img
    small = img if CODES_FIRST else cv2.resize(img, (nw, nh), interpolation=cv2.INTER_AREA)
    out = np.zeros((H, W), dtype=np.float32)
    y, x = (H - nh) // 2, (W - nw) // 2
    out[y:y + nh, x:x + nw] = small
    return float(out[H // 2, W // 2])


def main():
    global H, W, CODES_FIRST
    args = [a for a in sys.argv[1:] if a != "--codes-first"]
    CODES_FIRST = "--codes-first" in sys.argv
    folder, procs, size = args[0], int(args[1]), args[2]
    repeat = int(args[3]) if len(args) > 3 else 1
    H, W = (int(v) for v in size.lower().split("x"))
    files = sorted(glob.glob(os.path.join(folder, "*.dcm"))) * repeat
    # fork: workers inherit H, W and CODES_FIRST
    with mp.get_context("fork").Pool(procs, initializer=init) as pool:
        pool.map(process, files[:procs])  # start the workers and import everything before timing
        start = time.perf_counter()
        checksum = sum(pool.map(process, files, chunksize=1))
        seconds = time.perf_counter() - start
    print(f"images_per_second {len(files) / seconds:.3f}\nimages {len(files)}\nseconds {seconds:.3f}\nchecksum {checksum:.6f}")


if __name__ == "__main__":
    main()
