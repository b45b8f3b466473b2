// data/dataset.h — an opened data set: what `dataset NAME = CONSTRUCTOR(args) { options }` denotes at run
// time. In: the plan's DatasetConfig, whose typed DatasetSpec (compiler/plan/dataset_spec.h) has every
// default filled in and every spec rule checked by the compiler. Out: the classes, whether the task is
// multi-label, every sample with its label, patient and split, and a way to get each sample's pixels (decode
// the file, or render the synthetic case).
//
// Constructors (docs/data.md has every argument and quirk):
//   synthetic_mammo(count, size, lesion, malignant, seed, split)   in memory, 2 classes
//   synthetic_cxr(count, size, seed, split)                         in memory, 14 labels
//   cbis_ddsm(root, abnormality, val_fraction, seed)                the four official description CSVs
//   chestxray14(root, labels, val_fraction, seed)                   Data_Entry_2017.csv + official lists
//   manifest(csv, root, image, label, patient, split, classes, multi_label, separator, val_fraction,
//            test_fraction, seed)                                   any folder of images with a CSV
// Structural errors (wrong headers, duplicate ids, a patient in two splits, unknown labels) always stop with
// a UserError naming the file and line. Missing image files stop too, unless `on_error: skip`, which leaves
// them out with a warning naming each file and a count.
#pragma once

#include "compiler/plan/plan.h"
#include "data/image.h"
#include "data/preprocess.h"
#include "data/synthetic.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace mhr::data {

const char* splitName(SplitId split); // "train" | "val" | "test"
// "train" | "val" | "test" -> SplitId; UserError otherwise.
SplitId parseSplit(const std::string& name);

struct Sample {
  std::string id;       // unique within the data set (image path relative to root, CBIS folder name, ...)
  std::string patient;  // patient id; never empty (the sample id when the source has no patient column)
  std::string path;     // image file; empty for generated samples
  int64_t fileSize = 0; // file fingerprint, taken when the data set is opened
  int64_t mtimeNs = 0;
  int64_t generated = -1;         // index in the synthetic generator, or -1
  int64_t label = -1;             // single-label: class index
  std::vector<uint8_t> positives; // multi-label: one 0/1 flag per class
  SplitId split = SplitId::Train;
  std::string origin; // "file:line" that defined the sample, for messages
};

struct OpenOptions {
  // Relative paths in the constructor (root, csv) are resolved against this folder; empty = the config's own
  // baseDir (the folder of the spec file that names them), and the working directory when that is empty too.
  std::string baseDir;
  // Where warnings go (a file left out by on_error: skip, a patient in the official train and test lists of
  // different CBIS-DDSM abnormality types, ...). Default: stderr, prefixed "mhr: warning: ".
  std::function<void(const std::string&)> warn;
};

class Dataset {
public:
  const std::string& name() const { return name_; }
  const std::string& constructorName() const { return constructor_; }
  const std::vector<std::string>& classes() const { return classes_; }
  bool multiLabel() const { return multiLabel_; }
  const std::vector<Sample>& samples() const { return samples_; }
  const DatasetOptions& options() const { return options_; }
  const std::string& where() const { return where_; } // "file:line:col: dataset 'NAME'"
  // Indices into samples() of one split, in sample order.
  std::vector<size_t> indices(SplitId split) const;
  // Files left out at open time by on_error: skip (each was also reported through warn).
  const std::vector<std::string>& skipped() const { return skipped_; }

  // Pixels of sample i: decodes the file (needs MHR_WITH_IMAGE_IO) or renders the synthetic case.
  // Throws UserError naming the file for unreadable or undecodable images.
  RawImage load(size_t i) const;
  // The same into `into`, reusing its pixel buffer (workers decoding many images).
  void load(size_t i, RawImage& into) const;
  // Identity of sample i's pixels for the cache key: "file:<path>:<size>:<mtime_ns>" or the generator's
  // parameters and index. Cheap: no file is read.
  std::string fingerprint(size_t i) const;
  void warn(const std::string& message) const;

  // What the data set read, for the tracker (a run records it; `mhr runs compare` shows when two runs read
  // different data). The fingerprint is a SHA-256 over the constructor, the description files it read (their
  // contents) and every sample: id, image path relative to the root, file size, split and labels. No image is
  // read for it: a file rewritten in place at the same size is not told apart (the cache key's mtime is).
  struct Provenance {
    std::string root;        // absolute, normalised; "" for a synthetic set
    std::string fingerprint; // 64 hex digits
    size_t images = 0;       // samples after on_error: skip
    int64_t bytes = 0;       // total size of the image files
  };
  const Provenance& provenance() const { return provenance_; }
  const std::vector<std::string>& sourceFiles() const { return sources_; }

  // ---- for the loaders (dataset.cpp, cbis_ddsm.cpp, chestxray14.cpp, manifest.cpp)
  struct Parts {
    std::string name, constructor, where;
    std::vector<std::string> classes;
    bool multiLabel = false;
    std::vector<Sample> samples;
    DatasetOptions options;
    std::vector<std::string> skipped;
    std::string root;                 // the folder relative image paths are under ("" for synthetic sets)
    std::vector<std::string> sources; // description files read (CSVs, split lists), for the provenance
    std::shared_ptr<const SyntheticMammo> mammo;
    std::shared_ptr<const SyntheticCxr> cxr;
    std::function<void(const std::string&)> warn;
  };
  explicit Dataset(Parts parts);

private:
  std::string name_, constructor_, where_;
  std::vector<std::string> classes_;
  bool multiLabel_ = false;
  std::vector<Sample> samples_;
  DatasetOptions options_;
  std::vector<std::string> skipped_;
  std::shared_ptr<const SyntheticMammo> mammo_;
  std::shared_ptr<const SyntheticCxr> cxr_;
  std::function<void(const std::string&)> warn_;
  std::vector<std::string> sources_;
  Provenance provenance_;
  Provenance computeProvenance(const std::string& root) const;
};

// Opens the data set a DatasetConfig describes, from its typed spec (config.spec, seeds filled in by the
// compiler). Only data errors are left to report here (files, headers, rows), each naming file and field.
Dataset openDataset(const plan::DatasetConfig& config, const OpenOptions& options = {});

// The image file that one cell of a data set's own CSV names (`mhr predict` on a CSV), resolved as the
// constructor's loader does, relative to `folder` (the CSV's): cbis_ddsm's `image file path` through its
// layouts, chestxray14's `Image Index` under images/ and images_NNN/images/, anything else as a path.
// Throws UserError naming `where` when the file cannot be found.
std::string resolveCsvImage(const std::string& constructor, const std::string& folder,
                            const std::string& value, const std::string& where);

// The class names of the two mammography constructors: index 1 is the positive class.
const std::vector<std::string>& mammographyClasses(); // {"benign", "malignant"}

} // namespace mhr::data
