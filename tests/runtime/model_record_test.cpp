// The model record (runtime/model_record.h) that `mhr predict` and `mhr export` read: every field survives
// the round trip, and a broken or tampered record is one UserError naming the file and field.
#include "runtime/model_record.h"
#include "stdlib/catalog.h"
#include "support/error.h"

#include <gtest/gtest.h>

namespace mhr::runtime {
namespace {

ModelRecord sample() {
  ModelRecord r;
  r.network = "hr";
  r.stage = "evaluate.hr";
  r.trainedBy = "train.hr";
  r.dataset = "mammo";
  r.constructor = "cbis_ddsm";
  r.imageColumn = "image file path";
  r.split = "test";
  r.height = 64;
  r.width = 52;
  r.channels = 1;
  r.classes = {"benign", "malignant"};
  r.threshold = 0.4375;
  r.thresholdSource = "eer";
  r.tta = true;
  r.camLayer = "layer3";
  r.preprocess.window = data::Window{2000.5, 4000.25, "SIGMOID"};
  r.preprocess.breastCrop = true;
  r.preprocess.cropThreshold = 0.125;
  r.preprocess.cropFlip = false;
  r.preprocess.clahe = true;
  r.preprocess.claheClip = 3.5;
  r.preprocess.claheTiles = 4;
  r.preprocess.normalize = true;
  r.preprocess.mean = 0.3;
  r.preprocess.std = 0.2;
  r.preprocess.resize = data::ResizeMode::Crop;
  r.weightsFile = "weights.hr.train.hr.safetensors";
  r.weightsSha256 = std::string(64, 'a');
  r.specHash = std::string(64, 'b');
  ir::NetworkOptions o;
  o.classes = 2;
  o.inChannels = 1;
  o.width = 0.25;
  r.graph = stdlib::catalog().build("resnet18", o);
  return r;
}

TEST(ModelRecord, EveryFieldRoundTrips) {
  const ModelRecord r = sample();
  const std::string text = modelRecordToJson(r);
  const ModelRecord b = modelRecordFromJson(text, "m.json");
  EXPECT_EQ(modelRecordToJson(b), text);
  EXPECT_EQ(b.network, r.network);
  EXPECT_EQ(b.classes, r.classes);
  EXPECT_EQ(b.threshold, r.threshold);
  EXPECT_EQ(b.thresholdSource, "eer");
  EXPECT_TRUE(b.tta);
  EXPECT_EQ(b.preprocess.cacheKeyText(), r.preprocess.cacheKeyText());
  EXPECT_EQ(b.preprocess.mean, 0.3);
  EXPECT_TRUE(b.graph == r.graph);
  EXPECT_EQ(modelWeightsPath("/runs/x/model.evaluate.hr.json", b), "/runs/x/weights.hr.train.hr.safetensors");
}

std::string errorOf(const std::string& from, const std::string& to) {
  std::string text = modelRecordToJson(sample());
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  text.replace(at, from.size(), to);
  try {
    modelRecordFromJson(text, "m.json");
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ModelRecord, BrokenRecordsNameTheFileAndField) {
  EXPECT_NE(errorOf("\"format\": 1", "\"format\": 2").find("m.json: model record format 2"),
            std::string::npos);
  EXPECT_NE(errorOf("\"channels\": 1", "\"channels\": 3").find("'channels' disagrees with the graph"),
            std::string::npos);
  EXPECT_NE(errorOf("\"benign\",", "").find("the graph has 2 outputs but 1 classes"), std::string::npos);
  EXPECT_NE(
      errorOf("\"weights\": \"weights.", "\"weights\": \"../weights.").find("'weights' is not a file name"),
      std::string::npos);
  EXPECT_NE(errorOf("\"resize\": \"crop\"", "\"resize\": \"zoom\"").find("resize 'zoom'"), std::string::npos);
  EXPECT_NE(errorOf("\"function\": \"SIGMOID\"", "\"function\": \"CUBIC\"").find("function 'CUBIC'"),
            std::string::npos);
  EXPECT_NE(errorOf("\"std\": 0.2", "\"std\": 0").find("std must be positive"), std::string::npos);
  EXPECT_NE(errorOf("\"op\": \"conv2d\"", "\"op\": \"conv9d\"").find("m.json: graph: node 1"),
            std::string::npos);
  EXPECT_NE(errorOf("{", "[").find("m.json: not a model record"), std::string::npos);
}

} // namespace
} // namespace mhr::runtime
