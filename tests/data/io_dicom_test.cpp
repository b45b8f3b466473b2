// DICOM decoding checked pixel-exact against Debian's pydicom (/usr/bin/python3) on files pydicom writes:
// MONOCHROME1/2, 8/12/16-bit, signed, RescaleSlope/Intercept, implicit VR, RLE Lossless (a compressed
// syntax pydicom decodes without plugins), VOI windows and LUTs; files mhr must refuse; and DCMTK's other
// lossless codecs (JPEG lossless, JPEG-LS) round-tripped through our writer.
#include "data/cache.h"
#include "data/decode.h"
#include "data/io/dicom.h"
#include "data/preprocess.h"
#include "data/random.h"
#include "data/synthetic.h"
#include "support/strings.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace mhr::data {

using namespace test;

namespace {

class DicomReference : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    std::string log;
    int rc = run("/usr/bin/python3 tests/data/make_dicoms.py '" + dir_->path() + "'", &log);
    ASSERT_EQ(rc, 0) << log;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string path(const std::string& name) { return *dir_ / name; }
  static std::vector<float> floats(const std::string& file) {
    std::string bytes = support::readFile(path(file)).value_or("");
    std::vector<float> v(bytes.size() / 4);
    std::memcpy(v.data(), bytes.data(), v.size() * 4);
    return v;
  }
  static std::vector<std::string> lines(const std::string& file) {
    std::vector<std::string> out;
    for (auto& l : support::split(support::readFile(path(file)).value_or(""), '\n'))
      if (!l.empty()) out.push_back(l);
    return out;
  }
  static TempDir* dir_;
};
TempDir* DicomReference::dir_ = nullptr;

PrepareOptions quiet(std::ostream& out, int threads = 2) {
  PrepareOptions o;
  o.out = &out;
  o.progress = ProgressMode::Lines;
  o.threads = threads;
  return o;
}

} // namespace

TEST_F(DicomReference, ModalityValuesArePixelExact) {
  auto cases = lines("cases.txt");
  ASSERT_GE(cases.size(), 18u);
  for (const std::string& line : cases) {
    std::istringstream in(line);
    std::string name;
    int64_t rows, cols;
    int hasVoi;
    in >> name >> rows >> cols >> hasVoi;
    SCOPED_TRACE(name);
    ASSERT_EQ(sniffFormat(path(name + ".dcm")), FileFormat::Dicom);
    RawImage raw = decodeImage(path(name + ".dcm"));
    ASSERT_EQ(raw.height, rows);
    ASSERT_EQ(raw.width, cols);
    std::vector<float> ref = floats(name + ".modality.f32");
    ASSERT_EQ(ref.size(), size_t(rows * cols));
    size_t mismatches = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      float mine = float(raw.value(raw.code(i)));
      if (std::memcmp(&mine, &ref[i], 4) != 0 && ++mismatches <= 3)
        ADD_FAILURE() << "pixel " << i << ": mhr " << mine << " pydicom " << ref[i];
    }
    EXPECT_EQ(mismatches, 0u);
    EXPECT_EQ(raw.invert, name.find("mono1") != std::string::npos);
    if (hasVoi) {
      PreprocessSpec spec;
      spec.voi = true;
      std::vector<float> lut = unitLut(raw, spec);
      std::vector<float> voi = floats(name + ".voi.f32");
      ASSERT_EQ(voi.size(), ref.size());
      for (size_t i = 0; i < voi.size(); ++i) ASSERT_NEAR(lut[raw.stored[i]], voi[i], 2e-6) << "pixel " << i;
    }
  }
}

TEST_F(DicomReference, UnsupportedAndBrokenFilesGetAClearMessage) {
  auto has = [](const std::string& file, const std::string& part) {
    std::string e = errorOf([&] { decodeImage(path(file)); });
    EXPECT_NE(e.find(path(file)), std::string::npos) << e;
    EXPECT_NE(e.find(part), std::string::npos) << e;
  };
  has("jpeg2000.dcm", "JPEG 2000");
  has("jpeg2000.dcm", "cannot be decoded by this DCMTK");
  has("truncated.dcm", "truncated");
  has("rgb.dcm", "PhotometricInterpretation is 'RGB'");
  has("nopixels.dcm", "has no PixelData");
  has("garbage.dcm", "not an image mhr can read");
  EXPECT_NE(errorOf([] { decodeImage("/nonexistent/x.dcm"); }).find("cannot open"), std::string::npos);
}

TEST_F(DicomReference, HeadersThatDisagreeWithThePixelDataAreRefusedWithTheFields) {
  auto has = [](const std::string& file, std::vector<std::string> parts) {
    std::string e = errorOf([&] { decodeImage(path(file)); });
    EXPECT_NE(e.find(path(file)), std::string::npos) << e;
    for (const auto& part : parts) EXPECT_NE(e.find(part), std::string::npos) << file << ": " << e;
  };
  has("bits8_over16.dcm", {"PixelData holds 6656 bytes", "BitsAllocated 8", "= 3328 bytes"});
  has("rows_cols_small.dcm", {"PixelData holds 6656 bytes", "Rows 10 x Columns 10", "= 200 bytes"});
  has("bitsstored_understated.dcm", {"BitsStored is 8", "3328 of 3328 pixels"});
  has("rescale_nan.dcm", {"RescaleSlope", "not a finite number"});
  has("window_inf.dcm", {"WindowCenter", "not a finite number"});
  // A few overlay bits above BitsStored are masked, not refused.
  RawImage overlay = decodeImage(path("overlay_bits.dcm"));
  for (uint16_t v : overlay.stored) EXPECT_LT(v, 4096);
}

TEST_F(DicomReference, InconsistentDicomsAreLeftOutAndCountedUnderOnErrorSkip) {
  if (!imageIoAvailable()) GTEST_SKIP() << "built without image I/O";
  TempDir dir;
  std::string csv = "image,label\n" + path("mono2_u16.dcm") + ",a\n" + path("bits8_over16.dcm") + ",b\n" +
                    path("rows_cols_small.dcm") + ",a\n" + path("rescale_nan.dcm") + ",b\n";
  writeText(dir / "m.csv", csv);
  auto cfg = [&](bool skip) {
    plan::Attrs o = {{"cache", str(dir / "c")}};
    if (skip) o.push_back({"on_error", sym("skip")});
    return config("files", "manifest", {{"csv", str(dir / "m.csv")}}, o);
  };
  std::ostringstream log;
  std::string e = errorOf([&] { prepareCache(openDataset(cfg(false), 0), 16, 16, quiet(log, 1)); });
  EXPECT_NE(e.find(path("bits8_over16.dcm")), std::string::npos) << e;
  Warnings w;
  Dataset d = openDataset(cfg(true), 0, w.options());
  auto c = prepareCache(d, 16, 16, quiet(log, 1));
  EXPECT_FALSE(c->failed(0));
  EXPECT_TRUE(c->failed(1));
  EXPECT_TRUE(c->failed(2));
  EXPECT_TRUE(c->failed(3));
  std::string all;
  for (const auto& l : w.lines) all += l + "\n";
  EXPECT_NE(all.find("3 of 4 images could not be read"), std::string::npos) << all;
  EXPECT_NE(all.find("disagrees with the pixel data"), std::string::npos) << all;
}

TEST(DicomWriter, LosslessCodecsRoundTripThroughDcmtk) {
  TempDir dir;
  Rng rng(3);
  // 16-bit: a synthetic mammogram (DCMTK 3.6.7's JPEG-LS codec rejects its own encoding of full-range
  // 16-bit white noise, which no detector produces); 12 and 8 bits: uniform noise, the hardest case.
  MammoParams mp;
  mp.count = 2;
  mp.height = 57;
  mp.width = 43;
  RawImage mammo = SyntheticMammo(mp).render(0);
  for (int bits : {16, 12, 8}) {
    std::vector<uint16_t> codes(57 * 43);
    for (auto& c : codes) c = uint16_t(rng.below(uint64_t(1) << bits));
    if (bits == 16) codes = mammo.stored;
    for (std::string syntax : {"explicit", "implicit", "rle", "jpeg-lossless", "jpeg-ls"}) {
      SCOPED_TRACE(syntax + " " + std::to_string(bits));
      io::DicomWriteSpec spec;
      spec.transferSyntax = syntax;
      spec.bitsAllocated = bits == 8 ? 8 : 16;
      spec.bitsStored = bits;
      spec.slope = 2.0;
      spec.intercept = -7;
      std::string file = dir / (syntax + std::to_string(bits) + ".dcm");
      io::writeDicom(file, 57, 43, codes, spec);
      RawImage raw = decodeImage(file);
      EXPECT_EQ(raw.stored, codes);
      EXPECT_EQ(raw.bitsStored, bits);
      EXPECT_EQ(raw.slope, 2.0);
      EXPECT_EQ(raw.intercept, -7.0);
    }
  }
}

TEST(DicomWriter, PydicomReadsWhatWeWrite) {
  TempDir dir;
  Rng rng(4);
  std::vector<uint16_t> codes(31 * 29);
  for (auto& c : codes) c = uint16_t(rng.below(65536));
  std::string raw((const char*)codes.data(), codes.size() * 2);
  writeText(dir / "codes.u16", raw);
  for (std::string syntax : {"explicit", "rle"}) {
    io::DicomWriteSpec spec;
    spec.transferSyntax = syntax;
    spec.attributes = {{"PatientID", "P_00001"}, {"Modality", "MG"}};
    io::writeDicom(dir / (syntax + ".dcm"), 31, 29, codes, spec);
    std::string log;
    int rc = run("/usr/bin/python3 -c \"import sys, numpy, pydicom; d = pydicom.dcmread(sys.argv[1]); "
                 "ref = numpy.fromfile(sys.argv[2], dtype='<u2').reshape(31, 29); "
                 "assert d.PatientID == 'P_00001' and d.Modality == 'MG'; "
                 "sys.exit(0 if (d.pixel_array == ref).all() else 3)\" '" +
                     dir / (syntax + ".dcm") + "' '" + dir / "codes.u16" + "'",
                 &log);
    EXPECT_EQ(rc, 0) << syntax << ": " << log;
  }
}

TEST(DicomWriter, ConcurrentDecodingGivesTheSameCodes) {
  TempDir dir;
  Rng rng(5);
  std::vector<uint16_t> codes(128 * 96);
  for (auto& c : codes) c = uint16_t(rng.below(4096));
  io::DicomWriteSpec spec;
  spec.transferSyntax = "jpeg-ls";
  spec.bitsStored = 12;
  io::writeDicom(dir / "a.dcm", 128, 96, codes, spec);
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int k = 0; k < 10; ++k) ok[size_t(t)] += decodeImage(dir / "a.dcm").stored == codes;
    });
  for (auto& th : threads) th.join();
  for (int n : ok) EXPECT_EQ(n, 10);
}

} // namespace mhr::data
