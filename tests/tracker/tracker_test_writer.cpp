// tests/tracker/tracker_test_writer.cpp — a separate process that writes to a tracker database, for the tests
// that need real processes (8 concurrent writers, SIGKILL mid-run, concurrent first opens). In: a mode and
// arguments on the command line; out: lines on stdout the test reads ("run ID", "flushed N").
//   tracker_test_writer open DB START_MS
//   tracker_test_writer log DB EXPERIMENT POINTS_PER_KEY KEYS FLUSH_EVERY START_MS
//   tracker_test_writer forever DB FLUSH_EVERY      (logs until killed, reporting every flush)
//   tracker_test_writer resume DB RUN FROM_STEP POINTS
#include "tracker/run_writer.h"
#include "tracker/tracker.h"

#include "support/error.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

using namespace mhr::tracker;

namespace {

// Sleeps until the wall-clock START_MS so that every process hits the database at the same moment.
void waitUntil(int64_t startMs) {
  while (nowMillis() < startMs) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

RunStart startFor(const std::string& experiment) {
  RunStart start;
  start.experiment = experiment;
  start.specPath = "tests/helper.mhr";
  start.specText = "experiment \"" + experiment + "\"\n";
  start.specHash = "spec-hash";
  start.semanticHash = "semantic-hash";
  start.seed = 7;
  start.params = {{"lr", 0.01}, {"batch", int64_t(8)}};
  return start;
}

int run(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: tracker_test_writer open|log|forever|resume DB ...\n");
    return 2;
  }
  std::string mode = argv[1], db = argv[2];
  if (mode == "open" && argc == 4) {
    waitUntil(std::atoll(argv[3]));
    Tracker::open(db);
    std::printf("opened\n");
    return 0;
  }
  if (mode == "log" && argc == 8) {
    std::string experiment = argv[3];
    int64_t points = std::atoll(argv[4]);
    int keys = std::atoi(argv[5]);
    WriterOptions options;
    options.flushEveryPoints = static_cast<size_t>(std::atoll(argv[6]));
    options.flushEveryMs = 1000000;
    waitUntil(std::atoll(argv[7]));
    Tracker tracker = Tracker::open(db);
    auto writer = tracker.startRun(startFor(experiment), options);
    std::printf("run %s\n", writer->runId().c_str());
    std::fflush(stdout);
    for (int64_t step = 0; step < points; ++step) {
      for (int k = 0; k < keys; ++k) {
        writer->logMetric("train/metric" + std::to_string(k), double(step) * 0.5 + k, step, step / 10 + 1);
      }
    }
    writer->finish(RunStatus::Finished);
    return 0;
  }
  if (mode == "forever" && argc == 4) {
    WriterOptions options;
    options.flushEveryPoints = static_cast<size_t>(std::atoll(argv[3]));
    options.flushEveryMs = 1000000;
    Tracker tracker = Tracker::open(db);
    auto writer = tracker.startRun(startFor("killed"), options);
    std::printf("run %s\n", writer->runId().c_str());
    std::fflush(stdout);
    for (int64_t step = 0;; ++step) {
      writer->logMetric("train/loss", 1.0 / double(step + 1), step, 1);
      if ((step + 1) % int64_t(options.flushEveryPoints) == 0) {
        // The writer flushed inside logMetric: everything up to this step is durable.
        std::printf("flushed %lld\n", static_cast<long long>(step + 1));
        std::fflush(stdout);
      }
    }
  }
  if (mode == "resume" && argc == 6) {
    int64_t from = std::atoll(argv[4]), points = std::atoll(argv[5]);
    Tracker tracker = Tracker::open(db);
    ResumeOptions options;
    options.discardMetricsAfterStep = from;
    auto writer = tracker.resumeRun(argv[3], options);
    for (int64_t step = from + 1; step <= from + points; ++step)
      writer->logMetric("train/loss", 1.0 / double(step + 1), step, 2);
    writer->finish(RunStatus::Finished);
    std::printf("run %s\n", writer->runId().c_str());
    return 0;
  }
  std::fprintf(stderr, "tracker_test_writer: bad arguments for mode '%s'\n", mode.c_str());
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const mhr::UserError& e) {
    std::fprintf(stderr, "tracker_test_writer: %s\n", e.what());
    return 1;
  }
}
