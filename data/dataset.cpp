#include "data/dataset.h"

#include "data/decode.h"
#include "data/loaders.h"
#include "support/assert.h"
#include "support/error.h"
#include "support/sha256.h"
#include "support/strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <sys/stat.h>

namespace mhr::data {

const char* splitName(SplitId split) {
  switch (split) {
  case SplitId::Train:
    return "train";
  case SplitId::Val:
    return "val";
  case SplitId::Test:
    return "test";
  }
  return "?";
}

SplitId parseSplit(const std::string& name) {
  if (name == "train") return SplitId::Train;
  if (name == "val") return SplitId::Val;
  if (name == "test") return SplitId::Test;
  std::string m = support::closestMatch(name, {"train", "val", "test"});
  throw UserError("unknown split '" + name + "'" + (m.empty() ? "" : " (did you mean '" + m + "'?)") +
                  "; splits are train, val and test");
}

std::string resolveCsvImage(const std::string& constructor, const std::string& folder,
                            const std::string& value, const std::string& where) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (value.empty()) throw UserError(where + ": the image cell is empty");
  const fs::path direct = fs::path(value).is_absolute() ? fs::path(value) : fs::path(folder) / value;
  if (fs::is_regular_file(direct, ec)) return direct.string();
  if (constructor == "cbis_ddsm") {
    std::string ambiguity;
    std::string found = detail::resolveCbisImage(folder, value, ambiguity);
    if (!ambiguity.empty()) throw UserError(where + ": " + ambiguity);
    if (!found.empty()) return found;
  } else if (constructor == "chestxray14") {
    std::vector<fs::path> candidates = {fs::path(folder) / "images" / value};
    for (auto it = fs::directory_iterator(folder, ec); !ec && it != fs::directory_iterator();
         it.increment(ec))
      if (it->is_directory(ec) && support::startsWith(it->path().filename().string(), "images_"))
        candidates.push_back(it->path() / "images" / value);
    std::sort(candidates.begin() + 1, candidates.end());
    for (const fs::path& c : candidates)
      if (fs::is_regular_file(c, ec)) return c.string();
  }
  throw UserError(
      where + ": image '" + value + "' not found" +
      (constructor == "chestxray14" ? " (looked in the CSV's folder, images/ and images_*/images/)"
       : constructor == "cbis_ddsm" ? " (looked for it as CBIS-DDSM's loader does, below the CSV's folder)"
                                    : " (relative to the CSV's folder)"));
}

const std::vector<std::string>& mammographyClasses() {
  static const std::vector<std::string> classes = {"benign", "malignant"};
  return classes;
}

// ---------------------------------------------------------------- Dataset

Dataset::Dataset(Parts parts)
    : name_(std::move(parts.name)), constructor_(std::move(parts.constructor)),
      where_(std::move(parts.where)), classes_(std::move(parts.classes)), multiLabel_(parts.multiLabel),
      samples_(std::move(parts.samples)), options_(std::move(parts.options)),
      skipped_(std::move(parts.skipped)), mammo_(std::move(parts.mammo)), cxr_(std::move(parts.cxr)),
      warn_(std::move(parts.warn)), sources_(std::move(parts.sources)) {
  provenance_ = computeProvenance(parts.root);
}

Dataset::Provenance Dataset::computeProvenance(const std::string& rootFolder) const {
  namespace fs = std::filesystem;
  Provenance p;
  std::error_code ec;
  fs::path root;
  if (!rootFolder.empty()) {
    root = fs::absolute(fs::path(rootFolder), ec).lexically_normal();
    p.root = root.string();
    if (!p.root.empty() && p.root.back() == '/' && p.root.size() > 1) p.root.pop_back();
  }
  // Paths relative to the root, so that the same data moved elsewhere keeps its fingerprint.
  auto relative = [&](const std::string& path) {
    if (root.empty() || path.empty()) return path;
    fs::path r = fs::absolute(fs::path(path), ec).lexically_normal().lexically_relative(root);
    return r.empty() ? path : r.string();
  };
  support::Sha256 h;
  h.update("mhr-data-fingerprint-v1\nconstructor " + constructor_ + "\n");
  std::vector<std::string> sources = sources_;
  std::sort(sources.begin(), sources.end());
  for (const std::string& f : sources) {
    std::string digest = support::sha256File(f);
    h.update("source " + relative(f) + " " + digest + "\n");
  }
  for (const std::string& c : classes_) h.update("class " + c + "\n");
  for (size_t i = 0; i < samples_.size(); ++i) {
    const Sample& s = samples_[i];
    std::string line = s.id + "\t" + (s.generated >= 0 ? fingerprint(i) : relative(s.path)) + "\t" +
                       std::to_string(s.fileSize) + "\t" + splitName(s.split) + "\t" +
                       std::to_string(s.label) + "\t";
    for (uint8_t b : s.positives) line += b ? '1' : '0';
    h.update(line + "\n");
    p.bytes += s.fileSize;
  }
  p.images = samples_.size();
  p.fingerprint = h.hexDigest();
  return p;
}

std::vector<size_t> Dataset::indices(SplitId split) const {
  std::vector<size_t> out;
  for (size_t i = 0; i < samples_.size(); ++i)
    if (samples_[i].split == split) out.push_back(i);
  return out;
}

RawImage Dataset::load(size_t i) const {
  RawImage img;
  load(i, img);
  return img;
}

void Dataset::load(size_t i, RawImage& into) const {
  MHR_ASSERT(i < samples_.size(), "Dataset::load: index out of range");
  const Sample& s = samples_[i];
  if (s.generated >= 0) {
    MHR_ASSERT(mammo_ || cxr_, "generated sample without a generator");
    into = mammo_ ? mammo_->render(s.generated) : cxr_->render(s.generated);
    return;
  }
  decodeImage(s.path, into);
}

std::string Dataset::fingerprint(size_t i) const {
  const Sample& s = samples_[i];
  if (s.generated >= 0) {
    if (mammo_) {
      const MammoParams& p = mammo_->params();
      return fmt::format("synthetic_mammo-v1:{}:{}x{}:{}:{:.17g}:{}:{:.17g},{:.17g},{:.17g}#{}", p.count,
                         p.height, p.width, p.lesion, p.malignant, p.seed, p.split[0], p.split[1], p.split[2],
                         s.generated);
    }
    const CxrParams& p = cxr_->params();
    return fmt::format("synthetic_cxr-v1:{}:{}x{}:{}:{:.17g},{:.17g},{:.17g}#{}", p.count, p.height, p.width,
                       p.seed, p.split[0], p.split[1], p.split[2], s.generated);
  }
  return fmt::format("file:{}:{}:{}", s.path, s.fileSize, s.mtimeNs);
}

void Dataset::warn(const std::string& message) const {
  if (warn_)
    warn_(message);
  else
    std::cerr << "mhr: warning: " << message << "\n";
}

namespace detail {

void fail(const Dataset::Parts& parts, const std::string& message) {
  throw UserError(parts.where + ": " + message);
}

// ---------------------------------------------------------------- files and splits

std::string resolvePath(const std::string& base, const std::string& path) {
  if (path.empty() || base.empty() || path.front() == '/') return path;
  return (std::filesystem::path(base) / path).string();
}

bool fingerprintFile(Sample& sample) {
  struct stat st;
  if (::stat(sample.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  sample.fileSize = int64_t(st.st_size);
  sample.mtimeNs = int64_t(st.st_mtim.tv_sec) * 1'000'000'000LL + int64_t(st.st_mtim.tv_nsec);
  return true;
}

void requireFiles(std::vector<Sample>& samples, bool skip,
                  const std::function<void(const std::string&)>& warn, std::vector<std::string>& skipped) {
  std::vector<std::string> missing;
  std::vector<Sample> kept;
  kept.reserve(samples.size());
  for (Sample& s : samples) {
    if (fingerprintFile(s)) {
      kept.push_back(std::move(s));
      continue;
    }
    std::string msg =
        fmt::format("{}: image file '{}' does not exist or is not a regular file", s.origin, s.path);
    missing.push_back(msg);
    if (skip) {
      warn(msg + "; left out (on_error: skip)");
      skipped.push_back(s.path);
    }
  }
  if (!missing.empty() && !skip) {
    std::string text = missing.front();
    for (size_t i = 1; i < missing.size() && i < 5; ++i) text += "\n  " + missing[i];
    if (missing.size() > 5) text += fmt::format("\n  ... {} missing files in all", missing.size());
    throw UserError(text + "\n  (set `on_error: skip` in the data set's options to leave missing files out)");
  }
  if (skip && !missing.empty())
    warn(fmt::format("{} image file(s) missing and left out (on_error: skip)", missing.size()));
  samples = std::move(kept);
}

void requirePatientsDisjoint(const std::vector<Sample>& samples) {
  std::map<std::string, const Sample*> first;
  for (const Sample& s : samples) {
    auto [it, inserted] = first.emplace(s.patient, &s);
    if (!inserted && it->second->split != s.split)
      throw UserError(fmt::format(
          "{}: patient '{}' is in the {} split here and in the {} split at {}; a patient's "
          "images must all be in one split",
          s.origin, s.patient, splitName(s.split), splitName(it->second->split), it->second->origin));
  }
}

namespace {
void splitTrainGroups(std::vector<Sample>& samples, double valFraction, double testFraction, uint64_t seed,
                      bool multiLabel) {
  std::map<std::string, int> stratum; // sorted by patient id: independent of row order
  for (const Sample& s : samples) {
    if (s.split != SplitId::Train) continue;
    int st = multiLabel ? 0 : int(std::max<int64_t>(0, s.label));
    auto [it, inserted] = stratum.emplace(s.patient, st);
    if (!inserted) it->second = std::max(it->second, st);
  }
  std::vector<std::string> patients;
  std::vector<int> strata;
  for (const auto& [p, st] : stratum) {
    patients.push_back(p);
    strata.push_back(st);
  }
  std::vector<SplitId> assigned = splitGroups(strata, valFraction, testFraction, seed);
  std::map<std::string, SplitId> byPatient;
  for (size_t i = 0; i < patients.size(); ++i) byPatient[patients[i]] = assigned[i];
  for (Sample& s : samples)
    if (s.split == SplitId::Train) s.split = byPatient[s.patient];
}
} // namespace

void carveValidation(std::vector<Sample>& samples, double fraction, uint64_t seed, bool multiLabel) {
  splitTrainGroups(samples, fraction, 0.0, seed, multiLabel);
}

void assignSplits(std::vector<Sample>& samples, double valFraction, double testFraction, uint64_t seed,
                  bool multiLabel) {
  for (Sample& s : samples) s.split = SplitId::Train;
  splitTrainGroups(samples, valFraction, testFraction, seed, multiLabel);
}

} // namespace detail

// ---------------------------------------------------------------- synthetic constructors and dispatch

namespace {

void openSyntheticMammo(const plan::SyntheticMammoSource& source, Dataset::Parts& parts) {
  MammoParams p;
  p.count = source.count;
  p.height = source.height;
  p.width = source.width;
  p.lesion = source.lesion;
  p.malignant = source.malignant;
  p.seed = source.seed;
  p.split = source.split;
  std::shared_ptr<SyntheticMammo> gen;
  try {
    gen = std::make_shared<SyntheticMammo>(p);
  } catch (const UserError& e) {
    detail::fail(parts, e.what());
  }
  parts.classes = mammographyClasses();
  for (const MammoCase& c : gen->cases()) {
    Sample s;
    s.id = fmt::format("synthetic_mammo/{:05d}", c.index);
    s.patient = fmt::format("P_{:05d}", c.patient + 1);
    s.generated = c.index;
    s.label = c.malignant ? 1 : 0;
    s.split = c.split;
    s.origin = fmt::format("{} #{}", parts.where, c.index);
    parts.samples.push_back(std::move(s));
  }
  parts.mammo = gen;
}

void openSyntheticCxr(const plan::SyntheticCxrSource& source, Dataset::Parts& parts) {
  CxrParams p;
  p.count = source.count;
  p.height = source.height;
  p.width = source.width;
  p.seed = source.seed;
  p.split = source.split;
  std::shared_ptr<SyntheticCxr> gen;
  try {
    gen = std::make_shared<SyntheticCxr>(p);
  } catch (const UserError& e) {
    detail::fail(parts, e.what());
  }
  parts.classes = chestXray14Labels();
  parts.multiLabel = true;
  for (const CxrCase& c : gen->cases()) {
    Sample s;
    s.id = c.imageName();
    s.patient = std::to_string(c.patient);
    s.generated = c.index;
    s.positives = c.findings;
    s.split = c.split;
    s.origin = fmt::format("{} #{}", parts.where, c.index);
    parts.samples.push_back(std::move(s));
  }
  parts.cxr = gen;
}

} // namespace

Dataset openDataset(const plan::DatasetConfig& config, const OpenOptions& options) {
  OpenOptions open = options;
  if (open.baseDir.empty()) open.baseDir = config.baseDir;
  Dataset::Parts parts;
  parts.name = config.name;
  parts.constructor = plan::constructorName(config.spec.source);
  parts.where =
      (config.location.empty() ? std::string() : config.location + ": ") + "dataset '" + config.name + "'";
  parts.options = datasetOptionsOf(config.spec);
  parts.warn = open.warn;
  if (!parts.warn) parts.warn = [](const std::string& m) { std::cerr << "mhr: warning: " << m << "\n"; };
  const plan::DatasetSource& source = config.spec.source;
  if (auto* m = std::get_if<plan::SyntheticMammoSource>(&source))
    openSyntheticMammo(*m, parts);
  else if (auto* c = std::get_if<plan::SyntheticCxrSource>(&source))
    openSyntheticCxr(*c, parts);
  else if (auto* cbis = std::get_if<plan::CbisDdsmSource>(&source))
    detail::openCbisDdsm(*cbis, open, parts);
  else if (auto* nih = std::get_if<plan::ChestXray14Source>(&source))
    detail::openChestXray14(*nih, open, parts);
  else
    detail::openManifest(std::get<plan::ManifestSource>(source), open, parts);
  // Every split the stages may name must exist; an empty one is legal only if nobody uses it, which the
  // runtime checks when it asks for the split.
  std::map<std::string, size_t> seen;
  for (size_t i = 0; i < parts.samples.size(); ++i) {
    auto [it, inserted] = seen.emplace(parts.samples[i].id, i);
    MHR_ASSERT(inserted, "duplicate sample id after loading: the loader should have reported it");
  }
  return Dataset(std::move(parts));
}

} // namespace mhr::data
