// support/strings.h — small string helpers shared by every layer: splitting, trimming, and the edit-distance
// "did you mean" suggestion used by diagnostics, the data loaders and the tracker's query language.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace mhr::support {

std::vector<std::string> split(std::string_view text, char separator);
std::string trim(std::string_view text);
std::string join(const std::vector<std::string>& parts, std::string_view separator);
std::string toLower(std::string_view text);
bool startsWith(std::string_view text, std::string_view prefix);
bool endsWith(std::string_view text, std::string_view suffix);

// Damerau-Levenshtein (optimal string alignment) distance.
size_t editDistance(std::string_view a, std::string_view b);

// The closest candidate to `word`, or "" when none is close enough to be a plausible typo
// (distance <= max(1, len/3), case-insensitive). Ties go to the earliest candidate.
std::string closestMatch(std::string_view word, const std::vector<std::string>& candidates);

// `text` as a .mhr string literal: in double quotes, with \" \\ \n and \t escaped (what the parser reads
// back).
std::string quoted(std::string_view text);

// `text` safe to print on a terminal: control characters that could move the cursor, clear the screen or
// set the window title (ESC, BEL, the other C0 controls, DEL, and the C1 controls U+0080..U+009F) become
// visible escapes (`\e`, `\x07`, `\u009b`). Newline and tab are kept: they are the output's own layout.
std::string terminalSafe(std::string_view text);

// Renders a double the way users wrote it where possible: shortest round-trip form ("0.05", "1e-05").
std::string formatNumber(double value);

} // namespace mhr::support
