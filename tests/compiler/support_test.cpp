// Unit tests of support/: "did you mean", number formatting, SHA-256, atomic writes.
#include "support/files.h"
#include "support/sha256.h"
#include "support/strings.h"

#include <filesystem>
#include <gtest/gtest.h>

using namespace mhr::support;

TEST(Strings, EditDistanceCountsTranspositionsOnce) {
  EXPECT_EQ(editDistance("network", "netwrok"), 1u);
  EXPECT_EQ(editDistance("", "abc"), 3u);
  EXPECT_EQ(editDistance("kitten", "sitting"), 3u);
}

TEST(Strings, ClosestMatchSuggestsOnlyPlausibleTypos) {
  std::vector<std::string> names = {"epochs", "batch", "optimizer", "schedule"};
  EXPECT_EQ(closestMatch("epoch", names), "epochs");
  EXPECT_EQ(closestMatch("optimiser", names), "optimizer");
  EXPECT_EQ(closestMatch("BATCH", names), "batch");
  EXPECT_EQ(closestMatch("learning_rate", names), "");
  EXPECT_EQ(closestMatch("epochs", names), "");
}

TEST(Strings, FormatNumberRoundTripsShortest) {
  EXPECT_EQ(formatNumber(0.05), "0.05");
  EXPECT_EQ(formatNumber(1e-5), "1e-5");
  EXPECT_EQ(formatNumber(100), "100");
  EXPECT_EQ(formatNumber(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(formatNumber(2.5e7), "2.5e7");
}

TEST(Strings, QuotedEscapesWhatTheParserReadsBack) {
  EXPECT_EQ(quoted("data/synth"), "\"data/synth\"");
  EXPECT_EQ(quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(quoted("x\ny\tz"), "\"x\\ny\\tz\"");
  EXPECT_EQ(quoted(""), "\"\"");
}

TEST(Strings, SplitKeepsEmptyParts) {
  auto p = split("a..b", '.');
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[1], "");
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  Sha256 h; // incremental == one shot
  h.update("ab");
  h.update("c");
  EXPECT_EQ(h.hexDigest(), sha256Hex("abc"));
}

TEST(Files, AtomicWriteReplacesAndLeavesNoTemporary) {
  auto dir = std::filesystem::temp_directory_path() / "mhr-files-test";
  std::filesystem::remove_all(dir);
  std::string path = (dir / "sub" / "f.txt").string();
  writeFileAtomic(path, "one");
  writeFileAtomic(path, "two");
  EXPECT_EQ(readFile(path).value_or(""), "two");
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(dir / "sub")) ++entries;
  EXPECT_EQ(entries, 1);
  EXPECT_FALSE(readFile((dir / "missing").string()).has_value());
  std::filesystem::remove_all(dir);
}
