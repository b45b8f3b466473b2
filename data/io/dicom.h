// data/io/dicom.h — DICOM through DCMTK (built only with MHR_WITH_IMAGE_IO). In: a file path (decode) or
// pixel codes plus the attributes to record (write). Out: a RawImage with the stored codes and the intensity
// metadata untouched (the modality/VOI/inversion arithmetic lives in data/preprocess.cpp, in one place), or
// a file. The writer serves `mhr synth` and the tests; it writes real DICOM Part 10 files.
#pragma once

#include "data/image.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mhr::data::io {

// Into `img`, reusing its pixel buffer (see decodeImage in data/decode.h).
void decodeDicom(const std::string& path, RawImage& img);

struct DicomWriteSpec {
  // explicit (Explicit VR Little Endian), implicit, rle (RLE Lossless), jpeg-lossless (process 14 SV1),
  // jpeg-ls (JPEG-LS lossless)
  std::string transferSyntax = "explicit";
  std::string photometric = "MONOCHROME2";
  int bitsAllocated = 16; // 8 or 16
  int bitsStored = 16;
  bool isSigned = false;
  std::optional<double> slope;     // RescaleSlope (written with RescaleIntercept when either is set)
  std::optional<double> intercept; // RescaleIntercept
  std::vector<Window> windows;     // WindowCenter/WindowWidth/VOILUTFunction
  // Further attributes by DICOM keyword ("PatientID", "StudyInstanceUID", "ViewPosition", ...), written as
  // strings. Unknown keywords are our bug (MHR_ASSERT).
  std::vector<std::pair<std::string, std::string>> attributes;
};

// Codes are row-major height x width; for signed data the int16 bit pattern. Atomic: a temporary file in the
// same folder renamed over the target. Throws UserError naming the file when it cannot be written.
void writeDicom(const std::string& path, int64_t height, int64_t width, const std::vector<uint16_t>& codes,
                const DicomWriteSpec& spec);

} // namespace mhr::data::io
