#include "tracker/results_table.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace mhr::tracker {

namespace {

// "0.912 [0.871, 0.948]", or "0.912" without an interval, "-" when nothing was logged.
std::string withCi(const std::map<std::string, double>& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end() || std::isnan(it->second)) return "-";
  char buf[96];
  auto lo = m.find(key + "_ci_low"), hi = m.find(key + "_ci_high");
  if (lo != m.end() && hi != m.end())
    std::snprintf(buf, sizeof buf, "%.3f [%.3f, %.3f]", it->second, lo->second, hi->second);
  else
    std::snprintf(buf, sizeof buf, "%.3f", it->second);
  return buf;
}

std::string plain(const std::map<std::string, double>& m, const std::string& key) {
  auto it = m.find(key);
  if (it == m.end() || std::isnan(it->second)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", it->second);
  return buf;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

TextTable resultsTable(const std::vector<EvaluationRow>& rows, const std::map<std::string, double>& latest,
                       bool withResolution) {
  // Columns in the order the metrics first appear (binary: the value; otherwise the macro mean).
  std::vector<std::string> metrics;
  for (const EvaluationRow& r : rows)
    for (const std::string& m : r.metrics)
      if (!contains(metrics, m)) metrics.push_back(m);
  std::vector<std::string> header = {"stage", "network", "split"};
  if (withResolution) header.push_back("at");
  for (const std::string& m : metrics)
    header.push_back(m == "auc" ? "AUC [95% CI]" : m == "pr_auc" ? "PR-AUC [95% CI]" : m);
  TextTable table(header);
  for (const EvaluationRow& r : rows) {
    const std::string p = r.stage + "/";
    std::vector<std::string> cells = {r.stage, r.network, r.split};
    if (withResolution) cells.push_back(r.resolution);
    for (const std::string& m : metrics)
      cells.push_back(!contains(r.metrics, m)       ? "-"
                      : m == "auc" || m == "pr_auc" ? withCi(latest, p + m)
                                                    : plain(latest, p + m));
    table.addRow(cells);
  }
  return table;
}

} // namespace mhr::tracker
