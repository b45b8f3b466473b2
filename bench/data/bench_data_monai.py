"""The MONAI anchor of the data benchmark: MONAI's own transforms doing what mhr's default preprocessing does.

Usage: PYTHON bench/data/bench_data_monai.py DIR PROCESSES HxW

Each file: LoadImage (MONAI's PydicomReader, the reader a MONAI user gets for .dcm) -> EnsureChannelFirst ->
ScaleIntensityRange from the nominal range of the stored bits (after RescaleSlope/Intercept) to 0..1, as mhr's
default window does (MONAI's ScaleIntensity would use each image's own min and max: another result) ->
Resize to the aspect-kept size with mode "area" -> SpatialPad (centred, zeros) to H x W. MONOCHROME1 is
inverted. MONAI's readers index arrays (x, y), so the centre pixel read for the checksum is the same pixel
mhr reads. A pool of PROCESSES workers with one torch thread each, so both sides use the same cores.
Prints "images_per_second N", the checksum and the versions.
"""
import glob
import multiprocessing as mp
import os
import sys
import time

import monai
import pydicom
import torch
from monai.transforms import EnsureChannelFirst, LoadImage, Resize, ScaleIntensityRange, SpatialPad

H = W = 0


def init():
    torch.set_num_threads(1)


def process(path):
    header = pydicom.dcmread(path, stop_before_pixels=True)
    img = LoadImage(reader="PydicomReader", image_only=True)(path)
    img = EnsureChannelFirst()(img)  # [1, X, Y]: MONAI's (x, y) order
    slope = float(header.get("RescaleSlope", 1.0))
    intercept = float(header.get("RescaleIntercept", 0.0))
    bits = int(header.BitsStored)
    signed = header.PixelRepresentation == 1
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    vmin, vmax = sorted([lo * slope + intercept, hi * slope + intercept])
    img = ScaleIntensityRange(a_min=vmin, a_max=vmax, b_min=0.0, b_max=1.0)(img)
    if header.PhotometricInterpretation == "MONOCHROME1":
        img = 1.0 - img
    w, h = img.shape[1], img.shape[2]
    s = min(H / h, W / w)
    nh, nw = min(H, max(1, round(h * s))), min(W, max(1, round(w * s)))
    img = Resize(spatial_size=(nw, nh), mode="area")(img)
    img = SpatialPad(spatial_size=(W, H), method="symmetric")(img)
    return float(img[0, W // 2, H // 2])


def main():
    global H, W
    folder, procs, size = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    H, W = (int(v) for v in size.lower().split("x"))
    files = sorted(glob.glob(os.path.join(folder, "*.dcm")))
    with mp.get_context("fork").Pool(procs, initializer=init) as pool:
        pool.map(process, files[:procs])  # start the workers and import everything before timing
        start = time.perf_counter()
        checksum = sum(pool.map(process, files, chunksize=1))
        seconds = time.perf_counter() - start
    print(f"images_per_second {len(files) / seconds:.3f}\nimages {len(files)}\nseconds {seconds:.3f}\n"
          f"checksum {checksum:.6f}\nmonai {monai.__version__}\npydicom {pydicom.__version__}")


if __name__ == "__main__":
    main()
