// data/synthetic.h — synthetic mammograms and chest X-rays, generated in plain C++ (no image I/O needed),
// deterministic by seed. In: the generator parameters (the `synthetic_mammo(...)` / `synthetic_cxr(...)`
// arguments). Out: the list of cases (labels, patients, splits, lesion kinds) and, per case, a RawImage of
// stored codes exactly as `mhr synth` writes them to DICOM (16-bit) or PNG (8-bit).
//
// Why the mammograms are built the way they are (docs/data.md has the full derivation): the set exists to
// show that resolution matters. Lesion sizes are physical (mm) on a 240 mm field of view, so at the default
// 512x416 a pixel is 0.47 mm; malignant findings are microcalcification clusters (5-12 calcifications of
// 0.5-1.0 mm) or small spiculated masses (4-8 mm core, thin spicules); benign cases carry nothing or a
// smooth round mass whose integrated intensity and spatial spread equal those of a spiculated mass drawn
// from the same distribution. Everything a low-resolution view can see (blob presence, size, brightness)
// is therefore distributed identically in both classes; only detail finer than ~2 mm tells them apart,
// and an 8x downsampling (3.75 mm pixels) removes it. Tissue is power-law (1/f^3) textured, as measured
// for mammographic backgrounds.
#pragma once

#include "data/image.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace mhr::data {

enum class SplitId { Train = 0, Val = 1, Test = 2 };

// ---------------------------------------------------------------- mammography

enum class LesionKind { None, CalcCluster, SpiculatedMass, SmoothMass };
const char* lesionName(LesionKind kind);

struct MammoParams {
  int64_t count = 240;
  int64_t height = 512;
  int64_t width = 416;
  std::string lesion = "mixed"; // calcification | mass | mixed
  double malignant = 0.5;       // fraction of malignant patients, in (0, 1)
  uint64_t seed = 0;
  std::array<double, 3> split = {0.7, 0.1, 0.2};
  // Millimetres per pixel; 0: a 24 cm field over the image height (240 / height). Lesions are drawn in
  // millimetres, so a smaller image at the same spacing keeps them the same size in pixels (a smaller
  // breast, or a detector crop), which is how a study gets 1-2 px calcifications at little cost.
  double spacingMm = 0.0;
};

struct MammoCase {
  int64_t index = 0;
  int64_t patient = 0; // 0-based; two views (CC, MLO) of one breast per patient
  bool malignant = false;
  LesionKind lesion = LesionKind::None;
  bool leftBreast = true; // chest wall on the left edge of the image for the left breast
  bool mlo = false;       // view: MLO (pectoral muscle visible) or CC
  int density = 2;        // BI-RADS breast density 1..4
  SplitId split = SplitId::Train;
};

class SyntheticMammo {
public:
  explicit SyntheticMammo(MammoParams params); // parameters checked: UserError on bad values
  const MammoParams& params() const { return params_; }
  const std::vector<MammoCase>& cases() const { return cases_; }
  double pixelSpacingMm() const {
    return params_.spacingMm > 0.0 ? params_.spacingMm : 240.0 / double(params_.height);
  }

  // Unit-intensity image of case i; withLesion = false renders the same case without its lesion (tests use
  // the difference to measure what a lesion adds at each resolution).
  Image renderUnit(int64_t index, bool withLesion = true) const;
  // What a benign smooth mass matched to this case's lesion parameters looks like (malignant mass cases
  // only): the low-resolution twin the design promises. Used by tests.
  Image renderUnitWithMatchedSmoothMass(int64_t index) const;
  // 16-bit MONOCHROME2 codes: round(unit * 40000), i.e. maxima near 0.6 of the 16-bit range as in CBIS-DDSM.
  RawImage render(int64_t index) const;

  static constexpr double kCodeScale = 40000.0;

private:
  Image renderImpl(int64_t index, bool withLesion, bool matchedSmooth) const;
  MammoParams params_;
  std::vector<MammoCase> cases_;
};

// ---------------------------------------------------------------- chest X-ray

// The 14 ChestX-ray14 labels in canonical order (Wang et al. 2017, CheXNet).
const std::vector<std::string>& chestXray14Labels();

struct CxrParams {
  int64_t count = 200;
  int64_t height = 1024;
  int64_t width = 1024;
  uint64_t seed = 0;
  std::array<double, 3> split = {0.7, 0.1, 0.2};
};

struct CxrCase {
  int64_t index = 0;
  int64_t patient = 0; // 1-based as in NIH's Patient ID
  int64_t followUp = 0;
  std::vector<uint8_t> findings; // 14 flags in canonical order
  int age = 50;
  bool male = true;
  bool pa = true; // view position PA or AP
  SplitId split = SplitId::Train;
  std::string imageName() const; // "00000001_000.png"
};

class SyntheticCxr {
public:
  explicit SyntheticCxr(CxrParams params);
  const CxrParams& params() const { return params_; }
  const std::vector<CxrCase>& cases() const { return cases_; }
  Image renderUnit(int64_t index) const;
  RawImage render(int64_t index) const; // 8-bit codes, round(unit * 255)

private:
  CxrParams params_;
  std::vector<CxrCase> cases_;
};

// Stratified group split used by the synthetic sets and the data set loaders: groups (patients) are taken
// in the given order, grouped by stratum, shuffled with the seed, and the first round(n * fraction) of each
// stratum go to test, the next to val. Returns a SplitId per group.
std::vector<SplitId> splitGroups(const std::vector<int>& stratumOfGroup, double valFraction,
                                 double testFraction, uint64_t seed);

} // namespace mhr::data
