// data/loaders.h — internal to data/: the pieces every data set constructor shares (reading the call's
// arguments with checks, resolving and fingerprinting files, carving a patient-disjoint validation split)
// and one function per file-based constructor. In: the constructor call. Out: a filled Dataset::Parts.
#pragma once

#include "compiler/plan/value.h"
#include "data/dataset.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mhr::data::detail {

// Typed access to a constructor's named arguments. Every getter checks the kind and range and throws a
// UserError prefixed with `where`; finish() rejects arguments nobody asked for (with "did you mean").
class ArgReader {
public:
  ArgReader(const plan::Value& call, std::string where);
  std::optional<int64_t> integer(const std::string& name);
  std::optional<double> number(const std::string& name);
  std::optional<std::string> string(const std::string& name);
  std::optional<std::string> symbol(const std::string& name); // Symbol (or String)
  std::optional<bool> boolean(const std::string& name);
  std::optional<plan::Size> size(const std::string& name);
  // A list of names written as symbols or strings.
  std::optional<std::vector<std::string>> names(const std::string& name);
  std::optional<std::vector<double>> numbers(const std::string& name);
  double fraction(const std::string& name, double fallback, bool allowZero); // in [0, 1) or (0, 1)
  void finish();
  [[noreturn]] void fail(const std::string& message) const;
  const std::string& where() const { return where_; }

private:
  const plan::Value* get(const std::string& name);
  const plan::Value& call_;
  std::string where_;
  std::vector<std::string> used_;
};

// base / path unless path is absolute; base empty = as given (relative to the working directory).
std::string resolvePath(const std::string& base, const std::string& path);
// Fills fileSize and mtimeNs; false when the file does not exist or is not a regular file.
bool fingerprintFile(Sample& sample);
// Checks every sample's file. Missing ones: with skip, removed from `samples`, reported through warn and
// listed in `skipped`; without, one UserError naming the first few (file:line and path) and the count.
void requireFiles(std::vector<Sample>& samples, bool skip,
                  const std::function<void(const std::string&)>& warn, std::vector<std::string>& skipped);
// Throws a UserError when one patient has samples in two different splits, naming both origins.
void requirePatientsDisjoint(const std::vector<Sample>& samples);
// Moves whole patients from train to val: stratified by the patient's highest class index (single-label)
// so small sets keep both classes in val; deterministic by seed, independent of row order.
void carveValidation(std::vector<Sample>& samples, double fraction, uint64_t seed, bool multiLabel);
// Random patient-disjoint train/val/test split (manifest without a split column).
void assignSplits(std::vector<Sample>& samples, double valFraction, double testFraction, uint64_t seed,
                  bool multiLabel);

// The DICOM of a CBIS-DDSM `image file path` below `root`, through every layout the loader knows ("" when
// none has it; `ambiguity` says why when several files could be it).
std::string resolveCbisImage(const std::string& root, const std::string& csvPath, std::string& ambiguity);

// Each fills `parts` (whose options and warn are already set) from its arguments.
void openCbisDdsm(ArgReader& args, uint64_t seed, const OpenOptions& open, Dataset::Parts& parts);
void openChestXray14(ArgReader& args, uint64_t seed, const OpenOptions& open, Dataset::Parts& parts);
void openManifest(ArgReader& args, uint64_t seed, const OpenOptions& open, Dataset::Parts& parts);

} // namespace mhr::data::detail
