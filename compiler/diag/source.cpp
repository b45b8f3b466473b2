#include "compiler/diag/source.h"

#include "support/assert.h"

#include <algorithm>

namespace mhr::diag {

SourceRange SourceRange::join(const SourceRange& a, const SourceRange& b) {
  if (!a.valid()) return b;
  if (!b.valid() || a.file != b.file) return a;
  return SourceRange{a.file, std::min(a.begin, b.begin), std::max(a.end, b.end)};
}

LineColumn SourceFile::lineColumn(uint32_t offset) const {
  auto it = std::upper_bound(lineStarts.begin(), lineStarts.end(), offset);
  uint32_t line = static_cast<uint32_t>(it - lineStarts.begin()); // 1-based
  if (line == 0) line = 1;
  return LineColumn{line, offset - lineStarts[line - 1] + 1};
}

std::string_view SourceFile::lineText(uint32_t line) const {
  if (line == 0 || line > lineStarts.size()) return {};
  uint32_t begin = lineStarts[line - 1];
  uint32_t end = line < lineStarts.size() ? lineStarts[line] : static_cast<uint32_t>(text.size());
  std::string_view s(text.data() + begin, end - begin);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

FileId SourceManager::addFile(std::string path, std::string text, SourceRange includedFrom) {
  auto f = std::make_unique<SourceFile>();
  f->path = std::move(path);
  f->text = std::move(text);
  f->includedFrom = includedFrom;
  f->lineStarts.push_back(0);
  for (uint32_t i = 0; i < f->text.size(); ++i)
    if (f->text[i] == '\n') f->lineStarts.push_back(i + 1);
  files_.push_back(std::move(f));
  return static_cast<FileId>(files_.size() - 1);
}

const SourceFile& SourceManager::file(FileId id) const {
  MHR_ASSERT(id >= 0 && static_cast<size_t>(id) < files_.size(), "bad file id");
  return *files_[static_cast<size_t>(id)];
}

std::string_view SourceManager::text(const SourceRange& range) const {
  if (!range.valid()) return {};
  const auto& f = file(range.file);
  uint32_t end = std::min<uint32_t>(range.end, static_cast<uint32_t>(f.text.size()));
  uint32_t begin = std::min(range.begin, end);
  return std::string_view(f.text.data() + begin, end - begin);
}

} // namespace mhr::diag
