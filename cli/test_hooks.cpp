#include "cli/test_hooks.h"

#include "support/error.h"

#include <csignal>
#include <cstdlib>
#include <string>

namespace mhr::cli {

void installTestKillHook(runtime::ExecuteOptions& options, int64_t rank) {
  const char* r = std::getenv("MHR_TEST_KILL_RANK");
  const char* at = std::getenv("MHR_TEST_KILL_AFTER");
  if (!r || !at || std::to_string(rank) != r) return;
  std::string spec = at;
  size_t colon = spec.rfind(':');
  if (colon == std::string::npos)
    throw UserError("MHR_TEST_KILL_AFTER needs STAGE:EPOCHS, got '" + spec + "'");
  std::string stage = spec.substr(0, colon);
  int64_t epochs = std::strtoll(spec.c_str() + colon + 1, nullptr, 10);
  options.onEpochEnd = [stage, epochs](const std::string& key, int64_t done) {
    if (key == stage && done == epochs) std::raise(SIGKILL);
  };
}

namespace {

// Tests of resume: MHR_TEST_KILL_AFTER_STEP=N makes the recording process SIGKILL itself once a metric
// point of run-wide step N is durable (mid-epoch, after the last checkpoint: those points are logged again
// when the run resumes and must not stay twice). MHR_TEST_KILL_SIGNAL=15 sends SIGTERM instead: what a user's
// Ctrl-C or a scheduler's stop does, which the signal handler answers with the resume command.
class KillAfterStepSink : public runtime::MetricsSink {
public:
  KillAfterStepSink(runtime::MetricsSink& inner, int64_t step, int signal)
      : inner_(inner), step_(step), signal_(signal) {}
  void logParam(const std::string& k, const runtime::ParamValue& v) override { inner_.logParam(k, v); }
  void logMetric(const std::string& key, double value, int64_t step, int64_t epoch) override {
    inner_.logMetric(key, value, step, epoch);
    if (step >= step_) {
      inner_.flush();
      std::raise(signal_);
    }
  }
  void setTag(const std::string& k, const std::string& v) override { inner_.setTag(k, v); }
  void logEnvironment(const std::map<std::string, std::string>& f) override { inner_.logEnvironment(f); }
  void logVerdict(const runtime::VerdictRecord& v) override { inner_.logVerdict(v); }
  void logLineage(const runtime::LineageRecord& l) override { inner_.logLineage(l); }
  void logArtifact(const runtime::ArtifactRecord& a) override { inner_.logArtifact(a); }
  void logPredictions(const runtime::PredictionSet& p) override { inner_.logPredictions(p); }
  void logCam(const runtime::CamRecord& c) override { inner_.logCam(c); }
  void flush() override { inner_.flush(); }

private:
  runtime::MetricsSink& inner_;
  int64_t step_;
  int signal_;
};

} // namespace

std::unique_ptr<runtime::MetricsSink> killAfterStepSink(runtime::MetricsSink& inner) {
  const char* k = std::getenv("MHR_TEST_KILL_AFTER_STEP");
  if (!k) return nullptr;
  const char* sig = std::getenv("MHR_TEST_KILL_SIGNAL");
  return std::make_unique<KillAfterStepSink>(inner, std::strtoll(k, nullptr, 10),
                                             sig ? std::atoi(sig) : SIGKILL);
}

} // namespace mhr::cli
