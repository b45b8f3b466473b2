// The synthetic generators: deterministic, balanced as specified, and — the point of them — lesions that a
// full-resolution view shows and an 8x downsampled view does not. "Shows" is Rose's criterion (contrast-to-
// noise ratio >= 5 is visible; below 3 nothing can be detected reliably), with the noise measured as the
// pixel-scale (3x3 high-pass) fluctuation of the same image without the lesion at that resolution.
#include "data/preprocess.h"
#include "data/synthetic.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace mhr::data {

namespace {

double highPassStd(const Image& b) {
  double s = 0;
  long n = 0;
  for (int64_t y = 1; y < b.height - 1; ++y)
    for (int64_t x = 1; x < b.width - 1; ++x) {
      if (b.at(y, x) < 0.12f) continue; // inside the breast only
      double m = 0;
      for (int dy = -1; dy <= 1; ++dy)
        for (int dx = -1; dx <= 1; ++dx) m += b.at(y + dy, x + dx);
      double d = b.at(y, x) - m / 9;
      s += d * d;
      ++n;
    }
  return std::sqrt(s / double(n));
}

// Largest |a - b| after box-downsampling both by k, over the pixel noise of `background` at that scale.
double cnr(const Image& a, const Image& b, const Image& background, int k) {
  Image d(a.height, a.width);
  for (size_t i = 0; i < d.pixels.size(); ++i) d.pixels[i] = a.pixels[i] - b.pixels[i];
  Image dk = resample(d, a.height / k, a.width / k);
  double mx = 0;
  for (float v : dk.pixels) mx = std::max(mx, double(std::fabs(v)));
  return mx / highPassStd(resample(background, a.height / k, a.width / k));
}

} // namespace

TEST(SyntheticMammo, DeterministicBySeed) {
  MammoParams p;
  p.count = 6;
  p.seed = 5;
  SyntheticMammo a(p), b(p);
  p.seed = 6;
  SyntheticMammo c(p);
  EXPECT_EQ(a.render(3).stored, b.render(3).stored);
  EXPECT_NE(a.render(3).stored, c.render(3).stored);
  RawImage r = a.render(0);
  EXPECT_EQ(r.height, 512);
  EXPECT_EQ(r.width, 416);
  EXPECT_EQ(r.bitsStored, 16);
  EXPECT_FALSE(r.invert);
  EXPECT_LE(*std::max_element(r.stored.begin(), r.stored.end()), 40000); // maxima near 0.6 of 16 bits
}

TEST(SyntheticMammo, LabelsLesionsPatientsAndSplitsAsSpecified) {
  for (std::string lesion : {"calcification", "mass", "mixed"}) {
    MammoParams p;
    p.count = 200;
    p.lesion = lesion;
    p.malignant = 0.3;
    p.seed = 1;
    SyntheticMammo g(p);
    std::map<int64_t, std::set<int>> labelsOfPatient, splitsOfPatient;
    std::map<SplitId, std::set<bool>> classesInSplit;
    int malignantPatients = 0, patients = 0;
    for (const MammoCase& c : g.cases()) {
      labelsOfPatient[c.patient].insert(c.malignant);
      splitsOfPatient[c.patient].insert(int(c.split));
      classesInSplit[c.split].insert(c.malignant);
      if (c.index % 2 == 0) patients++, malignantPatients += c.malignant;
      EXPECT_EQ(c.mlo, c.index % 2 == 1);
      if (lesion == "calcification") {
        EXPECT_EQ(c.lesion, c.malignant ? LesionKind::CalcCluster : LesionKind::None);
      }
      if (lesion == "mass") {
        EXPECT_EQ(c.lesion, c.malignant ? LesionKind::SpiculatedMass : LesionKind::SmoothMass);
      }
      if (lesion == "mixed") {
        bool ok = c.malignant
                      ? (c.lesion == LesionKind::CalcCluster || c.lesion == LesionKind::SpiculatedMass)
                      : (c.lesion == LesionKind::None || c.lesion == LesionKind::SmoothMass);
        EXPECT_TRUE(ok) << "case " << c.index;
      }
    }
    EXPECT_EQ(malignantPatients, 30); // round(100 patients * 0.3)
    for (const auto& [patient, labels] : labelsOfPatient) EXPECT_EQ(labels.size(), 1u);
    for (const auto& [patient, splits] : splitsOfPatient)
      EXPECT_EQ(splits.size(), 1u) << "patient in two splits";
    for (SplitId s : {SplitId::Train, SplitId::Val, SplitId::Test})
      EXPECT_EQ(classesInSplit[s].size(), 2u) << "stratified split keeps both classes in " << splitName(s);
    int test = 0;
    for (const MammoCase& c : g.cases()) test += c.split == SplitId::Test;
    EXPECT_EQ(test, 40); // 20% of each stratum's patients (6 + 14), two images each
  }
}

TEST(SyntheticMammo, BadParametersAreUserErrors) {
  auto err = [](MammoParams p) { return test::errorOf([&] { SyntheticMammo g(p); }); };
  MammoParams p;
  p.lesion = "calc";
  EXPECT_NE(err(p).find("lesion must be calcification, mass or mixed"), std::string::npos);
  p = MammoParams{};
  p.malignant = 1.0;
  EXPECT_NE(err(p).find("malignant must be in (0, 1)"), std::string::npos);
  p = MammoParams{};
  p.split = {0.7, 0.2, 0.2};
  EXPECT_NE(err(p).find("add up to 1"), std::string::npos);
  p = MammoParams{};
  p.height = 8;
  EXPECT_NE(err(p).find("size 8x416"), std::string::npos);
  p = MammoParams{};
  p.spacingMm = 3.0;
  EXPECT_NE(err(p).find("pixel spacing must be in [0.05, 2] mm, got 3"), std::string::npos);
}

// The spacing option: a 256x208 image at the default 512x416 spacing shows a calcification cluster as many
// pixels as the 512x416 image does (lesions are drawn in millimetres), and as clearly; at its own default
// spacing (twice as coarse) the same image shows it over a quarter of the pixels.
TEST(SyntheticMammo, PixelSpacingKeepsLesionsTheirSizeInPixels) {
  auto footprint = [](const MammoParams& p, double* contrast) {
    SyntheticMammo g(p);
    std::vector<double> areas;
    double cnrSum = 0;
    for (const MammoCase& c : g.cases()) {
      if (c.lesion != LesionKind::CalcCluster) continue;
      Image with = g.renderUnit(c.index), without = g.renderUnit(c.index, false);
      int64_t n = 0;
      for (int64_t i = 0; i < with.height * with.width; ++i)
        n += std::abs(with.pixels[size_t(i)] - without.pixels[size_t(i)]) > 0.01f;
      areas.push_back(double(n));
      cnrSum += cnr(with, without, without, 1);
    }
    EXPECT_GE(areas.size(), 5u);
    *contrast = cnrSum / double(areas.size());
    double sum = 0;
    for (double a : areas) sum += a;
    return sum / double(areas.size());
  };
  MammoParams big;
  big.count = 40, big.seed = 11, big.lesion = "calcification";
  MammoParams small = big;
  small.height = 256, small.width = 208, small.spacingMm = 240.0 / 512.0;
  MammoParams coarse = small;
  coarse.spacingMm = 0.0;
  EXPECT_DOUBLE_EQ(SyntheticMammo(small).pixelSpacingMm(), SyntheticMammo(big).pixelSpacingMm());
  EXPECT_DOUBLE_EQ(SyntheticMammo(coarse).pixelSpacingMm(), 240.0 / 256.0);
  double cBig = 0, cSmall = 0, cCoarse = 0;
  double aBig = footprint(big, &cBig), aSmall = footprint(small, &cSmall),
         aCoarse = footprint(coarse, &cCoarse);
  EXPECT_NEAR(aSmall / aBig, 1.0, 0.25) << aSmall << " vs " << aBig << " pixels";
  EXPECT_LT(aCoarse / aSmall, 0.5) << aCoarse << " vs " << aSmall << " pixels";
  EXPECT_GE(cSmall, 5.0);
}

TEST(SyntheticMammo, MalignantFindingsAreVisibleAtFullResolutionAndGoneAt8x) {
  MammoParams p;
  p.count = 40;
  p.seed = 11;
  SyntheticMammo g(p);
  int calcs = 0, masses = 0;
  for (const MammoCase& c : g.cases()) {
    if (!c.malignant) continue;
    Image with = g.renderUnit(c.index), without = g.renderUnit(c.index, false);
    if (c.lesion == LesionKind::CalcCluster) {
      ++calcs;
      double full = cnr(with, without, without, 1), low = cnr(with, without, without, 8);
      EXPECT_GE(full, 5.0) << "calcifications of case " << c.index << " not visible at full resolution";
      EXPECT_LT(low, 3.0) << "calcifications of case " << c.index << " still detectable at 8x";
    } else {
      ++masses;
      // What tells a spiculated mass from its benign twin (same integrated intensity and spread) must be gone
      // at 8x, and present at full resolution.
      Image twin = g.renderUnitWithMatchedSmoothMass(c.index);
      double full = cnr(with, twin, without, 1), low = cnr(with, twin, without, 8);
      EXPECT_LT(low, 3.0) << "spiculated mass of case " << c.index << " differs from its smooth twin at 8x";
      EXPECT_GT(full, low) << "case " << c.index;
    }
  }
  EXPECT_GE(calcs, 5);
  EXPECT_GE(masses, 3);
}

TEST(SyntheticMammo, MatchedSmoothMassHasTheSameIntegratedIntensity) {
  MammoParams p;
  p.count = 40;
  p.seed = 11;
  p.lesion = "mass";
  SyntheticMammo g(p);
  for (const MammoCase& c : g.cases()) {
    if (!c.malignant) continue;
    Image with = g.renderUnit(c.index), twin = g.renderUnitWithMatchedSmoothMass(c.index),
          without = g.renderUnit(c.index, false);
    double a = 0, b = 0;
    for (size_t i = 0; i < with.pixels.size(); ++i)
      a += with.pixels[i] - without.pixels[i], b += twin.pixels[i] - without.pixels[i];
    EXPECT_NEAR(a, b, 0.05 * a) << "case " << c.index; // clamping and noise aside, equal by construction
  }
}

TEST(SyntheticCxr, FourteenLabelsPatientsFollowUpsAndPatientWiseSplits) {
  CxrParams p;
  p.count = 60;
  p.height = p.width = 128;
  p.seed = 2;
  SyntheticCxr g(p);
  std::map<int64_t, std::set<int>> splits;
  std::vector<int> positives(14, 0);
  for (const CxrCase& c : g.cases()) {
    ASSERT_EQ(c.findings.size(), 14u);
    for (size_t k = 0; k < 14; ++k) positives[k] += c.findings[k];
    splits[c.patient].insert(int(c.split));
    EXPECT_EQ(c.imageName().size(), std::string("00000001_000.png").size());
  }
  for (const auto& [patient, s] : splits) EXPECT_EQ(s.size(), 1u);
  EXPECT_EQ(g.cases()[0].imageName(), "00000001_000.png");
  int total = 0;
  for (int n : positives) total += n;
  EXPECT_GT(total, 30); // 10% of 60 x 14 = 84 expected
  RawImage r = g.render(0);
  EXPECT_EQ(r.bitsStored, 8);
  EXPECT_LE(*std::max_element(r.stored.begin(), r.stored.end()), 255);
  SyntheticCxr again(p);
  EXPECT_EQ(r.stored, again.render(0).stored);
  EXPECT_EQ(chestXray14Labels().size(), 14u);
  EXPECT_EQ(chestXray14Labels()[12], "Pleural_Thickening");
}

TEST(SplitGroups, StratifiedRoundedAndSeeded) {
  std::vector<int> strata(100, 0);
  for (int i = 0; i < 30; ++i) strata[size_t(i)] = 1;
  auto a = splitGroups(strata, 0.1, 0.2, 9);
  EXPECT_EQ(a, splitGroups(strata, 0.1, 0.2, 9));
  EXPECT_NE(a, splitGroups(strata, 0.1, 0.2, 10));
  int counts[2][3] = {};
  for (size_t i = 0; i < a.size(); ++i) counts[strata[i]][int(a[i])]++;
  EXPECT_EQ(counts[1][int(SplitId::Test)], 6);
  EXPECT_EQ(counts[1][int(SplitId::Val)], 3);
  EXPECT_EQ(counts[0][int(SplitId::Test)], 14);
  EXPECT_EQ(counts[0][int(SplitId::Val)], 7);
}

} // namespace mhr::data
