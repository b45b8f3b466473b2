// tracker/aggregate.h — `mhr runs aggregate`: one metric of a multi-seed study, grouped by tags. In: the
// finished runs a --where selection picks, each with its tags and the metric's latest value, and the names of
// the tags that say the group (--by), an outer split (--within) and the seed that pairs runs (--pair); out:
// per (within, by) the mean over seeds with a Student's t 95% interval, sd, min and max, and per requested
// comparison A:B the paired per-seed difference with its paired-t interval, wins and a verdict from a fixed
// rule. Rendered as a text table (stdout), CSV (one row per run), GitHub markdown and one self-contained HTML
// page with a dot plot per within value. Anything that would make the numbers silently wrong (a run without
// one of the tags or the metric, two runs in one cell, an --order or --compare value no run has) is a
// mhr::UserError naming the run ids.
#pragma once

#include "tracker/run_reader.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace mhr::tracker {

// ------------------------------------------------------------------------------------------- statistics

// Student's t quantile t(0.975, df) for a two-sided 95% interval (3 decimals); the normal 1.96 beyond 30.
double tQuantile975(int64_t df);

// Mean, sample sd (n - 1), min, max and the 95% t interval mean ± t(0.975, n-1)·sd/√n. With n < 2, sd and
// the interval are NaN (one value says nothing about spread); with n = 0 everything is.
struct Summary {
  size_t n = 0;
  double mean = 0, sd = 0, min = 0, max = 0;
  double halfWidth = 0; // of the 95% interval
  double lo() const { return mean - halfWidth; }
  double hi() const { return mean + halfWidth; }
};
Summary summarize(const std::vector<double>& values);

// The fixed rule of table 2: the paired difference A - B is "A higher" when its interval lies above 0, "B
// higher" when below, else no difference shown; fewer than 2 pairs have no interval.
enum class Verdict { AHigher, BHigher, NoDifferenceShown, TooFewPairs };
Verdict verdictOf(const Summary& difference);
std::string verdictText(Verdict verdict, const std::string& a, const std::string& b);

// Tag values that read as numbers sort as numbers (target_size 200 before 800, seed 2 before 10), before
// any that do not; the rest sort as text.
bool tagValueLess(const std::string& a, const std::string& b);

// A and B paired on the pair key (the seed): the keys both have, the per-key differences A - B, how many
// keys of each side had no partner, and how often A > B.
struct Paired {
  std::vector<std::string> keys; // the shared pair values, in tagValueLess order
  std::vector<double> differences;
  size_t unpairedA = 0, unpairedB = 0;
  size_t wins = 0; // pairs with A > B
  Summary difference;
  Verdict verdict = Verdict::TooFewPairs;
};
Paired pairUp(const std::map<std::string, double>& a, const std::map<std::string, double>& b);

// ---------------------------------------------------------------------------------------------- options

struct AggregateOptions {
  std::string metric;                                       // the metric key, e.g. evaluate.net/auc
  std::string by, within, pair;                             // tag names; within "" = no outer split
  std::string where;                                        // the --where expression of `runs list`
  std::vector<std::string> order;                           // the --by groups in this order ("" = sorted)
  std::vector<std::pair<std::string, std::string>> compare; // A:B comparisons of --by values
  std::string metricColumn;                                 // CSV column of the metric ("" = the key)
  std::string title;                                        // of the HTML page ("" = a default)
};

// "a,b, c" -> {a, b, c}; "c:a,d:c" -> {{c, a}, {d, c}}. Malformed text is a UserError.
std::vector<std::string> parseOrderList(const std::string& text);
std::vector<std::pair<std::string, std::string>> parseCompareList(const std::string& text);

// --------------------------------------------------------------------------------------------- results

// One selected run as read from the tracker.
struct AggregateInput {
  std::string runId;
  std::string status;
  std::map<std::string, std::string> tags;
  std::optional<double> metric; // unset: the run did not log it (NaN: it logged NaN)
};

struct AggregateRun {
  std::string runId;
  std::string within, by, pair;
  double value = 0;
};

struct GroupSummary {
  std::string within, by;
  Summary summary;
};

struct Comparison {
  std::string within, a, b;
  Paired paired;
};

struct Aggregate {
  AggregateOptions options;
  std::vector<AggregateRun> runs;        // sorted by within, by (in order), pair
  std::vector<std::string> withinValues; // sorted; {""} without --within
  std::vector<std::string> byValues;     // --order, else sorted
  std::vector<GroupSummary> groups;      // per within, by (cells without runs are left out)
  std::vector<Comparison> comparisons;   // per within, then per --compare entry
  std::map<std::string, size_t> leftOut; // selected runs that are not finished, by status
};

// The statistics over inputs: only finished runs count (the others are counted in leftOut). Throws
// mhr::UserError for a finished run without a named tag or the metric (or with a NaN metric), for two runs
// of one (within, by, pair) cell, for --order/--compare values no run has, and when no finished run is left.
Aggregate aggregate(const std::vector<AggregateInput>& inputs, const AggregateOptions& options);
// The same over the runs that options.where selects in the tracker.
Aggregate aggregateRuns(Db& db, const AggregateOptions& options);
// "left out 3 selected runs that are not finished (2 failed, 1 running)", or "" when none was.
std::string leftOutNote(const Aggregate& result);

// Tables 1 and 2 as text tables (what stdout shows), 4 decimals.
std::string renderAggregateText(const Aggregate& result);
// One row per run: <by>,<within>,<pair>,<metric column>,run_id (no within column without --within); the
// metric in shortest round-trip form.
std::string renderAggregateCsv(const Aggregate& result);
// Tables 1 and 2 as GitHub markdown tables, each with a one-line caption saying what the interval is.
std::string renderAggregateMarkdown(const Aggregate& result);
// One self-contained page: the title, a dot plot per within value (each seed a dot, the mean with its 95%
// interval) and both tables.
std::string renderAggregateHtml(const Aggregate& result);
// The dot plots alone, side by side with their captions, as one standalone SVG file.
std::string renderAggregateSvg(const Aggregate& result);
// Everything as JSON: the runs, per group the summary, per comparison the paired difference, the pairs,
// wins and the verdict's text (null where a value is undefined, e.g. the interval of one run).
std::string renderAggregateJson(const Aggregate& result);

} // namespace mhr::tracker
