// data/loaders.h — internal to data/: the pieces every data set constructor shares (resolving and
// fingerprinting files, carving a patient-disjoint validation split) and one function per file-based
// constructor. In: the constructor's typed source (plan::DatasetSpec). Out: a filled Dataset::Parts.
#pragma once

#include "compiler/plan/dataset_spec.h"
#include "data/dataset.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mhr::data::detail {

// A data error at the data set (its file and field come in `message`): "spec.mhr:3:1: dataset 'mammo': ...".
[[noreturn]] void fail(const Dataset::Parts& parts, const std::string& message);

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

// Each fills `parts` (whose options and warn are already set) from its typed, compiler-checked source.
void openCbisDdsm(const plan::CbisDdsmSource& source, const OpenOptions& open, Dataset::Parts& parts);
void openChestXray14(const plan::ChestXray14Source& source, const OpenOptions& open, Dataset::Parts& parts);
void openManifest(const plan::ManifestSource& source, const OpenOptions& open, Dataset::Parts& parts);

} // namespace mhr::data::detail
