// runtime/predictor.h — a recorded network applied to image files (`mhr predict`). In: a ModelRecord (what
// the run's evaluation used: graph, preprocessing, resolution, classes, threshold) with its weights file, and
// image paths. Out: per image, in input order, either its logits, probabilities and predicted label(s), or
// the reason it could not be predicted (unreadable, not an image, a colour image for a grey network, ...);
// optionally a Grad-CAM record per image. One bad image never stops the others.
//
// The pixels take exactly the evaluation's path: decode, data::preprocess at the recorded resolution, the
// prepared cache's 16-bit quantisation, normalize, grey repeated to 3 channels for a 3-channel network, and
// the horizontal-flip average when the evaluation used `tta`. So an image of the evaluated split gets the
// score the evaluation logged for it.
#pragma once

#include "runtime/metrics_sink.h"
#include "runtime/model_record.h"
#include "runtime/network.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace mhr::runtime {

struct PredictOptions {
  std::string device = "auto"; // cpu | cuda | auto
  int64_t batch = 16;
  int64_t workers = 0;             // decoding threads; 0 = every core
  int64_t threads = 0;             // LibTorch's intra-op threads; 0 = its default
  std::optional<double> threshold; // overrides the record's
  bool cam = false;                // Grad-CAM per image
  bool keepInputs = false;         // keep each image's network input (ImagePrediction::input)
  std::string camLayer;            // overrides the record's cam_layer ("" = the record's, else the default)
  std::function<void(size_t done, size_t total)> progress; // after each batch
};

struct ImagePrediction {
  std::string path;
  std::string error; // "" = predicted
  std::vector<float> logits, probabilities;
  std::vector<std::string> predicted; // the class (single-label) or every label at the threshold
  std::optional<CamRecord> cam;
  std::vector<float> input; // with keepInputs: the 1 x C x H x W tensor the network saw, row-major
};

// The kept inputs as a safetensors file, one [1, C, H, W] float32 tensor per predicted image named by its
// 0-based position among the inputs ("0", "3", ...): what `mhr predict --inputs-out` writes, so another
// implementation (the exported model.py) can be fed exactly what mhr's network saw.
void writeInputTensors(const std::string& path, const std::vector<ImagePrediction>& results, int64_t channels,
                       int64_t height, int64_t width);

class Predictor {
public:
  // Reads the weights (their sha256 must match the record's) into the recorded architecture. Throws
  // UserError when the file is missing, changed since the run, or does not fit the graph.
  Predictor(ModelRecord record, const std::string& weightsPath, const PredictOptions& options);
  const ModelRecord& record() const { return record_; }
  double threshold() const { return threshold_; }
  const std::string& device() const { return deviceName_; }
  // The Grad-CAM layer used (node name), or "" when the network has no spatial map at this resolution.
  std::string camLayerName() const;

  std::vector<ImagePrediction> run(const std::vector<std::string>& paths);

private:
  ModelRecord record_;
  PredictOptions options_;
  Network net_{nullptr};
  torch::Device device_ = torch::kCPU;
  std::string deviceName_;
  double threshold_ = 0.5;
  ir::NodeId camNode_ = ir::kNoNode;
};

} // namespace mhr::runtime
