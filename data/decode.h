// data/decode.h — image files in, RawImage out. DICOM is read with DCMTK (uncompressed and every compressed
// transfer syntax DCMTK decodes: JPEG baseline/extended/lossless, JPEG-LS, RLE), PNG/JPEG/TIFF/BMP with
// OpenCV. The format is recognised from the file's bytes, not its name. Errors are mhr::UserError naming
// the file and what is wrong (unreadable, truncated, unsupported transfer syntax, not a grey image, ...).
// Without MHR_WITH_IMAGE_IO every call throws a UserError that says how to build with decoding; the rest
// of the data layer (caches, synthetic data, loader) does not need it.
#pragma once

#include "data/image.h"

#include <string>

namespace mhr::data {

// True when this build can decode DICOM and PNG/JPEG (MHR_WITH_IMAGE_IO=ON).
bool imageIoAvailable();

enum class FileFormat { Dicom, Png, Jpeg, OtherRaster, Unknown };
// Looks at the first bytes: "DICM" at offset 128 (or a DICOM file without preamble), PNG and JPEG
// signatures. Throws UserError naming the file when it cannot be opened.
FileFormat sniffFormat(const std::string& path);

// Decodes any supported file. DICOM: stored codes with RescaleSlope/Intercept, MONOCHROME1 flag and the
// file's VOI windows/LUTs; PNG/JPEG: 8- or 16-bit codes, colour converted to grey (ITU-R 601 weights).
RawImage decodeImage(const std::string& path);
// The same into an existing RawImage, reusing its pixel buffer: a worker decoding many images of one size
// then neither allocates nor zero-fills 30 MB per mammogram (that was a third of the decode time).
void decodeImage(const std::string& path, RawImage& into);

} // namespace mhr::data
