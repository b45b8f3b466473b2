// tracker/aggregate.cpp — see aggregate.h.
#include "tracker/aggregate.h"

#include "support/error.h"
#include "support/strings.h"
#include "tracker/html.h"
#include "tracker/svg_plot.h"
#include "tracker/text_table.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <set>

namespace mhr::tracker {

// ------------------------------------------------------------------------------------------- statistics

double tQuantile975(int64_t df) {
  static const double t[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                             2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080,
                             2.074, 2.069,  2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042};
  return df >= 1 && df <= 30 ? t[df] : 1.96;
}

Summary summarize(const std::vector<double>& values) {
  Summary s;
  s.n = values.size();
  if (values.empty()) {
    s.mean = s.sd = s.min = s.max = s.halfWidth = NAN;
    return s;
  }
  double sum = 0;
  s.min = values[0];
  s.max = values[0];
  for (double v : values) {
    sum += v;
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
  }
  s.mean = sum / double(s.n);
  if (s.n < 2) {
    s.sd = s.halfWidth = NAN;
    return s;
  }
  double ss = 0;
  for (double v : values) ss += (v - s.mean) * (v - s.mean);
  s.sd = std::sqrt(ss / double(s.n - 1));
  s.halfWidth = tQuantile975(int64_t(s.n) - 1) * s.sd / std::sqrt(double(s.n));
  return s;
}

Verdict verdictOf(const Summary& d) {
  if (d.n < 2 || std::isnan(d.halfWidth)) return Verdict::TooFewPairs;
  if (d.lo() > 0) return Verdict::AHigher;
  if (d.hi() < 0) return Verdict::BHigher;
  return Verdict::NoDifferenceShown;
}

std::string verdictText(Verdict verdict, const std::string& a, const std::string& b) {
  switch (verdict) {
  case Verdict::AHigher:
    return a + " higher";
  case Verdict::BHigher:
    return b + " higher";
  case Verdict::NoDifferenceShown:
    return "no difference shown";
  case Verdict::TooFewPairs:
    return "too few pairs";
  }
  return "";
}

namespace {

std::optional<double> asNumber(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

} // namespace

bool tagValueLess(const std::string& a, const std::string& b) {
  auto na = asNumber(a), nb = asNumber(b);
  if (na && nb && *na != *nb) return *na < *nb;
  if (bool(na) != bool(nb)) return bool(na); // numbers first
  return a < b; // equal numbers written differently ("1", "1.0") still have one order
}

Paired pairUp(const std::map<std::string, double>& a, const std::map<std::string, double>& b) {
  Paired p;
  std::vector<std::string> keys;
  for (const auto& entry : a) keys.push_back(entry.first);
  std::sort(keys.begin(), keys.end(), tagValueLess); // seed 2 before seed 10
  for (const auto& key : keys) {
    const double va = a.at(key);
    auto it = b.find(key);
    if (it == b.end()) {
      ++p.unpairedA;
      continue;
    }
    p.keys.push_back(key);
    p.differences.push_back(va - it->second);
    if (va > it->second) ++p.wins;
  }
  for (const auto& entry : b) p.unpairedB += a.count(entry.first) ? 0 : 1;
  p.difference = summarize(p.differences);
  p.verdict = verdictOf(p.difference);
  return p;
}

// ---------------------------------------------------------------------------------------------- options

std::vector<std::string> parseOrderList(const std::string& text) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& part : support::split(text, ',')) {
    std::string value = support::trim(part);
    if (value.empty()) throw UserError("--order '" + text + "' has an empty entry (write a,b,c)");
    if (!seen.insert(value).second) throw UserError("--order names '" + value + "' twice");
    out.push_back(value);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> parseCompareList(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& part : support::split(text, ',')) {
    std::string item = support::trim(part);
    auto sides = support::split(item, ':');
    if (sides.size() != 2 || support::trim(sides[0]).empty() || support::trim(sides[1]).empty()) {
      throw UserError("--compare entry '" + item + "' is not A:B (e.g. --compare c:a,c:b)");
    }
    std::string a = support::trim(sides[0]), b = support::trim(sides[1]);
    if (a == b) throw UserError("--compare entry '" + item + "' compares a group with itself");
    out.emplace_back(a, b);
  }
  return out;
}

// --------------------------------------------------------------------------------------------- results

namespace {

std::string describeCell(const AggregateOptions& o, const std::string& within, const std::string& by,
                         const std::string& pair) {
  std::string cell = o.within.empty() ? "" : o.within + "=" + within + " ";
  return cell + o.by + "=" + by + " " + o.pair + "=" + pair;
}

// `what` of --order/--compare names `value`, which no finished run has. The values the runs have are listed
// (a study has a handful), which says more than a "did you mean" between one-letter arm names.
[[noreturn]] void unknownGroup(const std::string& what, const std::string& value, const AggregateOptions& o,
                               const std::vector<std::string>& present) {
  throw UserError(what + " names " + o.by + " '" + value + "', which no finished selected run has (" + o.by +
                  " values: " + support::join(present, ", ") + ")");
}

} // namespace

Aggregate aggregate(const std::vector<AggregateInput>& inputs, const AggregateOptions& options) {
  const AggregateOptions& o = options;
  if (o.metric.empty() || o.by.empty() || o.pair.empty())
    throw UserError("aggregate needs --metric, --by and --pair");
  if (o.by == o.pair || o.by == o.within || o.pair == o.within)
    throw UserError("--by, --within and --pair must name three different tags");

  Aggregate result;
  result.options = o;
  std::vector<std::string> problems;
  std::map<std::string, std::string> cells; // "within\0by\0pair" -> run id
  for (const auto& in : inputs) {
    if (in.status != "finished") {
      ++result.leftOut[in.status];
      continue;
    }
    std::vector<std::string> missing;
    auto tag = [&](const std::string& name, const char* flag) {
      auto it = in.tags.find(name);
      if (it != in.tags.end()) return it->second;
      missing.push_back(std::string("tag '") + name + "' (" + flag + ")");
      return std::string();
    };
    AggregateRun run;
    run.runId = in.runId;
    run.by = tag(o.by, "--by");
    if (!o.within.empty()) run.within = tag(o.within, "--within");
    run.pair = tag(o.pair, "--pair");
    if (!in.metric) {
      missing.push_back("metric '" + o.metric + "'");
    } else if (std::isnan(*in.metric)) {
      missing.push_back("a value of metric '" + o.metric + "' (it logged NaN)");
    } else {
      run.value = *in.metric;
    }
    if (!missing.empty()) {
      problems.push_back("run " + in.runId + " has no " + support::join(missing, ", no "));
      continue;
    }
    std::string key = run.within + '\0' + run.by + '\0' + run.pair;
    auto [it, fresh] = cells.emplace(key, in.runId);
    if (!fresh) {
      // In id order: the selection's order (newest first) is no property of the two runs.
      problems.push_back("runs " + std::min(it->second, in.runId) + " and " + std::max(it->second, in.runId) +
                         " are both " + describeCell(o, run.within, run.by, run.pair) +
                         ": which one counts is ambiguous (delete or retag one, or narrow the selection with "
                         "--where)");
      continue;
    }
    result.runs.push_back(run);
  }
  if (!problems.empty()) {
    if (problems.size() == 1) throw UserError(problems[0]);
    std::string text = std::to_string(problems.size()) + " problems with the selected finished runs:";
    for (size_t i = 0; i < problems.size() && i < 20; ++i) text += "\n  " + problems[i];
    if (problems.size() > 20) text += "\n  ... and " + std::to_string(problems.size() - 20) + " more";
    throw UserError(text);
  }
  if (result.runs.empty()) {
    throw UserError(inputs.empty() ? "no run matches the selection"
                                   : "none of the " + std::to_string(inputs.size()) +
                                         " selected runs is finished: nothing to aggregate");
  }

  std::set<std::string, bool (*)(const std::string&, const std::string&)> withinSet(tagValueLess),
      bySet(tagValueLess);
  for (const auto& r : result.runs) {
    withinSet.insert(r.within);
    bySet.insert(r.by);
  }
  result.withinValues.assign(withinSet.begin(), withinSet.end());
  std::vector<std::string> present(bySet.begin(), bySet.end());
  if (o.order.empty()) {
    result.byValues = present;
  } else {
    for (const auto& value : o.order) {
      if (!bySet.count(value)) unknownGroup("--order", value, o, present);
    }
    std::vector<std::string> absent;
    for (const auto& value : present) {
      if (std::find(o.order.begin(), o.order.end(), value) == o.order.end()) absent.push_back(value);
    }
    // A study's order lists its arms: a group it leaves out would otherwise end up in no particular place.
    if (!absent.empty()) {
      throw UserError("--order leaves out " + o.by + " " + support::join(absent, ", ") +
                      ", which selected runs have (list every group, or narrow the selection with --where)");
    }
    result.byValues = o.order;
  }
  for (const auto& [a, b] : o.compare) {
    if (!bySet.count(a)) unknownGroup("--compare", a, o, present);
    if (!bySet.count(b)) unknownGroup("--compare", b, o, present);
  }

  auto position = [&](const std::string& by) {
    return std::find(result.byValues.begin(), result.byValues.end(), by) - result.byValues.begin();
  };
  std::sort(result.runs.begin(), result.runs.end(), [&](const AggregateRun& x, const AggregateRun& y) {
    if (x.within != y.within) return tagValueLess(x.within, y.within);
    if (x.by != y.by) return position(x.by) < position(y.by);
    return tagValueLess(x.pair, y.pair);
  });

  for (const auto& within : result.withinValues) {
    std::map<std::string, std::map<std::string, double>> byPair; // by -> pair -> value
    for (const auto& r : result.runs) {
      if (r.within == within) byPair[r.by][r.pair] = r.value;
    }
    for (const auto& by : result.byValues) {
      auto it = byPair.find(by);
      if (it == byPair.end()) continue;
      std::vector<double> values;
      for (const auto& r : result.runs) {
        if (r.within == within && r.by == by) values.push_back(r.value); // in pair order
      }
      result.groups.push_back({within, by, summarize(values)});
    }
    for (const auto& [a, b] : o.compare) {
      Comparison c;
      c.within = within;
      c.a = a;
      c.b = b;
      c.paired = pairUp(byPair[a], byPair[b]);
      result.comparisons.push_back(c);
    }
  }
  return result;
}

Aggregate aggregateRuns(Db& db, const AggregateOptions& options) {
  Selection selection;
  selection.where = options.where;
  std::vector<std::string> ids = selectRuns(db, selection);
  // A misspelt key would otherwise read as "every run lacks it": say so once, with the closest name.
  auto mustExist = [&](Entity entity, const std::string& key, const std::string& what) {
    if (key.empty() || keyExists(db, entity, key)) return;
    std::string suggestion = support::closestMatch(key, knownKeys(db, entity));
    throw UserError("no run has " + what + " '" + key + "'" +
                    (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"));
  };
  if (!ids.empty()) {
    mustExist(Entity::Metric, options.metric, "metric");
    mustExist(Entity::Tag, options.by, "tag");
    mustExist(Entity::Tag, options.within, "tag");
    mustExist(Entity::Tag, options.pair, "tag");
  }
  std::vector<AggregateInput> inputs(ids.size());
  db.read([&] {
    Stmt status = db.prepare("SELECT status FROM runs WHERE run_uuid = ?");
    Stmt tags = db.prepare("SELECT key, value FROM tags WHERE run_uuid = ? AND key IN (?, ?, ?)");
    Stmt metric = db.prepare("SELECT value, is_nan FROM latest_metrics WHERE run_uuid = ? AND key = ?");
    for (size_t i = 0; i < ids.size(); ++i) {
      AggregateInput& in = inputs[i];
      in.runId = ids[i];
      status.reset();
      status.bind(1, ids[i]);
      if (status.step()) in.status = status.getText(0);
      tags.reset();
      tags.bind(1, ids[i]).bind(2, options.by).bind(3, options.within).bind(4, options.pair);
      while (tags.step()) in.tags[tags.getText(0)] = tags.getText(1);
      metric.reset();
      metric.bind(1, ids[i]).bind(2, options.metric);
      if (metric.step()) in.metric = metric.getInt(1) ? NAN : metric.getDouble(0);
    }
  });
  return aggregate(inputs, options);
}

std::string leftOutNote(const Aggregate& result) {
  size_t total = 0;
  std::vector<std::string> parts;
  for (const auto& [status, count] : result.leftOut) {
    total += count;
    parts.push_back(std::to_string(count) + " " + status);
  }
  if (total == 0) return "";
  return fmt::format("left out {} selected {} not finished ({})", total,
                     total == 1 ? "run that is" : "runs that are", support::join(parts, ", "));
}

// ------------------------------------------------------------------------------------------- rendering

namespace {

std::string fixed(double v) {
  if (std::isnan(v)) return "-";
  std::string s = fmt::format("{:.4f}", v);
  if (s == "-0.0000") s = "0.0000";
  return s;
}

std::string interval(const Summary& s) {
  if (std::isnan(s.halfWidth)) return "-";
  return "[" + fixed(s.lo()) + ", " + fixed(s.hi()) + "]";
}

// One table in a form that each renderer (text, markdown, HTML) lays out its own way.
struct Table {
  std::string caption;
  std::vector<std::string> header;
  std::vector<bool> numeric;
  std::vector<std::vector<std::string>> rows;
};

std::string subject(const AggregateOptions& o) {
  return o.metric + " by " + o.by + (o.within.empty() ? "" : " within " + o.within);
}

Table groupTable(const Aggregate& r) {
  const AggregateOptions& o = r.options;
  Table t;
  t.caption = "Table 1. " + subject(o) + ": n " + o.pair +
              " values, mean and 95% CI (Student's t with n-1 degrees of freedom, over " + o.pair +
              "), sd, min, max";
  if (!o.within.empty()) t.header.push_back(o.within);
  for (const char* h : {"n", "mean", "95% CI", "sd", "min", "max"}) t.header.push_back(h);
  t.header.insert(t.header.begin() + (o.within.empty() ? 0 : 1), o.by);
  t.numeric.assign(t.header.size(), true);
  t.numeric[0] = false;
  if (!o.within.empty()) t.numeric[1] = false;
  for (const auto& g : r.groups) {
    std::vector<std::string> row;
    if (!o.within.empty()) row.push_back(g.within);
    const Summary& s = g.summary;
    for (const std::string& cell :
         {g.by, std::to_string(s.n), fixed(s.mean), interval(s), fixed(s.sd), fixed(s.min), fixed(s.max)}) {
      row.push_back(cell);
    }
    t.rows.push_back(row);
  }
  return t;
}

Table comparisonTable(const Aggregate& r) {
  const AggregateOptions& o = r.options;
  Table t;
  t.caption = "Table 2. Paired by " + o.pair + ": mean of the per-" + o.pair + " difference A - B over the " +
              o.pair +
              " values both have, its 95% paired-t CI (n-1 degrees of freedom); verdict: A higher if "
              "the CI lies above 0, B higher if below, else no difference shown";
  if (!o.within.empty()) t.header.push_back(o.within);
  for (const char* h : {"A", "B", "pairs", "unpaired A/B", "mean A-B", "95% CI", "wins A>B", "verdict"})
    t.header.push_back(h);
  size_t first = o.within.empty() ? 0 : 1;
  t.numeric.assign(t.header.size(), false);
  for (size_t c = first + 2; c < first + 7; ++c) t.numeric[c] = true;
  for (const auto& c : r.comparisons) {
    std::vector<std::string> row;
    if (!o.within.empty()) row.push_back(c.within);
    const Paired& p = c.paired;
    const size_t pairs = p.differences.size();
    for (const std::string& cell :
         {c.a, c.b, std::to_string(pairs), fmt::format("{}/{}", p.unpairedA, p.unpairedB),
          fixed(p.difference.mean), interval(p.difference), fmt::format("{} of {}", p.wins, pairs),
          verdictText(p.verdict, c.a, c.b)}) {
      row.push_back(cell);
    }
    t.rows.push_back(row);
  }
  return t;
}

std::string headline(const Aggregate& r) {
  const AggregateOptions& o = r.options;
  return fmt::format("{}, paired by {}: {} finished runs", subject(o), o.pair, r.runs.size());
}

std::string textTable(const Table& t) {
  TextTable table(t.header);
  for (size_t c = 0; c < t.header.size(); ++c) {
    if (t.numeric[c]) table.alignRight(c);
  }
  for (const auto& row : t.rows) table.addRow(row);
  return t.caption + "\n" + table.render();
}

std::string markdownCell(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string markdownTable(const Table& t) {
  std::string out = "**" + markdownCell(t.caption) + ".**\n\n|";
  for (const auto& h : t.header) out += " " + markdownCell(h) + " |";
  out += "\n|";
  for (size_t c = 0; c < t.header.size(); ++c) out += t.numeric[c] ? "---:|" : "---|";
  out += "\n";
  for (const auto& row : t.rows) {
    out += "|";
    for (const auto& cell : row) out += " " + markdownCell(cell) + " |";
    out += "\n";
  }
  return out;
}

std::string htmlTable(const Table& t) {
  std::string out = "<table><caption>" + escapeHtml(t.caption) + "</caption><thead><tr>";
  for (size_t c = 0; c < t.header.size(); ++c)
    out += std::string(t.numeric[c] ? "<th class=\"num\">" : "<th>") + escapeHtml(t.header[c]) + "</th>";
  out += "</tr></thead><tbody>";
  for (const auto& row : t.rows) {
    out += "<tr>";
    for (size_t c = 0; c < row.size(); ++c)
      out += std::string(t.numeric[c] ? "<td class=\"num\">" : "<td>") + escapeHtml(row[c]) + "</td>";
    out += "</tr>";
  }
  return out + "</tbody></table>";
}

const char* kCss = R"CSS(
html{background:#f6f7f9;color:#111827;font:14px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Arial,"DejaVu Sans",sans-serif}
body{margin:0}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}
.sub{color:#6b7280;margin:0 0 18px}
section{background:#fff;border:1px solid #e5e7eb;border-radius:10px;padding:18px 20px;margin:0 0 18px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:22px 28px}
figure{margin:0;min-width:0}
figcaption{font-size:13px;font-weight:600;margin-bottom:4px;color:#374151}
svg.plot{width:100%;height:auto;display:block;overflow:visible}
svg.plot .tick{font-size:11px;fill:#6b7280}
svg.plot .axis-label{font-size:11.5px;fill:#4b5563}
table{border-collapse:collapse;margin:4px 0 14px;font-size:13px}
caption{caption-side:top;text-align:left;color:#374151;font-weight:600;padding:0 0 6px}
th,td{border-bottom:1px solid #e5e7eb;padding:4px 10px;text-align:left}
th{background:#f9fafb}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.note{color:#6b7280;font-size:12.5px}
)CSS";

} // namespace

std::string renderAggregateText(const Aggregate& r) {
  std::string out = headline(r) + "\n\n" + textTable(groupTable(r));
  if (!r.comparisons.empty()) out += "\n" + textTable(comparisonTable(r));
  return out;
}

std::string renderAggregateCsv(const Aggregate& r) {
  const AggregateOptions& o = r.options;
  std::vector<std::string> header = {o.by};
  if (!o.within.empty()) header.push_back(o.within);
  header.push_back(o.pair);
  header.push_back(o.metricColumn.empty() ? o.metric : o.metricColumn);
  header.push_back("run_id");
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + csvField(cells[i]);
    out += "\n";
  };
  line(header);
  for (const auto& run : r.runs) {
    std::vector<std::string> cells = {run.by};
    if (!o.within.empty()) cells.push_back(run.within);
    cells.push_back(run.pair);
    cells.push_back(formatExact(run.value));
    cells.push_back(run.runId);
    line(cells);
  }
  return out;
}

std::string renderAggregateMarkdown(const Aggregate& r) {
  std::string out = markdownTable(groupTable(r));
  if (!r.comparisons.empty()) out += "\n" + markdownTable(comparisonTable(r));
  return out;
}

namespace {

std::string panelCaption(const Aggregate& r, const std::string& within) {
  return r.options.within.empty() ? r.options.metric : r.options.within + " = " + within;
}

// One within value's dot plot: per --by group its runs' values (labelled with the pair value and run id),
// and the mean with its 95% interval.
std::string panelSvg(const Aggregate& r, const std::string& within) {
  const AggregateOptions& o = r.options;
  std::vector<DotGroup> groups;
  for (const auto& by : r.byValues) {
    DotGroup g;
    g.label = by;
    g.mean = g.lo = g.hi = NAN;
    for (const auto& run : r.runs) {
      if (run.within != within || run.by != by) continue;
      g.values.push_back(run.value);
      g.pointLabels.push_back(o.pair + " " + run.pair + ": " + formatExact(run.value) + " (run " +
                              shortId(run.runId) + ")");
    }
    for (const auto& s : r.groups) {
      if (s.within != within || s.by != by) continue;
      g.mean = s.summary.mean;
      g.lo = s.summary.lo();
      g.hi = s.summary.hi();
    }
    groups.push_back(g);
  }
  DotPlotOptions plot;
  plot.title = panelCaption(r, within) + ": " + o.metric + " per " + o.by + ", each " + o.pair +
               " a dot, mean with 95% CI";
  plot.xLabel = o.by;
  plot.yLabel = o.metric;
  return dotPlotSvg(groups, plot);
}

} // namespace

std::string renderAggregateSvg(const Aggregate& r) {
  // The panels side by side under their captions, as one standalone file (a README can show it).
  const DotPlotOptions size;
  const int captionH = 22, n = int(r.withinValues.size());
  std::string svg = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {0} {1}\" "
                                "width=\"{0}\" height=\"{1}\" font-family=\"sans-serif\" font-size=\"12\">"
                                "<rect width=\"{0}\" height=\"{1}\" fill=\"#fff\"/>",
                                size.width * n, size.height + captionH);
  for (int i = 0; i < n; ++i) {
    const std::string& within = r.withinValues[size_t(i)];
    svg += fmt::format("<text x=\"{}\" y=\"16\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>",
                       size.width * i + size.width / 2, escapeHtml(panelCaption(r, within)));
    std::string panel = panelSvg(r, within);
    // Nested <svg> elements take x/y; the panel keeps its own viewBox.
    panel.insert(4, fmt::format(" x=\"{}\" y=\"{}\"", size.width * i, captionH));
    svg += panel;
  }
  return svg + "</svg>\n";
}

std::string renderAggregateJson(const Aggregate& r) {
  const AggregateOptions& o = r.options;
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  auto summary = [&](const Summary& s) {
    return nlohmann::json{{"n", s.n},
                          {"mean", number(s.mean)},
                          {"sd", number(s.sd)},
                          {"ci_low", number(s.lo())},
                          {"ci_high", number(s.hi())},
                          {"min", number(s.min)},
                          {"max", number(s.max)}};
  };
  nlohmann::json j;
  j["metric"] = o.metric;
  j["by"] = o.by;
  j["within"] = o.within;
  j["pair"] = o.pair;
  j["runs"] = nlohmann::json::array();
  for (const auto& run : r.runs)
    j["runs"].push_back({{"run_id", run.runId},
                         {"within", run.within},
                         {"by", run.by},
                         {"pair", run.pair},
                         {"value", run.value}});
  j["groups"] = nlohmann::json::array();
  for (const auto& g : r.groups) {
    nlohmann::json e = summary(g.summary);
    e["within"] = g.within;
    e["by"] = g.by;
    j["groups"].push_back(e);
  }
  j["comparisons"] = nlohmann::json::array();
  for (const auto& c : r.comparisons) {
    nlohmann::json e = summary(c.paired.difference);
    e["within"] = c.within;
    e["a"] = c.a;
    e["b"] = c.b;
    e["pairs"] = c.paired.keys;
    e["differences"] = c.paired.differences;
    e["wins"] = c.paired.wins;
    e["unpaired_a"] = c.paired.unpairedA;
    e["unpaired_b"] = c.paired.unpairedB;
    e["verdict"] = verdictText(c.paired.verdict, c.a, c.b);
    j["comparisons"].push_back(e);
  }
  j["left_out"] = r.leftOut;
  return j.dump(2) + "\n";
}

std::string renderAggregateHtml(const Aggregate& r) {
  const AggregateOptions& o = r.options;
  std::string title = o.title.empty() ? subject(o) : o.title;
  std::string body = "<main><h1>" + escapeHtml(title) + "</h1><p class=\"sub\">" + escapeHtml(headline(r));
  std::string note = leftOutNote(r);
  if (!note.empty()) body += "; " + escapeHtml(note);
  body += "</p>";

  body += "<section><div class=\"charts\">";
  for (const auto& within : r.withinValues)
    body += "<figure><figcaption>" + escapeHtml(panelCaption(r, within)) + "</figcaption>" +
            panelSvg(r, within) + "</figure>";
  body += "</div><p class=\"note\">Each dot is one " + escapeHtml(o.pair) +
          "; the bar beside the dots is the mean and the line through it the 95% CI (Student's t over " +
          escapeHtml(o.pair) + "; none for a single value).</p></section>";

  body += "<section>" + htmlTable(groupTable(r));
  if (!r.comparisons.empty()) body += htmlTable(comparisonTable(r));
  body += "</section></main>";
  return "<!DOCTYPE html>\n<html lang=\"en\" data-render=\"pending\"><head><meta charset=\"utf-8\">"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
         "<meta name=\"generator\" content=\"mhr\"><title>" +
         escapeHtml(title) + "</title><style>" + kCss + "</style></head><body>" + body + "<script>" +
         kPageCheckScript + "</script></body></html>\n";
}

} // namespace mhr::tracker
