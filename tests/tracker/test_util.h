// tests/tracker/test_util.h — shared helpers of the tracker tests: temporary folders, child processes with
// captured output, and a small fixture database with known runs.
#pragma once

#include "tracker/run_writer.h"
#include "tracker/tracker.h"

#include <map>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace mhr::tracker::testing {

// A fresh folder under $TMPDIR, removed (with its contents) when the object dies.
class TempDir {
public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

private:
  std::string path_;
};

// A child process whose stdout (and optionally stderr) is read through a pipe.
class Child {
public:
  // `env` entries are "KEY=VALUE" added to the current environment.
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& env = {},
        bool mergeStderr = false);
  ~Child();
  pid_t pid() const { return pid_; }
  // Reads one line (without '\n'); false at end of output.
  bool readLine(std::string& line);
  // Reads everything until the child closes stdout, then waits; returns the exit code (128+signal when
  // killed).
  int finish(std::string* output = nullptr);
  void kill(int signal);

private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string buffer_;
  bool waited_ = false;
  int status_ = 0;
};

struct CommandResult {
  int exitCode = -1;
  std::string out, err;
};
// Runs a command to completion with stdout and stderr captured separately (through temporary files).
CommandResult runCommand(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

// Counts rows of `sql` (a SELECT count(*) ...) with a fresh read-only connection.
int64_t countRows(const std::string& dbPath, const std::string& sql);

// Fills `db` with runs for the query and output tests and returns their ids in creation order:
//   0: experiment "mammo", lr 0.01 (float), batch 8 (int), arch "resnet18", pretrained true, auc 0.91,
//      auc/Effusion 0.85, loss history 4 points, tag sweep=s1, status finished, seed 7, semantic hash "sem-a"
//   1: experiment "mammo", lr 0.001, batch 16, arch "resnet50", auc 0.88, tag sweep=s1, finished, seed 7,
//   "sem-a" 2: experiment "cxr",   lr 1e-4,  batch 8,  arch "densenet121", pretrained false, auc NaN, status
//   failed,
//      seed 3, "sem-b"
//   3: a re-run of 0 (same params, same metric values, same semantic hash), named "rerun"
std::vector<std::string> fillFixture(Tracker& tracker);

// One run with everything a report shows: a spec with morph statements and their verdicts (one per verdict
// kind), learning curves of two training stages and per-class evaluation curves, a binary and a multi-label
// prediction set, 4 CAM samples (gray 96x80 images, 6x5 maps), lineage, environment, artifacts. Synthetic
// but deterministic (seeded).
std::string fillReportRun(Tracker& tracker);

// A run with only tags and (when given) one metric, `evaluate.net/auc`, ended with `status`: what a study's
// runs look like to `mhr runs aggregate`.
std::string addTaggedRun(Tracker& tracker, const std::map<std::string, std::string>& tags,
                         std::optional<double> auc, RunStatus status = RunStatus::Finished);

// The runs of a small study for `mhr runs aggregate`, tagged arm, target_size, seed and study, with metric
// evaluate.net/auc:
//   study=s1: arms a, b x target_size 50, 200 x seeds 1, 2, 10, all finished, with AUCs
//     50:  a .70 .72 .74   b .75 .78 .80        200: a .80 .81 .79   b .80 .80 .81   (seeds 1, 2, 10)
//     and, not finished: a/50/seed 3 failed without the metric, b/200/seed 1 interrupted (AUC .99)
//   study=missing: a finished run without the seed tag, and one without the metric
//   study=dup: two finished runs of a/50/seed 1
// Returns the ids by "study/arm/target_size/seed" (the second duplicate gets a "#2" suffix; the runs of
// `missing` are "missing/no-seed" and "missing/no-metric").
std::map<std::string, std::string> fillStudyFixture(Tracker& tracker);

std::string readText(const std::string& path);

} // namespace mhr::tracker::testing
