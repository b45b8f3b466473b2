#include "data/csv.h"

#include "support/error.h"
#include "support/files.h"

namespace mhr::data {

int CsvTable::column(const std::string& name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return int(i);
  return -1;
}

CsvTable readCsv(const std::string& path) {
  auto text = support::readFile(path);
  if (!text) throw UserError(path + ": cannot read the file (missing or not readable)");
  return parseCsv(*text, path);
}

CsvTable parseCsv(const std::string& text, const std::string& path) {
  CsvTable table;
  table.path = path;
  size_t i = 0, n = text.size(), line = 1;
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) i = 3;
  bool haveHeader = false;
  // The first quoted field that ran over a line end: when a quote turns out unbalanced, this is usually
  // where it opened (a later quote closed it and the pairing went wrong from there on).
  size_t firstMultiLineQuote = 0;
  while (i < n) {
    size_t start = line;
    std::vector<std::string> fields;
    std::string field;
    bool quotedField = false;
    // One record: fields until an unquoted line end or the end of the text.
    while (true) {
      if (i < n && text[i] == '"' && field.empty() && !quotedField) {
        quotedField = true;
        size_t quoteLine = line;
        ++i;
        while (true) {
          if (i >= n) {
            size_t opened = firstMultiLineQuote ? firstMultiLineQuote : quoteLine;
            throw UserError(path + ":" + std::to_string(opened) + ": a quoted field is never closed" +
                            (opened != quoteLine ? " (the quote opened on line " + std::to_string(opened) +
                                                       " runs over line ends; quotes pair wrongly from there)"
                                                 : std::string()));
          }
          char c = text[i];
          if (c == '"') {
            if (i + 1 < n && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (c == '\n') ++line;
          field += c;
          ++i;
        }
        if (line != quoteLine && !firstMultiLineQuote) firstMultiLineQuote = quoteLine;
        // Text after the closing quote up to the separator is kept (lenient, as pandas does) — except after a
        // field that ran over line ends: that "closing" quote really opened a field on a later line, and the
        // quote on line quoteLine is the unbalanced one.
        if (line != quoteLine && i < n && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
          throw UserError(path + ":" + std::to_string(quoteLine) +
                          ": a quote opens a field here that is not closed on its line (its closing quote "
                          "would be on line " +
                          std::to_string(line) + ", followed by text): an unbalanced quote");
        continue;
      }
      if (i >= n || text[i] == '\n' || (text[i] == '\r' && (i + 1 >= n || text[i + 1] == '\n'))) {
        fields.push_back(std::move(field));
        if (i < n && text[i] == '\r') ++i;
        if (i < n && text[i] == '\n') ++i;
        ++line;
        break;
      }
      if (text[i] == ',') {
        fields.push_back(std::move(field));
        field.clear();
        quotedField = false;
        ++i;
        continue;
      }
      field += text[i++];
    }
    bool blank = fields.size() == 1 && fields[0].empty();
    if (blank) continue;
    if (!haveHeader) {
      table.header = std::move(fields);
      table.headerLine = start;
      haveHeader = true;
    } else {
      table.rows.push_back({start, std::move(fields)});
    }
  }
  if (!haveHeader) throw UserError(path + ": the file is empty (expected a header line)");
  return table;
}

} // namespace mhr::data
