#!/usr/bin/python3
"""Reference DICOM files and pydicom's reading of them, for io_dicom_test.cpp.

Usage: /usr/bin/python3 tests/data/make_dicoms.py OUTDIR

For each case writes OUTDIR/<case>.dcm (made with Debian's pydicom) and what pydicom reads back:
  <case>.modality.f32  pixel_array -> apply_modality_lut -> MONOCHROME1 inverted as mhr defines it
                       ((range min + range max) - value, the range being the modality values of the
                       lowest and highest storable code), float32 little-endian, row-major
  <case>.voi.f32       (cases with a VOI) apply_voi_lut scaled to 0..1 (and inverted for MONOCHROME1)
and one line per case in OUTDIR/cases.txt: "name rows cols has_voi".
Error cases (files mhr must refuse with a clear message) are listed in OUTDIR/errors.txt: "name".
"""
import os
import sys

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixel_data_handlers.util import apply_modality_lut, apply_voi_lut
from pydicom.uid import (ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless, SecondaryCaptureImageStorage,
                         generate_uid)

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(1234)
cases = []
errors = []


def base(rows, cols, bits_allocated, bits_stored, signed, photometric, syntax=ExplicitVRLittleEndian):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "OT"
    ds.PatientID = "TEST"
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = bits_allocated, bits_stored, bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.is_little_endian = True
    ds.is_implicit_VR = syntax == ImplicitVRLittleEndian
    return ds


def codes(rows, cols, bits, signed):
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    a = rng.integers(lo, hi + 1, size=(rows, cols), endpoint=False)
    a[0, 0], a[0, 1] = lo, hi  # the extremes are always present
    return a.astype(np.int16 if signed else (np.uint8 if bits <= 8 else np.uint16))


def case(name, rows, cols, bits_allocated, bits_stored, signed, photometric, slope=None, intercept=None,
         syntax=ExplicitVRLittleEndian, window=None, voi_lut=None, compress=None):
    ds = base(rows, cols, bits_allocated, bits_stored, signed, photometric, syntax)
    arr = codes(rows, cols, bits_stored, signed)
    if slope is not None:
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    if window is not None:
        ds.WindowCenter, ds.WindowWidth = window[0], window[1]
        if len(window) > 2:
            ds.VOILUTFunction = window[2]
    if voi_lut is not None:
        first, n, bits = voi_lut
        item = Dataset()
        item.add_new(0x00283002, "US", [n, first, bits])  # LUTDescriptor
        item.add_new(0x00283006, "US", [int(v) for v in np.linspace(0, (1 << bits) - 1, n).round()])  # LUTData
        ds.VOILUTSequence = [item]
    ds.PixelData = arr.tobytes()
    if compress is not None:
        ds.compress(compress, arr)
    path = os.path.join(out, name + ".dcm")
    ds.save_as(path, write_like_original=False)

    # What pydicom reads back from the file.
    rd = pydicom.dcmread(path)
    stored = rd.pixel_array
    modality = apply_modality_lut(stored, rd).astype(np.float64)
    s = float(rd.get("RescaleSlope", 1.0))
    i = float(rd.get("RescaleIntercept", 0.0))
    lo = -(1 << (bits_stored - 1)) if signed else 0
    hi = (1 << (bits_stored - 1)) - 1 if signed else (1 << bits_stored) - 1
    rmin, rmax = sorted([lo * s + i, hi * s + i])
    inverted = photometric == "MONOCHROME1"
    shown = (rmin + rmax) - modality if inverted else modality
    shown.astype("<f4").tofile(os.path.join(out, name + ".modality.f32"))
    has_voi = window is not None or voi_lut is not None
    if has_voi:
        source = modality.astype(np.int64) if voi_lut is not None else modality.copy()  # LUTs index integers
        v = apply_voi_lut(source, rd, index=0).astype(np.float64)
        if voi_lut is not None:
            unit = v / float((1 << voi_lut[2]) - 1)
        else:  # pydicom's windowing output range: the modality range of the stored bits
            unit = (v - rmin) / (rmax - rmin)
        if inverted:
            unit = 1.0 - unit
        unit.astype("<f4").tofile(os.path.join(out, name + ".voi.f32"))
    cases.append(f"{name} {rows} {cols} {1 if has_voi else 0}")


case("mono2_u16", 37, 29, 16, 16, False, "MONOCHROME2")
case("mono1_u16", 31, 23, 16, 16, False, "MONOCHROME1")
case("mono2_u12", 40, 33, 16, 12, False, "MONOCHROME2")
case("mono2_s16_rescale", 35, 27, 16, 16, True, "MONOCHROME2", slope=0.5, intercept=-1024)
case("mono1_u12_rescale", 30, 41, 16, 12, False, "MONOCHROME1", slope=2, intercept=100)
case("mono2_s12_rescale", 26, 19, 16, 12, True, "MONOCHROME2", slope=1, intercept=-1024)
case("mono2_u8", 33, 21, 8, 8, False, "MONOCHROME2")
case("mono1_u8", 17, 31, 8, 8, False, "MONOCHROME1")
case("implicit_u16", 29, 31, 16, 16, False, "MONOCHROME2", syntax=ImplicitVRLittleEndian)
case("rle_u16", 45, 38, 16, 16, False, "MONOCHROME2", compress=RLELossless)
case("rle_mono1_u12_rescale", 28, 44, 16, 12, False, "MONOCHROME1", slope=2, intercept=100, compress=RLELossless)
case("rle_s16", 22, 26, 16, 16, True, "MONOCHROME2", slope=1, intercept=-1024, compress=RLELossless)
case("rle_u8", 19, 23, 8, 8, False, "MONOCHROME2", compress=RLELossless)
case("voi_linear", 33, 27, 16, 12, True, "MONOCHROME2", slope=1, intercept=-1024, window=(40, 400))
case("voi_linear_exact", 33, 27, 16, 12, False, "MONOCHROME2", window=(2000, 1000, "LINEAR_EXACT"))
case("voi_sigmoid", 33, 27, 16, 12, False, "MONOCHROME2", window=(2048, 1500, "SIGMOID"))
case("voi_mono1", 25, 27, 16, 16, False, "MONOCHROME1", slope=0.5, intercept=10, window=(16000, 20000))
case("voi_lut", 21, 24, 16, 12, False, "MONOCHROME2", voi_lut=(1000, 2048, 12))

# ---- files mhr must refuse, each with its own message
ds = base(8, 8, 16, 16, False, "MONOCHROME2")
ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.4.90"  # JPEG 2000 Lossless: DCMTK 3.6.7 has no codec
ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + bytes(60)])
ds["PixelData"].VR = "OB"
ds.is_implicit_VR = False
ds.save_as(os.path.join(out, "jpeg2000.dcm"), write_like_original=False)
errors.append("jpeg2000")

ds = base(64, 64, 16, 16, False, "MONOCHROME2")
ds.PixelData = codes(64, 64, 16, False).tobytes()
ds.save_as(os.path.join(out, "truncated.dcm"), write_like_original=False)
data = open(os.path.join(out, "truncated.dcm"), "rb").read()
open(os.path.join(out, "truncated.dcm"), "wb").write(data[: len(data) - 3000])
errors.append("truncated")

ds = base(4, 4, 8, 8, False, "RGB")
ds.SamplesPerPixel = 3
ds.PlanarConfiguration = 0
ds.PixelData = bytes(4 * 4 * 3)
ds.save_as(os.path.join(out, "rgb.dcm"), write_like_original=False)
errors.append("rgb")

ds = base(4, 4, 16, 16, False, "MONOCHROME2")
ds.save_as(os.path.join(out, "nopixels.dcm"), write_like_original=False)
errors.append("nopixels")

open(os.path.join(out, "garbage.dcm"), "wb").write(bytes(range(256)) * 4)
errors.append("garbage")

# ---- headers that disagree with their pixel data (issue 20): each used to decode silently into wrong pixels
ds = base(64, 52, 8, 8, False, "MONOCHROME2")  # BitsAllocated 8 over 16-bit codes
ds.PixelData = codes(64, 52, 16, False).tobytes()
ds["PixelData"].VR = "OW"
ds.save_as(os.path.join(out, "bits8_over16.dcm"), write_like_original=False)
errors.append("bits8_over16")

ds = base(10, 10, 16, 16, False, "MONOCHROME2")  # Rows x Columns 10 x 10 over 64 x 52 codes
ds.PixelData = codes(64, 52, 16, False).tobytes()
ds.save_as(os.path.join(out, "rows_cols_small.dcm"), write_like_original=False)
errors.append("rows_cols_small")

ds = base(64, 52, 16, 8, False, "MONOCHROME2")  # BitsStored 8 over full 16-bit codes
a = codes(64, 52, 16, False)
a |= 0x100  # every pixel has bits above the stored 8
ds.PixelData = a.tobytes()
ds.save_as(os.path.join(out, "bitsstored_understated.dcm"), write_like_original=False)
errors.append("bitsstored_understated")

ds = base(16, 16, 16, 16, False, "MONOCHROME2")
ds.PixelData = codes(16, 16, 16, False).tobytes()
ds.add_new(0x00281053, "DS", "NaN")  # RescaleSlope
ds.add_new(0x00281052, "DS", "0")  # RescaleIntercept
ds.save_as(os.path.join(out, "rescale_nan.dcm"), write_like_original=False)
errors.append("rescale_nan")

ds = base(16, 16, 16, 16, False, "MONOCHROME2")
ds.PixelData = codes(16, 16, 16, False).tobytes()
ds.add_new(0x00281050, "DS", "inf")  # WindowCenter
ds.add_new(0x00281051, "DS", "400")  # WindowWidth
ds.save_as(os.path.join(out, "window_inf.dcm"), write_like_original=False)
errors.append("window_inf")

# Overlay-style bits above BitsStored in a few pixels stay allowed (masked away, as DICOM says).
ds = base(20, 20, 16, 12, False, "MONOCHROME2")
a = codes(20, 20, 12, False)
a[0, :5] |= 0x8000
ds.PixelData = a.tobytes()
ds.save_as(os.path.join(out, "overlay_bits.dcm"), write_like_original=False)

with open(os.path.join(out, "cases.txt"), "w") as f:
    f.write("\n".join(cases) + "\n")
with open(os.path.join(out, "errors.txt"), "w") as f:
    f.write("\n".join(errors) + "\n")
