// `mhr synth` output read back through the real constructors: the CBIS-DDSM-style DICOM set through
// cbis_ddsm(...), the ChestX-ray14-style PNG set through chestxray14(...); labels, patients, the official
// split and every pixel must equal the in-memory generator's.
#include "data/cache.h"
#include "data/dataset.h"
#include "data/io/synth_writer.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <map>
#include <sstream>

namespace mhr::data {

using namespace test;
namespace fs = std::filesystem;

TEST(SynthSets, MammoDicomSetReadsBackThroughCbisDdsm) {
  TempDir dir;
  MammoParams p;
  p.count = 16;
  p.height = 128;
  p.width = 104;
  p.seed = 21;
  SyntheticMammo gen(p);
  std::ostringstream log;
  io::SynthWriteOptions wo;
  wo.out = &log;
  wo.progress = ProgressMode::Off;
  io::writeSyntheticMammoSet(gen, dir / "cbis", wo);
  for (const char* f :
       {"mass_case_description_train_set.csv", "mass_case_description_test_set.csv",
        "calc_case_description_train_set.csv", "calc_case_description_test_set.csv", "README.txt"})
    EXPECT_TRUE(fs::exists(dir / (std::string("cbis/") + f))) << f;

  Dataset d = openDataset(config("cbis", "cbis_ddsm", {{"root", str(dir / "cbis")}}), 1);
  ASSERT_EQ(d.samples().size(), 16u);
  // Map each generated case to its CBIS folder name.
  std::map<std::string, const MammoCase*> byFolder;
  for (const MammoCase& c : gen.cases()) {
    bool calc = c.lesion == LesionKind::CalcCluster || c.lesion == LesionKind::None;
    char name[96];
    std::snprintf(name, sizeof name, "%s-%s_P_%05lld_%s_%s", calc ? "Calc" : "Mass",
                  c.split == SplitId::Test ? "Test" : "Training", (long long)(c.patient + 1),
                  c.leftBreast ? "LEFT" : "RIGHT", c.mlo ? "MLO" : "CC");
    byFolder[name] = &c;
  }
  for (size_t i = 0; i < d.samples().size(); ++i) {
    const Sample& s = d.samples()[i];
    ASSERT_TRUE(byFolder.count(s.id)) << s.id;
    const MammoCase& c = *byFolder[s.id];
    EXPECT_EQ(s.label, c.malignant ? 1 : 0) << s.id;
    EXPECT_EQ(s.split == SplitId::Test, c.split == SplitId::Test) << s.id;
    RawImage fromFile = d.load(i), generated = gen.render(c.index);
    EXPECT_EQ(fromFile.stored, generated.stored) << s.id;
    EXPECT_EQ(fromFile.bitsStored, 16);
  }
  // Pydicom reads the files as 16-bit MONOCHROME2 mammograms.
  std::string log2;
  std::string any = d.samples()[0].path;
  EXPECT_EQ(run("/usr/bin/python3 -c \"import sys, pydicom; d = pydicom.dcmread(sys.argv[1]); "
                "assert d.BitsStored == 16 and d.PhotometricInterpretation == 'MONOCHROME2' and d.Modality "
                "== 'MG'; "
                "assert d.pixel_array.shape == (128, 104)\" '" +
                    any + "'",
                &log2),
            0)
      << log2;
  // Deterministic: writing again gives byte-identical files.
  io::writeSyntheticMammoSet(gen, dir / "again", wo);
  EXPECT_EQ(support::readFile(any), support::readFile(dir / ("again" + any.substr((dir / "cbis").size()))));
  EXPECT_EQ(support::readFile(dir / "cbis/calc_case_description_train_set.csv"),
            support::readFile(dir / "again/calc_case_description_train_set.csv"));
}

TEST(SynthSets, CxrPngSetReadsBackThroughChestXray14) {
  TempDir dir;
  CxrParams p;
  p.count = 14;
  p.height = p.width = 96;
  p.seed = 4;
  SyntheticCxr gen(p);
  io::SynthWriteOptions wo;
  std::ostringstream log;
  wo.out = &log;
  wo.progress = ProgressMode::Off;
  io::writeSyntheticCxrSet(gen, dir / "cxr", wo);
  std::string header = support::readFile(dir / "cxr/Data_Entry_2017.csv").value();
  EXPECT_EQ(header.substr(0, header.find('\n') + 1),
            "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View "
            "Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],\n");
  Dataset d = openDataset(config("cxr", "chestxray14", {{"root", str(dir / "cxr")}}), 1);
  ASSERT_EQ(d.samples().size(), 14u);
  for (size_t i = 0; i < d.samples().size(); ++i) {
    const Sample& s = d.samples()[i];
    const CxrCase& c = gen.cases()[i];
    EXPECT_EQ(s.id, c.imageName());
    EXPECT_EQ(s.positives, c.findings);
    EXPECT_EQ(s.split == SplitId::Test, c.split == SplitId::Test);
    EXPECT_EQ(d.load(i).stored, gen.render(int64_t(i)).stored);
  }
}

TEST(SynthSets, FileAndInMemoryMammoSetsPrepareToTheSamePixels) {
  TempDir dir;
  MammoParams p;
  p.count = 6;
  p.height = 96;
  p.width = 78;
  p.seed = 2;
  io::SynthWriteOptions wo;
  std::ostringstream log;
  wo.out = &log;
  wo.progress = ProgressMode::Off;
  SyntheticMammo gen(p);
  io::writeSyntheticMammoSet(gen, dir / "cbis", wo);
  plan::Attrs options = {{"cache", str(dir / "cache")},
                         {"preprocess", list({sym("breast_crop"), sym("clahe")})}};
  Dataset files = openDataset(config("f", "cbis_ddsm", {{"root", str(dir / "cbis")}}, options), 2);
  Dataset memory = openDataset(
      config("m", "synthetic_mammo", {{"count", integer(6)}, {"size", size(96, 78)}}, options), 2);
  PrepareOptions po;
  po.out = &log;
  po.progress = ProgressMode::Off;
  auto a = prepareCache(files, 48, 40, po), b = prepareCache(memory, 48, 40, po);
  std::map<std::string, size_t> fileIndex;
  for (size_t i = 0; i < files.samples().size(); ++i)
    fileIndex[files.samples()[i].id.substr(files.samples()[i].id.find("_P_"))] = i;
  for (const MammoCase& c : gen.cases()) {
    char key[64];
    std::snprintf(key, sizeof key, "_P_%05lld_%s_%s", (long long)(c.patient + 1),
                  c.leftBreast ? "LEFT" : "RIGHT", c.mlo ? "MLO" : "CC");
    ASSERT_TRUE(fileIndex.count(key));
    EXPECT_EQ(std::memcmp(a->pixels(fileIndex[key]), b->pixels(size_t(c.index)), 48 * 40 * 2), 0) << key;
  }
}

} // namespace mhr::data
