// data/csv.h — CSV files as the public data sets ship them. In: a path. Out: the header and the records,
// each with the line it starts on, so loaders can say "file:line" in every message. Handles RFC 4180
// quoting (doubled quotes, separators and newlines inside quotes, as in CBIS-DDSM's ROI paths that end in a
// quoted "\n"), CRLF line ends, a UTF-8 byte-order mark and blank lines. Throws UserError naming the file and
// line for an unterminated quote or an unreadable file.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace mhr::data {

struct CsvRecord {
  size_t line = 0; // 1-based line where the record starts
  std::vector<std::string> fields;
};

struct CsvTable {
  std::string path;
  std::vector<std::string> header;
  size_t headerLine = 1;
  std::vector<CsvRecord> rows;

  // Index of the column named exactly `name`, or -1.
  int column(const std::string& name) const;
  // "path:line" for messages.
  std::string where(size_t line) const { return path + ":" + std::to_string(line); }
};

CsvTable readCsv(const std::string& path);
// Parses CSV text (for tests and for files already in memory); `path` is only used in messages.
CsvTable parseCsv(const std::string& text, const std::string& path);

} // namespace mhr::data
