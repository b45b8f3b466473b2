// cli/cmd_predict.cpp — `mhr predict` and `mhr export`: use a network a run trained. Both find the run's
// model record (runtime/model_record.h, written by each evaluate stage next to the run's checkpoints) through
// the tracker; predict applies it to image files (runtime/predictor.h) and writes a CSV (+ Grad-CAM PNGs),
// export writes safetensors + a generated PyTorch module (export/model_py.h) + spec.json.
#include "cli/commands.h"

#include "data/csv.h"
#include "data/dataset.h"
#include "data/decode.h"
#include "stdlib/catalog.h"
#include "support/error.h"
#include "support/files.h"
#include "support/sha256.h"
#include "support/strings.h"
#include "tracker/cam_overlay.h"
#include "tracker/png_writer.h"
#include "tracker/run_reader.h"
#include "tracker/tracker.h"

#if MHR_WITH_TORCH
#include "compiler/ir/json.h"
#include "export/model_py.h"
#include "runtime/model_record.h"
#include "runtime/predictor.h"
#include "runtime/progress.h"
#endif

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>

namespace mhr::cli {
namespace {

namespace fs = std::filesystem;

struct ModelChoice {
  std::string runRef, db, network, stage;
};

void addModelOptions(CLI::App* cmd, ModelChoice& c) {
  cmd->add_option("run", c.runRef, "run id, unique id prefix (at least 4 hex digits) or run name")
      ->required();
  cmd->add_option("--network", c.network, "the network (default: the one the run evaluated)");
  cmd->add_option("--stage", c.stage,
                  "the evaluate stage whose network and preprocessing to use (default: the network's last)");
  cmd->add_option("--db", c.db, "tracker database (default: $MHR_DB, else ./mhr-runs.sqlite)");
}

#if MHR_WITH_TORCH

struct ChosenModel {
  std::string runId;
  std::string recordPath;
  runtime::ModelRecord record;
};

// The model record of `c` in the tracker, or one clear line saying why there is none.
ChosenModel chooseModel(const ModelChoice& c) {
  std::string path = tracker::resolveDbPath(c.db.empty() ? std::nullopt : std::optional<std::string>(c.db));
  if (path == "none") throw UserError("--db none records nothing, so there is no run to read");
  tracker::Tracker t = tracker::Tracker::openExisting(path);
  ChosenModel out;
  out.runId = t.resolveRunId(c.runRef);
  tracker::RunDetails d = tracker::loadRun(t.db(), out.runId);
  const std::string run = "run " + out.runId.substr(0, 8) + " (" + d.info.status + ")";
  // Records in the order the stages logged them; the stage key names the network ("evaluate.hr[.2]").
  std::vector<runtime::ArtifactRecord> models;
  for (const auto& a : d.artifacts)
    if (a.kind == "model") models.push_back(a);
  if (models.empty())
    throw UserError(
        run + " recorded no trained network: " +
        (d.info.status == "finished"
             ? std::string("it evaluated none, ran with --db none, or ran before mhr recorded models")
             : std::string("it stopped before its first evaluate stage")));
  std::vector<std::string> networks;
  std::vector<std::pair<runtime::ArtifactRecord, runtime::ModelRecord>> candidates;
  for (const auto& a : models) {
    if (!fs::exists(a.path))
      throw UserError(run + ": the model record '" + a.path +
                      "' is missing (the run's checkpoint folder was moved or deleted)");
    runtime::ModelRecord r = runtime::readModelRecord(a.path);
    if (std::find(networks.begin(), networks.end(), r.network) == networks.end())
      networks.push_back(r.network);
    if (!c.network.empty() && r.network != c.network) continue;
    if (!c.stage.empty() && r.stage != c.stage) continue;
    candidates.emplace_back(a, std::move(r));
  }
  const std::string list = support::join(networks, ", ");
  if (!c.network.empty() && std::find(networks.begin(), networks.end(), c.network) == networks.end())
    throw UserError(run + " did not evaluate a network '" + c.network + "' (it evaluated: " + list + ")");
  if (candidates.empty()) {
    std::vector<std::string> stages;
    for (const auto& a : models) stages.push_back(a.stage);
    throw UserError(run + " has no evaluate stage '" + c.stage + "'" +
                    (c.network.empty() ? "" : " of network '" + c.network + "'") +
                    " (its evaluate stages: " + support::join(stages, ", ") + ")");
  }
  if (c.network.empty() && c.stage.empty() && networks.size() > 1)
    throw UserError(run + " evaluated " + std::to_string(networks.size()) + " networks (" + list +
                    "): choose one with --network");
  out.recordPath = candidates.back().first.path;
  out.record = std::move(candidates.back().second);
  return out;
}

bool isImageExtension(const fs::path& p) {
  static const std::set<std::string> ext = {".dcm", ".dicom", ".png", ".jpg", ".jpeg",
                                            ".tif", ".tiff",  ".bmp", ".pgm", ".ppm"};
  return ext.count(support::toLower(p.extension().string())) > 0;
}

// Files, folders (every image below, sorted; other files are counted and said) and CSVs in the data set's
// own format (runtime::ModelRecord::imageColumn, else a `path` column).
std::vector<std::string> expandInputs(const std::vector<std::string>& inputs, const runtime::ModelRecord& r) {
  std::vector<std::string> out;
  for (const std::string& in : inputs) {
    std::error_code ec;
    if (fs::is_directory(in, ec)) {
      std::vector<std::string> found;
      size_t others = 0;
      std::string otherExample;
      for (auto it = fs::recursive_directory_iterator(in, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        const fs::path& p = it->path();
        if (p.filename().string().rfind('.', 0) == 0) continue; // hidden files
        bool image = isImageExtension(p);
        if (!image && p.extension().empty()) {
          // DICOM files often have no extension (DICOMDIR layouts): recognised by their bytes.
          try {
            image = data::sniffFormat(p.string()) != data::FileFormat::Unknown;
          } catch (const UserError&) {
          }
        }
        if (image)
          found.push_back(p.string());
        else if (++others == 1)
          otherExample = p.string();
      }
      if (ec) throw UserError("cannot list the folder '" + in + "': " + ec.message());
      std::sort(found.begin(), found.end());
      if (others)
        std::cerr << "mhr: predict: " << others << " file(s) in " << in
                  << " are not images and were left out, e.g. " << otherExample << "\n";
      if (found.empty()) std::cerr << "mhr: warning: predict: no image files in " << in << "\n";
      out.insert(out.end(), found.begin(), found.end());
    } else if (support::toLower(fs::path(in).extension().string()) == ".csv") {
      data::CsvTable t = data::readCsv(in);
      int col = r.imageColumn.empty() ? -1 : t.column(r.imageColumn);
      if (col < 0) col = t.column("path");
      if (col < 0)
        throw UserError(t.where(t.headerLine) + ": no column " +
                        (r.imageColumn.empty() ? "" : "'" + r.imageColumn + "' (the data set's images) or ") +
                        "'path' naming the images");
      const std::string folder = fs::path(in).parent_path().string();
      for (const data::CsvRecord& row : t.rows) {
        const std::string where = t.where(row.line);
        if (row.fields.size() <= size_t(col)) throw UserError(where + ": the row has no image column");
        out.push_back(data::resolveCsvImage(r.constructor, folder.empty() ? "." : folder,
                                            support::trim(row.fields[size_t(col)]), where));
      }
    } else {
      out.push_back(in); // a missing or unreadable file gets its row with the reason
    }
  }
  return out;
}

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return q + "\"";
}

std::string number(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", double(v));
  return buf;
}

// The file name of input i's CAM: its position among the inputs (1-based, as the CSV's rows) and its path,
// so both DICOMs named 000000.dcm in two CBIS-DDSM folders stay apart and recognisable.
std::string camFileName(const std::string& path, size_t i) {
  std::string rel = fs::path(path).lexically_normal().replace_extension().string();
  for (char& ch : rel)
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.')) ch = '_';
  if (rel.size() > 120) rel = rel.substr(rel.size() - 120); // the end of a path says the most
  char index[16];
  std::snprintf(index, sizeof index, "%04zu", i + 1);
  return std::string(index) + "-" + rel + ".cam.png";
}

int runPredict(const ModelChoice& c, const std::vector<std::string>& inputs, const std::string& outPath,
               const std::string& camDir, const std::string& camLayer, double threshold,
               const std::string& device, int64_t batch, int64_t threads, bool logits,
               const std::string& inputsOut) {
  ChosenModel m = chooseModel(c);
  const runtime::ModelRecord& r = m.record;
  runtime::PredictOptions o;
  o.device = device;
  o.batch = batch;
  o.workers = threads;
  o.threads = threads;
  if (!std::isnan(threshold)) o.threshold = threshold;
  o.cam = !camDir.empty();
  o.camLayer = camLayer;
  o.keepInputs = !inputsOut.empty();
  if (!inputsOut.empty() && support::toLower(fs::path(inputsOut).extension().string()) != ".safetensors")
    throw UserError("--inputs-out: '" + inputsOut + "' must end in .safetensors");
  std::vector<std::string> paths = expandInputs(inputs, r);
  if (paths.empty()) throw UserError("no images to predict (the inputs named no image files)");
  // Progress: a line per tenth of the inputs when there are many, so long runs are visibly alive.
  const bool terminal = runtime::stderrIsTerminal();
  size_t lastTenth = 0;
  o.progress = [&](size_t done, size_t total) {
    if (total < 64) return;
    size_t tenth = done * 10 / total;
    if (terminal) {
      std::cerr << "\rmhr: predict: " << done << "/" << total << std::flush;
      if (done == total) std::cerr << "\n";
    } else if (tenth > lastTenth) {
      lastTenth = tenth;
      std::cerr << "mhr: predict: " << done << "/" << total << " images\n";
    }
  };
  runtime::Predictor predictor(r, runtime::modelWeightsPath(m.recordPath, r), o);
  std::cerr << "mhr: predict: " << paths.size() << " image(s) with network " << r.network << " of run "
            << m.runId.substr(0, 8) << " (" << r.stage << ", " << r.height << "x" << r.width << ", "
            << r.classes.size() << (r.multiLabel ? " labels" : " classes") << ") on " << predictor.device()
            << "; threshold " << predictor.threshold()
            << (o.threshold                  ? " (--threshold)"
                : r.thresholdSource == "eer" ? " (the run's equal-error point)"
                                             : " (the spec's)")
            << "\n";
  if (o.cam && predictor.camLayerName().empty())
    std::cerr << "mhr: warning: predict: network " << r.network << " has no spatial map at " << r.height
              << "x" << r.width << ", so --cam writes nothing\n";
  std::vector<runtime::ImagePrediction> results = predictor.run(paths);

  std::string csv = "path,status";
  for (const std::string& cls : r.classes) csv += "," + csvField("p_" + cls);
  csv += ",predicted";
  if (!camDir.empty()) csv += ",cam";
  if (logits)
    for (const std::string& cls : r.classes) csv += "," + csvField("logit_" + cls);
  csv += "\n";
  size_t failed = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    const runtime::ImagePrediction& p = results[i];
    csv += csvField(p.path) + ",";
    if (!p.error.empty()) {
      ++failed;
      csv += csvField("error: " + p.error);
      for (size_t k = 0; k < r.classes.size(); ++k) csv += ",";
      csv += ",";
      if (!camDir.empty()) csv += ",";
      if (logits)
        for (size_t k = 0; k < r.classes.size(); ++k) csv += ",";
      csv += "\n";
      std::cerr << "mhr: error: " << support::terminalSafe(p.path + ": " + p.error) << "\n";
      continue;
    }
    csv += "ok";
    for (float v : p.probabilities) csv += "," + number(v);
    csv += "," + csvField(support::join(p.predicted, "|"));
    if (!camDir.empty())
      csv += "," + (p.cam ? csvField((fs::path(camDir) / camFileName(p.path, i)).string()) : std::string());
    if (logits)
      for (float v : p.logits) csv += "," + number(v);
    csv += "\n";
  }
  if (fs::path(outPath).has_parent_path()) support::makeDirectories(fs::path(outPath).parent_path().string());
  support::writeFileAtomic(outPath, csv);

  if (!inputsOut.empty()) runtime::writeInputTensors(inputsOut, results, r.channels, r.height, r.width);
  size_t cams = 0;
  if (o.cam) {
    support::makeDirectories(camDir);
    for (size_t i = 0; i < results.size(); ++i) {
      if (!results[i].cam) continue;
      tracker::RgbImage img = tracker::renderOverlay(*results[i].cam, 512);
      std::string png = tracker::encodePng(img.pixels.data(), img.width, img.height, 3);
      support::writeFileAtomic((fs::path(camDir) / camFileName(results[i].path, i)).string(), png);
      ++cams;
    }
  }
  std::cerr << "mhr: predict: " << results.size() - failed << " predicted, " << failed << " failed; wrote "
            << outPath;
  if (o.cam)
    std::cerr << " and " << cams << " Grad-CAM overlay(s) (" << predictor.camLayerName() << ") in " << camDir;
  std::cerr << "\n";
  return failed ? 1 : 0;
}

// The torchvision model a recorded graph equals, with the number of classes: "" when it is none.
std::string torchvisionEquivalent(const ir::Graph& g, int64_t classes) {
  static const char* const kTorchvision[] = {"resnet18",    "resnet34",        "resnet50", "resnet101",
                                             "densenet121", "efficientnet_b0", "vgg11_bn", "vgg16_bn"};
  const ir::NetworkCatalog& cat = stdlib::catalog();
  for (const char* name : kTorchvision) {
    if (!cat.info(name)) continue;
    ir::NetworkOptions o;
    o.classes = classes;
    if (cat.build(name, o) == g) return name;
  }
  return "";
}

int runExport(const ModelChoice& c, const std::string& outDir) {
  ChosenModel m = chooseModel(c);
  const runtime::ModelRecord& r = m.record;
  const std::string weights = runtime::modelWeightsPath(m.recordPath, r);
  if (!fs::exists(weights))
    throw UserError("the weights of " + r.stage + " are missing: '" + weights +
                    "' (the run's checkpoint folder was moved or deleted)");
  if (support::sha256File(weights) != r.weightsSha256)
    throw UserError("'" + weights +
                    "' changed since the run wrote it (its sha256 differs from the record's)");
  support::makeDirectories(outDir);
  const fs::path dir(outDir);
  std::optional<std::string> bytes = support::readFile(weights);
  if (!bytes) throw UserError("cannot read '" + weights + "'");
  support::writeFileAtomic((dir / "model.safetensors").string(), *bytes);

  exporter::PythonModelInfo info;
  info.networkName = r.network;
  info.runId = m.runId;
  info.specHash = r.specHash;
  info.height = r.height;
  info.width = r.width;
  info.classes = r.classes;
  info.multiLabel = r.multiLabel;
  info.threshold = r.threshold;
  info.flipTta = r.tta;
  info.preprocess = r.preprocess;
  support::writeFileAtomic((dir / "model.py").string(), exporter::generateModelPy(r.graph, info));

  const std::string tv = torchvisionEquivalent(r.graph, int64_t(r.classes.size()));
  nlohmann::json spec;
  spec["format"] = 1;
  spec["run_id"] = m.runId;
  spec["spec_hash"] = r.specHash;
  spec["network"] = r.network;
  spec["stage"] = r.stage;
  spec["trained_by"] = r.trainedBy;
  spec["resolution"] = {r.height, r.width};
  spec["in_channels"] = r.channels;
  spec["classes"] = r.classes;
  spec["multi_label"] = r.multiLabel;
  spec["threshold"] = r.threshold;
  spec["threshold_source"] = r.thresholdSource;
  spec["tta"] = r.tta;
  spec["preprocess"] = nlohmann::json::parse(runtime::preprocessToJson(r.preprocess));
  spec["dataset"] = {{"name", r.dataset}, {"constructor", r.constructor}};
  spec["torchvision"] = tv.empty() ? nlohmann::json(nullptr) : nlohmann::json(tv);
  spec["weights_sha256"] = r.weightsSha256;
  spec["graph"] = nlohmann::json::parse(ir::graphToJson(r.graph));
  support::writeFileAtomic((dir / "spec.json").string(), spec.dump(1) + "\n");

  std::cout << "exported network " << r.network << " of run " << m.runId.substr(0, 8) << " (" << r.stage
            << ", " << r.height << "x" << r.width << ", " << r.classes.size()
            << (r.multiLabel ? " labels" : " classes") << ") to " << outDir << ":\n"
            << "  model.safetensors  weights (" << r.graph.size()
            << " IR nodes; names are mhr's layer paths)\n"
            << "  model.py           the architecture in plain PyTorch: load(dir), preprocess(array)\n"
            << "  spec.json          IR, preprocessing, classes, run id, spec hash\n";
  if (!tv.empty())
    std::cout << "its shape equals torchvision.models." << tv << "(num_classes=" << r.classes.size()
              << "): the state dict loads into it with strict=True\n";
  else
    std::cout << "no torchvision model has its shape (a morphed or reduced network): use model.py\n";
  return 0;
}

#endif

} // namespace

void registerPredictCommands(CLI::App& app, Runner& run) {
  {
    auto choice = std::make_shared<ModelChoice>();
    auto inputs = std::make_shared<std::vector<std::string>>();
    auto out = std::make_shared<std::string>();
    auto camDir = std::make_shared<std::string>();
    auto camLayer = std::make_shared<std::string>();
    auto threshold = std::make_shared<double>(NAN);
    auto device = std::make_shared<std::string>("auto");
    auto batch = std::make_shared<int64_t>(16);
    auto threads = std::make_shared<int64_t>(0);
    auto logits = std::make_shared<bool>(false);
    auto inputsOut = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand(
        "predict",
        "apply a network a run trained to DICOM/PNG/JPEG files, folders or a CSV, with the run's own "
        "preprocessing; one CSV row per image (path,status,p_<class>...,predicted)");
    addModelOptions(cmd, *choice);
    cmd->add_option("inputs", *inputs,
                    "image files, folders (every image below) or CSVs in the data set's format")
        ->required();
    cmd->add_option("-o,--out", *out, "the CSV to write")->required();
    cmd->add_option("--cam", *camDir, "also write a Grad-CAM overlay PNG per image into this folder");
    cmd->add_option("--cam-layer", *camLayer, "the layer Grad-CAM explains (default: the run's cam_layer)");
    cmd->add_option("--threshold", *threshold,
                    "decision threshold (default: the one the run's evaluation used)")
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--device", *device, "cpu, cuda or auto (default auto)")
        ->check(CLI::IsMember({"cpu", "cuda", "auto"}));
    cmd->add_option("--batch", *batch, "images per forward pass (default 16)")->check(CLI::PositiveNumber);
    cmd->add_option("--threads", *threads, "CPU threads (default: every core)")->check(CLI::PositiveNumber);
    cmd->add_flag("--logits", *logits, "also write the raw outputs, one logit_<class> column per class");
    cmd->add_option("--inputs-out", *inputsOut,
                    "also write the network inputs (after preprocessing) as FILE.safetensors, one [1,C,H,W] "
                    "tensor per predicted image named by its 0-based input position");
    cmd->callback(
        [&run, choice, inputs, out, camDir, camLayer, threshold, device, batch, threads, logits, inputsOut] {
          run = [=] {
#if MHR_WITH_TORCH
            return runPredict(*choice, *inputs, *out, *camDir, *camLayer, *threshold, *device, *batch,
                              *threads, *logits, *inputsOut);
#else
            throw UserError(
                "this mhr was built without the LibTorch runtime (MHR_WITH_TORCH=OFF); rebuild with "
                "LibTorch to predict");
            return 1;
#endif
          };
        });
  }
  {
    auto choice = std::make_shared<ModelChoice>();
    auto out = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand(
        "export", "write a trained network as model.safetensors + a self-contained PyTorch model.py "
                  "(load(dir), preprocess(array)) + spec.json; morphed networks included");
    addModelOptions(cmd, *choice);
    cmd->add_option("-o,--out", *out, "the folder to write")->required();
    cmd->callback([&run, choice, out] {
      run = [=] {
#if MHR_WITH_TORCH
        return runExport(*choice, *out);
#else
        throw UserError("this mhr was built without the LibTorch runtime (MHR_WITH_TORCH=OFF); rebuild with "
                        "LibTorch to export");
        return 1;
#endif
      };
    });
  }
}

} // namespace mhr::cli
