// data/progress.h — progress of a long job (building a prepared cache). In: a label, the total and how many
// are done so far. Out: on a terminal, one bar redrawn in place ("\r"); otherwise (CI logs, files) a plain
// line every 10% or every 30 s, so logs stay short and readable.
#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

namespace mhr::data {

enum class ProgressMode { Auto, Bar, Lines, Off }; // Auto: Bar when the stream is stderr on a terminal

class Progress {
public:
  Progress(std::string label, size_t total, std::ostream& out, ProgressMode mode);
  void update(size_t done); // cheap to call often: draws at most ~10 times a second
  void finish(size_t done, const std::string& note = "");

private:
  void draw(size_t done, bool final);
  std::string label_;
  size_t total_;
  std::ostream& out_;
  ProgressMode mode_;
  std::chrono::steady_clock::time_point start_, lastDraw_;
  int lastDecile_ = 0;
};

} // namespace mhr::data
