// export/model_py.h — a network as a self-contained PyTorch file. In: the ir::Graph of a network and what
// the run knew about it (name, run id, spec hash, the resolution it was evaluated at, classes, the operating
// threshold, the data set's preprocessing). Out: the text of `model.py` (Python >= 3.8), which imports only
// torch, numpy, the standard library and, when installed, safetensors, and offers
//   Model                 the exact architecture, submodules under the IR's dotted node names, so that
//                         state_dict() keys are mhr's (torchvision's for unmorphed stdlib networks);
//   load(dir)             the Model in eval mode with dir/model.safetensors loaded strictly;
//                         read_safetensors() falls back to a built-in reader when the package is missing;
//   preprocess(array)     one decoded image to the [1, C, H, W] tensor mhr feeds: a numpy port of
//                         data/preprocess.cpp, the cache's 16-bit quantisation, normalize and grey -> 3
//                         channels (unit_image() stops before normalize; dicom_kwargs(ds) reads a pydicom
//                         dataset's intensity attributes);
//   probabilities(model, x), predicted(p)   scores and decisions as mhr's evaluation makes them;
//   CLASSES, MULTI_LABEL, THRESHOLD, RESOLUTION, IN_CHANNELS, FLIP_TTA, PREPROCESS.
// No LibTorch here: the file is text, produced from the IR alone.
#pragma once

#include "compiler/ir/graph.h"
#include "data/preprocess.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mhr::exporter {

struct PythonModelInfo {
  std::string networkName;       // e.g. "hr"
  std::string runId, specHash;   // named in the docstring
  int64_t height = 0, width = 0; // the resolution the network was evaluated at (RESOLUTION)
  std::vector<std::string> classes;
  bool multiLabel = false;
  double threshold = 0.5;          // operating point of `predicted`
  bool flipTta = false;            // the evaluate stage's `tta`: scores averaged with the mirrored image's
  data::PreprocessSpec preprocess; // what `preprocess()` reproduces
};

// The text of model.py. The input channel count (IN_CHANNELS; grey images are repeated when it is 3) is the
// graph's own.
std::string generateModelPy(const ir::Graph& graph, const PythonModelInfo& info);

} // namespace mhr::exporter
