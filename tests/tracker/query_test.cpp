// tests/tracker/query_test.cpp — the --where language: what it selects on a fixture database, that user text
// only ever reaches SQLite as bound values, that errors put a caret under the offending token, and that
// injection attempts are syntax errors (or harmless literals) that change nothing.
#include "tests/tracker/test_util.h"
#include "tracker/query.h"
#include "tracker/run_reader.h"

#include "support/error.h"

#include <gtest/gtest.h>

namespace mhr::tracker {
namespace {

using testing::TempDir;

class QueryTest : public ::testing::Test {
protected:
  void SetUp() override {
    tracker_ = std::make_unique<Tracker>(Tracker::open(tmp_.file("runs.sqlite")));
    ids_ = testing::fillFixture(*tracker_);
  }

  // The fixture's run indices (0..3) that `where` selects, in id order of the fixture.
  std::vector<int> select(const std::string& where) {
    Selection sel;
    sel.where = where;
    std::vector<int> out;
    for (const auto& id : selectRuns(tracker_->db(), sel)) {
      for (size_t i = 0; i < ids_.size(); ++i) {
        if (ids_[i] == id) out.push_back(int(i));
      }
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string errorOf(const std::string& where) {
    try {
      compileWhere(where);
    } catch (const UserError& e) {
      return e.what();
    }
    return "(no error)";
  }

  TempDir tmp_;
  std::unique_ptr<Tracker> tracker_;
  std::vector<std::string> ids_;
};

using V = std::vector<int>;

TEST_F(QueryTest, MlflowStyleComparisons) {
  EXPECT_EQ(select(""), (V{0, 1, 2, 3}));
  EXPECT_EQ(select("metrics.`evaluate.base/auc` > 0.9"), (V{0, 3}));
  EXPECT_EQ(select("metrics.\"evaluate.base/auc\" >= 0.88"), (V{0, 1, 3}));
  EXPECT_EQ(select("metrics.evaluate.base/auc < 0.9"), (V{1}));                // '/' and '.' need no quotes
  EXPECT_EQ(select("metrics.`evaluate.base/auc/Effusion` > 0.84"), (V{0, 3})); // per-class key
  EXPECT_EQ(select("params.arch = 'resnet50'"), (V{1}));
  EXPECT_EQ(select("params.arch != 'resnet50'"), (V{0, 2, 3}));
  EXPECT_EQ(select("tags.sweep = 's1'"), (V{0, 1}));
  EXPECT_EQ(select("attributes.status = 'FINISHED'"), (V{0, 1, 3})); // MLflow's upper-case statuses work
  EXPECT_EQ(select("status = 'failed'"), (V{2}));
  EXPECT_EQ(select("attributes.run_name = 'chest'"), (V{2}));
  EXPECT_EQ(select("experiment = 'cxr'"), (V{2}));
  EXPECT_EQ(select("params.arch LIKE 'resnet%'"), (V{0, 1, 3}));
  EXPECT_EQ(select("params.arch LIKE 'RESNET%'"), (V{})); // LIKE is case-sensitive, as in MLflow
  EXPECT_EQ(select("params.arch ILIKE 'RESNET%'"), (V{0, 1, 3}));
  EXPECT_EQ(select("params.arch like 'resnet_8'"), (V{0, 3}));
  EXPECT_EQ(select("env.device_name like '%H100%'"), (V{2}));
}

TEST_F(QueryTest, NumericParamsCompareAsNumbers) {
  // As text '0.0001' > '0.001'; as numbers 1e-4 < 0.001.
  EXPECT_EQ(select("params.lr < 0.001"), (V{2}));
  EXPECT_EQ(select("params.lr <= 1e-3"), (V{1, 2}));
  EXPECT_EQ(select("params.batch = 16"), (V{1}));
  EXPECT_EQ(select("params.batch = 16.0"), (V{1}));
  EXPECT_EQ(select("params.lr = '0.01'"), (V{0, 3})); // a quoted value compares the text, like MLflow
  EXPECT_EQ(select("params.arch > 5"), (V{}));        // string params never match numeric comparisons
  EXPECT_EQ(select("params.pretrained = true"), (V{0, 1, 3}));
  EXPECT_EQ(select("params.pretrained = false"), (V{2}));
}

TEST_F(QueryTest, OrInBetweenNotAndParentheses) {
  EXPECT_EQ(select("params.arch = 'resnet50' or experiment = 'cxr'"), (V{1, 2}));
  EXPECT_EQ(select("params.batch in (16, 32)"), (V{1}));
  EXPECT_EQ(select("params.arch not in ('resnet18', 'resnet50')"), (V{2}));
  EXPECT_EQ(select("attributes.status IN ('failed', 'interrupted')"), (V{2}));
  EXPECT_EQ(select("metrics.`evaluate.base/auc` between 0.85 and 0.9"), (V{1}));
  EXPECT_EQ(select("metrics.`evaluate.base/auc` not between 0.85 and 0.9"), (V{0, 3}));
  EXPECT_EQ(select("not (tags.sweep = 's1')"), (V{2, 3}));
  EXPECT_EQ(select("(params.batch = 8 or params.batch = 16) and not status = 'failed'"), (V{0, 1, 3}));
  EXPECT_EQ(select("params.batch = 8 or params.batch = 16 and status = 'failed'"),
            (V{0, 2, 3}));                                          // and binds tighter
  EXPECT_EQ(select("metrics.`evaluate.base/auc` is null"), (V{2})); // NaN counts as missing
  EXPECT_EQ(select("tags.sweep is not null"), (V{0, 1}));
  EXPECT_EQ(select("seed = 3"), (V{2}));
  EXPECT_EQ(select("duration > 66.5"), (V{2, 3}));
  EXPECT_EQ(select("start_time >= '2025-01-02' and start_time < '2025-01-03'"), (V{1}));
  EXPECT_EQ(select("start_time between '2025-01-02 09:00' and '2025-01-03 10:00:00'"), (V{1, 2}));
  EXPECT_EQ(select("attributes.run_id like '" + ids_[2].substr(0, 6) + "%'"), (V{2}));
}

TEST_F(QueryTest, UserTextIsNeverPartOfTheSql) {
  CompiledWhere w =
      compileWhere("params.`x'); DROP TABLE runs; --` = 'a'' or ''1''=''1' and tags.t in ('u', 'v')");
  EXPECT_EQ(w.condition.sql.find("DROP"), std::string::npos) << w.condition.sql;
  EXPECT_EQ(w.condition.sql.find("'"), std::string::npos) << w.condition.sql; // no literal at all in the SQL
  ASSERT_EQ(w.condition.params.size(), 5u);
  EXPECT_EQ(std::get<std::string>(w.condition.params[0]), "x'); DROP TABLE runs; --");
  EXPECT_EQ(std::get<std::string>(w.condition.params[1]), "a' or '1'='1");
  EXPECT_EQ(select("params.`x'); DROP TABLE runs; --` = 'a'' or ''1''=''1'"), (V{}));
  EXPECT_EQ(testing::countRows(tmp_.file("runs.sqlite"), "SELECT count(*) FROM runs"), 4);
}

TEST_F(QueryTest, InjectionAttemptsAreSyntaxErrors) {
  const std::vector<std::string> attacks = {
      "metrics.auc > 0.8; DROP TABLE runs",
      "metrics.auc > 0.8 -- comment",
      "params.lr = '' OR 1=1",
      "params.lr = 0 OR '1'='1'",
      "status = 'finished') OR (1=1",
      "1=1",
      "metrics.auc > (SELECT 0)",
      "params.lr = 1 UNION SELECT run_uuid FROM runs",
      "tags.x = 'a' /* */",
      "attributes.status = 'finished' AND sqlite_version() > 0",
      "params.lr = 0x10",
      "metrics.auc > 0.8 AND runs.status = 'x'",
  };
  for (const auto& attack : attacks) {
    std::string error = errorOf(attack);
    EXPECT_NE(error.find("invalid --where expression"), std::string::npos) << attack << " -> " << error;
    Selection sel;
    sel.where = attack;
    EXPECT_THROW(selectRuns(tracker_->db(), sel), UserError) << attack;
  }
  EXPECT_EQ(testing::countRows(tmp_.file("runs.sqlite"), "SELECT count(*) FROM runs"), 4);
}

TEST_F(QueryTest, ErrorsPointAtTheOffendingToken) {
  EXPECT_EQ(
      errorOf("metrics.auc > 0.8; DROP TABLE runs"),
      "invalid --where expression: unexpected ';' (one expression only; combine conditions with 'and' / "
      "'or')\n  metrics.auc > 0.8; DROP TABLE runs\n                   ^");
  // ("metric" is an accepted alias of "metrics"; this is a typo.)
  std::string e = errorOf("metirc.auc > 0.8");
  EXPECT_NE(e.find("unknown entity 'metirc' (did you mean 'metrics'?)"), std::string::npos) << e;
  EXPECT_NE(e.find("\n  metirc.auc > 0.8\n  ^~~~~~"), std::string::npos) << e;

  e = errorOf("metrics.auc > 'high'");
  EXPECT_NE(e.find("metrics are numbers"), std::string::npos) << e;
  EXPECT_NE(e.find("\n  metrics.auc > 'high'\n                ^~~~~~"), std::string::npos) << e;

  e = errorOf("params.lr = 0.1 and");
  EXPECT_NE(e.find("expected a field"), std::string::npos) << e;
  EXPECT_NE(e.find("\n  params.lr = 0.1 and\n                     ^"), std::string::npos) << e;

  e = errorOf("(params.lr = 0.1");
  EXPECT_NE(e.find("missing ')'"), std::string::npos) << e;

  e = errorOf("params.lr 0.1");
  EXPECT_NE(e.find("expected a comparison operator"), std::string::npos) << e;
  EXPECT_NE(e.find("\n  params.lr 0.1\n            ^~~"), std::string::npos) << e;

  e = errorOf("tags.team = 3");
  EXPECT_NE(e.find("tags are text: quote the value, e.g. tags.team = '3'"), std::string::npos) << e;

  e = errorOf("status = 'done'");
  EXPECT_NE(e.find("unknown status 'done'"), std::string::npos) << e;

  e = errorOf("staus = 'finished'");
  EXPECT_NE(e.find("unknown field 'staus' (did you mean 'status'?)"), std::string::npos) << e;

  e = errorOf("params.name = 'unterminated");
  EXPECT_NE(e.find("unterminated string"), std::string::npos) << e;

  e = errorOf("metrics.val-auc > 1");
  EXPECT_NE(e.find("must be quoted"), std::string::npos) << e;

  e = errorOf("params.lr in ()");
  EXPECT_NE(e.find("empty list"), std::string::npos) << e;

  e = errorOf("params.x in (1, 'a')");
  EXPECT_NE(e.find("mixed numbers and strings"), std::string::npos) << e;

  e = errorOf("params.x = `name`");
  EXPECT_NE(e.find("backticks quote names"), std::string::npos) << e;

  e = errorOf("start_time > 'yesterday'");
  EXPECT_NE(e.find("UTC date"), std::string::npos) << e;

  // A caret under non-ASCII text lines up by characters, not bytes.
  e = errorOf("tags.note = 'é' and ;");
  EXPECT_NE(e.find("\n  tags.note = 'é' and ;\n                      ^"), std::string::npos) << e;
}

TEST_F(QueryTest, SortAndColumns) {
  Selection sel;
  sel.sort = "metrics.`evaluate.base/auc` asc, params.batch desc";
  std::vector<std::string> got = selectRuns(tracker_->db(), sel);
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0], ids_[1]);     // 0.88
  EXPECT_EQ(got.back(), ids_[2]); // NaN sorts last
  sel.sort = "params.lr desc";
  got = selectRuns(tracker_->db(), sel);
  EXPECT_EQ(got.back(), ids_[2]); // 1e-4 is the smallest as a number
  sel.sort = "";
  sel.limit = 2;
  got = selectRuns(tracker_->db(), sel);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], ids_[3]); // newest first by default
  EXPECT_THROW(parseSort("metrics.auc sideways"), UserError);

  auto columns = parseColumns("run_id, name, metrics.`auc/Effusion`, params.lr, started");
  ASSERT_EQ(columns.size(), 5u);
  EXPECT_EQ(columns[1].name, "run_name");
  EXPECT_EQ(columns[2].label, "metrics.auc/Effusion");
  EXPECT_EQ(columns[4].name, "start_time");
  EXPECT_THROW(parseColumns("run_id,,name"), UserError);
}

} // namespace
} // namespace mhr::tracker
