// CSV as the public data sets ship it: quotes, newlines inside quotes (CBIS-DDSM), CRLF, BOM, line numbers.
#include "data/csv.h"
#include "test_util.h"

#include <gtest/gtest.h>

namespace mhr::data {

TEST(Csv, PlainHeaderAndRowsWithLineNumbers) {
  CsvTable t = parseCsv("a,b,c\n1,2,3\n\n4,5,6\n", "x.csv");
  ASSERT_EQ(t.header, (std::vector<std::string>{"a", "b", "c"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].line, 2u);
  EXPECT_EQ(t.rows[1].line, 4u); // the blank line is skipped but counted
  EXPECT_EQ(t.rows[1].fields, (std::vector<std::string>{"4", "5", "6"}));
  EXPECT_EQ(t.column("b"), 1);
  EXPECT_EQ(t.column("z"), -1);
  EXPECT_EQ(t.where(4), "x.csv:4");
}

TEST(Csv, QuotedFieldsWithSeparatorsQuotesAndNewlines) {
  CsvTable t = parseCsv("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n\"path/000001.dcm\n\",z\nlast,row\n", "q.csv");
  ASSERT_EQ(t.rows.size(), 3u);
  EXPECT_EQ(t.rows[0].fields[0], "x,y");
  EXPECT_EQ(t.rows[0].fields[1], "say \"hi\"");
  EXPECT_EQ(t.rows[1].fields[0], "path/000001.dcm\n");
  EXPECT_EQ(t.rows[1].line, 3u);
  EXPECT_EQ(t.rows[2].line, 5u); // the newline inside quotes counts as a line
}

TEST(Csv, CrlfBomAndTrailingComma) {
  CsvTable t = parseCsv("\xEF\xBB\xBFImage Index,Finding Labels,\r\na.png,No Finding,\r\n", "d.csv");
  EXPECT_EQ(t.header, (std::vector<std::string>{"Image Index", "Finding Labels", ""}));
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0].fields, (std::vector<std::string>{"a.png", "No Finding", ""}));
}

TEST(Csv, UnterminatedQuoteNamesFileAndLine) {
  std::string e = test::errorOf([] { parseCsv("a,b\n1,2\n3,\"open\n4,5\n", "bad.csv"); });
  EXPECT_NE(e.find("bad.csv:3"), std::string::npos) << e;
  EXPECT_NE(e.find("never closed"), std::string::npos) << e;
}

TEST(Csv, UnbalancedQuoteIsReportedWhereItOpened) {
  // The quote of line 3 is unbalanced; the quotes of lines 4 and 5 then pair wrongly, and the parser used to
  // report the last line of the file.
  std::string csv = "a,b\n1,\"x\"\n3,\"open\n4,\"five\"\n6,\"seven\"\n7,\"8\"\n";
  std::string e = test::errorOf([&] { parseCsv(csv, "bad.csv"); });
  EXPECT_NE(e.find("bad.csv:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("unbalanced quote"), std::string::npos) << e;
  // A legitimate multi-line field stays accepted.
  auto t = parseCsv("a,b\n1,\"two\nlines\"\n3,4\n", "ok.csv");
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].fields[1], "two\nlines");
}

TEST(Csv, EmptyAndMissingFiles) {
  EXPECT_NE(test::errorOf([] { parseCsv("\n\n", "e.csv"); }).find("e.csv: the file is empty"),
            std::string::npos);
  EXPECT_NE(test::errorOf([] { readCsv("/nonexistent/x.csv"); }).find("/nonexistent/x.csv: cannot read"),
            std::string::npos);
}

} // namespace mhr::data
