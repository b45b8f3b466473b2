// compiler/diag/source.h — source files and ranges. Every AST node, IR op and plan entry that came from a
// .mhr file carries a SourceRange (file id + byte offsets); line and column are computed only when a
// diagnostic is printed. Synthesised nodes carry an invalid range.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace mhr::diag {

using FileId = int32_t;
constexpr FileId kNoFile = -1;

struct SourceRange {
  FileId file = kNoFile;
  uint32_t begin = 0; // byte offset of the first character
  uint32_t end = 0;   // byte offset one past the last character
  bool valid() const { return file != kNoFile; }
  static SourceRange join(const SourceRange& a, const SourceRange& b);
  bool operator==(const SourceRange& o) const { return file == o.file && begin == o.begin && end == o.end; }
};

struct LineColumn {
  uint32_t line = 0;   // 1-based
  uint32_t column = 0; // 1-based, in bytes
};

struct SourceFile {
  std::string path; // as the user named it (or as resolved relative to the including file)
  std::string text;
  std::vector<uint32_t> lineStarts; // byte offset of each line's first character
  SourceRange includedFrom;         // the include statement that brought this file in, if any
  LineColumn lineColumn(uint32_t offset) const;
  std::string_view lineText(uint32_t line) const; // without the newline
};

class SourceManager {
public:
  FileId addFile(std::string path, std::string text, SourceRange includedFrom = {});
  const SourceFile& file(FileId id) const;
  size_t fileCount() const { return files_.size(); }
  std::string_view text(const SourceRange& range) const;

private:
  std::vector<std::unique_ptr<SourceFile>> files_;
};

} // namespace mhr::diag
