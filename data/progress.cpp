#include "data/progress.h"

#include <cstdio>
#include <iostream>
#include <unistd.h>

namespace mhr::data {

namespace {
std::string formatDuration(double seconds) {
  long s = long(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}
} // namespace

Progress::Progress(std::string label, size_t total, std::ostream& out, ProgressMode mode)
    : label_(std::move(label)), total_(total), out_(out), mode_(mode) {
  if (mode_ == ProgressMode::Auto)
    mode_ = (&out_ == &std::cerr && ::isatty(STDERR_FILENO)) ? ProgressMode::Bar : ProgressMode::Lines;
  start_ = lastDraw_ = std::chrono::steady_clock::now();
}

void Progress::update(size_t done) {
  if (mode_ == ProgressMode::Off) return;
  auto now = std::chrono::steady_clock::now();
  double sinceDraw = std::chrono::duration<double>(now - lastDraw_).count();
  if (mode_ == ProgressMode::Bar) {
    if (sinceDraw < 0.1) return;
  } else {
    int decile = total_ ? int(done * 10 / total_) : 10;
    if (decile <= lastDecile_ && sinceDraw < 30.0) return;
    lastDecile_ = decile;
  }
  lastDraw_ = now;
  draw(done, false);
}

void Progress::finish(size_t done, const std::string& note) {
  if (mode_ == ProgressMode::Off) return;
  draw(done, true);
  if (!note.empty()) out_ << "  " << note << "\n";
  out_.flush();
}

void Progress::draw(size_t done, bool final) {
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  double rate = elapsed > 0 ? double(done) / elapsed : 0.0;
  std::string eta =
      (!final && rate > 0 && done < total_) ? " ETA " + formatDuration(double(total_ - done) / rate) : "";
  char stats[96];
  std::snprintf(stats, sizeof stats, "%zu/%zu  %.1f img/s  %s%s", done, total_, rate,
                formatDuration(elapsed).c_str(), eta.c_str());
  if (mode_ == ProgressMode::Bar) {
    const int width = 30;
    int filled = total_ ? int(double(done) / double(total_) * width) : width;
    std::string bar(size_t(filled), '#');
    bar.resize(width, '.');
    out_ << "\r" << label_ << " [" << bar << "] " << stats << "   " << (final ? "\n" : "");
  } else {
    out_ << label_ << ": " << stats << "\n";
  }
  out_.flush();
}

} // namespace mhr::data
