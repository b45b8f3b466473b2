// runtime/model_record.h — what a run leaves behind for each evaluated network, so `mhr predict` and
// `mhr export` can use it later without the spec (which may have changed since). In: the evaluate stage, the
// network's IR, the data set's typed preprocessing and the operating point the evaluation used. Out: a JSON
// file `model.STAGE.json` next to the run's checkpoints, referring to a safetensors file of the weights
// (one per network and training stage: evaluate stages of unchanged weights share it), and back.
// The record is read from disk, so reading it checks every field (a UserError naming the file and field).
#pragma once

#include "compiler/ir/graph.h"
#include "data/preprocess.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mhr::runtime {

constexpr int kModelRecordFormat = 1;

struct ModelRecord {
  std::string network;     // `hr`
  std::string stage;       // the evaluate stage: `evaluate.hr`
  std::string trainedBy;   // the train stage whose weights these are ("" = as materialised: no training)
  std::string dataset;     // data set name in the spec
  std::string constructor; // its constructor: cbis_ddsm, chestxray14, manifest, synthetic_mammo, ...
  std::string imageColumn; // the CSV column naming images in the data set's own format ("" = none)
  std::string split;       // the split evaluated
  int64_t height = 0, width = 0; // the resolution the network saw
  int64_t channels = 1;          // network input channels (grey repeated to 3 when 3)
  std::vector<std::string> classes;
  bool multiLabel = false;
  double threshold = 0.5;               // binary: P(positive) >= it; multi-label: per label
  std::string thresholdSource = "spec"; // spec | eer (the equal-error point the evaluation logged)
  bool tta = false;                     // the evaluation averaged with the horizontally flipped image
  std::string camLayer;                 // the stage's cam_layer ("" = the trunk's last feature map)
  data::PreprocessSpec preprocess;
  std::string weightsFile; // file name, in the record's folder
  std::string weightsSha256;
  ir::Graph graph;
  std::string specHash;
};

std::string modelRecordToJson(const ModelRecord& record);
// Parses and checks a record; `path` names it in messages.
ModelRecord modelRecordFromJson(const std::string& text, const std::string& path);
// Reads `path`; the weights file is resolved next to it by the caller (modelWeightsPath).
ModelRecord readModelRecord(const std::string& path);
std::string modelWeightsPath(const std::string& recordPath, const ModelRecord& record);

// The preprocessing as JSON text (also spec.json's "preprocess") and back.
std::string preprocessToJson(const data::PreprocessSpec& spec);

} // namespace mhr::runtime
