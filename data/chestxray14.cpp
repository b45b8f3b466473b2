// chestxray14(root, labels, val_fraction, seed): NIH ChestX-ray14 as shipped. Data_Entry_2017.csv (or the
// revised Data_Entry_2017_v2020.csv) with its exact header, bracketed columns and trailing comma included;
// `Finding Labels` split on '|', `No Finding` = no label; the official patient-wise lists train_val_list.txt
// and test_list.txt; images under root/images/ or root/images_NNN/images/ as the NIH archives unpack. A
// patient-disjoint validation split is carved from train_val with the seed.
#include "data/csv.h"
#include "data/loaders.h"
#include "support/error.h"
#include "support/files.h"
#include "support/strings.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>
#include <set>

namespace mhr::data::detail {

namespace fs = std::filesystem;

namespace {

// After CSV parsing the bracketed names split at their commas; the 2017 file's trailing comma adds an
// empty 12th column (pandas calls it `Unnamed: 11`).
const std::vector<std::string> kHeader = {"Image Index",
                                          "Finding Labels",
                                          "Follow-up #",
                                          "Patient ID",
                                          "Patient Age",
                                          "Patient Gender",
                                          "View Position",
                                          "OriginalImage[Width",
                                          "Height]",
                                          "OriginalImagePixelSpacing[x",
                                          "y]"};

void checkHeader(const CsvTable& t) {
  const auto& h = t.header;
  for (size_t i = 0; i < kHeader.size(); ++i) {
    if (i >= h.size())
      throw UserError(fmt::format("{}: the header ends after {} columns; expected\n  {},",
                                  t.where(t.headerLine), h.size(), support::join(kHeader, ",")));
    if (h[i] != kHeader[i])
      throw UserError(
          fmt::format("{}: column {} is '{}', expected '{}' (the header of Data_Entry_2017.csv is\n  {},)",
                      t.where(t.headerLine), i + 1, h[i], kHeader[i], support::join(kHeader, ",")));
  }
  if (h.size() > kHeader.size() + 1 || (h.size() == kHeader.size() + 1 && !h.back().empty()))
    throw UserError(fmt::format("{}: unexpected column '{}' after '{}'", t.where(t.headerLine),
                                h[kHeader.size()], kHeader.back()));
}

struct ListEntry {
  std::string where;
  bool test;
};

void readList(const std::string& path, bool test, std::map<std::string, ListEntry>& out) {
  auto text = support::readFile(path);
  if (!text) throw UserError(path + ": cannot read the official split list (missing or not readable)");
  size_t line = 0;
  for (const std::string& raw : support::split(*text, '\n')) {
    ++line;
    std::string name = support::trim(raw);
    if (name.empty()) continue;
    std::string where = path + ":" + std::to_string(line);
    auto [it, inserted] = out.emplace(name, ListEntry{where, test});
    if (!inserted)
      throw UserError(
          fmt::format("{}: image '{}' is listed again (first at {})", where, name, it->second.where));
  }
}

} // namespace

void openChestXray14(const plan::ChestXray14Source& source, const OpenOptions& open, Dataset::Parts& parts) {
  const std::vector<std::string>& all = chestXray14Labels();
  const std::vector<std::string> labels = source.labels.empty() ? all : source.labels;
  const double valFraction = source.valFraction;
  const uint64_t splitSeed = source.seed;
  const std::string root = resolvePath(open.baseDir, source.root);
  std::error_code ec;
  if (!fs::is_directory(root, ec)) fail(parts, "root: folder '" + root + "' does not exist");
  parts.root = root;

  std::string entryPath = (fs::path(root) / "Data_Entry_2017.csv").string();
  if (!fs::is_regular_file(entryPath, ec)) {
    std::string revised = (fs::path(root) / "Data_Entry_2017_v2020.csv").string();
    if (!fs::is_regular_file(revised, ec))
      fail(parts, "chestxray14: '" + entryPath +
                      "' is missing (NIH's label file; Data_Entry_2017_v2020.csv is "
                      "accepted too)");
    entryPath = revised;
  }
  std::map<std::string, ListEntry> lists;
  for (bool test : {false, true}) {
    std::string list = (fs::path(root) / (test ? "test_list.txt" : "train_val_list.txt")).string();
    readList(list, test, lists);
    parts.sources.push_back(list);
  }

  // Every PNG under images/ and images_*/images/, by file name.
  std::map<std::string, std::string> imageFiles;
  std::vector<fs::path> folders = {fs::path(root) / "images"};
  for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->is_directory(ec) && support::startsWith(it->path().filename().string(), "images_"))
      folders.push_back(it->path() / "images");
  std::sort(folders.begin() + 1, folders.end());
  for (const fs::path& folder : folders) {
    if (!fs::is_directory(folder, ec)) continue;
    for (auto it = fs::directory_iterator(folder, ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
      imageFiles.emplace(it->path().filename().string(), it->path().string());
  }

  CsvTable t = readCsv(entryPath);
  parts.sources.push_back(entryPath);
  checkHeader(t);
  std::map<std::string, size_t> seenImage;
  std::map<size_t, size_t> positionOfLabel; // canonical index -> position in `labels`
  for (size_t i = 0; i < labels.size(); ++i)
    positionOfLabel[size_t(std::find(all.begin(), all.end(), labels[i]) - all.begin())] = i;
  size_t unlisted = 0;
  std::string unlistedExample;
  for (const CsvRecord& r : t.rows) {
    std::string where = t.where(r.line);
    if (r.fields.size() != t.header.size())
      throw UserError(
          fmt::format("{}: {} fields, the header has {}", where, r.fields.size(), t.header.size()));
    std::string image = support::trim(r.fields[0]);
    if (image.empty()) throw UserError(where + ": Image Index is empty");
    auto [sit, inserted] = seenImage.emplace(image, r.line);
    if (!inserted)
      throw UserError(
          fmt::format("{}: duplicate Image Index '{}' (first at line {})", where, image, sit->second));
    Sample s;
    s.id = image;
    s.origin = where;
    s.positives.assign(labels.size(), 0);
    std::vector<std::string> findings = support::split(r.fields[1], '|');
    for (std::string& f : findings) f = support::trim(f);
    for (const std::string& f : findings) {
      if (f == "No Finding") {
        if (findings.size() != 1)
          throw UserError(
              fmt::format("{}: 'No Finding' together with other findings: '{}'", where, r.fields[1]));
        continue;
      }
      auto it = std::find(all.begin(), all.end(), f);
      if (it == all.end()) {
        std::vector<std::string> candidates = all;
        candidates.push_back("No Finding");
        std::string m = support::closestMatch(f, candidates);
        throw UserError(fmt::format("{}: unknown finding '{}'{}", where, f,
                                    m.empty() ? "" : " (did you mean '" + m + "'?)"));
      }
      auto pos = positionOfLabel.find(size_t(it - all.begin()));
      if (pos != positionOfLabel.end()) s.positives[pos->second] = 1;
    }
    std::string patient = support::trim(r.fields[3]);
    try {
      size_t used = 0;
      long long id = std::stoll(patient, &used);
      if (used != patient.size() || id < 0) throw std::invalid_argument("");
      s.patient = std::to_string(id);
    } catch (const std::exception&) {
      throw UserError(fmt::format("{}: Patient ID is '{}', expected an integer", where, patient));
    }
    auto lit = lists.find(image);
    if (lit == lists.end()) {
      if (unlisted++ == 0) unlistedExample = where;
      continue;
    }
    s.split = lit->second.test ? SplitId::Test : SplitId::Train;
    // A patient in two splits is a mistake in the lists: name the list line too.
    s.origin = where + " (listed at " + lit->second.where + ")";
    auto fit = imageFiles.find(image);
    s.path = fit != imageFiles.end() ? fit->second : (fs::path(root) / "images" / image).string();
    parts.samples.push_back(std::move(s));
  }
  for (const auto& [name, entry] : lists)
    if (!seenImage.count(name))
      throw UserError(fmt::format("{}: image '{}' is not in {}", entry.where, name, entryPath));
  if (unlisted > 0)
    parts.warn(
        fmt::format("{}: {} image(s) of {} are in neither train_val_list.txt nor test_list.txt and are left "
                    "out (first at {})",
                    parts.where, unlisted, entryPath, unlistedExample));
  requirePatientsDisjoint(parts.samples);
  requireFiles(parts.samples, parts.options.skipErrors, parts.warn, parts.skipped);
  carveValidation(parts.samples, valFraction, splitSeed, true);
  parts.classes = labels;
  parts.multiLabel = true;
}

} // namespace mhr::data::detail
