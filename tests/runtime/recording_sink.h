// tests/runtime/recording_sink.h — a MetricsSink that keeps everything in memory, for runtime tests to
// inspect what the runtime reported.
#pragma once

#include "runtime/metrics_sink.h"

#include <map>
#include <string>
#include <vector>

namespace mhr::test {

struct MetricPoint {
  std::string key;
  double value;
  int64_t step, epoch;
};

class RecordingSink : public runtime::MetricsSink {
public:
  void logParam(const std::string& key, const runtime::ParamValue& value) override { params[key] = value; }
  void logMetric(const std::string& key, double value, int64_t step, int64_t epoch) override {
    metrics.push_back({key, value, step, epoch});
  }
  void setTag(const std::string& key, const std::string& value) override { tags[key] = value; }
  void logEnvironment(const std::map<std::string, std::string>& facts) override { environment = facts; }
  void logVerdict(const runtime::VerdictRecord& v) override { verdicts.push_back(v); }
  void logLineage(const runtime::LineageRecord& l) override { lineage.push_back(l); }
  void logArtifact(const runtime::ArtifactRecord& a) override { artifacts.push_back(a); }
  void logPredictions(const runtime::PredictionSet& p) override { predictions.push_back(p); }
  void logCam(const runtime::CamRecord& c) override { cams.push_back(c); }
  void flush() override { ++flushes; }

  // The last value logged under `key`, or NaN.
  double last(const std::string& key) const {
    for (auto it = metrics.rbegin(); it != metrics.rend(); ++it)
      if (it->key == key) return it->value;
    return NAN;
  }

  std::map<std::string, runtime::ParamValue> params;
  std::vector<MetricPoint> metrics;
  std::map<std::string, std::string> tags;
  std::map<std::string, std::string> environment;
  std::vector<runtime::VerdictRecord> verdicts;
  std::vector<runtime::LineageRecord> lineage;
  std::vector<runtime::ArtifactRecord> artifacts;
  std::vector<runtime::PredictionSet> predictions;
  std::vector<runtime::CamRecord> cams;
  int flushes = 0;
};

} // namespace mhr::test
