// runtime/metrics_sink.h — what the runtime reports while it executes a plan, as an interface with no Torch
// types. The tracker implements it (tracker/run_writer.h) and the `mhr` driver wires the two together, so the
// runtime never links the tracker. Implementations must be cheap to call per training step (batch inside).
#pragma once

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace mhr::runtime {

// Typed parameter values: numbers stay numbers in the tracker.
using ParamValue = std::variant<bool, int64_t, double, std::string>;

struct VerdictRecord {
  std::string network;      // child network name
  int statementIndex = 0;   // 0-based position in the morph block
  std::string statement;    // source text of the statement, e.g. "upscale conv1 by 8"
  std::string location;     // "file:line:col"
  std::string verdict;      // exact | eval | approximate | refuted | declared
  std::string reason;       // why (for approximate/refuted/declared), empty otherwise
  std::string mode;         // train | eval | both: the mode(s) the numeric check ran in
  double maxAbsError = NAN; // numeric re-check, float64 CPU (NaN when not checked, e.g. declared)
  double borderError = NAN; // max abs error on border pixels only
  double relError = NAN;    // max abs error / max |parent output|
};

struct LineageRecord {
  std::string child;                   // network name
  std::string parent;                  // network name
  std::string parentStage;             // stage key whose weights the child started from ("" = initial)
  std::vector<std::string> statements; // the morph statements, in order
};

struct ArtifactRecord {
  std::string kind; // checkpoint | predictions | report | cam | weights
  std::string path; // absolute or relative to the working directory
  std::string sha256;
  int64_t bytes = 0;
  std::string stage; // stage key it belongs to ("" = run)
};

// Per-sample scores of an evaluation stage, for ROC curves and confusion matrices in reports.
struct PredictionSet {
  std::string stage;                // stage key, e.g. "evaluate.hr"
  std::vector<std::string> classes; // single-label: class names (scores are P(class)); multi-label: labels
  bool multiLabel = false;
  std::vector<std::string> sampleIds;
  std::vector<std::vector<float>> labels; // [sample][class] 0/1 (single-label: one-hot)
  std::vector<std::vector<float>> scores; // [sample][class] probabilities
};

// One Grad-CAM overlay: the (preprocessed) input image and the class-activation map, both row-major floats.
struct CamRecord {
  std::string stage;
  std::string sampleId;
  std::string label;                   // true label(s), e.g. "malignant" or "Effusion|Mass"
  std::string predicted;               // predicted class and score, e.g. "malignant 0.91"
  int64_t height = 0, width = 0;       // image size
  std::vector<float> image;            // values in [0, 1]
  int64_t camHeight = 0, camWidth = 0; // map size (last conv stage)
  std::vector<float> cam;              // values in [0, 1]
};

class MetricsSink {
public:
  virtual ~MetricsSink() = default;
  virtual void logParam(const std::string& key, const ParamValue& value) = 0;
  // `step` is the global optimizer step (or evaluation index), `epoch` the 1-based epoch (0 = none).
  virtual void logMetric(const std::string& key, double value, int64_t step, int64_t epoch) = 0;
  virtual void setTag(const std::string& key, const std::string& value) = 0;
  virtual void logEnvironment(const std::map<std::string, std::string>& facts) = 0;
  virtual void logVerdict(const VerdictRecord& verdict) = 0;
  virtual void logLineage(const LineageRecord& lineage) = 0;
  virtual void logArtifact(const ArtifactRecord& artifact) = 0;
  virtual void logPredictions(const PredictionSet& predictions) = 0;
  virtual void logCam(const CamRecord& cam) = 0;
  // Makes everything logged so far durable (end of epoch, before a checkpoint is declared written).
  virtual void flush() = 0;
};

// A sink that drops everything (tests, `--db none`).
class NullSink : public MetricsSink {
public:
  void logParam(const std::string&, const ParamValue&) override {}
  void logMetric(const std::string&, double, int64_t, int64_t) override {}
  void setTag(const std::string&, const std::string&) override {}
  void logEnvironment(const std::map<std::string, std::string>&) override {}
  void logVerdict(const VerdictRecord&) override {}
  void logLineage(const LineageRecord&) override {}
  void logArtifact(const ArtifactRecord&) override {}
  void logPredictions(const PredictionSet&) override {}
  void logCam(const CamRecord&) override {}
  void flush() override {}
};

} // namespace mhr::runtime
