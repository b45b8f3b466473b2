// tracker/text_table.h — aligned plain-text tables, CSV cells and the number and duration formats of
// `mhr runs`. In: cells as strings; out: columns padded to their widest cell (counted in UTF-8 code points),
// numbers right-aligned. Times: time_format.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mhr::tracker {

class TextTable {
public:
  explicit TextTable(std::vector<std::string> header, std::string indent = "")
      : header_(std::move(header)), indent_(std::move(indent)), rightAlign_(header_.size(), false) {}
  void alignRight(size_t column) { rightAlign_.at(column) = true; }
  void addRow(std::vector<std::string> cells);
  size_t rows() const { return rows_.size(); }
  // Header, a rule of dashes, the rows; every line ends in '\n'. Cells wider than maxCellWidth are cut
  // with an ellipsis (0 = never).
  std::string render(size_t maxCellWidth = 0) const;

private:
  std::vector<std::string> header_;
  std::string indent_;
  std::vector<bool> rightAlign_;
  std::vector<std::vector<std::string>> rows_;
};

size_t displayWidth(const std::string& text);
// Metric values in tables: 4 significant digits ("0.9123", "1.2e-05"), "nan" for NaN.
std::string formatMetric(double value);
// Full precision (shortest round-trip form): `runs show` and exports.
std::string formatExact(double value);
// "850ms", "12.3s", "3m05s", "2h04m", "3d02h".
std::string formatDuration(double seconds);
std::string shortId(const std::string& id);
// One CSV cell (RFC 4180 quoting). A cell a spreadsheet would run as a formula (it starts with =, +, -, @,
// tab or CR and is not a number) gets a leading apostrophe.
std::string csvField(const std::string& text);

} // namespace mhr::tracker
