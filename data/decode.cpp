#include "data/decode.h"

#include "support/error.h"

#include <cstring>
#include <fstream>

#ifdef MHR_WITH_IMAGE_IO
#include "data/io/dicom.h"
#include "data/io/raster.h"
#endif

namespace mhr::data {

bool imageIoAvailable() {
#ifdef MHR_WITH_IMAGE_IO
  return true;
#else
  return false;
#endif
}

FileFormat sniffFormat(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(path + ": cannot open the image file (missing or not readable)");
  char head[132] = {};
  in.read(head, sizeof head);
  size_t got = static_cast<size_t>(in.gcount());
  if (got >= 132 && std::memcmp(head + 128, "DICM", 4) == 0) return FileFormat::Dicom;
  if (got >= 8 && std::memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0) return FileFormat::Png;
  if (got >= 3 && std::memcmp(head, "\xff\xd8\xff", 3) == 0) return FileFormat::Jpeg;
  if (got >= 4 && (std::memcmp(head, "II*\0", 4) == 0 || std::memcmp(head, "MM\0*", 4) == 0 ||
                   std::memcmp(head, "BM", 2) == 0))
    return FileFormat::OtherRaster;
  // A DICOM data set without the 128-byte preamble starts with a group 0x0008 (or 0x0002) tag in little
  // endian: old scanners and some anonymisers write such files.
  if (got >= 4 && (head[0] == 0x08 || head[0] == 0x02) && head[1] == 0x00 && head[3] == 0x00)
    return FileFormat::Dicom;
  return FileFormat::Unknown;
}

RawImage decodeImage(const std::string& path) {
  RawImage img;
  decodeImage(path, img);
  return img;
}

void decodeImage(const std::string& path, RawImage& into) {
  FileFormat format = sniffFormat(path);
#ifdef MHR_WITH_IMAGE_IO
  switch (format) {
  case FileFormat::Dicom:
    return io::decodeDicom(path, into);
  case FileFormat::Png:
  case FileFormat::Jpeg:
  case FileFormat::OtherRaster:
    return io::decodeRaster(path, into);
  case FileFormat::Unknown:
    break;
  }
  throw UserError(path + ": not an image mhr can read (expected DICOM, PNG, JPEG, TIFF or BMP; the first "
                         "bytes match none of them)");
#else
  (void)format;
  (void)into;
  throw UserError(path + ": this mhr was built without image decoding (MHR_WITH_IMAGE_IO=OFF). Build with "
                         "-DMHR_WITH_IMAGE_IO=ON (needs DCMTK and OpenCV), or prepare the cache on a machine "
                         "that has it (`mhr prepare`) and point `cache:` at it");
#endif
}

} // namespace mhr::data
