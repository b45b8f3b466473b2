// tracker/text_table.cpp — see text_table.h.
#include "tracker/text_table.h"

#include "support/strings.h"

#include <cmath>
#include <cstdlib>
#include <fmt/format.h>

namespace mhr::tracker {

size_t displayWidth(const std::string& text) {
  size_t width = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

namespace {

std::string cut(const std::string& text, size_t maxWidth) {
  if (maxWidth == 0 || displayWidth(text) <= maxWidth) return text;
  std::string out;
  size_t width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) {
      if (width + 1 >= maxWidth) break;
      ++width;
    }
    out += text[i];
  }
  return out + "\xE2\x80\xA6"; // …
}

} // namespace

void TextTable::addRow(std::vector<std::string> cells) {
  cells.resize(header_.size());
  for (auto& c : cells) {
    for (char& ch : c) {
      if (ch == '\n' || ch == '\t' || ch == '\r') ch = ' '; // one row stays one line
    }
    c = support::terminalSafe(c); // names and tags are user text: no terminal escapes
  }
  rows_.push_back(std::move(cells));
}

std::string TextTable::render(size_t maxCellWidth) const {
  std::vector<size_t> widths(header_.size(), 0);
  for (size_t c = 0; c < header_.size(); ++c) widths[c] = displayWidth(header_[c]);
  for (const auto& row : rows_) {
    for (size_t c = 0; c < row.size(); ++c)
      widths[c] = std::max(widths[c], displayWidth(cut(row[c], maxCellWidth)));
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out = indent_;
    for (size_t c = 0; c < cells.size(); ++c) {
      std::string cell = cut(cells[c], maxCellWidth);
      size_t pad = widths[c] - displayWidth(cell);
      bool last = c + 1 == cells.size();
      if (rightAlign_[c]) {
        out += std::string(pad, ' ') + cell;
      } else {
        out += cell;
        if (!last) out += std::string(pad, ' ');
      }
      if (!last) out += "  ";
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out + "\n";
  };
  std::string out = line(header_);
  std::vector<std::string> rule;
  for (size_t w : widths) rule.push_back(std::string(w, '-'));
  out += line(rule);
  for (const auto& row : rows_) out += line(row);
  return out;
}

std::string formatMetric(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  std::string s = fmt::format("{:.4g}", value);
  auto e = s.find('e');
  if (e != std::string::npos) { // "1.2e-05" -> "1.2e-5"
    std::string mant = s.substr(0, e), exp = s.substr(e + 1);
    bool neg = exp[0] == '-';
    exp = exp.substr(exp[0] == '-' || exp[0] == '+' ? 1 : 0);
    while (exp.size() > 1 && exp[0] == '0') exp.erase(0, 1);
    s = mant + "e" + (neg ? "-" : "") + exp;
  }
  return s;
}

std::string formatExact(double value) {
  if (std::isnan(value)) return "nan";
  return support::formatNumber(value);
}

std::string formatDuration(double seconds) {
  if (std::isnan(seconds) || seconds < 0) return "";
  if (seconds < 1) return fmt::format("{}ms", static_cast<int64_t>(std::llround(seconds * 1000)));
  if (seconds < 60) return fmt::format("{:.1f}s", seconds);
  int64_t s = static_cast<int64_t>(seconds);
  if (s < 3600) return fmt::format("{}m{:02d}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02d}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{:02d}h", s / 86400, (s % 86400) / 3600);
}

std::string shortId(const std::string& id) {
  return id.substr(0, 8);
}

std::string csvField(const std::string& raw) {
  // The apostrophe is the convention spreadsheets show as text; numbers such as -0.5 stay numbers.
  std::string text = raw;
  if (!text.empty() && std::string("=+-@\t\r").find(text[0]) != std::string::npos) {
    char* end = nullptr;
    std::strtod(text.c_str(), &end);
    bool number = end == text.c_str() + text.size() && text[0] != '\t' && text[0] != '\r';
    if (!number) text = "'" + text;
  }
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

} // namespace mhr::tracker
