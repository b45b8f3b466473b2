#include "runtime/model_record.h"

#include "compiler/ir/json.h"
#include "support/error.h"
#include "support/files.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>

namespace mhr::runtime {
namespace {

using nlohmann::json;

const char* resizeName(data::ResizeMode m) {
  switch (m) {
  case data::ResizeMode::Pad:
    return "pad";
  case data::ResizeMode::Crop:
    return "crop";
  case data::ResizeMode::Stretch:
    return "stretch";
  }
  return "pad";
}

json preprocessJson(const data::PreprocessSpec& p) {
  json j;
  j["voi"] = p.voi;
  j["window"] =
      p.window
          ? json{{"center", p.window->center}, {"width", p.window->width}, {"function", p.window->function}}
          : json(nullptr);
  j["breast_crop"] = p.breastCrop;
  j["crop_threshold"] = p.cropThreshold ? json(*p.cropThreshold) : json(nullptr);
  j["crop_flip"] = p.cropFlip;
  j["clahe"] = p.clahe;
  j["clahe_clip"] = p.claheClip;
  j["clahe_tiles"] = p.claheTiles;
  j["normalize"] = p.normalize;
  j["mean"] = p.mean;
  j["std"] = p.std;
  j["resize"] = resizeName(p.resize);
  return j;
}

// Field access naming the file and the field.
class Fields {
public:
  Fields(const json& j, std::string where) : j_(j), where_(std::move(where)) {
    if (!j_.is_object()) throw UserError(where_ + " is not a JSON object");
  }
  const json& at(const std::string& key) const {
    if (!j_.contains(key)) throw UserError(where_ + ": missing field '" + key + "'");
    return j_.at(key);
  }
  std::string text(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_string()) throw UserError(where_ + ": field '" + key + "' is not a string");
    return v.get<std::string>();
  }
  int64_t integer(const std::string& key, int64_t min) const {
    const json& v = at(key);
    if (!v.is_number_integer() || v.get<int64_t>() < min)
      throw UserError(where_ + ": field '" + key + "' is not an integer >= " + std::to_string(min));
    return v.get<int64_t>();
  }
  double number(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_number() || !std::isfinite(v.get<double>()))
      throw UserError(where_ + ": field '" + key + "' is not a finite number");
    return v.get<double>();
  }
  bool boolean(const std::string& key) const {
    const json& v = at(key);
    if (!v.is_boolean()) throw UserError(where_ + ": field '" + key + "' is not true or false");
    return v.get<bool>();
  }
  const std::string& where() const { return where_; }

private:
  const json& j_;
  std::string where_;
};

data::PreprocessSpec preprocessFrom(const json& j, const std::string& where) {
  Fields f(j, where + ": preprocess");
  data::PreprocessSpec p;
  p.voi = f.boolean("voi");
  if (!f.at("window").is_null()) {
    Fields w(f.at("window"), f.where() + ": window");
    data::Window win;
    win.center = w.number("center");
    win.width = w.number("width");
    win.function = w.text("function");
    if (win.width <= 0) throw UserError(w.where() + ": width must be positive");
    if (win.function != "LINEAR" && win.function != "LINEAR_EXACT" && win.function != "SIGMOID")
      throw UserError(w.where() + ": function '" + win.function + "' is not LINEAR, LINEAR_EXACT or SIGMOID");
    p.window = win;
  }
  p.breastCrop = f.boolean("breast_crop");
  if (!f.at("crop_threshold").is_null()) p.cropThreshold = f.number("crop_threshold");
  p.cropFlip = f.boolean("crop_flip");
  p.clahe = f.boolean("clahe");
  p.claheClip = f.number("clahe_clip");
  p.claheTiles = f.integer("clahe_tiles", 1);
  p.normalize = f.boolean("normalize");
  p.mean = f.number("mean");
  p.std = f.number("std");
  if (p.normalize && p.std <= 0) throw UserError(f.where() + ": std must be positive");
  const std::string resize = f.text("resize");
  if (resize == "pad")
    p.resize = data::ResizeMode::Pad;
  else if (resize == "crop")
    p.resize = data::ResizeMode::Crop;
  else if (resize == "stretch")
    p.resize = data::ResizeMode::Stretch;
  else
    throw UserError(f.where() + ": resize '" + resize + "' is not pad, crop or stretch");
  return p;
}

} // namespace

std::string preprocessToJson(const data::PreprocessSpec& spec) {
  return preprocessJson(spec).dump(1);
}

std::string modelRecordToJson(const ModelRecord& r) {
  json j;
  j["format"] = kModelRecordFormat;
  j["network"] = r.network;
  j["stage"] = r.stage;
  j["trained_by"] = r.trainedBy;
  j["dataset"] = r.dataset;
  j["constructor"] = r.constructor;
  j["image_column"] = r.imageColumn;
  j["split"] = r.split;
  j["resolution"] = json::array({r.height, r.width});
  j["channels"] = r.channels;
  j["classes"] = r.classes;
  j["multi_label"] = r.multiLabel;
  j["threshold"] = r.threshold;
  j["threshold_source"] = r.thresholdSource;
  j["tta"] = r.tta;
  j["cam_layer"] = r.camLayer;
  j["preprocess"] = preprocessJson(r.preprocess);
  j["weights"] = r.weightsFile;
  j["weights_sha256"] = r.weightsSha256;
  j["spec_hash"] = r.specHash;
  j["graph"] = json::parse(ir::graphToJson(r.graph));
  return j.dump(1) + "\n";
}

ModelRecord modelRecordFromJson(const std::string& text, const std::string& path) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw UserError(path + ": not a model record (invalid JSON: " + e.what() + ")");
  }
  Fields f(j, path);
  const int64_t format = f.integer("format", 0);
  if (format != kModelRecordFormat)
    throw UserError(path + ": model record format " + std::to_string(format) + "; this mhr reads format " +
                    std::to_string(kModelRecordFormat));
  ModelRecord r;
  r.network = f.text("network");
  r.stage = f.text("stage");
  r.trainedBy = f.text("trained_by");
  r.dataset = f.text("dataset");
  r.constructor = f.text("constructor");
  r.imageColumn = f.text("image_column");
  r.split = f.text("split");
  const json& res = f.at("resolution");
  if (!res.is_array() || res.size() != 2 || !res[0].is_number_integer() || !res[1].is_number_integer() ||
      res[0].get<int64_t>() < 1 || res[1].get<int64_t>() < 1)
    throw UserError(path + ": field 'resolution' is not [height, width]");
  r.height = res[0].get<int64_t>();
  r.width = res[1].get<int64_t>();
  r.channels = f.integer("channels", 1);
  if (r.channels != 1 && r.channels != 3) throw UserError(path + ": field 'channels' is not 1 or 3");
  const json& classes = f.at("classes");
  if (!classes.is_array() || classes.empty())
    throw UserError(path + ": field 'classes' is not a list of names");
  for (const json& c : classes) {
    if (!c.is_string()) throw UserError(path + ": field 'classes' is not a list of names");
    r.classes.push_back(c.get<std::string>());
  }
  r.multiLabel = f.boolean("multi_label");
  r.threshold = f.number("threshold");
  r.thresholdSource = f.text("threshold_source");
  r.tta = f.boolean("tta");
  r.camLayer = f.text("cam_layer");
  r.preprocess = preprocessFrom(f.at("preprocess"), path);
  r.weightsFile = f.text("weights");
  if (r.weightsFile.empty() || r.weightsFile.find('/') != std::string::npos)
    throw UserError(path + ": field 'weights' is not a file name");
  r.weightsSha256 = f.text("weights_sha256");
  r.specHash = f.text("spec_hash");
  r.graph = ir::graphFromJson(f.at("graph").dump(), path + ": graph");
  const ir::Node& out = r.graph.node(r.graph.outputId());
  if (out.op == ir::OpKind::Linear && static_cast<size_t>(out.linear.outFeatures) != r.classes.size())
    throw UserError(path + ": the graph has " + std::to_string(out.linear.outFeatures) + " outputs but " +
                    std::to_string(r.classes.size()) + " classes are listed");
  if (r.graph.node(r.graph.inputId()).input.channels != r.channels)
    throw UserError(path + ": field 'channels' disagrees with the graph's input");
  return r;
}

ModelRecord readModelRecord(const std::string& path) {
  std::optional<std::string> text = support::readFile(path);
  if (!text) throw UserError("cannot read the model record '" + path + "'");
  return modelRecordFromJson(*text, path);
}

std::string modelWeightsPath(const std::string& recordPath, const ModelRecord& record) {
  return (std::filesystem::path(recordPath).parent_path() / record.weightsFile).string();
}

} // namespace mhr::runtime
