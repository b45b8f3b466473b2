// manifest(csv, root, image, label, patient, split, classes, multi_label, separator, val_fraction,
// test_fraction, seed): any folder of images described by a CSV with a header. One row per image; the
// label column holds a class name (or, with multi_label, names joined by `separator`); an optional patient
// column keeps a patient's images in one split; an optional split column (train/val/test) fixes the split,
// otherwise a random patient-disjoint split is drawn with the seed.
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
int requireColumn(const CsvTable& t, const std::string& name, const std::string& argument) {
  int c = t.column(name);
  if (c >= 0) return c;
  std::string m = support::closestMatch(name, t.header);
  throw UserError(
      fmt::format("{}: no column '{}' (named by `{}`){}; the columns are {}", t.where(t.headerLine), name,
                  argument, m.empty() ? "" : " (did you mean '" + m + "'?)", support::join(t.header, ", ")));
}
} // namespace

void openManifest(const plan::ManifestSource& source, const OpenOptions& open, Dataset::Parts& parts) {
  const std::string& imageCol = source.image;
  const std::string& labelCol = source.label;
  const std::string& patientCol = source.patient;
  const std::string& splitCol = source.split;
  const bool multi = source.multiLabel;
  const std::string separator(1, source.separator);
  const double valFraction = source.valFraction, testFraction = source.testFraction;
  const uint64_t splitSeed = source.seed;
  const std::string csvPath = resolvePath(open.baseDir, source.csv);
  const std::string root =
      source.root.empty() ? fs::path(csvPath).parent_path().string() : resolvePath(open.baseDir, source.root);

  std::vector<std::string> classes = source.classes; // distinct (the compiler checked)
  std::map<std::string, size_t> classIndex;
  for (size_t i = 0; i < classes.size(); ++i) classIndex.emplace(classes[i], i);

  CsvTable t = readCsv(csvPath);
  parts.root = root;
  parts.sources.push_back(csvPath);
  int ci = requireColumn(t, imageCol, "image");
  int cl = requireColumn(t, labelCol, "label");
  int cp = patientCol.empty() ? -1 : requireColumn(t, patientCol, "patient");
  int cs = splitCol.empty() ? -1 : requireColumn(t, splitCol, "split");

  std::map<std::string, size_t> seen;
  std::vector<std::vector<std::string>> rowLabels;
  for (const CsvRecord& r : t.rows) {
    std::string where = t.where(r.line);
    if (r.fields.size() != t.header.size())
      throw UserError(
          fmt::format("{}: {} fields, the header has {}", where, r.fields.size(), t.header.size()));
    Sample s;
    s.origin = where;
    s.id = support::trim(r.fields[size_t(ci)]);
    if (s.id.empty()) throw UserError(fmt::format("{}: the '{}' column is empty", where, imageCol));
    auto [it, inserted] = seen.emplace(s.id, r.line);
    if (!inserted)
      throw UserError(fmt::format("{}: duplicate image '{}' (first at line {})", where, s.id, it->second));
    s.path = s.id.front() == '/' ? s.id : (fs::path(root) / s.id).string();
    s.patient = s.id;
    if (cp >= 0) {
      s.patient = support::trim(r.fields[size_t(cp)]);
      if (s.patient.empty()) throw UserError(fmt::format("{}: the '{}' column is empty", where, patientCol));
    }
    if (cs >= 0) {
      std::string split = support::trim(r.fields[size_t(cs)]);
      try {
        s.split = parseSplit(split);
      } catch (const UserError& e) {
        throw UserError(where + ": column '" + splitCol + "': " + e.what());
      }
    }
    std::string text = support::trim(r.fields[size_t(cl)]);
    std::vector<std::string> names;
    if (multi) {
      for (const std::string& part : support::split(text, separator[0])) {
        std::string n = support::trim(part);
        if (!n.empty()) names.push_back(n);
      }
    } else {
      if (text.empty()) throw UserError(fmt::format("{}: the '{}' column is empty", where, labelCol));
      names.push_back(text);
    }
    for (const std::string& n : names)
      if (!source.classes.empty() && !classIndex.count(n)) {
        std::string m = support::closestMatch(n, classes);
        throw UserError(fmt::format("{}: label '{}' is not one of the classes [{}]{}", where, n,
                                    support::join(classes, ", "),
                                    m.empty() ? "" : " (did you mean '" + m + "'?)"));
      }
    rowLabels.push_back(names);
    parts.samples.push_back(std::move(s));
  }
  if (parts.samples.empty()) throw UserError(csvPath + ": the manifest lists no images");
  if (source.classes.empty()) { // sorted distinct labels
    std::set<std::string> distinct;
    for (const auto& names : rowLabels) distinct.insert(names.begin(), names.end());
    classes.assign(distinct.begin(), distinct.end());
    for (size_t i = 0; i < classes.size(); ++i) classIndex[classes[i]] = i;
  }
  if (!multi && classes.size() < 2)
    throw UserError(
        fmt::format("{}: the '{}' column has {} distinct value(s); classification needs at least two",
                    csvPath, labelCol, classes.size()));
  if (multi && classes.empty())
    throw UserError(fmt::format("{}: the '{}' column names no labels at all", csvPath, labelCol));
  for (size_t i = 0; i < parts.samples.size(); ++i) {
    Sample& s = parts.samples[i];
    if (multi) {
      s.positives.assign(classes.size(), 0);
      for (const std::string& n : rowLabels[i]) s.positives[classIndex[n]] = 1;
    } else {
      s.label = int64_t(classIndex[rowLabels[i].front()]);
    }
  }
  if (cs >= 0)
    requirePatientsDisjoint(parts.samples);
  else
    assignSplits(parts.samples, valFraction, testFraction, splitSeed, multi);
  requireFiles(parts.samples, parts.options.skipErrors, parts.warn, parts.skipped);
  parts.classes = classes;
  parts.multiLabel = multi;
}

} // namespace mhr::data::detail
