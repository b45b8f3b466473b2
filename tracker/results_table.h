// tracker/results_table.h — the table `mhr run` prints when a run ends: a row per evaluation stage, a column
// per metric those stages asked for. In: the stages (key, network, split, resolution, metrics asked, in the
// plan's order) and each logged metric's latest value by tracker key ("<stage>/<metric>"). Out: the table;
// AUC and PR-AUC carry their bootstrap interval ("0.912 [0.871, 0.948]") when one was logged.
#pragma once

#include "tracker/text_table.h"

#include <map>
#include <string>
#include <vector>

namespace mhr::tracker {

struct EvaluationRow {
  std::string stage; // the stage key, prefix of its metric keys
  std::string network;
  std::string split;      // "<dataset>.<split>"
  std::string resolution; // "512x416"; shown only when the table has an `at` column
  std::vector<std::string> metrics;
};

TextTable resultsTable(const std::vector<EvaluationRow>& rows, const std::map<std::string, double>& latest,
                       bool withResolution);

} // namespace mhr::tracker
