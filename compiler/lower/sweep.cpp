#include "compiler/lower/sweep.h"

#include "support/random.h"

#include <limits>
#include <set>

namespace mhr::lower {

namespace {

SweepRun runFor(const plan::SweepConfig& sweep, const std::vector<size_t>& choice) {
  SweepRun r;
  for (size_t k = 0; k < sweep.axes.size(); ++k) {
    std::string o = sweep.axes[k].first + "=" + sweep.axes[k].second[choice[k]].str();
    r.overrides.push_back(o);
    r.label += (k ? " " : "") + o;
  }
  return r;
}

} // namespace

int64_t sweepGridSize(const plan::SweepConfig& sweep) {
  int64_t n = 1;
  for (const auto& [key, values] : sweep.axes) {
    int64_t m = static_cast<int64_t>(values.size());
    if (m == 0) return 0;
    if (n > std::numeric_limits<int64_t>::max() / m) return std::numeric_limits<int64_t>::max();
    n *= m;
  }
  return n;
}

std::vector<SweepRun> expandSweep(const plan::SweepConfig& sweep) {
  std::vector<SweepRun> runs;
  if (sweep.mode == plan::SweepMode::None || sweep.axes.empty()) return runs;
  const int64_t grid = sweepGridSize(sweep);
  if (grid == 0) return runs;
  const size_t axes = sweep.axes.size();
  auto decode = [&](uint64_t index) {
    std::vector<size_t> choice(axes);
    for (size_t k = axes; k-- > 0;) {
      size_t m = sweep.axes[k].second.size();
      choice[k] = static_cast<size_t>(index % m);
      index /= m;
    }
    return choice;
  };
  if (sweep.mode == plan::SweepMode::Random && sweep.count < grid) {
    // support::SplitMix64 is fully specified, so a random sweep draws the same runs everywhere.
    support::SplitMix64 rng(static_cast<uint64_t>(sweep.seed));
    std::set<uint64_t> seen;
    while (static_cast<int64_t>(runs.size()) < sweep.count) {
      uint64_t index = rng.next() % static_cast<uint64_t>(grid);
      if (seen.insert(index).second) runs.push_back(runFor(sweep, decode(index)));
    }
    return runs;
  }
  for (int64_t i = 0; i < grid; ++i) runs.push_back(runFor(sweep, decode(static_cast<uint64_t>(i))));
  return runs;
}

} // namespace mhr::lower
