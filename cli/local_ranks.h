// cli/local_ranks.h — the parent process of `mhr run --nproc N`: N processes of this binary on this machine,
// one per data-parallel rank, with the environment torchrun would give them. In: the command line (without
// or with its --nproc), the rank count, the thread and timeout settings, extra arguments for every rank.
// Out: the exit code (0 when every rank succeeded); which rank failed and how goes to stderr.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mhr::cli {

struct LocalRanks {
  std::vector<std::string> argv;      // this process's own command line; --nproc is removed for the ranks
  std::vector<std::string> extraArgs; // appended for every rank (e.g. one --sweep-id for all)
  int64_t nproc = 2;
  int64_t threads = 0;     // 0: each rank gets its share of this process's cores
  int64_t distTimeout = 0; // seconds; 0 = the ranks' $MHR_DIST_TIMEOUT or 300
};

int runLocalRanks(const LocalRanks& ranks);

// The CPUs this process may run on (its affinity mask), at least 1.
int64_t availableCores();

} // namespace mhr::cli
