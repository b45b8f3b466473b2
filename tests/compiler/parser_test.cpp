// Unit tests of the parser facade: values and their ranges, code-point vs byte offsets, --set value parsing.
#include "compiler/ast/printer.h"
#include "compiler/parse/parser.h"

#include <gtest/gtest.h>

using namespace mhr;

namespace {
struct Parsed {
  diag::SourceManager sources;
  diag::DiagnosticEngine diags{sources};
  std::unique_ptr<ast::File> file;
  explicit Parsed(const std::string& text) {
    file = parse::parseFile(sources.addFile("t.mhr", text), sources, diags);
  }
};
} // namespace

TEST(Parser, NumbersKeepTheirSpellingAndValue) {
  Parsed p("experiment \"x\"\ndataset d = manifest(csv: \"a\", val_fraction: 1e-1, seed: 12)\n");
  ASSERT_FALSE(p.diags.hasErrors());
  const auto& d = ast::as<ast::DatasetStmt>(*p.file->statements[1]);
  EXPECT_EQ(d.constructor.args[1].value.spelling, "1e-1");
  EXPECT_DOUBLE_EQ(d.constructor.args[1].value.floatValue, 0.1);
  EXPECT_EQ(d.constructor.args[2].value.intValue, 12);
}

TEST(Parser, QuantitiesSplitNumberAndUnit) {
  Parsed p(
      "experiment \"x\"\ntrain n on d.train at 8x8 { augment: [rotate(-15deg)]; memory_budget: 1.5e1GiB }\n");
  ASSERT_FALSE(p.diags.hasErrors());
  const auto& st = ast::as<ast::StageStmt>(*p.file->statements[1]);
  const auto& rot = st.block->attrs[0].value.items[0].args[0].value;
  EXPECT_EQ(rot.kind, ast::Value::Kind::Quantity);
  EXPECT_DOUBLE_EQ(rot.floatValue, -15.0);
  EXPECT_EQ(rot.text, "deg");
  const auto& mem = st.block->attrs[1].value;
  EXPECT_DOUBLE_EQ(mem.floatValue, 15.0);
  EXPECT_EQ(mem.text, "GiB");
}

TEST(Parser, DottedPathsWithNumbersAreOneToken) {
  Parsed p("experiment \"x\"\nnetwork c = morph e {\n  widen features.1.0.block.0.0 to 64\n}\n");
  ASSERT_FALSE(p.diags.hasErrors());
  const auto& n = ast::as<ast::NetworkStmt>(*p.file->statements[1]);
  const ast::Path& path = n.morphs[0]->targets[0];
  EXPECT_EQ(path.str(), "features.1.0.block.0.0");
  EXPECT_EQ(path.segments.size(), 6u);
  EXPECT_EQ(p.sources.text(path.segmentRange(3)), "block");
}

TEST(Parser, KeywordsAreNamesInArguments) {
  Parsed p("experiment \"x\"\ndataset d = synthetic_mammo(seed: 3, split: [0.5, 0.25, 0.25])\n");
  EXPECT_FALSE(p.diags.hasErrors());
}

TEST(Parser, RangesAreBytesEvenAfterNonAsciiText) {
  // "é" is two bytes but one code point; ANTLR counts code points, diagnostics need bytes.
  Parsed p("# café\nexperiment \"naïve\"\nseed 7\n");
  ASSERT_FALSE(p.diags.hasErrors());
  const auto& seed = ast::as<ast::SeedStmt>(*p.file->statements[1]);
  EXPECT_EQ(p.sources.text(seed.seed.range), "7");
  const auto& e = ast::as<ast::ExperimentStmt>(*p.file->statements[0]);
  EXPECT_EQ(e.name.text, "naïve");
  EXPECT_EQ(p.sources.text(e.name.range), "\"naïve\"");
  EXPECT_EQ(p.file->comments[0].text, "# café");
}

TEST(Parser, MorphStatementTextIsSingleSpaced) {
  Parsed p("experiment \"x\"\nnetwork c = morph e {\n  widen   layer1.0.conv1\n     to 32  # note\n}\n");
  ASSERT_FALSE(p.diags.hasErrors());
  EXPECT_EQ(ast::as<ast::NetworkStmt>(*p.file->statements[1]).morphs[0]->text, "widen layer1.0.conv1 to 32");
}

TEST(Parser, OneErrorPerStatementAndTheRestStillParses) {
  Parsed p("experiment \"x\"\nseed\nseed 3\ndataset d = synthetic_mammo(count: )\nnetwork n = tiny_cnn()\n");
  EXPECT_EQ(p.diags.errorCount(), 2u);
  ASSERT_EQ(p.file->statements.size(), 3u); // experiment, seed 3, network
}

TEST(Parser, ValueForOverride) {
  diag::SourceManager sources;
  diag::DiagnosticEngine diags(sources);
  auto f = sources.addFile("<--set 1>", "train.hr.optimizer=adam(lr: 1e-3)");
  auto v = parse::parseValue(f, sources, diags, 19);
  ASSERT_TRUE(v.has_value());
  EXPECT_EQ(ast::printValue(*v), "adam(lr: 1e-3)");
  EXPECT_EQ(sources.text(v->range), "adam(lr: 1e-3)");
  auto bad = parse::parseValue(f, sources, diags, 18);
  EXPECT_FALSE(bad.has_value());
  EXPECT_TRUE(diags.hasErrors());
}

TEST(Parser, HugeIntegerIsAnErrorNotAWrap) {
  Parsed p("experiment \"x\"\nseed 99999999999999999999999\n");
  ASSERT_EQ(p.file->statements.size(), 2u);
  EXPECT_TRUE(ast::as<ast::SeedStmt>(*p.file->statements[1]).seed.overflow);
}
