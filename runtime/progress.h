// runtime/progress.h — progress of a training epoch or an evaluation pass, for the person watching. In: a
// label, a total count of steps, and advance() calls with an optional status ("loss 0.412"). Out: on a
// terminal, one self-overwriting bar with rate and ETA, redrawn at most every `redrawSeconds`; otherwise
// (logs, CI, pipes) plain lines every `lineSeconds` and at the end. The clock is injectable for tests.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace mhr::runtime {

struct ProgressOptions {
  bool enabled = true;
  bool terminal = false;      // draw a bar (true when the stream is a terminal: isTerminal())
  double redrawSeconds = 0.1; // terminal redraw period
  double lineSeconds = 30.0;  // plain-line period
  int barWidth = 28;
  std::ostream* out = nullptr;   // default std::cerr
  std::function<double()> clock; // seconds, monotonic; default steady_clock
};

// True when stderr is a terminal (progress goes to stderr so stdout stays for results).
bool stderrIsTerminal();

class Progress {
public:
  Progress(std::string label, int64_t total, ProgressOptions options);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t steps = 1, const std::string& status = "");
  // Prints the final state (a full bar and a newline, or a last plain line). Called by the destructor if
  // needed.
  void finish(const std::string& status = "");

  // "1:02:03" / "2:03"; "--:--" for unknown.
  static std::string formatDuration(double seconds);

private:
  std::string line(bool withBar) const;
  double now() const;

  std::string label_;
  int64_t total_;
  ProgressOptions options_;
  std::ostream* out_;
  int64_t done_ = 0;
  std::string status_;
  double start_ = 0;
  double lastDraw_ = -1e300;
  size_t lastWidth_ = 0;
  bool finished_ = false;
};

} // namespace mhr::runtime
