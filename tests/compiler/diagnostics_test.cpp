// Unit tests of the source manager and the diagnostics engine: positions, caret rendering, notes, JSON,
// limits.
#include "compiler/diag/diagnostics.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>

using namespace mhr::diag;

TEST(SourceManager, LineAndColumn) {
  SourceManager sm;
  FileId f = sm.addFile("a.mhr", "ab\ncde\n\nf");
  const SourceFile& file = sm.file(f);
  EXPECT_EQ(file.lineColumn(0).line, 1u);
  EXPECT_EQ(file.lineColumn(1).column, 2u);
  EXPECT_EQ(file.lineColumn(3).line, 2u);
  EXPECT_EQ(file.lineColumn(3).column, 1u);
  EXPECT_EQ(file.lineColumn(7).line, 3u);
  EXPECT_EQ(file.lineColumn(8).line, 4u);
  EXPECT_EQ(file.lineText(2), "cde");
  EXPECT_EQ(file.lineText(3), "");
  EXPECT_EQ(file.lineText(4), "f");
  EXPECT_EQ(file.lineText(5), "");
  EXPECT_EQ(sm.text(SourceRange{f, 3, 6}), "cde");
}

TEST(Diagnostics, TextHasLocationCodeSourceLineAndCarets) {
  SourceManager sm;
  FileId f = sm.addFile("x.mhr", "experiment \"x\"\ntrain bse on d.train at 8x8 {}\n");
  DiagnosticEngine d(sm);
  d.error("E0105", SourceRange{f, 21, 24}, "no network named 'bse'").note("did you mean 'base'?");
  std::ostringstream out;
  d.renderText(out);
  EXPECT_EQ(out.str(), "x.mhr:2:7: error[E0105]: no network named 'bse'\n"
                       " 2 | train bse on d.train at 8x8 {}\n"
                       "   |       ^^^\n"
                       "note: did you mean 'base'?\n"
                       "1 error\n");
}

TEST(Diagnostics, NoteWithRangeAndIncludeChain) {
  SourceManager sm;
  FileId main = sm.addFile("main.mhr", "experiment \"x\"\ninclude \"b.mhr\"\n");
  FileId inc = sm.addFile("b.mhr", "seed -1\n", SourceRange{main, 15, 30});
  DiagnosticEngine d(sm);
  d.error("E0204", SourceRange{inc, 5, 7}, "bad seed").note(SourceRange{main, 0, 10}, "see here");
  std::string s = d.renderOne(d.diagnostics()[0]);
  EXPECT_NE(s.find("b.mhr:1:6: error[E0204]: bad seed"), std::string::npos);
  EXPECT_NE(s.find("main.mhr:1:1: note: see here"), std::string::npos);
  EXPECT_NE(s.find("note: included from main.mhr:2:1"), std::string::npos);
}

TEST(Diagnostics, TabsKeepCaretsAligned) {
  SourceManager sm;
  FileId f = sm.addFile("t.mhr", "\tseed x\n");
  DiagnosticEngine d(sm);
  d.error("E0003", SourceRange{f, 6, 7}, "expected an integer");
  std::string s = d.renderOne(d.diagnostics()[0]);
  EXPECT_NE(s.find("  | \t     ^\n"), std::string::npos) << s;
}

TEST(Diagnostics, JsonHasTheDocumentedFields) {
  SourceManager sm;
  FileId f = sm.addFile("j.mhr", "abc\ndef\n");
  DiagnosticEngine d(sm);
  d.warning("W0001", SourceRange{f, 4, 7}, "unused");
  std::ostringstream out;
  d.renderJson(out);
  auto j = nlohmann::json::parse(out.str());
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["file"], "j.mhr");
  EXPECT_EQ(j[0]["line"], 2);
  EXPECT_EQ(j[0]["column"], 1);
  EXPECT_EQ(j[0]["end_line"], 2);
  EXPECT_EQ(j[0]["end_column"], 4);
  EXPECT_EQ(j[0]["severity"], "warning");
  EXPECT_EQ(j[0]["code"], "W0001");
  EXPECT_EQ(j[0]["message"], "unused");
}

TEST(Diagnostics, ManyErrorsAreCappedAndCounted) {
  SourceManager sm;
  FileId f = sm.addFile("m.mhr", std::string(500, 'x'));
  DiagnosticEngine d(sm);
  for (uint32_t i = 0; i < 150; ++i) d.error("E0001", SourceRange{f, i, i + 1}, "bad " + std::to_string(i));
  EXPECT_EQ(d.errorCount(), 150u);
  EXPECT_EQ(d.diagnostics().size(), DiagnosticEngine::kMaxErrors);
  std::ostringstream out;
  d.renderText(out);
  EXPECT_NE(out.str().find("50 more errors not shown"), std::string::npos);
}

TEST(Diagnostics, SortedByFileAndPosition) {
  SourceManager sm;
  FileId f = sm.addFile("s.mhr", "aaaa bbbb\n");
  DiagnosticEngine d(sm);
  d.error("E0001", SourceRange{f, 5, 6}, "second");
  d.error("E0001", SourceRange{f, 0, 1}, "first");
  auto s = d.sorted();
  EXPECT_EQ(s[0].message, "first");
  EXPECT_EQ(s[1].message, "second");
}

TEST(Diagnostics, EveryCodeIsWellFormed) {
  for (const auto& [code, title] : DiagnosticEngine::allCodes()) {
    EXPECT_EQ(code.size(), 5u) << code;
    EXPECT_TRUE(code[0] == 'E' || code[0] == 'W') << code;
    EXPECT_FALSE(title.empty()) << code;
  }
}
