#include "runtime/progress.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace mhr::runtime {

bool stderrIsTerminal() {
  return ::isatty(STDERR_FILENO) == 1;
}

Progress::Progress(std::string label, int64_t total, ProgressOptions options)
    : label_(std::move(label)), total_(total), options_(std::move(options)),
      out_(options_.out ? options_.out : &std::cerr) {
  start_ = now();
}

Progress::~Progress() {
  if (!finished_) finish();
}

double Progress::now() const {
  if (options_.clock) return options_.clock();
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string Progress::formatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  return buf;
}

std::string Progress::line(bool withBar) const {
  double elapsed = now() - start_;
  double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : NAN;
  double eta = (rate > 0 && total_ > 0) ? static_cast<double>(total_ - done_) / rate : NAN;
  std::string s = label_ + " ";
  if (withBar && total_ > 0) {
    int filled = static_cast<int>(static_cast<double>(options_.barWidth) * static_cast<double>(done_) /
                                  static_cast<double>(total_));
    filled = std::max(0, std::min(options_.barWidth, filled));
    s += "[" + std::string(static_cast<size_t>(filled), '#') +
         std::string(static_cast<size_t>(options_.barWidth - filled), '.') + "] ";
  }
  s += std::to_string(done_);
  if (total_ > 0) s += "/" + std::to_string(total_);
  if (!withBar && total_ > 0) s += " (" + std::to_string(done_ * 100 / total_) + "%)";
  char buf[64];
  if (std::isfinite(rate)) {
    if (rate >= 1 || rate == 0)
      std::snprintf(buf, sizeof buf, "  %.2f it/s", rate);
    else
      std::snprintf(buf, sizeof buf, "  %.2f s/it", 1.0 / rate);
    s += buf;
  }
  if (done_ >= total_ && total_ > 0)
    s += "  " + formatDuration(elapsed);
  else
    s += "  ETA " + formatDuration(eta);
  if (!status_.empty()) s += "  " + status_;
  return s;
}

void Progress::advance(int64_t steps, const std::string& status) {
  if (!options_.enabled || finished_) return;
  done_ += steps;
  if (!status.empty()) status_ = status;
  double t = now();
  if (options_.terminal) {
    if (t - lastDraw_ < options_.redrawSeconds) return;
    std::string l = line(true);
    // Overwrite the previous bar; pad with spaces when the new line is shorter.
    *out_ << '\r' << l << std::string(lastWidth_ > l.size() ? lastWidth_ - l.size() : 0, ' ') << std::flush;
    lastWidth_ = l.size();
    lastDraw_ = t;
  } else {
    if (lastDraw_ < -1e299) lastDraw_ = start_; // the first plain line comes one period after the start
    // The last step's line is finish()'s.
    if (t - lastDraw_ < options_.lineSeconds || (total_ > 0 && done_ >= total_)) return;
    *out_ << line(false) << '\n' << std::flush;
    lastDraw_ = t;
  }
}

void Progress::finish(const std::string& status) {
  if (finished_) return;
  finished_ = true;
  if (!options_.enabled) return;
  if (!status.empty()) status_ = status;
  if (options_.terminal) {
    std::string l = line(true);
    *out_ << '\r' << l << std::string(lastWidth_ > l.size() ? lastWidth_ - l.size() : 0, ' ') << '\n'
          << std::flush;
  } else {
    *out_ << line(false) << '\n' << std::flush;
  }
}

} // namespace mhr::runtime
