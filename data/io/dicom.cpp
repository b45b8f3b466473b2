// DICOM decoding and writing with DCMTK. Decoding reads the first frame through DcmPixelData's
// getUncompressedFrame: for native pixel data that is one read from the file straight into our buffer
// (loadFile leaves large values on disk), for encapsulated data the registered codec decodes just that frame.
#include "data/io/dicom.h"

#include "support/assert.h"
#include "support/error.h"
#include "support/files.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdict.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/oflog/oflog.h>

#include <cmath>
#include <cstdio>
#include <mutex>
#include <unistd.h>

namespace mhr::data::io {

namespace {

void initDcmtk() {
  static std::once_flag once;
  std::call_once(once, [] {
    // DCMTK logs warnings about harmless oddities (odd lengths, private tags) on stderr; our errors say
    // what matters, so keep its logger to fatal messages.
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
    DJEncoderRegistration::registerCodecs();
    DJLSEncoderRegistration::registerCodecs();
    DcmRLEEncoderRegistration::registerCodecs();
  });
}

std::string xferText(E_TransferSyntax xfer) {
  DcmXfer x(xfer);
  return std::string(x.getXferName()) + " (" + x.getXferID() + ")";
}

uint16_t requireUint16(DcmDataset* ds, const DcmTagKey& tag, const char* name, const std::string& path) {
  Uint16 v = 0;
  if (ds->findAndGetUint16(tag, v).bad())
    throw UserError(path + ": DICOM attribute " + name + " is missing; it is required to read the pixels");
  return v;
}

std::vector<double> float64Values(DcmDataset* ds, const DcmTagKey& tag) {
  std::vector<double> out;
  DcmElement* el = nullptr;
  if (ds->findAndGetElement(tag, el).bad() || !el) return out;
  for (unsigned long i = 0; i < el->getVM(); ++i) {
    Float64 v = 0;
    if (el->getFloat64(v, i).good()) out.push_back(v);
  }
  return out;
}

} // namespace

void decodeDicom(const std::string& path, RawImage& img) {
  initDcmtk();
  DcmFileFormat file;
  OFCondition st = file.loadFile(path.c_str());
  if (st.bad()) throw UserError(path + ": cannot read as DICOM: " + st.text());
  DcmDataset* ds = file.getDataset();
  E_TransferSyntax xfer = ds->getOriginalXfer();

  img.source = path;
  img.windows.clear();
  img.voiLuts.clear();
  img.slope = 1.0;
  img.intercept = 0.0;
  img.invert = false;
  img.colour = false; // a reused RawImage may hold a colour PNG's flag
  uint16_t rows = requireUint16(ds, DCM_Rows, "Rows", path);
  uint16_t cols = requireUint16(ds, DCM_Columns, "Columns", path);
  uint16_t bitsAllocated = requireUint16(ds, DCM_BitsAllocated, "BitsAllocated", path);
  uint16_t bitsStored = requireUint16(ds, DCM_BitsStored, "BitsStored", path);
  Uint16 highBit = static_cast<Uint16>(bitsStored - 1);
  ds->findAndGetUint16(DCM_HighBit, highBit);
  Uint16 pixelRep = 0;
  ds->findAndGetUint16(DCM_PixelRepresentation, pixelRep);
  Uint16 samples = 1;
  ds->findAndGetUint16(DCM_SamplesPerPixel, samples);
  OFString photometric;
  ds->findAndGetOFString(DCM_PhotometricInterpretation, photometric);

  if (rows == 0 || cols == 0) throw UserError(path + ": DICOM image has Rows or Columns 0");
  // 400 million pixels (e.g. 20000 x 20000) is far beyond any radiograph; refuse before allocating.
  if (uint64_t(rows) * cols > 400'000'000ull)
    throw UserError(path + ": image of " + std::to_string(rows) + " x " + std::to_string(cols) +
                    " pixels is larger than mhr reads (400 million pixels)");
  if (samples != 1 || (photometric != "MONOCHROME1" && photometric != "MONOCHROME2"))
    throw UserError(path + ": PhotometricInterpretation is '" + std::string(photometric.c_str()) + "' with " +
                    std::to_string(samples) +
                    " sample(s) per pixel; mhr reads grey images (MONOCHROME1 or MONOCHROME2)");
  if (bitsAllocated != 8 && bitsAllocated != 16)
    throw UserError(path + ": BitsAllocated is " + std::to_string(bitsAllocated) +
                    "; mhr reads 8- and 16-bit DICOM images");
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit + 1 < bitsStored || highBit >= bitsAllocated)
    throw UserError(path + ": inconsistent BitsStored " + std::to_string(bitsStored) + " / HighBit " +
                    std::to_string(highBit) + " / BitsAllocated " + std::to_string(bitsAllocated));
  if (pixelRep == 1 && bitsStored < 2)
    throw UserError(path + ": signed pixel data with BitsStored " + std::to_string(bitsStored));

  DcmElement* pixelElement = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, pixelElement).bad() || !pixelElement)
    throw UserError(path + ": DICOM file has no PixelData (not an image, or a DICOMDIR/structured report)");
  auto* pixelData = dynamic_cast<DcmPixelData*>(pixelElement);
  if (!pixelData) throw UserError(path + ": PixelData element has an unexpected type");

  size_t count = size_t(rows) * cols;
  size_t bytes = count * (bitsAllocated / 8);
  // The header must describe the pixel data it comes with: a file whose BitsAllocated or Rows/Columns
  // disagree with the length of native PixelData decodes into wrong pixels without any error (8 bits over
  // 16-bit data, 10x10 over 64x52). Encapsulated data is checked by its codec, frame by frame.
  if (!DcmXfer(xfer).isEncapsulated()) {
    Sint32 frames = 1;
    if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
    uint64_t expected = uint64_t(bytes) * uint64_t(frames);
    uint64_t actual = pixelElement->getLength();
    if (actual != expected && actual != expected + (expected & 1))
      throw UserError(path + ": the header disagrees with the pixel data: PixelData holds " +
                      std::to_string(actual) + " bytes, but Rows " + std::to_string(rows) + " x Columns " +
                      std::to_string(cols) + " x SamplesPerPixel " + std::to_string(samples) +
                      " x BitsAllocated " + std::to_string(bitsAllocated) + "/8" +
                      (frames > 1 ? " x NumberOfFrames " + std::to_string(frames) : std::string()) + " = " +
                      std::to_string(expected) + " bytes");
  }
  std::vector<uint8_t> buffer8;
  img.height = rows;
  img.width = cols;
  img.stored.resize(count);
  void* target = img.stored.data();
  if (bitsAllocated == 8) {
    buffer8.resize(bytes + (bytes & 1));
    target = buffer8.data();
  }
  Uint32 startFragment = 0;
  OFString colorModel;
  st = pixelData->getUncompressedFrame(ds, 0, startFragment, target, static_cast<Uint32>(bytes + (bytes & 1)),
                                       colorModel);
  if (st.bad()) {
    if (DcmXfer(xfer).isEncapsulated()) {
      std::string text = st.text();
      if (st == EC_CannotChangeRepresentation || text.find("representation") != std::string::npos ||
          text.find("codec") != std::string::npos)
        throw UserError(path + ": transfer syntax " + xferText(xfer) +
                        " cannot be decoded by this DCMTK (it decodes JPEG baseline/extended/lossless, "
                        "JPEG-LS and RLE); convert the file, e.g. with `gdcmconv --raw` or `dcmdjp2k`");
      throw UserError(path + ": cannot decode the " + xferText(xfer) + " pixel data: " + text);
    }
    throw UserError(path + ": cannot read the pixel data (" + st.text() + "); the file may be truncated");
  }
  if (bitsAllocated == 8)
    for (size_t i = 0; i < count; ++i) img.stored[i] = buffer8[i];

  // Keep only the stored bits (DICOM allows overlays or garbage in the unused high bits), then sign-extend.
  int shift = highBit + 1 - bitsStored;
  uint32_t mask = (bitsStored >= 16) ? 0xFFFFu : ((1u << bitsStored) - 1u);
  // ... but when most pixels carry bits outside BitsStored, the header understates the data (BitsStored 8
  // over 16-bit codes) and masking would train on wrong pixels. Overlays in the unused bits touch few pixels,
  // and signed data may sign-extend into them.
  if (bitsStored < bitsAllocated) {
    const uint32_t allBits = bitsAllocated == 8 ? 0xFFu : 0xFFFFu;
    const uint32_t unused = allBits & ~(mask << shift);
    const uint32_t signExtension = allBits & ~((1u << (highBit + 1)) - 1u);
    size_t outside = 0;
    for (uint16_t v : img.stored) {
      uint32_t extra = uint32_t(v) & unused;
      if (bitsAllocated == 8 && extra == 0) continue;
      bool extended =
          pixelRep == 1 && shift == 0 && extra == signExtension && (uint32_t(v) & (1u << highBit)) != 0;
      if (extra != 0 && !extended) ++outside;
    }
    if (outside * 10 > count)
      throw UserError(path + ": the header disagrees with the pixel data: BitsStored is " +
                      std::to_string(bitsStored) + " (HighBit " + std::to_string(highBit) +
                      ", BitsAllocated " + std::to_string(bitsAllocated) + "), but " +
                      std::to_string(outside) + " of " + std::to_string(count) +
                      " pixels have bits set outside the stored bits");
  }
  img.isSigned = pixelRep == 1;
  img.bitsStored = bitsStored;
  if (shift != 0 || mask != 0xFFFFu || img.isSigned) {
    uint32_t signBit = 1u << (bitsStored - 1);
    for (auto& v : img.stored) {
      uint32_t c = (uint32_t(v) >> shift) & mask;
      if (img.isSigned && (c & signBit)) c |= ~mask;
      v = static_cast<uint16_t>(c);
    }
  }

  Float64 slope = 1.0, intercept = 0.0;
  if (ds->findAndGetFloat64(DCM_RescaleSlope, slope).good()) img.slope = slope;
  if (ds->findAndGetFloat64(DCM_RescaleIntercept, intercept).good()) img.intercept = intercept;
  if (img.slope == 0.0) throw UserError(path + ": RescaleSlope is 0");
  if (!std::isfinite(img.slope) || !std::isfinite(img.intercept))
    throw UserError(path + ": RescaleSlope " + std::to_string(img.slope) + " / RescaleIntercept " +
                    std::to_string(img.intercept) + " is not a finite number");
  img.invert = photometric == "MONOCHROME1";

  std::vector<double> centers = float64Values(ds, DCM_WindowCenter);
  std::vector<double> widths = float64Values(ds, DCM_WindowWidth);
  OFString function;
  ds->findAndGetOFString(DCM_VOILUTFunction, function);
  for (size_t i = 0; i < centers.size() && i < widths.size(); ++i) {
    if (!std::isfinite(centers[i]) || !std::isfinite(widths[i]))
      throw UserError(path + ": WindowCenter " + std::to_string(centers[i]) + " / WindowWidth " +
                      std::to_string(widths[i]) + " (window " + std::to_string(i + 1) +
                      ") is not a finite number");
    Window w;
    w.center = centers[i];
    w.width = widths[i];
    if (!function.empty()) w.function = function.c_str();
    img.windows.push_back(w);
  }
  DcmSequenceOfItems* seq = nullptr;
  if (ds->findAndGetSequence(DCM_VOILUTSequence, seq).good() && seq) {
    for (unsigned long i = 0; i < seq->card(); ++i) {
      DcmItem* item = seq->getItem(i);
      DcmElement* descriptor = nullptr;
      if (item->findAndGetElement(DCM_LUTDescriptor, descriptor).bad() || !descriptor ||
          descriptor->getVM() < 3)
        throw UserError(path + ": VOI LUT Sequence item " + std::to_string(i + 1) +
                        " has no valid LUTDescriptor");
      Uint16 d[3] = {0, 0, 0};
      for (unsigned long k = 0; k < 3; ++k) descriptor->getUint16(d[k], k);
      VoiLut lut;
      size_t entries = d[0] == 0 ? 65536 : d[0];
      lut.firstMapped = img.isSigned ? int64_t(int16_t(d[1])) : int64_t(d[1]);
      lut.bits = d[2];
      if (lut.bits < 1 || lut.bits > 16)
        throw UserError(path + ": VOI LUT bit depth " + std::to_string(lut.bits) + " is not in 1..16");
      const Uint16* data = nullptr;
      unsigned long n = 0;
      if (item->findAndGetUint16Array(DCM_LUTData, data, &n).bad() || !data)
        throw UserError(path + ": VOI LUT Sequence item " + std::to_string(i + 1) + " has no LUTData");
      if (n < entries)
        throw UserError(path + ": VOI LUT has " + std::to_string(n) + " entries, its descriptor says " +
                        std::to_string(entries));
      lut.data.assign(data, data + entries);
      img.voiLuts.push_back(std::move(lut));
    }
  }
}

void writeDicom(const std::string& path, int64_t height, int64_t width, const std::vector<uint16_t>& codes,
                const DicomWriteSpec& spec) {
  initDcmtk();
  MHR_ASSERT(size_t(height * width) == codes.size(), "writeDicom: codes do not match the size");
  MHR_ASSERT(spec.bitsAllocated == 8 || spec.bitsAllocated == 16, "writeDicom: 8 or 16 bits allocated");
  DcmFileFormat file;
  DcmDataset* ds = file.getDataset();
  auto put = [&](const DcmTagKey& tag, const std::string& value) {
    OFCondition st = ds->putAndInsertString(tag, value.c_str());
    MHR_ASSERT(st.good(), "writeDicom: cannot set an attribute");
  };
  put(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
  put(DCM_Modality, "OT");
  for (const auto& [keyword, value] : spec.attributes) {
    const DcmDataDictionary& dict = dcmDataDict.rdlock();
    const DcmDictEntry* entry = dict.findEntry(keyword.c_str());
    DcmTagKey key = entry ? entry->getKey() : DcmTagKey();
    dcmDataDict.rdunlock();
    MHR_ASSERT(entry != nullptr, "writeDicom: unknown DICOM keyword");
    put(key, value);
  }
  OFString uid;
  char buf[100];
  if (ds->findAndGetOFString(DCM_StudyInstanceUID, uid).bad())
    put(DCM_StudyInstanceUID, dcmGenerateUniqueIdentifier(buf));
  if (ds->findAndGetOFString(DCM_SeriesInstanceUID, uid).bad())
    put(DCM_SeriesInstanceUID, dcmGenerateUniqueIdentifier(buf));
  if (ds->findAndGetOFString(DCM_SOPInstanceUID, uid).bad())
    put(DCM_SOPInstanceUID, dcmGenerateUniqueIdentifier(buf));

  ds->putAndInsertUint16(DCM_Rows, static_cast<Uint16>(height));
  ds->putAndInsertUint16(DCM_Columns, static_cast<Uint16>(width));
  ds->putAndInsertUint16(DCM_SamplesPerPixel, 1);
  put(DCM_PhotometricInterpretation, spec.photometric);
  ds->putAndInsertUint16(DCM_BitsAllocated, static_cast<Uint16>(spec.bitsAllocated));
  ds->putAndInsertUint16(DCM_BitsStored, static_cast<Uint16>(spec.bitsStored));
  ds->putAndInsertUint16(DCM_HighBit, static_cast<Uint16>(spec.bitsStored - 1));
  ds->putAndInsertUint16(DCM_PixelRepresentation, spec.isSigned ? 1 : 0);
  if (spec.slope || spec.intercept) {
    char text[64];
    std::snprintf(text, sizeof text, "%.10g", spec.slope.value_or(1.0));
    put(DCM_RescaleSlope, text);
    std::snprintf(text, sizeof text, "%.10g", spec.intercept.value_or(0.0));
    put(DCM_RescaleIntercept, text);
    put(DCM_RescaleType, "US");
  }
  if (!spec.windows.empty()) {
    std::string centers, widths;
    for (size_t i = 0; i < spec.windows.size(); ++i) {
      char text[64];
      std::snprintf(text, sizeof text, "%s%.10g", i ? "\\" : "", spec.windows[i].center);
      centers += text;
      std::snprintf(text, sizeof text, "%s%.10g", i ? "\\" : "", spec.windows[i].width);
      widths += text;
    }
    put(DCM_WindowCenter, centers);
    put(DCM_WindowWidth, widths);
    if (spec.windows[0].function != "LINEAR") put(DCM_VOILUTFunction, spec.windows[0].function);
  }
  OFCondition st;
  if (spec.bitsAllocated == 8) {
    std::vector<Uint8> bytes(codes.size());
    for (size_t i = 0; i < codes.size(); ++i) bytes[i] = static_cast<Uint8>(codes[i]);
    st = ds->putAndInsertUint8Array(DCM_PixelData, bytes.data(), bytes.size());
  } else {
    st = ds->putAndInsertUint16Array(DCM_PixelData, codes.data(), codes.size());
  }
  MHR_ASSERT(st.good(), "writeDicom: cannot set PixelData");

  E_TransferSyntax xfer = EXS_LittleEndianExplicit;
  if (spec.transferSyntax == "implicit")
    xfer = EXS_LittleEndianImplicit;
  else if (spec.transferSyntax == "rle")
    xfer = EXS_RLELossless;
  else if (spec.transferSyntax == "jpeg-lossless")
    xfer = EXS_JPEGProcess14SV1;
  else if (spec.transferSyntax == "jpeg-ls")
    xfer = EXS_JPEGLSLossless;
  else
    MHR_ASSERT(spec.transferSyntax == "explicit", "writeDicom: unknown transfer syntax");
  if (DcmXfer(xfer).isEncapsulated()) {
    st = ds->chooseRepresentation(xfer, nullptr);
    if (st.bad() || !ds->canWriteXfer(xfer))
      throw UserError(path + ": cannot encode pixel data as " + xferText(xfer) + ": " + st.text());
  }
  std::string tmp = path + ".tmp" + std::to_string(::getpid());
  st = file.saveFile(tmp.c_str(), xfer);
  if (st.bad()) {
    std::remove(tmp.c_str());
    throw UserError(path + ": cannot write DICOM file: " + st.text());
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw UserError(path + ": cannot move the written DICOM file into place");
  }
}

} // namespace mhr::data::io
