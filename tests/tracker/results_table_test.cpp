// The table `mhr run` prints at the end: columns in first-appearance order, "-" where a stage did not ask
// for a metric or nothing was logged, intervals only where both bounds were logged.
#include "tracker/results_table.h"

#include <gtest/gtest.h>

namespace mhr::tracker {

TEST(ResultsTable, ColumnsFollowTheStagesAndCellsTheLoggedValues) {
  std::vector<EvaluationRow> rows = {
      {"eval_lr", "base", "mammo.test", "64x52", {"auc", "accuracy"}},
      {"eval_hr", "hr", "mammo.test", "256x208", {"accuracy", "pr_auc"}},
  };
  std::map<std::string, double> latest = {
      {"eval_lr/auc", 0.9123},        {"eval_lr/auc_ci_low", 0.87}, {"eval_lr/auc_ci_high", 0.95},
      {"eval_lr/accuracy", 0.8},      {"eval_hr/accuracy", 0.85},   {"eval_hr/pr_auc", 0.7},
      {"eval_hr/pr_auc_ci_low", 0.6}, // no high bound: no interval
  };
  const std::string withAt = resultsTable(rows, latest, true).render();
  EXPECT_NE(
      withAt.find("stage    network  split       at       AUC [95% CI]          accuracy  PR-AUC [95% CI]"),
      std::string::npos)
      << withAt;
  EXPECT_NE(withAt.find("0.912 [0.870, 0.950]"), std::string::npos) << withAt;
  EXPECT_NE(withAt.find("256x208"), std::string::npos);
  // eval_hr asked for no AUC; eval_lr for no PR-AUC; the lone low bound gives a bare value.
  EXPECT_NE(withAt.find("eval_hr  hr       mammo.test  256x208  -                     0.850     0.700"),
            std::string::npos)
      << withAt;
  const std::string without = resultsTable(rows, {}, false).render();
  EXPECT_EQ(without.find("64x52"), std::string::npos);
  EXPECT_NE(without.find("eval_lr  base     mammo.test  -             -         -"), std::string::npos)
      << without;
}

} // namespace mhr::tracker
