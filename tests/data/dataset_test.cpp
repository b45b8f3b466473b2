// The data set constructors on hand-written files in the official formats, with every quirk and every
// error: wrong headers, missing files, duplicate ids, patients in two splits... Each error must name the file
// and line. Images are empty files here: opening a data set only looks at file names and fingerprints.
#include "data/dataset.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <set>

namespace mhr::data {

using namespace test;
namespace fs = std::filesystem;

namespace {
Dataset open(const plan::DatasetConfig& c, Warnings* w = nullptr, int64_t seed = 7) {
  Warnings local;
  return openDataset(c, seed, (w ? w : &local)->options());
}
std::string openError(const plan::DatasetConfig& c) {
  return errorOf([&] { open(c); });
}
// Patient ids as CBIS writes them (P_00001).
std::string fmt_patient(int p) {
  char b[16];
  std::snprintf(b, sizeof b, "P_%05d", p);
  return b;
}
#define EXPECT_HAS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)
} // namespace

// ---------------------------------------------------------------- dispatch and synthetic sets

TEST(Datasets, SyntheticMammoDefaultsFromTheExperimentSeed) {
  Dataset a =
      open(config("m", "synthetic_mammo", {{"count", integer(20)}, {"size", size(64, 52)}}), nullptr, 7);
  Dataset b = open(
      config("m", "synthetic_mammo", {{"count", integer(20)}, {"size", size(64, 52)}, {"seed", integer(7)}}));
  Dataset c =
      open(config("m", "synthetic_mammo", {{"count", integer(20)}, {"size", size(64, 52)}}), nullptr, 8);
  EXPECT_EQ(a.classes(), (std::vector<std::string>{"benign", "malignant"}));
  EXPECT_FALSE(a.multiLabel());
  ASSERT_EQ(a.samples().size(), 20u);
  EXPECT_EQ(a.fingerprint(3), b.fingerprint(3));
  EXPECT_NE(a.fingerprint(3), c.fingerprint(3));
  EXPECT_EQ(a.load(3).stored, b.load(3).stored);
  EXPECT_EQ(a.indices(SplitId::Train).size() + a.indices(SplitId::Val).size() +
                a.indices(SplitId::Test).size(),
            20u);
  EXPECT_EQ(a.samples()[0].patient, a.samples()[1].patient); // CC and MLO of one breast
}

TEST(Datasets, SyntheticCxrIsMultiLabel) {
  Dataset d = open(config("x", "synthetic_cxr", {{"count", integer(10)}, {"size", size(64, 64)}}));
  EXPECT_TRUE(d.multiLabel());
  EXPECT_EQ(d.classes().size(), 14u);
  EXPECT_EQ(d.samples()[0].positives.size(), 14u);
  EXPECT_EQ(d.load(0).height, 64);
}

// Mistakes in a constructor call are the compiler's to report, with a caret: tests/golden/check/
// err_dataset_constructors.mhr has every one the data layer used to find.

// ---------------------------------------------------------------- manifest

namespace {
struct ManifestFixture {
  TempDir dir;
  std::string csv(const std::string& text) {
    writeText(dir / "labels.csv", text);
    return dir / "labels.csv";
  }
  void images(const std::vector<std::string>& names) {
    for (const auto& n : names) touch(dir / n);
  }
};
} // namespace

TEST(Manifest, LabelsPatientsAndARandomPatientDisjointSplit) {
  ManifestFixture f;
  std::string text = "image,label,patient\n";
  std::vector<std::string> names;
  for (int i = 0; i < 60; ++i) {
    names.push_back("img/" + std::to_string(i) + ".png");
    text += names.back() + "," + (i % 3 == 0 ? "tumor" : "normal") + ",p" + std::to_string(i / 2) + "\n";
  }
  f.images(names);
  Dataset d = open(config("d", "manifest", {{"csv", str(f.csv(text))}, {"patient", str("patient")}}));
  EXPECT_EQ(d.classes(), (std::vector<std::string>{"normal", "tumor"}));
  ASSERT_EQ(d.samples().size(), 60u);
  EXPECT_EQ(d.samples()[0].label, 1);
  EXPECT_EQ(d.samples()[1].label, 0);
  EXPECT_EQ(d.samples()[0].path, f.dir / "img/0.png");
  std::map<std::string, std::set<SplitId>> splits;
  for (const Sample& s : d.samples()) splits[s.patient].insert(s.split);
  for (const auto& [p, s] : splits) EXPECT_EQ(s.size(), 1u) << p;
  size_t test = d.indices(SplitId::Test).size(), val = d.indices(SplitId::Val).size();
  EXPECT_GE(test, 10u);
  EXPECT_LE(test, 14u);
  EXPECT_GE(val, 4u);
  EXPECT_LE(val, 8u);
  // Row order does not change the split of a patient.
  std::string reversed = "image,label,patient\n";
  for (int i = 59; i >= 0; --i)
    reversed +=
        names[size_t(i)] + "," + (i % 3 == 0 ? "tumor" : "normal") + ",p" + std::to_string(i / 2) + "\n";
  writeText(f.dir / "rev.csv", reversed);
  Dataset r = open(config("d", "manifest", {{"csv", str(f.dir / "rev.csv")}, {"patient", str("patient")}}));
  std::map<std::string, SplitId> a, b;
  for (const Sample& s : d.samples()) a[s.id] = s.split;
  for (const Sample& s : r.samples()) b[s.id] = s.split;
  EXPECT_EQ(a, b);
}

TEST(Manifest, SplitColumnClassesAndMultiLabel) {
  ManifestFixture f;
  f.images({"a.png", "b.png", "c.png", "d.png"});
  Dataset d = open(config(
      "d", "manifest",
      {{"csv", str(f.csv("file,findings,set\na.png,x|y,train\nb.png,,val\nc.png, y ,test\nd.png,z,train\n"))},
       {"image", str("file")},
       {"label", str("findings")},
       {"split", str("set")},
       {"multi_label", plan::Value::ofBool(true)},
       {"classes", list({sym("z"), sym("y"), sym("x")})}}));
  EXPECT_TRUE(d.multiLabel());
  EXPECT_EQ(d.classes(), (std::vector<std::string>{"z", "y", "x"}));
  EXPECT_EQ(d.samples()[0].positives, (std::vector<uint8_t>{0, 1, 1}));
  EXPECT_EQ(d.samples()[1].positives, (std::vector<uint8_t>{0, 0, 0}));
  EXPECT_EQ(d.samples()[2].split, SplitId::Test);
  EXPECT_EQ(d.indices(SplitId::Train).size(), 2u);
}

TEST(Manifest, EveryErrorNamesFileAndLine) {
  ManifestFixture f;
  f.images({"a.png", "b.png", "c.png"});
  auto err = [&](const std::string& text, test::Named extra = {}) {
    test::Named args = {{"csv", str(f.csv(text))}};
    for (auto& e : extra) args.push_back(e);
    return openError(config("d", "manifest", args));
  };
  std::string csv = f.dir / "labels.csv";
  EXPECT_HAS(err("imge,label\na.png,x\n"),
             csv + ":1: no column 'image' (named by `image`) (did you mean 'imge'?)");
  EXPECT_HAS(err("image,label\na.png,x\nb.png,y\na.png,x\n"),
             csv + ":4: duplicate image 'a.png' (first at line 2)");
  EXPECT_HAS(err("image,label\na.png,x\nb.png,y,extra\n"), csv + ":3: 3 fields, the header has 2");
  EXPECT_HAS(err("image,label\na.png,x\nb.png,\n"), csv + ":3: the 'label' column is empty");
  EXPECT_HAS(err("image,label\na.png,x\nb.png,x\n"), "classification needs at least two");
  EXPECT_HAS(
      err("image,label\na.png,benign\nb.png,malignnt\n",
          {{"classes", list({str("benign"), str("malignant")})}}),
      csv + ":3: label 'malignnt' is not one of the classes [benign, malignant] (did you mean 'malignant'?)");
  EXPECT_HAS(err("image,label,s\na.png,x,train\nb.png,y,tset\n", {{"split", str("s")}}),
             csv + ":3: column 's': unknown split 'tset' (did you mean 'test'?)");
  EXPECT_HAS(err("image,label,p,s\na.png,x,1,train\nb.png,y,2,train\nc.png,y,1,test\n",
                 {{"split", str("s")}, {"patient", str("p")}}),
             csv + ":4: patient '1' is in the test split here and in the train split at " + csv + ":2");
  EXPECT_HAS(err("image,label\na.png,x\nmissing.png,y\n"),
             csv + ":3: image file '" + f.dir / "missing.png" + "' does not exist");
  EXPECT_HAS(err("image,label\n"), "lists no images");
}

TEST(Manifest, OnErrorSkipLeavesMissingFilesOutWithAWarningEach) {
  ManifestFixture f;
  f.images({"a.png", "b.png", "c.png"});
  Warnings w;
  Dataset d =
      open(config("d", "manifest",
                  {{"csv", str(f.csv("image,label\na.png,x\ngone1.png,y\nb.png,y\ngone2.png,x\nc.png,x\n"))}},
                  {{"on_error", sym("skip")}}),
           &w);
  EXPECT_EQ(d.samples().size(), 3u);
  EXPECT_EQ(d.skipped().size(), 2u);
  ASSERT_EQ(w.lines.size(), 3u);
  EXPECT_HAS(w.lines[0], "labels.csv:3: image file '" + f.dir / "gone1.png" + "'");
  EXPECT_HAS(w.lines[1], "labels.csv:5");
  EXPECT_HAS(w.lines[2], "2 image file(s) missing and left out");
}

TEST(Manifest, RelativePathsResolveAgainstTheBaseFolder) {
  ManifestFixture f;
  f.images({"sub/a.png", "sub/b.png"});
  writeText(f.dir / "sub/l.csv", "image,label\na.png,x\nb.png,y\n");
  OpenOptions o;
  o.baseDir = f.dir.path();
  o.warn = [](const std::string&) {};
  Dataset d = openDataset(config("d", "manifest", {{"csv", str("sub/l.csv")}}), 1, o);
  EXPECT_EQ(d.samples()[0].path, f.dir / "sub/a.png");
}

// ---------------------------------------------------------------- CBIS-DDSM

namespace {
const char* kMassHeader =
    "patient_id,breast_density,left or right breast,image view,abnormality id,abnormality type,mass "
    "shape,mass "
    "margins,assessment,pathology,subtlety,image file path,cropped image file path,ROI mask file path\n";
const char* kCalcHeader =
    "patient_id,breast density,left or right breast,image view,abnormality id,abnormality type,calc "
    "type,calc "
    "distribution,assessment,pathology,subtlety,image file path,cropped image file path,ROI mask file path\n";

std::string row(const std::string& patient, const std::string& side, const std::string& view, int abn,
                bool calc, const std::string& pathology, const std::string& prefix, bool touchFile,
                const std::string& root, const std::string& uid = "1.2.3") {
  std::string folder = prefix + "_" + patient + "_" + side + "_" + view;
  std::string path = folder + "/" + uid + ".4/" + uid + ".5/000000.dcm";
  if (touchFile) touch(root + "/" + path);
  // The calc files' last field is quoted and ends in a newline, as shipped.
  std::string mask = calc ? "\"" + folder + "_1/x/y/000001.dcm\n\"" : folder + "_1/x/y/000001.dcm";
  return patient + ",3," + side + "," + view + "," + std::to_string(abn) + "," +
         (calc ? "calcification" : "mass") + ",ROUND,CIRCUMSCRIBED,4," + pathology + ",3," + path + "," +
         folder + "_1/x/y/000000.dcm," + mask + "\r\n";
}

struct CbisFixture {
  TempDir dir;
  std::string massTrain = kMassHeader, massTest = kMassHeader, calcTrain = kCalcHeader,
              calcTest = kCalcHeader;
  void write() {
    writeText(dir / "mass_case_description_train_set.csv", massTrain);
    writeText(dir / "mass_case_description_test_set.csv", massTest);
    writeText(dir / "calc_case_description_train_set.csv", calcTrain);
    writeText(dir / "calc_case_description_test_set.csv", calcTest);
  }
  plan::DatasetConfig cfg(test::Named extra = {}, plan::Attrs options = {}) {
    test::Named args = {{"root", str(dir.path())}};
    for (auto& e : extra) args.push_back(e);
    return config("cbis", "cbis_ddsm", args, options);
  }
};

void standardCbis(CbisFixture& f) {
  const std::string r = f.dir.path();
  for (int p = 1; p <= 20; ++p) {
    std::string id = fmt_patient(p);
    bool malignant = p % 2 == 0;
    f.massTrain +=
        row(id, "LEFT", "CC", 1, false, malignant ? "MALIGNANT" : "BENIGN", "Mass-Training", true, r);
    f.massTrain += row(id, "LEFT", "MLO", 1, false, "BENIGN_WITHOUT_CALLBACK", "Mass-Training", true, r);
    if (malignant) // a second abnormality on the MLO image: the image becomes malignant
      f.massTrain += row(id, "LEFT", "MLO", 2, false, "MALIGNANT", "Mass-Training", false, r);
  }
  for (int p = 21; p <= 24; ++p)
    f.massTest += row(fmt_patient(p), "RIGHT", "CC", 1, false, "MALIGNANT", "Mass-Test", true, r);
  f.calcTrain += row(fmt_patient(30), "RIGHT", "MLO", 1, true, "BENIGN", "Calc-Training", true, r);
  f.calcTest += row(fmt_patient(31), "LEFT", "CC", 1, true, "MALIGNANT", "Calc-Test", true, r);
}
} // namespace

TEST(CbisDdsm, ImageLevelLabelsOfficialSplitAndPatientDisjointValidation) {
  CbisFixture f;
  standardCbis(f);
  f.write();
  Dataset d = open(f.cfg({{"val_fraction", num(0.2)}}));
  EXPECT_EQ(d.classes(), (std::vector<std::string>{"benign", "malignant"}));
  ASSERT_EQ(d.samples().size(), 46u); // 40 mass train + 4 mass test + 1 calc train + 1 calc test
  std::map<std::string, const Sample*> byId;
  for (const Sample& s : d.samples()) byId[s.id] = &s;
  EXPECT_EQ(byId["Mass-Training_P_00002_LEFT_MLO"]->label, 1); // BENIGN_WITHOUT_CALLBACK + MALIGNANT
  EXPECT_EQ(byId["Mass-Training_P_00003_LEFT_MLO"]->label, 0);
  EXPECT_EQ(byId["Mass-Training_P_00003_LEFT_CC"]->label, 0);
  EXPECT_EQ(byId["Mass-Test_P_00021_RIGHT_CC"]->split, SplitId::Test);
  EXPECT_EQ(byId["Calc-Test_P_00031_LEFT_CC"]->split, SplitId::Test);
  EXPECT_EQ(byId["Mass-Training_P_00003_LEFT_CC"]->patient, "P_00003");
  std::map<std::string, std::set<SplitId>> splits;
  for (const Sample& s : d.samples()) splits[s.patient].insert(s.split);
  for (const auto& [p, s] : splits) EXPECT_EQ(s.size(), 1u) << p;
  size_t val = d.indices(SplitId::Val).size();
  EXPECT_EQ(val % 2, 0u); // whole patients (two views each)
  EXPECT_GE(val, 6u);
  std::set<int64_t> valLabels;
  for (size_t i : d.indices(SplitId::Val)) valLabels.insert(d.samples()[i].label);
  EXPECT_EQ(valLabels.size(), 2u); // stratified by the patient's worst finding
  // Only the mass files are needed for abnormality: [mass].
  fs::remove(f.dir / "calc_case_description_train_set.csv");
  Dataset m = open(f.cfg({{"abnormality", list({sym("mass")})}}));
  EXPECT_EQ(m.samples().size(), 44u);
}

TEST(CbisDdsm, TheSplitSeedIsTheDataSetsOwnWhenGiven) {
  // The validation split is carved with the data set's `seed:`, which defaults to the experiment seed: a
  // sweep over the experiment seed then re-carves it too (initialisation and split confounded) unless the
  // data set fixes its own, after which the split stays while the experiment seed varies.
  CbisFixture f;
  standardCbis(f);
  f.write();
  auto valIds = [&](const plan::DatasetConfig& c, int64_t experimentSeed) {
    Dataset d = open(c, nullptr, experimentSeed);
    std::set<std::string> ids;
    for (size_t i : d.indices(SplitId::Val)) ids.insert(d.samples()[i].id);
    return ids;
  };
  const plan::DatasetConfig byExperiment = f.cfg({{"val_fraction", num(0.3)}});
  std::set<std::string> first = valIds(byExperiment, 1);
  bool moved = false;
  for (int64_t seed = 2; seed < 12 && !moved; ++seed) moved = valIds(byExperiment, seed) != first;
  EXPECT_TRUE(moved) << "the default split follows the experiment seed";
  const plan::DatasetConfig fixed = f.cfg({{"val_fraction", num(0.3)}, {"seed", integer(5)}});
  const std::set<std::string> pinned = valIds(fixed, 1);
  for (int64_t seed = 2; seed < 12; ++seed)
    EXPECT_EQ(valIds(fixed, seed), pinned) << "experiment seed " << seed;
}

TEST(CbisDdsm, HeaderQuirksAndErrors) {
  CbisFixture f;
  standardCbis(f);
  const std::string r = f.dir.path();
  const std::string massTrain = f.dir / "mass_case_description_train_set.csv";
  {
    CbisFixture g;
    g.massTrain = kCalcHeader;
    g.write();
    EXPECT_HAS(openError(g.cfg()),
               g.dir / "mass_case_description_train_set.csv" +
                   ":1: column 2 is 'breast density', expected 'breast_density' (that is how the "
                   "calc files spell it; is this a calc file?)");
  }
  {
    CbisFixture g;
    g.calcTest = "patient_id,breast density\n";
    g.write();
    EXPECT_HAS(openError(g.cfg()), "calc_case_description_test_set.csv:1: the header has 2 columns");
  }
  {
    CbisFixture g;
    g.write();
    fs::remove(g.dir / "calc_case_description_test_set.csv");
    EXPECT_HAS(openError(g.cfg()), "calc_case_description_test_set.csv' is missing");
  }
  auto withMassTrain = [&](const std::string& extra) {
    CbisFixture g;
    g.massTrain += extra;
    g.write();
    return std::make_pair(openError(g.cfg()), g.dir / "mass_case_description_train_set.csv");
  };
  {
    auto [e, file] = withMassTrain(
        row("P_00001", "LEFT", "CC", 1, false, "MALIGANT", "Mass-Training", true, "/tmp/unused-x"));
    EXPECT_HAS(e, file + ":2: pathology is 'MALIGANT'");
    EXPECT_HAS(e, "did you mean 'MALIGNANT'");
  }
  {
    auto [e, file] = withMassTrain(
        row("P_00001", "LEFT", "XX", 1, false, "BENIGN", "Mass-Training", false, "/tmp/unused-x"));
    EXPECT_HAS(e, file + ":2: image view is 'XX'");
  }
  {
    auto [e, file] = withMassTrain(
        row("P_00001", "LEFT", "CC", 1, true, "BENIGN", "Mass-Training", false, "/tmp/unused-x"));
    EXPECT_HAS(e, file + ":2: abnormality type is 'calcification' in a mass file");
  }
  {
    auto [e, file] =
        withMassTrain(row("P_00001", "LEFT", "CC", 1, false, "BENIGN", "Mass-Test", false, "/tmp/unused-x"));
    EXPECT_HAS(e, file + ":2: image file path starts with 'Mass-Test_P_00001_LEFT_CC'");
  }
  {
    CbisFixture g;
    g.massTrain += row("P_00001", "LEFT", "CC", 1, false, "BENIGN", "Mass-Training", true, g.dir.path());
    g.massTrain += row("P_00001", "LEFT", "CC", 1, false, "MALIGNANT", "Mass-Training", false, g.dir.path());
    g.write();
    EXPECT_HAS(openError(g.cfg()),
               g.dir / "mass_case_description_train_set.csv" +
                   ":3: duplicate abnormality id 1 for image 'Mass-Training_P_00001_LEFT_CC' "
                   "(first at " +
                   g.dir / "mass_case_description_train_set.csv:2)");
  }
  {
    CbisFixture g;
    g.massTrain += row("P_00001", "LEFT", "CC", 1, false, "BENIGN", "Mass-Training", true, g.dir.path());
    g.massTest += row("P_00001", "RIGHT", "CC", 1, false, "BENIGN", "Mass-Test", true, g.dir.path());
    g.write();
    EXPECT_HAS(openError(g.cfg()),
               g.dir / "mass_case_description_test_set.csv" +
                   ":2: patient 'P_00001' is in the test file here and in the train file at " +
                   g.dir / "mass_case_description_train_set.csv:2");
  }
  {
    CbisFixture g;
    g.massTrain += row("P_00001", "LEFT", "CC", 1, false, "BENIGN", "Mass-Training", false, g.dir.path());
    g.write();
    std::string e = openError(g.cfg());
    EXPECT_HAS(e, g.dir / "mass_case_description_train_set.csv:2: image file '");
    EXPECT_HAS(e, "does not exist");
  }
  {
    auto [e, file] = withMassTrain("P_00001,3,LEFT,CC,1,mass\n");
    EXPECT_HAS(e, file + ":2: 6 fields, the header has 14");
  }
  EXPECT_HAS(openError(config("c", "cbis_ddsm", {{"root", str("/nonexistent-cbis")}})),
             "folder '/nonexistent-cbis' does not exist");
}

TEST(CbisDdsm, CrossTypePatientOverlapIsAWarningNotAnError) {
  CbisFixture f;
  f.massTrain += row("P_00001", "LEFT", "CC", 1, false, "BENIGN", "Mass-Training", true, f.dir.path());
  f.massTrain += row("P_00002", "LEFT", "CC", 1, false, "MALIGNANT", "Mass-Training", true, f.dir.path());
  f.calcTest += row("P_00001", "LEFT", "CC", 1, true, "BENIGN", "Calc-Test", true, f.dir.path());
  f.write();
  Warnings w;
  Dataset d = open(f.cfg(), &w);
  EXPECT_EQ(d.samples().size(), 3u);
  ASSERT_EQ(w.lines.size(), 1u);
  EXPECT_HAS(w.lines[0],
             "1 patient(s) are in the official train split of one abnormality type and the test split");
}

TEST(CbisDdsm, FindsFilesInTheNbiaDownloadLayout) {
  CbisFixture f;
  // NBIA Data Retriever: CBIS-DDSM/<folder>/<date-study>/<n.000000-description-series>/1-1.dcm
  f.massTrain += row("P_00001", "LEFT", "CC", 1, false, "BENIGN", "Mass-Training", false, f.dir.path(),
                     "1.3.6.1.4.1.9590.100.1.2.1");
  f.massTrain += row("P_00002", "LEFT", "CC", 1, false, "MALIGNANT", "Mass-Training", false, f.dir.path(),
                     "1.3.6.1.4.1.9590.100.1.2.2");
  f.massTrain += row("P_00003", "LEFT", "CC", 1, false, "MALIGNANT", "Mass-Training", false, f.dir.path(),
                     "1.3.6.1.4.1.9590.100.1.2.3");
  touch(f.dir / "CBIS-DDSM/Mass-Training_P_00001_LEFT_CC/07-20-2016-DDSM-74994/1.000000-full mammogram "
                "images-24515/1-1.dcm");
  // P_00002 via metadata.csv (Series UID -> File Location); its folder has a second, unrelated series too.
  touch(f.dir /
        "CBIS-DDSM/Mass-Training_P_00002_LEFT_CC/08-07-2016-DDSM-1/1.000000-full mammogram images-2/1-1.dcm");
  touch(f.dir / "CBIS-DDSM/Mass-Training_P_00002_LEFT_CC/08-07-2016-DDSM-1/9.000000-other-9/1-1.dcm");
  writeText(
      f.dir / "metadata.csv",
      "Series UID,Collection,3rd Party Analysis,Data Description URI,Subject ID,Study UID,Study Description,"
      "Study Date,Series Description,Manufacturer,Modality,SOP Class Name,SOP Class UID,Number of "
      "Images,File "
      "Size,File Location,Download Timestamp\n"
      "1.3.6.1.4.1.9590.100.1.2.2.5,CBIS-DDSM,NO,,Mass-Training_P_00002_LEFT_CC,1.3.6.1.4.1.9590.100.1.2.2.4,"
      ","
      "08-07-2016,full mammogram images,,MG,Secondary Capture Image Storage,1.2.840.10008.5.1.4.1.1.7,1,1 MB,"
      "./CBIS-DDSM/Mass-Training_P_00002_LEFT_CC/08-07-2016-DDSM-1/1.000000-full mammogram "
      "images-2,2023-01-01\n");
  // P_00003: two candidate files and no metadata entry: ambiguous.
  touch(f.dir / "CBIS-DDSM/Mass-Training_P_00003_LEFT_CC/a/b/1-1.dcm");
  touch(f.dir / "CBIS-DDSM/Mass-Training_P_00003_LEFT_CC/a/c/1-1.dcm");
  f.write();
  std::string e = openError(f.cfg());
  EXPECT_HAS(e, "mass_case_description_train_set.csv:4: 2 .dcm files below");
  fs::remove(f.dir / "CBIS-DDSM/Mass-Training_P_00003_LEFT_CC/a/c/1-1.dcm");
  Dataset d = open(f.cfg());
  ASSERT_EQ(d.samples().size(), 3u);
  EXPECT_EQ(d.samples()[0].path, f.dir / "CBIS-DDSM/Mass-Training_P_00001_LEFT_CC/07-20-2016-DDSM-74994/"
                                         "1.000000-full mammogram images-24515/1-1.dcm");
  EXPECT_EQ(d.samples()[1].path, f.dir / "CBIS-DDSM/Mass-Training_P_00002_LEFT_CC/08-07-2016-DDSM-1/"
                                         "1.000000-full mammogram images-2/1-1.dcm");
}

// ---------------------------------------------------------------- ChestX-ray14

namespace {
const char* kEntryHeader =
    "Image Index,Finding Labels,Follow-up #,Patient ID,Patient Age,Patient Gender,View "
    "Position,OriginalImage[Width,Height],OriginalImagePixelSpacing[x,y],\n";
struct CxrFixture {
  TempDir dir;
  std::string entries = kEntryHeader, trainVal, test;
  void add(const std::string& image, const std::string& findings, int patient, bool isTest, bool file = true,
           const std::string& folder = "images") {
    entries += image + "," + findings + ",0," + std::to_string(patient) + ",58,M,PA,2682,2749,0.143,0.143,\n";
    (isTest ? test : trainVal) += image + "\n";
    if (file) touch(dir / (folder + "/" + image));
  }
  void write(const std::string& entryName = "Data_Entry_2017.csv") {
    writeText(dir / entryName, entries);
    writeText(dir / "train_val_list.txt", trainVal);
    writeText(dir / "test_list.txt", test);
  }
  plan::DatasetConfig cfg(test::Named extra = {}, plan::Attrs options = {}) {
    test::Named args = {{"root", str(dir.path())}};
    for (auto& e : extra) args.push_back(e);
    return config("cxr", "chestxray14", args, options);
  }
};
void standardCxr(CxrFixture& f) {
  f.add("00000001_000.png", "Cardiomegaly|Emphysema", 1, false);
  f.add("00000001_001.png", "No Finding", 1, false, true, "images_001/images");
  f.add("00000002_000.png", "Pleural_Thickening", 2, true, true, "images_002/images");
  f.add("00000003_000.png", "Effusion|Hernia", 3, false);
  for (int p = 4; p < 24; ++p) f.add("000000" + std::to_string(p) + "_000.png", "Mass", p, p % 5 == 0);
}
} // namespace

TEST(ChestXray14, OfficialFormatListsAndLabels) {
  CxrFixture f;
  standardCxr(f);
  f.write();
  Dataset d = open(f.cfg());
  EXPECT_TRUE(d.multiLabel());
  ASSERT_EQ(d.classes().size(), 14u);
  EXPECT_EQ(d.classes()[0], "Atelectasis");
  ASSERT_EQ(d.samples().size(), 24u);
  const Sample& s0 = d.samples()[0];
  EXPECT_EQ(s0.positives[1], 1);                                    // Cardiomegaly
  EXPECT_EQ(s0.positives[10], 1);                                   // Emphysema
  EXPECT_EQ(d.samples()[1].positives, std::vector<uint8_t>(14, 0)); // No Finding
  EXPECT_EQ(d.samples()[1].path, f.dir / "images_001/images/00000001_001.png");
  EXPECT_EQ(d.samples()[2].split, SplitId::Test);
  EXPECT_EQ(d.samples()[2].positives[12], 1);
  EXPECT_EQ(d.indices(SplitId::Test).size(), 5u);
  std::map<std::string, std::set<SplitId>> splits;
  for (const Sample& s : d.samples()) splits[s.patient].insert(s.split);
  for (const auto& [p, s] : splits) EXPECT_EQ(s.size(), 1u);
  EXPECT_GE(d.indices(SplitId::Val).size(), 1u);
  // A label subset, in the order given.
  Dataset sub = open(f.cfg({{"labels", list({sym("Hernia"), sym("Effusion")})}}));
  EXPECT_EQ(sub.classes(), (std::vector<std::string>{"Hernia", "Effusion"}));
  EXPECT_EQ(sub.samples()[3].positives, (std::vector<uint8_t>{1, 1}));
  EXPECT_EQ(sub.samples()[0].positives, (std::vector<uint8_t>{0, 0}));
  // The revised file name is accepted.
  fs::rename(f.dir / "Data_Entry_2017.csv", f.dir / "Data_Entry_2017_v2020.csv");
  EXPECT_EQ(open(f.cfg()).samples().size(), 24u);
}

TEST(ChestXray14, EveryErrorNamesFileAndLine) {
  {
    CxrFixture f;
    f.entries = "Image Index,Finding Label,Follow-up #\n";
    f.write();
    EXPECT_HAS(openError(f.cfg()),
               f.dir / "Data_Entry_2017.csv" + ":1: column 2 is 'Finding Label', expected 'Finding Labels'");
  }
  {
    CxrFixture f;
    standardCxr(f);
    f.add("00000099_000.png", "Pleural Thickening", 99, false);
    f.write();
    std::string e = openError(f.cfg());
    EXPECT_HAS(
        e,
        "Data_Entry_2017.csv:26: unknown finding 'Pleural Thickening' (did you mean 'Pleural_Thickening'?)");
  }
  {
    CxrFixture f;
    standardCxr(f);
    f.entries += "00000001_000.png,Mass,0,1,58,M,PA,2682,2749,0.143,0.143,\n";
    f.write();
    EXPECT_HAS(openError(f.cfg()),
               "Data_Entry_2017.csv:26: duplicate Image Index '00000001_000.png' (first at line 2)");
  }
  {
    CxrFixture f;
    standardCxr(f);
    f.add("00000001_002.png", "Mass", 1, true); // patient 1 is in train_val already
    f.write();
    std::string e = openError(f.cfg());
    EXPECT_HAS(
        e, "(listed at " +
               f.dir / "test_list.txt:6): patient '1' is in the test split here and in the train split at");
    EXPECT_HAS(e, "train_val_list.txt:1");
  }
  {
    CxrFixture f;
    standardCxr(f);
    f.test += "00000777_000.png\n";
    f.write();
    EXPECT_HAS(openError(f.cfg()), f.dir / "test_list.txt:6: image '00000777_000.png' is not in");
  }
  {
    CxrFixture f;
    standardCxr(f);
    f.trainVal += "00000003_000.png\n";
    f.write();
    EXPECT_HAS(openError(f.cfg()),
               "train_val_list.txt:20: image '00000003_000.png' is listed again (first at");
  }
  {
    CxrFixture f;
    standardCxr(f);
    f.add("00000050_000.png", "No Finding|Mass", 50, false);
    f.write();
    EXPECT_HAS(openError(f.cfg()), "Data_Entry_2017.csv:26: 'No Finding' together with other findings");
  }
  {
    CxrFixture f;
    standardCxr(f);
    f.add("00000050_000.png", "Mass", 50, false, false);
    f.write();
    EXPECT_HAS(openError(f.cfg()), "Data_Entry_2017.csv:26 (listed at");
    Warnings w;
    Dataset d = open(f.cfg({}, {{"on_error", sym("skip")}}), &w);
    EXPECT_EQ(d.samples().size(), 24u);
    EXPECT_EQ(d.skipped().size(), 1u);
  }
  {
    CxrFixture f;
    standardCxr(f);
    f.entries += "00000060_000.png,Mass,0,60,58,M,PA,2682,2749,0.143\n";
    f.write();
    EXPECT_HAS(openError(f.cfg()), "Data_Entry_2017.csv:26: 10 fields, the header has 12");
  }
  {
    CxrFixture f;
    standardCxr(f);
    f.entries += "00000061_000.png,Mass,0,sixty,58,M,PA,2682,2749,0.143,0.143,\n";
    f.write();
    EXPECT_HAS(openError(f.cfg()), "Data_Entry_2017.csv:26: Patient ID is 'sixty'");
  }
}

TEST(ChestXray14, ImagesInNoListAreLeftOutWithAWarning) {
  CxrFixture f;
  standardCxr(f);
  f.entries += "00000070_000.png,Mass,0,70,58,M,PA,2682,2749,0.143,0.143,\n";
  f.write();
  Warnings w;
  Dataset d = open(f.cfg(), &w);
  EXPECT_EQ(d.samples().size(), 24u);
  ASSERT_EQ(w.lines.size(), 1u);
  EXPECT_HAS(w.lines[0], "1 image(s) of");
}

} // namespace mhr::data
