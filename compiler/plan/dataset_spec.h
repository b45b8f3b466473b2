// compiler/plan/dataset_spec.h — a data set statement as typed, complete values: what data/ reads to open,
// preprocess and cache a data set. Filled by compiler/lower/lower_dataset from a checked statement, every
// default in place; each spec rule was checked once by the compiler (compiler/sema), with a source range,
// so data/ validates nothing of it (a value out of range here is an internal error, MHR_ASSERT).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mhr::plan {

// ---- sources: one struct per constructor (docs/data.md has their meaning)

struct SyntheticMammoSource {
  int64_t count = 240;
  int64_t height = 512, width = 416;
  std::string lesion = "mixed"; // calcification | mass | mixed
  double malignant = 0.5;       // (0, 1)
  uint64_t seed = 0;            // the experiment seed unless given
  std::array<double, 3> split = {0.7, 0.1, 0.2};
};

struct SyntheticCxrSource {
  int64_t count = 200;
  int64_t height = 1024, width = 1024;
  uint64_t seed = 0;
  std::array<double, 3> split = {0.7, 0.1, 0.2};
};

struct CbisDdsmSource {
  std::string root;                                        // as written; data/ resolves it against baseDir
  std::vector<std::string> abnormality = {"mass", "calc"}; // distinct, each mass | calc
  double valFraction = 0.1;                                // [0, 1)
  uint64_t seed = 0;
};

struct ChestXray14Source {
  std::string root;
  std::vector<std::string> labels; // distinct ChestX-ray14 labels, in the order written; empty = all 14
  double valFraction = 0.1;
  uint64_t seed = 0;
};

struct ManifestSource {
  std::string csv;
  std::string root; // "" = the CSV's folder
  std::string image = "image";
  std::string label = "label";
  std::string patient;              // "" = none (each image its own patient)
  std::string split;                // "" = none (a random patient-disjoint split)
  std::vector<std::string> classes; // distinct; empty = the sorted distinct labels
  bool multiLabel = false;
  char separator = '|';
  double valFraction = 0.1, testFraction = 0.2; // each [0, 1), sum < 1
  uint64_t seed = 0;
};

using DatasetSource =
    std::variant<SyntheticMammoSource, SyntheticCxrSource, CbisDdsmSource, ChestXray14Source, ManifestSource>;

// ---- preprocessing: the steps of the `preprocess:` list; they always run in the order of data/preprocess.h

enum class ResizeMode { Pad, Crop, Stretch };

struct WindowStep {
  double center = 0.0;
  double width = 1.0; // >= 1 (DICOM's LINEAR window)
};

struct BreastCropStep {
  std::optional<double> threshold; // unit scale, (0, 1); absent = Otsu's
  bool flip = true;
};

struct ClaheStep {
  double clip = 2.0; // > 0
  int64_t tiles = 8; // 1..64
};

struct NormalizeStep {
  double mean = 0.0;
  double std = 1.0; // > 0
};

struct PreprocessSteps {
  bool voi = false; // exclusive with window
  std::optional<WindowStep> window;
  std::optional<BreastCropStep> breastCrop;
  std::optional<ClaheStep> clahe;
  std::optional<NormalizeStep> normalize;
};

enum class OnError { Stop, Skip };

struct DatasetSpec {
  DatasetSource source;
  PreprocessSteps preprocess;
  ResizeMode resize = ResizeMode::Pad;
  OnError onError = OnError::Stop;
  std::string cacheDir = ".mhr-cache"; // `cache:`, as written (relative to the working directory)
};

// ---- training-time augmentation: one entry of a train stage's `augment:` list (data/augment.h applies it)

struct AugmentOp {
  enum class Kind { HFlip, VFlip, Rotate, Scale, Brightness, Contrast };
  Kind kind = Kind::HFlip;
  double a = 0.0, b = 0.0; // rotate: max degrees (0..180); scale: min, max (0 < min <= max <= 10);
                           // brightness/contrast: delta (0..1)
};

// "synthetic_mammo", "cbis_ddsm", ...: the constructor's name, for messages.
const char* constructorName(const DatasetSource& source);

} // namespace mhr::plan
