#include "support/strings.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace mhr::support {

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(separator, start);
    if (pos == std::string_view::npos) {
      parts.emplace_back(text.substr(start));
      return parts;
    }
    parts.emplace_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string trim(std::string_view text) {
  size_t begin = 0, end = text.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(text[begin]))) ++begin;
  while (end > begin && std::isspace(static_cast<unsigned char>(text[end - 1]))) --end;
  return std::string(text.substr(begin, end - begin));
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += separator;
    out += parts[i];
  }
  return out;
}

std::string toLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool startsWith(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && text.substr(0, prefix.size()) == prefix;
}

bool endsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

size_t editDistance(std::string_view a, std::string_view b) {
  // Three rolling rows (the transposition looks two rows back): O(|a|·|b|) time, O(|b|) memory.
  const size_t n = a.size(), m = b.size();
  std::vector<size_t> twoBack(m + 1), previous(m + 1), current(m + 1);
  for (size_t j = 0; j <= m; ++j) previous[j] = j;
  for (size_t i = 1; i <= n; ++i) {
    current[0] = i;
    for (size_t j = 1; j <= m; ++j) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        current[j] = std::min(current[j], twoBack[j - 2] + 1);
    }
    std::swap(twoBack, previous);
    std::swap(previous, current);
  }
  return previous[m];
}

std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates) {
  if (word.empty()) return "";
  // Bounded so that any input is answered fast: a suggestion is at most max(1, len/3) edits away, so a
  // candidate whose length differs by more cannot be one and is skipped without comparing; and nobody
  // mistypes a name of hundreds of characters, so such words get no suggestion at all (a 1 MB name costs a
  // length check per candidate).
  constexpr size_t kMaxSuggestLength = 128;
  if (word.size() > kMaxSuggestLength) return "";
  const size_t limit = std::max<size_t>(1, word.size() / 3);
  const std::string lowered = toLower(word);
  size_t best = static_cast<size_t>(-1);
  std::string bestName;
  for (const auto& c : candidates) {
    size_t gap = c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    if (gap > limit) continue;
    size_t d = editDistance(lowered, toLower(c));
    if (d < best) {
      best = d;
      bestName = c;
    }
  }
  if (best == 0 && bestName == word) return ""; // an exact match is not a suggestion
  return best <= limit ? bestName : "";
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (c == '\t') {
      out += "\\t";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

std::string terminalSafe(std::string_view text) {
  auto needs = [&](size_t i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == '\n' || c == '\t') return false;
    if (c < 0x20 || c == 0x7f) return true;
    return c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
           static_cast<unsigned char>(text[i + 1]) <= 0x9F;
  };
  size_t i = 0;
  while (i < text.size() && !needs(i)) ++i;
  if (i == text.size()) return std::string(text);
  std::string out(text.substr(0, i));
  char buf[8];
  for (; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (!needs(i)) {
      out += text[i];
    } else if (c == 0x1b) {
      out += "\\e";
    } else if (c == 0xC2) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned char>(text[++i]));
      out += buf;
    } else {
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out;
}

std::string formatNumber(double value) {
  char buf[64];
  // Whole numbers below a million read best as integers: 100, not 1e2.
  if (std::fabs(value) < 1e6 && value == std::floor(value)) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
    return buf;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, value);
    if (std::strtod(buf, nullptr) == value) break;
  }
  std::string s = buf;
  // "1e-05" -> "1e-5": the way people write exponents.
  auto e = s.find('e');
  if (e != std::string::npos) {
    std::string mant = s.substr(0, e), exp = s.substr(e + 1);
    bool neg = !exp.empty() && exp[0] == '-';
    if (!exp.empty() && (exp[0] == '-' || exp[0] == '+')) exp = exp.substr(1);
    while (exp.size() > 1 && exp[0] == '0') exp = exp.substr(1);
    s = mant + "e" + (neg ? "-" : "") + exp;
  }
  return s;
}

} // namespace mhr::support
