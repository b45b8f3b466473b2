// cbis_ddsm(root, abnormality, val_fraction, seed): the four official CBIS-DDSM description CSVs, read with
// their exact shipped headers (the mass files say `breast_density`, the calc files `breast density`), one
// sample per full mammogram (the `image file path` folder), labelled malignant when any abnormality on it is
// MALIGNANT (BENIGN and BENIGN_WITHOUT_CALLBACK are benign). The official train/test split is kept; a
// patient-disjoint validation split is carved from train with the seed.
//
// DICOM paths: the CSV gives `Mass-Training_P_00001_LEFT_CC/<study UID>/<series UID>/000000.dcm`. Files
// downloaded with the NBIA Data Retriever are laid out differently (`CBIS-DDSM/Mass-Training_P_00001_LEFT_CC/
// 07-20-2016-DDSM-74994/1.000000-full mammogram images-24515/1-1.dcm`), so the path is looked up in order:
// as written under root, under root/CBIS-DDSM, through NBIA's metadata.csv (Series UID -> File Location),
// and finally as the only .dcm file below the image's folder.
#include "data/csv.h"
#include "data/loaders.h"
#include "support/error.h"
#include "support/strings.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <set>

namespace mhr::data::detail {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kMassHeader = {"patient_id",
                                              "breast_density",
                                              "left or right breast",
                                              "image view",
                                              "abnormality id",
                                              "abnormality type",
                                              "mass shape",
                                              "mass margins",
                                              "assessment",
                                              "pathology",
                                              "subtlety",
                                              "image file path",
                                              "cropped image file path",
                                              "ROI mask file path"};
const std::vector<std::string> kCalcHeader = {
    "patient_id",       "breast density",  "left or right breast",    "image view",        "abnormality id",
    "abnormality type", "calc type",       "calc distribution",       "assessment",        "pathology",
    "subtlety",         "image file path", "cropped image file path", "ROI mask file path"};
enum Col { kPatient = 0, kSide = 2, kView = 3, kAbnId = 4, kAbnType = 5, kPathology = 9, kImagePath = 11 };

struct CsvFile {
  std::string kind; // mass | calc
  bool train;
  std::string name;   // file name under root
  std::string prefix; // folder prefix in image paths
};

// Whitespace, including the newline CBIS-DDSM leaves inside some quoted paths.
std::string clean(const std::string& s) {
  return support::trim(s);
}

void checkHeader(const CsvTable& t, const CsvFile& f) {
  const auto& expected = f.kind == "mass" ? kMassHeader : kCalcHeader;
  if (t.header.size() != expected.size())
    throw UserError(fmt::format(
        "{}: the header has {} columns, a CBIS-DDSM {} description file has {}:\n  {}", t.where(t.headerLine),
        t.header.size(), f.kind, expected.size(), support::join(expected, ",")));
  for (size_t i = 0; i < expected.size(); ++i) {
    if (t.header[i] == expected[i]) continue;
    std::string hint;
    const auto& other = f.kind == "mass" ? kCalcHeader : kMassHeader;
    if (t.header[i] == other[i])
      hint = fmt::format(" (that is how the {} files spell it; is this a {} file?)",
                         f.kind == "mass" ? "calc" : "mass", f.kind == "mass" ? "calc" : "mass");
    throw UserError(fmt::format("{}: column {} is '{}', expected '{}'{}", t.where(t.headerLine), i + 1,
                                t.header[i], expected[i], hint));
  }
}

// Finds the DICOM of one full mammogram; "" when none of the known layouts has it.
class PathResolver {
public:
  explicit PathResolver(std::string root) : root_(std::move(root)) {}

  std::string resolve(const std::string& csvPath, std::string& ambiguity) {
    for (const fs::path& candidate : {fs::path(root_) / csvPath, fs::path(root_) / "CBIS-DDSM" / csvPath})
      if (isFile(candidate)) return candidate.string();
    std::vector<std::string> parts = support::split(csvPath, '/');
    if (parts.size() >= 3) {
      loadMetadata();
      auto it = seriesFolder_.find(parts[2]);
      if (it != seriesFolder_.end()) {
        std::vector<std::string> found = dicomsBelow(it->second);
        if (found.size() == 1) return found.front();
      }
    }
    if (!parts.empty()) {
      for (const fs::path& folder : {fs::path(root_) / parts[0], fs::path(root_) / "CBIS-DDSM" / parts[0]}) {
        std::vector<std::string> found = dicomsBelow(folder);
        if (found.size() == 1) return found.front();
        if (found.size() > 1) {
          ambiguity = fmt::format("{} .dcm files below {} (e.g. {}, {}); expected the one full mammogram",
                                  found.size(), folder.string(), found[0], found[1]);
          return "";
        }
      }
    }
    return "";
  }

private:
  static bool isFile(const fs::path& p) {
    std::error_code ec;
    return fs::is_regular_file(p, ec);
  }
  static std::vector<std::string> dicomsBelow(const fs::path& folder) {
    std::vector<std::string> out;
    std::error_code ec;
    if (!fs::is_directory(folder, ec)) return out;
    for (auto it = fs::recursive_directory_iterator(folder, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->is_regular_file(ec) && it->path().extension() == ".dcm") out.push_back(it->path().string());
    std::sort(out.begin(), out.end());
    return out;
  }
  void loadMetadata() {
    if (metadataLoaded_) return;
    metadataLoaded_ = true;
    for (const fs::path& p : {fs::path(root_) / "metadata.csv", fs::path(root_) / ".." / "metadata.csv"}) {
      if (!isFile(p)) continue;
      CsvTable t = readCsv(p.string());
      int uid = t.column("Series UID"), loc = t.column("File Location");
      if (uid < 0 || loc < 0)
        throw UserError(t.where(t.headerLine) + ": an NBIA metadata.csv needs the columns 'Series UID' and "
                                                "'File Location'");
      for (const CsvRecord& r : t.rows) {
        if (r.fields.size() <= size_t(std::max(uid, loc))) continue;
        std::string folder = clean(r.fields[size_t(loc)]);
        if (support::startsWith(folder, "./")) folder = folder.substr(2);
        std::replace(folder.begin(), folder.end(), '\\', '/');
        seriesFolder_[clean(r.fields[size_t(uid)])] = (p.parent_path() / folder).string();
      }
      return;
    }
  }
  std::string root_;
  bool metadataLoaded_ = false;
  std::map<std::string, std::string> seriesFolder_;
};

struct ImageEntry {
  Sample sample;
  std::string kind;
  bool train = true;
  std::set<int64_t> abnormalities;
};

} // namespace

std::string resolveCbisImage(const std::string& root, const std::string& csvPath, std::string& ambiguity) {
  PathResolver resolver(root);
  return resolver.resolve(csvPath, ambiguity);
}

void openCbisDdsm(const plan::CbisDdsmSource& source, const OpenOptions& open, Dataset::Parts& parts) {
  const std::vector<std::string>& kinds = source.abnormality;
  const double valFraction = source.valFraction;
  const uint64_t splitSeed = source.seed;
  const std::string root = resolvePath(open.baseDir, source.root);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) fail(parts, "root: folder '" + root + "' does not exist");
  parts.root = root;

  std::vector<CsvFile> files;
  for (const std::string& k : kinds)
    for (bool train : {true, false})
      files.push_back({k, train, k + "_case_description_" + (train ? "train" : "test") + "_set.csv",
                       std::string(k == "mass" ? "Mass" : "Calc") + (train ? "-Training" : "-Test")});

  PathResolver resolver(root);
  std::map<std::string, ImageEntry> images; // by image folder name
  std::vector<std::string> order;
  std::map<std::string, std::pair<bool, std::string>> patientSplit[2]; // per kind: patient -> (train, origin)
  std::set<std::string> crossTypePatients;
  std::string crossTypeExample;
  for (const CsvFile& f : files) {
    std::string path = (fs::path(root) / f.name).string();
    if (!fs::is_regular_file(path, ec))
      fail(parts, fmt::format("cbis_ddsm: '{}' is missing; root must hold the official description files "
                              "{}_case_description_train_set.csv and {}_case_description_test_set.csv",
                              path, f.kind, f.kind));
    CsvTable t = readCsv(path);
    parts.sources.push_back(path);
    checkHeader(t, f);
    int kindIndex = f.kind == "mass" ? 0 : 1;
    for (const CsvRecord& r : t.rows) {
      std::string where = t.where(r.line);
      if (r.fields.size() != kMassHeader.size())
        throw UserError(
            fmt::format("{}: {} fields, the header has {}", where, r.fields.size(), kMassHeader.size()));
      auto field = [&](int c) { return clean(r.fields[size_t(c)]); };
      std::string patient = field(kPatient), side = field(kSide), view = field(kView);
      std::string type = field(kAbnType), pathology = field(kPathology), imagePath = field(kImagePath);
      if (patient.empty()) throw UserError(where + ": patient_id is empty");
      if (side != "LEFT" && side != "RIGHT")
        throw UserError(fmt::format("{}: left or right breast is '{}', expected LEFT or RIGHT", where, side));
      if (view != "CC" && view != "MLO")
        throw UserError(fmt::format("{}: image view is '{}', expected CC or MLO", where, view));
      std::string expectedType = f.kind == "mass" ? "mass" : "calcification";
      if (type != expectedType)
        throw UserError(fmt::format("{}: abnormality type is '{}' in a {} file (expected '{}')", where, type,
                                    f.kind, expectedType));
      int64_t abnId = 0;
      try {
        size_t used = 0;
        abnId = std::stoll(field(kAbnId), &used);
        if (used != field(kAbnId).size() || abnId < 1) throw std::invalid_argument("");
      } catch (const std::exception&) {
        throw UserError(
            fmt::format("{}: abnormality id is '{}', expected a positive integer", where, field(kAbnId)));
      }
      bool malignant;
      if (pathology == "MALIGNANT")
        malignant = true;
      else if (pathology == "BENIGN" || pathology == "BENIGN_WITHOUT_CALLBACK")
        malignant = false;
      else {
        std::string m = support::closestMatch(pathology, {"MALIGNANT", "BENIGN", "BENIGN_WITHOUT_CALLBACK"});
        throw UserError(
            fmt::format("{}: pathology is '{}', expected MALIGNANT, BENIGN or BENIGN_WITHOUT_CALLBACK{}",
                        where, pathology, m.empty() ? "" : " (did you mean '" + m + "'?)"));
      }
      if (imagePath.empty()) throw UserError(where + ": image file path is empty");
      std::string folder = support::split(imagePath, '/').front();
      std::string expectedFolder = f.prefix + "_" + patient + "_" + side + "_" + view;
      if (folder != expectedFolder)
        throw UserError(
            fmt::format("{}: image file path starts with '{}', but patient_id, side and view say '{}' "
                        "(rows of the {} {} file name {}_... folders)",
                        where, folder, expectedFolder, f.kind, f.train ? "train" : "test", f.prefix));
      auto it = images.find(folder);
      if (it == images.end()) {
        ImageEntry e;
        e.kind = f.kind;
        e.train = f.train;
        e.sample.id = folder;
        e.sample.patient = patient;
        e.sample.label = malignant ? 1 : 0;
        e.sample.split = f.train ? SplitId::Train : SplitId::Test;
        e.sample.origin = where;
        std::string ambiguity;
        std::string resolved = resolver.resolve(imagePath, ambiguity);
        if (!ambiguity.empty()) throw UserError(where + ": " + ambiguity);
        e.sample.path = resolved.empty() ? (fs::path(root) / imagePath).string() : resolved;
        e.abnormalities.insert(abnId);
        images.emplace(folder, std::move(e));
        order.push_back(folder);
      } else {
        ImageEntry& e = it->second;
        if (e.sample.patient != patient || e.kind != f.kind || e.train != f.train)
          throw UserError(fmt::format("{}: image '{}' is also listed at {} with a different patient or file",
                                      where, folder, e.sample.origin));
        if (!e.abnormalities.insert(abnId).second)
          throw UserError(fmt::format("{}: duplicate abnormality id {} for image '{}' (first at {})", where,
                                      abnId, folder, e.sample.origin));
        if (malignant) e.sample.label = 1;
      }
      // The official split keeps each abnormality type's patients on one side.
      auto [pit, inserted] = patientSplit[kindIndex].emplace(patient, std::make_pair(f.train, where));
      if (!inserted && pit->second.first != f.train)
        throw UserError(
            fmt::format("{}: patient '{}' is in the {} file here and in the {} file at {}; the official "
                        "split keeps a patient's {} images on one side",
                        where, patient, f.train ? "train" : "test", pit->second.first ? "train" : "test",
                        pit->second.second, f.kind));
      auto& otherMap = patientSplit[1 - kindIndex];
      auto oit = otherMap.find(patient);
      if (oit != otherMap.end() && oit->second.first != f.train && crossTypePatients.insert(patient).second &&
          crossTypeExample.empty())
        crossTypeExample = fmt::format("{} ({} and {})", patient, where, oit->second.second);
    }
  }
  if (!crossTypePatients.empty())
    parts.warn(
        fmt::format("{}: {} patient(s) are in the official train split of one abnormality type and the test "
                    "split of the other, e.g. {}; kept as shipped (CBIS-DDSM split mass and calc cases "
                    "separately)",
                    parts.where, crossTypePatients.size(), crossTypeExample));
  for (const std::string& id : order) parts.samples.push_back(std::move(images[id].sample));
  try {
    requireFiles(parts.samples, parts.options.skipErrors, parts.warn, parts.skipped);
  } catch (const UserError& e) {
    throw UserError(std::string(e.what()) +
                    "\n  (looked for each file as written under root, under root/CBIS-DDSM/, "
                    "through NBIA's metadata.csv and as the only .dcm below its folder)");
  }
  carveValidation(parts.samples, valFraction, splitSeed, false);
  parts.classes = mammographyClasses();
}

} // namespace mhr::data::detail
