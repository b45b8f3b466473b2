// cli/run_session.h — the lifecycle of `mhr run`: compile the spec, open the tracker, start (or resume) a
// run, execute the plan with the LibTorch runtime logging through the tracker's MetricsSink, print the
// results table and write the HTML report. A sweep runs once per member (each a tracker run tagged with the
// sweep id); a data-parallel run is one process per rank (rank 0 records, the others follow); `--nproc N`
// starts N local ranks (cli/local_ranks.h). In: the request (the command's flags and its own argv). Out: the
// exit code.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mhr::cli {

struct RunRequest {
  std::vector<std::string> argv; // this process's command line: `--nproc` re-runs it in its ranks
  std::string file;
  std::optional<std::string> db;
  std::string device = "auto";
  std::vector<std::string> overrides;
  std::string resume;
  std::string name;
  std::vector<std::string> tags;
  std::string checkpoints;
  std::string report;
  bool noReport = false;
  bool noProgress = false;
  int64_t threads = 0;
  std::string cacheDir; // prepared-image caches ("" = each data set's `cache:` option, else ./.mhr-cache)
  int64_t sweepIndex = -1;
  bool noReuse = false; // --no-reuse: every sweep member trains every stage
  std::string sweepId;
  int64_t nproc = 1;
  int64_t distTimeout = 0; // seconds; 0 = $MHR_DIST_TIMEOUT or 300
};

int runSpec(const RunRequest& request);

} // namespace mhr::cli
