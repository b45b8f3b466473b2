// tracker/report.cpp — see report.h. The page is assembled as a string; every piece of user or database text
// goes through escapeHtml() first. The only script is a few lines at the end that record, as attributes on
// <html>, that the page rendered and where the plots are (the headless-Chromium test reads them); the page
// works without it.
#include "tracker/report.h"

#include "support/files.h"
#include "support/strings.h"
#include "tracker/cam_overlay.h"
#include "tracker/html.h"
#include "tracker/param_value.h"
#include "tracker/png_writer.h"
#include "tracker/roc.h"
#include "tracker/run_reader.h"
#include "tracker/svg_plot.h"
#include "tracker/text_table.h"
#include "tracker/time_format.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

namespace mhr::tracker {

namespace {

std::string metricText(double v) {
  return formatMetric(v);
}

std::string errorText(double v) {
  if (std::isnan(v)) return "not checked";
  if (v == 0) return "0";
  return fmt::format("{:.1e}", v);
}

// Table cells: a dash for "not checked" (the column header explains), the error otherwise.
std::string errorCell(double v) {
  if (std::isnan(v)) return "<span title=\"not checked\">&#8212;</span>";
  return errorText(v);
}

std::string humanBytes(int64_t bytes) {
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double v = double(bytes);
  const char* units[] = {"KiB", "MiB", "GiB", "TiB"};
  int u = -1;
  while (v >= 1024 && u < 3) {
    v /= 1024;
    ++u;
  }
  return fmt::format("{:.1f} {}", v, units[u]);
}

const char* kCss = R"CSS(
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f5f6f8;--card:#fff;--accent:#2563eb}
*{box-sizing:border-box}
html{background:var(--bg)}
body{margin:0;color:var(--ink);font:14px/1.55 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans","DejaVu Sans",sans-serif;-webkit-font-smoothing:antialiased}
.wrap{max-width:1180px;margin:0 auto;padding:0 28px}
header.top{background:#fff;border-bottom:1px solid var(--line);padding:26px 0 22px}
.eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:11px;color:var(--muted);font-weight:600}
h1{font-size:26px;line-height:1.25;margin:4px 0 6px;font-weight:650;letter-spacing:-.01em}
h2{font-size:18px;margin:0 0 4px;font-weight:650;letter-spacing:-.005em}
h2+.note{margin-bottom:14px}
h3{font-size:14px;margin:22px 0 10px;font-weight:600;color:#374151}
.sub{color:var(--muted)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px}
dl.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:10px 24px;margin:18px 0 0}
dl.facts div{min-width:0}
dt{font-size:11px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
dd{margin:2px 0 0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
nav.toc{display:flex;flex-wrap:wrap;gap:6px;padding-top:16px;padding-bottom:2px}
nav.toc a{color:#374151;text-decoration:none;font-size:13px;padding:3px 11px;border-radius:999px;background:#fff;border:1px solid var(--line)}
nav.toc a:hover{border-color:#c7cdd6}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:22px 24px;margin:16px 0}
.note{color:var(--muted);font-size:13px;margin:0 0 12px}
.badge{display:inline-block;font-size:11.5px;font-weight:600;padding:0 8px;border-radius:999px;line-height:19px;white-space:nowrap;vertical-align:1px}
.st-finished{background:#dcfce7;color:#166534}.st-failed{background:#fee2e2;color:#991b1b}
.st-interrupted{background:#fef3c7;color:#92400e}.st-running{background:#dbeafe;color:#1e40af}
.v-exact{background:#dcfce7;color:#166534}.v-eval{background:#ccfbf1;color:#115e59}
.v-approximate{background:#fef3c7;color:#92400e}.v-refuted{background:#fee2e2;color:#991b1b}
.v-declared{background:#e5e7eb;color:#374151}
.callout{border-left:3px solid #dc2626;background:#fef2f2;padding:8px 12px;border-radius:4px;margin-top:16px}
.callout.warn{border-color:#d97706;background:#fffbeb}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px}
.card{border:1px solid var(--line);border-radius:8px;padding:12px 14px;min-width:0}
.card .value{font-size:24px;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.2}
.card .label{font-size:12.5px;color:#374151;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.card .stage{font-size:11.5px;color:var(--muted)}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;font-weight:600;color:#374151;border-bottom:1px solid #d1d5db;padding:6px 10px;white-space:nowrap}
td{border-bottom:1px solid #f0f1f3;padding:5px 10px;vertical-align:top;overflow-wrap:anywhere}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.table-wrap{overflow-x:auto}
.spec{border:1px solid var(--line);border-radius:8px;overflow:auto;background:#fbfbfc;padding:8px 0;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px;line-height:1.7}
.spec .line{display:grid;grid-template-columns:3.2em minmax(0,1fr) auto;gap:0 12px;padding:0 14px 0 6px}
.spec .line.marked{background:#eef4ff}
.spec .ln{color:#a0a7b2;text-align:right;user-select:none}
.spec .code{white-space:pre}
.spec .verdicts{display:flex;gap:4px;align-items:center;font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Arial,"DejaVu Sans",sans-serif}
.tok-kw{color:#6d28d9;font-weight:600}.tok-str{color:#047857}.tok-num{color:#b45309}.tok-com{color:#9ca3af;font-style:italic}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:22px 28px}
.charts.small{grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:16px}
figure{margin:0;min-width:0}
figcaption{font-size:13px;font-weight:600;margin-bottom:4px;color:#374151}
figcaption .sub{font-weight:400}
svg.plot{width:100%;height:auto;display:block;overflow:visible}
svg.plot .plot-area{fill:#fff}
svg.plot .grid{stroke:#eceef1;stroke-width:1}
svg.plot .axis{stroke:#9ca3af;stroke-width:1}
svg.plot .tick{font-size:11px;fill:#6b7280}
svg.plot .axis-label{font-size:11.5px;fill:#4b5563}
svg.plot .series{fill:none;stroke-width:1.8;stroke-linejoin:round;stroke-linecap:round}
svg.plot .chance{stroke:#b6bcc6;stroke-dasharray:4 4}
.legend{display:flex;flex-wrap:wrap;gap:2px 14px;font-size:12px;color:#374151;margin-top:6px}
.legend i,i.swatch{display:inline-block;width:14px;height:3px;border-radius:2px;vertical-align:middle;margin-right:6px}
.roc-row{display:grid;grid-template-columns:minmax(280px,420px) minmax(0,1fr);gap:28px;align-items:start}
@media (max-width:860px){.roc-row{grid-template-columns:1fr}.charts{grid-template-columns:1fr}}
.cm{width:auto}
.cm td,.cm th{text-align:center;min-width:74px}
.cm td.cell{font-variant-numeric:tabular-nums}
.cm td.cell small{display:block;color:inherit;opacity:.75;font-size:11px}
.cm th.row{text-align:right}
.samples{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:16px}
.sample{border:1px solid var(--line);border-radius:8px;padding:10px;min-width:0}
.sample .pics{display:grid;grid-template-columns:1fr 1fr;gap:6px}
.sample img{width:100%;height:auto;border-radius:4px;background:#111;display:block}
.sample .cap{font-size:12.5px;margin-top:8px;display:grid;grid-template-columns:auto 1fr;gap:0 8px}
.sample .cap span:nth-child(odd){color:var(--muted)}
.ok{color:#166534;font-weight:600}.bad{color:#991b1b;font-weight:600}
.scale{display:flex;align-items:center;gap:8px;font-size:12px;color:var(--muted);margin:0 0 12px}
.scale img{height:10px;width:160px;border-radius:2px}
.lineage{display:flex;align-items:center;flex-wrap:wrap;gap:10px;margin:6px 0 8px}
.node{border:1px solid #c7d2fe;background:#eef2ff;color:#3730a3;border-radius:8px;padding:4px 12px;font-weight:600}
.edge{color:var(--muted);font-size:12.5px}
ol.statements{margin:4px 0 10px;padding-left:22px}
ol.statements li{margin:2px 0}
.two{display:grid;grid-template-columns:1fr 1fr;gap:28px}
@media (max-width:860px){.two{grid-template-columns:1fr}}
footer{color:var(--muted);font-size:12px;padding:6px 0 40px}
@media print{html{background:#fff}section{break-inside:avoid;border:none;padding:0}nav.toc{display:none}}
)CSS";

// ------------------------------------------------------------------------------------------ spec text

// Light syntax colouring of one .mhr line: keywords, strings, numbers, comments.
std::string highlight(const std::string& line) {
  std::string out;
  size_t i = 0;
  const size_t n = line.size();
  while (i < n) {
    char c = line[i];
    if (c == '#') {
      out += "<span class=\"tok-com\">" + escapeHtml(line.substr(i)) + "</span>";
      break;
    }
    if (c == '"') {
      size_t j = i + 1;
      while (j < n && line[j] != '"') j += line[j] == '\\' ? 2 : 1;
      j = std::min(n, j + 1);
      out += "<span class=\"tok-str\">" + escapeHtml(line.substr(i, j - i)) + "</span>";
      i = j;
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < n && (std::isalnum(static_cast<unsigned char>(line[j])) || line[j] == '_')) ++j;
      std::string word = line.substr(i, j - i);
      bool afterDot = i > 0 && line[i - 1] == '.';
      out += mhrKeywords().count(word) && !afterDot ? "<span class=\"tok-kw\">" + escapeHtml(word) + "</span>"
                                                    : escapeHtml(word);
      i = j;
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) &&
        (i == 0 || (!std::isalnum(static_cast<unsigned char>(line[i - 1])) && line[i - 1] != '.'))) {
      size_t j = i;
      while (j < n && (std::isalnum(static_cast<unsigned char>(line[j])) || line[j] == '.' ||
                       ((line[j] == '-' || line[j] == '+') && (line[j - 1] == 'e' || line[j - 1] == 'E')))) {
        ++j;
      }
      out += "<span class=\"tok-num\">" + escapeHtml(line.substr(i, j - i)) + "</span>";
      i = j;
      continue;
    }
    out += escapeHtml(std::string(1, c));
    ++i;
  }
  return out;
}

// "path/to/file.mhr:12:5" -> ("path/to/file.mhr", 12); line 0 when it does not parse.
std::pair<std::string, int> parseLocation(const std::string& location) {
  size_t last = location.rfind(':');
  if (last == std::string::npos) return {location, 0};
  size_t prev = location.rfind(':', last - 1);
  std::string file = prev == std::string::npos ? location.substr(0, last) : location.substr(0, prev);
  std::string lineText =
      prev == std::string::npos ? location.substr(last + 1) : location.substr(prev + 1, last - prev - 1);
  try {
    return {file, std::stoi(lineText)};
  } catch (...) {
    return {location, 0};
  }
}

std::string verdictBadge(const runtime::VerdictRecord& v) {
  std::string title = v.network + " [" + std::to_string(v.statementIndex) + "] " + v.statement;
  if (!v.reason.empty()) title += "\n" + v.reason;
  if (!v.mode.empty()) title += "\nchecked in mode: " + v.mode;
  title += "\nmax abs error: " + errorText(v.maxAbsError);
  if (!std::isnan(v.borderError)) title += ", border pixels: " + errorText(v.borderError);
  if (!std::isnan(v.relError)) title += ", relative: " + errorText(v.relError);
  std::string text = v.verdict;
  if (!std::isnan(v.maxAbsError)) text += " · " + errorText(v.maxAbsError);
  return "<span class=\"badge v-" + escapeHtml(v.verdict) + "\" title=\"" + escapeHtml(title) + "\">" +
         escapeHtml(text) + "</span>";
}

// ------------------------------------------------------------------------------------------ metrics

struct KeyParts {
  std::string stage, metric, cls;
};

KeyParts splitKey(const std::string& key) {
  std::vector<std::string> parts = support::split(key, '/');
  if (parts.size() < 2) return {"", key, ""};
  KeyParts k{parts[0], parts[1], ""};
  for (size_t i = 2; i < parts.size(); ++i) k.cls += (i > 2 ? "/" : "") + parts[i];
  return k;
}

std::string legendHtml(const std::vector<PlotSeries>& series) {
  if (series.size() < 2) return "";
  std::string out = "<div class=\"legend\">";
  for (size_t i = 0; i < series.size(); ++i) {
    std::string color =
        series[i].color.empty() ? seriesPalette()[i % seriesPalette().size()] : series[i].color;
    out += "<span><i style=\"background:" + color + "\"></i>" + escapeHtml(series[i].name) + "</span>";
  }
  return out + "</div>";
}

class Page {
public:
  Page(Db& db, const std::string& runId, const ReportOptions& options)
      : db_(db), options_(options), run_(loadRun(db, runId)) {
    if (!options_.encodePng) options_.encodePng = encodePng;
  }

  std::string render() {
    history_ = loadMetricHistory(db_, run_.info.id);
    predictions_ = loadPredictions(db_, run_.info.id);
    cams_ = loadCams(db_, run_.info.id);

    std::string body;
    body += header();
    std::vector<std::pair<std::string, std::string>> sections = {
        {"summary", summary()},     {"spec", spec()},
        {"curves", curves()},       {"roc", roc()},
        {"confusion", confusion()}, {"samples", samples()},
        {"lineage", lineage()},     {"metrics", metricsTable()},
        {"params", params()},       {"environment", environment()}};
    std::string nav = "<nav class=\"toc wrap\">";
    std::string main = "<main class=\"wrap\">";
    static const std::map<std::string, std::string> titles = {
        {"summary", "Summary"},        {"spec", "Spec & proofs"},
        {"curves", "Learning curves"}, {"roc", "ROC"},
        {"confusion", "Confusion"},    {"samples", "Samples & CAMs"},
        {"lineage", "Lineage"},        {"metrics", "All metrics"},
        {"params", "Params"},          {"environment", "Environment"}};
    for (const auto& [id, content] : sections) {
      if (content.empty()) continue;
      nav += "<a href=\"#" + id + "\">" + escapeHtml(titles.at(id)) + "</a>";
      main += "<section id=\"" + id + "\">" + content + "</section>";
    }
    nav += "</nav>";
    main += "</main>";
    body += nav + main;
    body += "<footer class=\"wrap\">Generated by mhr from " + escapeHtml(db_.path()) + " at " +
            escapeHtml(formatIsoTime(nowMs())) +
            ". Self-contained: no network access is needed to view this file.</footer>";

    std::string title = "mhr report · " + run_.info.name + " · " + run_.info.experiment;
    return "<!DOCTYPE html>\n<html lang=\"en\" data-render=\"pending\"><head><meta charset=\"utf-8\">"
           "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
           "<meta name=\"generator\" content=\"mhr\"><title>" +
           escapeHtml(title) + "</title><style>" + kCss + "</style></head><body>" + body + "<script>" +
           kPageCheckScript + "</script></body></html>\n";
  }

private:
  static int64_t nowMs() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }

  std::string nextId() { return "p" + std::to_string(++plotCounter_); }

  std::string dataUri(const RgbImage& img) {
    std::string png = options_.encodePng(img.pixels.data(), img.width, img.height, 3);
    return "data:image/png;base64," + base64Encode(png);
  }

  std::string header() {
    const RunInfo& r = run_.info;
    std::string out = "<header class=\"top\"><div class=\"wrap\"><div class=\"eyebrow\">mhr run report</div>";
    out += "<h1>" + escapeHtml(r.name.empty() ? r.id : r.name) + "</h1>";
    out += "<div class=\"sub\">experiment <b>" + escapeHtml(r.experiment) + "</b> · run <code>" +
           escapeHtml(r.id) + "</code> <span class=\"badge st-" + escapeHtml(r.status) + "\">" +
           escapeHtml(r.status) + "</span></div>";
    out += "<dl class=\"facts\">";
    auto fact = [&](const std::string& name, const std::string& value, bool mono = false) {
      if (value.empty()) return;
      out += "<div><dt>" + escapeHtml(name) + "</dt><dd title=\"" + escapeHtml(value) + "\"" +
             (mono ? " class=\"mono\"" : "") + ">" + escapeHtml(value) + "</dd></div>";
    };
    fact("started", formatIsoTime(r.startTime));
    if (r.endTime) fact("duration", formatDuration(double(*r.endTime - r.startTime) / 1000.0));
    fact("seed", r.seed ? std::to_string(*r.seed) : "");
    fact("spec", r.specPath, true);
    fact("spec hash", r.specHash.substr(0, 16), true);
    fact("semantic hash", r.semanticHash.substr(0, 16), true);
    fact("user", r.userId);
    fact("mhr commit", r.sourceVersion, true);
    if (r.resumeCount)
      fact("resumed", std::to_string(r.resumeCount) + (r.resumeCount == 1 ? " time" : " times"));
    fact("metric points", std::to_string(run_.metricPoints));
    out += "</dl>";
    if (!r.statusMessage.empty()) {
      out += std::string("<div class=\"callout") + (r.status == "failed" ? "" : " warn") + "\"><b>" +
             escapeHtml(r.status) + ":</b> " + escapeHtml(r.statusMessage) + "</div>";
    }
    return out + "</div></header>";
  }

  std::string summary() {
    // With evaluation stages: one row per stage (in the order they ran), the headline metrics as columns, AUC
    // with its confidence interval, so the comparison a run exists for (e.g. low resolution vs morphed vs
    // scratch) is the first thing on the page. Without: the latest value of up to 8 single-class metrics.
    std::map<std::string, std::map<std::string, const MetricPoint*>> byStage;
    std::map<std::string, int64_t> firstStep;
    for (const auto& m : run_.latest) {
      KeyParts k = splitKey(m.key);
      if (!k.cls.empty() || k.stage.rfind("evaluate", 0) != 0) continue;
      byStage[k.stage][k.metric] = &m;
      auto it = firstStep.find(k.stage);
      if (it == firstStep.end() || m.step < it->second) firstStep[k.stage] = m.step;
    }
    if (!byStage.empty()) return summaryTable(byStage, firstStep);
    std::vector<const MetricPoint*> picked;
    for (const auto& m : run_.latest) {
      if (!splitKey(m.key).cls.empty()) continue;
      if (picked.size() < 8) picked.push_back(&m);
    }
    if (picked.empty()) return "";
    std::string out =
        "<h2>Summary</h2><p class=\"note\">Latest value of each headline metric.</p><div class=\"cards\">";
    for (const MetricPoint* m : picked) {
      KeyParts k = splitKey(m->key);
      out += "<div class=\"card\"><div class=\"value\">" + escapeHtml(metricText(m->value)) +
             "</div><div class=\"label\">" + escapeHtml(k.metric) + "</div><div class=\"stage\">" +
             escapeHtml(k.stage.empty() ? "run" : k.stage) + " · step " + std::to_string(m->step) +
             "</div></div>";
    }
    return out + "</div>";
  }

  std::string summaryTable(const std::map<std::string, std::map<std::string, const MetricPoint*>>& byStage,
                           const std::map<std::string, int64_t>& firstStep) {
    std::vector<std::string> stages;
    for (const auto& s : byStage) stages.push_back(s.first);
    std::stable_sort(stages.begin(), stages.end(), [&](const std::string& a, const std::string& b) {
      return firstStep.at(a) < firstStep.at(b);
    });
    // Columns: the usual headline metrics first, then any other, alphabetically; the CI bounds go with auc.
    const std::vector<std::string> preferred = {
        "auc",       "accuracy", "sensitivity", "specificity", "sensitivity_eer", "specificity_eer",
        "threshold", "loss"};
    std::set<std::string> present;
    for (const auto& s : byStage)
      for (const auto& m : s.second)
        if (m.first != "auc_ci_low" && m.first != "auc_ci_high") present.insert(m.first);
    std::vector<std::string> columns;
    for (const auto& c : preferred)
      if (present.erase(c)) columns.push_back(c);
    columns.insert(columns.end(), present.begin(), present.end());
    std::string out =
        "<h2>Summary</h2><p class=\"note\">Every evaluation of the run, in the order it ran; AUC "
        "with its bootstrap 95% confidence interval.</p><div class=\"table-wrap\"><table "
        "class=\"summary\"><thead><tr><th>stage</th>";
    for (const auto& c : columns) out += "<th class=\"num\">" + escapeHtml(c) + "</th>";
    out += "</tr></thead><tbody>";
    for (const auto& stage : stages) {
      const auto& metrics = byStage.at(stage);
      out += "<tr><td>" + escapeHtml(stage) + "</td>";
      for (const auto& c : columns) {
        auto it = metrics.find(c);
        std::string cell = it == metrics.end() ? "–" : metricText(it->second->value);
        if (c == "auc" && it != metrics.end()) {
          auto lo = metrics.find("auc_ci_low"), hi = metrics.find("auc_ci_high");
          if (lo != metrics.end() && hi != metrics.end())
            cell += " [" + metricText(lo->second->value) + ", " + metricText(hi->second->value) + "]";
        }
        out += "<td class=\"num\">" + escapeHtml(cell) + "</td>";
      }
      out += "</tr>";
    }
    return out + "</tbody></table></div>";
  }

  std::string spec() {
    if (run_.specText.empty() && run_.verdicts.empty()) return "";
    std::string specName = std::filesystem::path(run_.info.specPath).filename().string();
    std::map<int, std::vector<const runtime::VerdictRecord*>> byLine;
    std::vector<const runtime::VerdictRecord*> elsewhere;
    std::vector<std::string> lines = support::split(run_.specText, '\n');
    for (const auto& v : run_.verdicts) {
      auto [file, line] = parseLocation(v.location);
      bool sameFile =
          specName.empty() || file.empty() || std::filesystem::path(file).filename().string() == specName;
      if (sameFile && line >= 1 && line <= int(lines.size())) {
        byLine[line].push_back(&v);
        continue;
      }
      // No usable location: find the statement text in the spec instead.
      int found = 0;
      for (size_t i = 0; i < lines.size() && !found; ++i) {
        if (!v.statement.empty() && lines[i].find(v.statement) != std::string::npos) found = int(i) + 1;
      }
      if (found && sameFile) {
        byLine[found].push_back(&v);
      } else {
        elsewhere.push_back(&v);
      }
    }
    std::string out = "<h2>Spec and proofs</h2><p class=\"note\">The spec as it ran";
    if (!run_.info.specPath.empty()) out += " (<code>" + escapeHtml(run_.info.specPath) + "</code>)";
    // The file as written; --set overrides change it at compile time, so a reader must see them here.
    auto overrides = run_.tags.find("mhr.overrides");
    if (overrides != run_.tags.end() && !overrides->second.empty())
      out += ", with the overrides <code>" + escapeHtml(overrides->second) +
             "</code> applied on top of the text below";
    out += ". Each morph statement carries the compiler's verdict and the max abs error of the runtime's "
           "numeric "
           "re-check (float64, CPU); hover a badge for the reason.</p>";
    out += "<div class=\"legend\" style=\"margin:0 0 10px\">";
    for (const char* v : {"exact", "eval", "approximate", "refuted", "declared"}) {
      out += std::string("<span class=\"badge v-") + v + "\">" + v + "</span>";
    }
    out += "</div>";
    if (!run_.specText.empty()) {
      out += "<div class=\"spec\">";
      for (size_t i = 0; i < lines.size(); ++i) {
        if (i + 1 == lines.size() && lines[i].empty()) break; // the final newline
        auto it = byLine.find(int(i) + 1);
        out += std::string("<div class=\"line") + (it != byLine.end() ? " marked" : "") +
               "\"><span class=\"ln\">" + std::to_string(i + 1) + "</span><span class=\"code\">" +
               highlight(lines[i]) + "</span><span class=\"verdicts\">";
        if (it != byLine.end()) {
          for (const auto* v : it->second) out += verdictBadge(*v);
        }
        out += "</span></div>";
      }
      out += "</div>";
    }
    if (!run_.verdicts.empty()) {
      out += "<h3>Verdicts</h3><div class=\"table-wrap\"><table><thead><tr><th>network</th><th "
             "class=\"num\">#</th>"
             "<th>statement</th><th>verdict</th><th>mode</th><th class=\"num\">max abs error</th>"
             "<th class=\"num\">border</th><th "
             "class=\"num\">relative</th><th>reason</th><th>where</th></tr></thead><tbody>";
      for (const auto& v : run_.verdicts) {
        out += "<tr><td>" + escapeHtml(v.network) + "</td><td class=\"num\">" +
               std::to_string(v.statementIndex) + "</td><td><code>" + escapeHtml(v.statement) +
               "</code></td><td><span class=\"badge v-" + escapeHtml(v.verdict) + "\">" +
               escapeHtml(v.verdict) + "</span></td><td>" + escapeHtml(v.mode) + "</td><td class=\"num\">" +
               errorCell(v.maxAbsError) + "</td><td class=\"num\">" + errorCell(v.borderError) +
               "</td><td class=\"num\">" + errorCell(v.relError) + "</td><td>" + escapeHtml(v.reason) +
               "</td><td><code title=\"" + escapeHtml(v.location) + "\">" +
               escapeHtml(std::filesystem::path(v.location).filename().string()) + "</code></td></tr>";
      }
      out += "</tbody></table></div>";
      if (!elsewhere.empty()) {
        out += "<p class=\"note\">" + std::to_string(elsewhere.size()) +
               " statement(s) come from included files; they are listed in the table only.</p>";
      }
    }
    return out;
  }

  std::string curves() {
    // (stage order, stage, metric) -> class -> points. Stages appear in the order the run reached them
    // (their first logged point), not alphabetically.
    std::map<std::string, std::pair<int64_t, int64_t>> stageStart; // stage -> (first step, first timestamp)
    std::map<std::string, size_t> counts;
    for (const auto& p : history_) {
      ++counts[p.key];
      auto [it, fresh] = stageStart.try_emplace(splitKey(p.key).stage, p.step, p.timestamp);
      if (!fresh) it->second = std::min(it->second, std::make_pair(p.step, p.timestamp));
    }
    std::map<std::tuple<std::pair<int64_t, int64_t>, std::string, std::string>,
             std::map<std::string, PlotSeries>>
        ordered;
    for (const auto& p : history_) {
      if (counts[p.key] < 2) continue;
      KeyParts k = splitKey(p.key);
      PlotSeries& s = ordered[{stageStart[k.stage], k.stage, k.metric}][k.cls];
      s.name = k.cls.empty() ? k.metric : k.cls;
      s.x.push_back(double(p.step));
      s.y.push_back(p.value);
    }
    if (ordered.empty()) return "";
    std::vector<std::pair<std::pair<std::string, std::string>, std::map<std::string, PlotSeries>>> groups;
    for (auto& [key, byClass] : ordered)
      groups.push_back({{std::get<1>(key), std::get<2>(key)}, std::move(byClass)});
    std::string out =
        "<h2>Learning curves</h2><p class=\"note\">Every metric logged at more than one step, by stage; "
        "x is the optimizer step (or evaluation index).</p>";
    std::string currentStage = "\x01";
    for (auto& [key, byClass] : groups) {
      if (key.first != currentStage) {
        if (currentStage != "\x01") out += "</div>";
        currentStage = key.first;
        out += "<h3>" + escapeHtml(currentStage.empty() ? "run" : "stage " + currentStage) +
               "</h3><div class=\"charts\">";
      }
      std::vector<PlotSeries> series;
      for (auto& [cls, s] : byClass) {
        s.color = seriesPalette()[series.size() % seriesPalette().size()];
        series.push_back(s);
      }
      PlotOptions o;
      o.id = nextId();
      o.width = 520;
      o.height = 280;
      o.title = (key.first.empty() ? "" : key.first + " ") + key.second + " by step";
      o.xLabel = "step";
      o.yLabel = key.second;
      o.integerX = true;
      size_t points = 0;
      for (const auto& s : series) points += s.x.size();
      out += "<figure><figcaption>" + escapeHtml(key.second) + " <span class=\"sub\">· " +
             std::to_string(points) + " points</span></figcaption>" + lineChartSvg(series, o) +
             legendHtml(series) + "</figure>";
    }
    return out + "</div>";
  }

  struct ClassCurve {
    std::string name;
    RocCurve roc;
  };

  std::vector<ClassCurve> rocCurves(const runtime::PredictionSet& set) {
    std::vector<size_t> classes;
    if (!set.multiLabel && set.classes.size() == 2) {
      classes = {1}; // binary: the second class is the positive one
    } else {
      for (size_t c = 0; c < set.classes.size(); ++c) classes.push_back(c);
    }
    std::vector<ClassCurve> out;
    for (size_t c : classes) {
      std::vector<float> labels, scores;
      for (size_t i = 0; i < set.sampleIds.size(); ++i) {
        labels.push_back(set.labels[i][c]);
        scores.push_back(set.scores[i][c]);
      }
      out.push_back({set.classes[c], computeRoc(labels, scores)});
    }
    return out;
  }

  std::string roc() {
    if (predictions_.empty()) return "";
    std::string out =
        "<h2>ROC curves</h2><p class=\"note\">Per class (one-vs-rest; binary sets: the second class "
        "is positive). AUC with a 95% DeLong interval.</p>";
    for (const auto& set : predictions_) {
      std::string bad = scoreProblem(set);
      out += "<h3>" + escapeHtml(set.stage) + " <span class=\"sub\">· " +
             std::to_string(set.sampleIds.size()) + " samples, " +
             (set.multiLabel ? "multi-label" : "single-label") + "</span></h3>";
      if (!bad.empty()) {
        out += "<div class=\"callout warn\">" + escapeHtml(bad) + "</div>";
        continue;
      }
      std::vector<ClassCurve> curves = rocCurves(set);
      std::vector<PlotSeries> series;
      double aucSum = 0;
      int aucCount = 0;
      for (size_t i = 0; i < curves.size(); ++i) {
        const auto& c = curves[i];
        PlotSeries s;
        s.name = c.name + (std::isnan(c.roc.auc) ? " (AUC n/a)" : fmt::format(" (AUC {:.3f})", c.roc.auc));
        s.x = c.roc.fpr;
        s.y = c.roc.tpr;
        s.color = seriesPalette()[i % seriesPalette().size()];
        series.push_back(s);
        if (!std::isnan(c.roc.auc)) {
          aucSum += c.roc.auc;
          ++aucCount;
        }
      }
      auto rocOptions = [&](int size, const std::string& title) {
        PlotOptions o;
        o.id = nextId();
        o.width = size;
        o.height = size;
        o.title = title;
        o.xLabel = "false positive rate";
        o.yLabel = "true positive rate";
        o.xMin = 0;
        o.xMax = 1;
        o.yMin = 0;
        o.yMax = 1;
        o.diagonal = true;
        return o;
      };
      std::string charts;
      if (series.size() <= 6) {
        charts = "<figure>" + lineChartSvg(series, rocOptions(400, set.stage + " ROC")) + legendHtml(series) +
                 "</figure>";
      } else {
        charts = "<div class=\"charts small\">";
        for (const auto& s : series) {
          charts += "<figure><figcaption>" + escapeHtml(s.name) + "</figcaption>" +
                    lineChartSvg({s}, rocOptions(240, set.stage + " ROC " + s.name)) + "</figure>";
        }
        charts += "</div>";
      }
      std::string table =
          "<table><thead><tr><th>class</th><th class=\"num\">positives</th><th class=\"num\">negatives</th>"
          "<th class=\"num\">AUC</th><th class=\"num\">95% CI</th></tr></thead><tbody>";
      for (size_t i = 0; i < curves.size(); ++i) {
        const auto& c = curves[i];
        table +=
            "<tr><td><i class=\"swatch\" style=\"background:" + seriesPalette()[i % seriesPalette().size()] +
            "\"></i>" + escapeHtml(c.name) + "</td><td class=\"num\">" + std::to_string(c.roc.positives) +
            "</td><td class=\"num\">" + std::to_string(c.roc.negatives) + "</td>";
        if (std::isnan(c.roc.auc)) {
          table += "<td class=\"num\">n/a</td><td class=\"num\">" +
                   std::string(c.roc.positives ? "no negative samples" : "no positive samples") +
                   "</td></tr>";
        } else {
          table += fmt::format("<td class=\"num\">{:.3f}</td><td class=\"num\">{:.3f} – {:.3f}</td></tr>",
                               c.roc.auc, c.roc.ciLow, c.roc.ciHigh);
        }
      }
      if (aucCount > 1) {
        table += fmt::format(
            "<tr><td><b>macro average</b></td><td></td><td></td><td class=\"num\"><b>{:.3f}</b></td>"
            "<td></td></tr>",
            aucSum / aucCount);
      }
      table += "</tbody></table>";
      if (series.size() <= 6) {
        out += "<div class=\"roc-row\">" + charts + "<div class=\"table-wrap\">" + table + "</div></div>";
      } else {
        out += charts + "<div class=\"table-wrap\" style=\"margin-top:14px\">" + table + "</div>";
      }
    }
    return out;
  }

  static std::string scoreProblem(const runtime::PredictionSet& set) {
    for (size_t i = 0; i < set.scores.size(); ++i) {
      for (size_t c = 0; c < set.scores[i].size(); ++c) {
        if (!std::isfinite(set.scores[i][c])) {
          return "sample " + set.sampleIds[i] + " has a non-finite score for class " + set.classes[c] +
                 "; ROC and confusion matrix are not drawn for this stage";
        }
      }
    }
    if (set.sampleIds.empty()) return "the prediction set has no samples";
    return "";
  }

  // The threshold the run used at `stage` and where that comes from: the metric STAGE/threshold (logged when
  // `threshold: eer` picked it), else the param STAGE.threshold (the spec's number), else 0.5.
  std::pair<double, std::string> runThreshold(const std::string& stage) const {
    for (const auto& m : run_.latest)
      if (m.key == stage + "/threshold" && std::isfinite(m.value))
        return {m.value, "the equal-error threshold the run chose (`threshold: eer`)"};
    for (const auto& p : run_.params)
      if (p.key == stage + ".threshold") {
        if (const double* d = std::get_if<double>(&p.value)) return {*d, "the `threshold` in the spec"};
        if (const int64_t* i = std::get_if<int64_t>(&p.value))
          return {double(*i), "the `threshold` in the spec"};
      }
    return {0.5, "0.5: the run recorded no threshold for this stage"};
  }

  // The threshold drawn at `stage`, and the sentence that says which it is.
  std::pair<double, std::string> thresholdAt(const std::string& stage) const {
    auto [own, source] = runThreshold(stage);
    if (options_.threshold)
      return {*options_.threshold,
              fmt::format("Threshold {} on the positive score, set by `--threshold` (the "
                          "run used {}: {}).",
                          formatExact(*options_.threshold), formatExact(own), source)};
    return {own, fmt::format("Threshold {} on the positive score: {}.", formatExact(own), source)};
  }

  std::string confusion() {
    if (predictions_.empty()) return "";
    std::string out = "<h2>Confusion</h2><p class=\"note\">The threshold applies to the positive score "
                      "(binary and multi-label); the highest score otherwise. Rows: true class; columns: "
                      "predicted.</p>";
    for (const auto& set : predictions_) {
      out += "<h3>" + escapeHtml(set.stage) + "</h3>";
      const auto [threshold, said] = thresholdAt(set.stage);
      if (set.multiLabel || set.classes.size() == 2) out += "<p class=\"note\">" + escapeHtml(said) + "</p>";
      if (!scoreProblem(set).empty()) {
        out += "<p class=\"note\">Not drawn: " + escapeHtml(scoreProblem(set)) + "</p>";
        continue;
      }
      if (set.multiLabel) {
        out += "<div class=\"table-wrap\"><table><thead><tr><th>label</th><th class=\"num\">TP</th><th "
               "class=\"num\">FP</th>"
               "<th class=\"num\">FN</th><th class=\"num\">TN</th><th class=\"num\">sensitivity</th>"
               "<th class=\"num\">specificity</th></tr></thead><tbody>";
        for (size_t c = 0; c < set.classes.size(); ++c) {
          std::vector<float> labels, scores;
          for (size_t i = 0; i < set.sampleIds.size(); ++i) {
            labels.push_back(set.labels[i][c]);
            scores.push_back(set.scores[i][c]);
          }
          BinaryCounts b = countAtThreshold(labels, scores, threshold);
          out +=
              "<tr><td>" + escapeHtml(set.classes[c]) + "</td>" +
              fmt::format("<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                          "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                          b.tp, b.fp, b.fn, b.tn, metricText(b.sensitivity()), metricText(b.specificity()));
        }
        out += "</tbody></table></div>";
        continue;
      }
      const size_t k = set.classes.size();
      std::vector<std::vector<int64_t>> m(k, std::vector<int64_t>(k, 0));
      int64_t correct = 0;
      for (size_t i = 0; i < set.sampleIds.size(); ++i) {
        size_t truth =
            size_t(std::max_element(set.labels[i].begin(), set.labels[i].end()) - set.labels[i].begin());
        size_t predicted;
        if (k == 2) {
          predicted = set.scores[i][1] >= threshold ? 1 : 0;
        } else {
          predicted =
              size_t(std::max_element(set.scores[i].begin(), set.scores[i].end()) - set.scores[i].begin());
        }
        ++m[truth][predicted];
        if (truth == predicted) ++correct;
      }
      out +=
          "<div class=\"table-wrap\"><table class=\"cm\"><thead><tr><th class=\"row\">true \\ predicted</th>";
      for (const auto& c : set.classes) out += "<th>" + escapeHtml(c) + "</th>";
      out += "<th class=\"num\">recall</th></tr></thead><tbody>";
      for (size_t t = 0; t < k; ++t) {
        int64_t rowTotal = 0;
        for (size_t p = 0; p < k; ++p) rowTotal += m[t][p];
        out += "<tr><th class=\"row\">" + escapeHtml(set.classes[t]) + "</th>";
        for (size_t p = 0; p < k; ++p) {
          double share = rowTotal ? double(m[t][p]) / double(rowTotal) : 0;
          // Diagonal cells in blue, errors in red; the shade follows the row share.
          std::string rgb = t == p ? "37,99,235" : "220,38,38";
          std::string ink = share > 0.55 ? "#fff" : "#1f2937";
          out += fmt::format("<td class=\"cell\" "
                             "style=\"background:rgba({},{:.2f});color:{}\">{}<small>{:.0f}%</small></td>",
                             rgb, 0.08 + 0.8 * share, ink, m[t][p], share * 100);
        }
        out += "<td class=\"num\">" +
               (rowTotal ? metricText(double(m[t][t]) / double(rowTotal)) : std::string("-")) + "</td></tr>";
      }
      out += "</tbody></table></div>";
      out += fmt::format("<p class=\"note\" style=\"margin-top:8px\">Accuracy {} ({} of {} samples).</p>",
                         metricText(double(correct) / double(set.sampleIds.size())), correct,
                         set.sampleIds.size());
    }
    return out;
  }

  std::string samples() {
    if (cams_.empty()) return "";
    std::string out =
        "<h2>Sample predictions</h2><p class=\"note\">Input as the network saw it, and the same input "
        "with its Grad-CAM class-activation map.</p>";
    RgbImage scale = colorScale(160, 10);
    out +=
        "<div class=\"scale\"><span>low</span><img alt=\"colour scale\" width=\"160\" height=\"10\" src=\"" +
        dataUri(scale) + "\"><span>high activation</span></div><div class=\"samples\">";
    size_t shown = 0;
    for (const auto& cam : cams_) {
      if (shown == options_.maxSamples) break;
      ++shown;
      out += "<div class=\"sample\">";
      std::string problem = camProblem(cam);
      if (problem.empty()) {
        RgbImage input = renderInput(cam, options_.maxImageSide);
        RgbImage overlay = renderOverlay(cam, options_.maxImageSide);
        out += fmt::format(
            "<div class=\"pics\"><img alt=\"input {0}\" width=\"{1}\" height=\"{2}\" src=\"{3}\">"
            "<img alt=\"Grad-CAM {0}\" width=\"{1}\" height=\"{2}\" src=\"{4}\"></div>",
            escapeHtml(cam.sampleId), input.width, input.height, dataUri(input), dataUri(overlay));
        if (std::string flat = camFlatness(cam); !flat.empty())
          out += "<div class=\"callout warn\">" + escapeHtml(flat) + "</div>";
      } else {
        out += "<div class=\"callout warn\">Cannot draw this sample: " + escapeHtml(problem) + "</div>";
      }
      std::string predictedClass =
          support::split(cam.predicted, ' ').empty() ? "" : support::split(cam.predicted, ' ')[0];
      std::set<std::string> truth;
      for (const auto& l : support::split(cam.label, '|')) truth.insert(support::trim(l));
      bool right = !predictedClass.empty() && truth.count(predictedClass);
      out += "<div class=\"cap\"><span>sample</span><span class=\"mono\">" + escapeHtml(cam.sampleId) +
             "</span><span>true</span><span>" + escapeHtml(cam.label) +
             "</span><span>predicted</span><span class=\"" + (right ? "ok" : "bad") + "\">" +
             escapeHtml(cam.predicted) + "</span><span>stage</span><span>" + escapeHtml(cam.stage) +
             "</span></div></div>";
    }
    out += "</div>";
    if (cams_.size() > shown) {
      out += "<p class=\"note\" style=\"margin-top:10px\">" + std::to_string(cams_.size() - shown) +
             " more samples are in the tracker (cams table).</p>";
    }
    return out;
  }

  std::string lineage() {
    if (run_.lineage.empty()) return "";
    std::string out = "<h2>Lineage</h2><p class=\"note\">Which network each morphed network starts from, and "
                      "the statements that transform it.</p>";
    for (const auto& l : run_.lineage) {
      out += "<div class=\"lineage\"><span class=\"node\">" + escapeHtml(l.parent) +
             "</span><span class=\"edge\">── " +
             escapeHtml(l.parentStage.empty() ? "initial weights" : "weights after " + l.parentStage) +
             " · morph ──▶</span><span class=\"node\">" + escapeHtml(l.child) +
             "</span></div><ol class=\"statements\">";
      for (size_t i = 0; i < l.statements.size(); ++i) {
        std::string badge;
        for (const auto& v : run_.verdicts) {
          if (v.network == l.child && v.statementIndex == int(i)) badge = " " + verdictBadge(v);
        }
        out += "<li><code>" + escapeHtml(l.statements[i]) + "</code>" + badge + "</li>";
      }
      out += "</ol>";
    }
    return out;
  }

  std::string metricsTable() {
    if (run_.latest.empty()) return "";
    std::string out =
        "<h2>All metrics</h2><p class=\"note\">Latest value of every metric key (MLflow's "
        "latest_metrics).</p><div class=\"table-wrap\"><table><thead><tr><th>stage</th><th>metric</th>"
        "<th>class</th><th class=\"num\">value</th><th class=\"num\">step</th><th class=\"num\">epoch</th>"
        "</tr></thead><tbody>";
    for (const auto& m : run_.latest) {
      KeyParts k = splitKey(m.key);
      out += "<tr><td>" + escapeHtml(k.stage) + "</td><td>" + escapeHtml(k.metric) + "</td><td>" +
             escapeHtml(k.cls) + "</td><td class=\"num\" title=\"" + escapeHtml(formatExact(m.value)) +
             "\">" + escapeHtml(std::isnan(m.value) ? "nan" : fmt::format("{:.6g}", m.value)) +
             "</td><td class=\"num\">" + std::to_string(m.step) + "</td><td class=\"num\">" +
             (m.epoch ? std::to_string(m.epoch) : "") + "</td></tr>";
    }
    return out + "</tbody></table></div>";
  }

  std::string params() {
    if (run_.params.empty() && run_.tags.empty() && run_.info.resolvedSettings.size() <= 2) return "";
    std::string out = "<h2>Params</h2><div class=\"two\"><div>";
    if (!run_.params.empty()) {
      out +=
          "<h3 "
          "style=\"margin-top:6px\">Params</h3><table><thead><tr><th>key</th><th>value</th><th>type</th></tr>"
          "</thead><tbody>";
      for (const auto& p : run_.params) {
        out += "<tr><td><code>" + escapeHtml(p.key) + "</code></td><td>" + escapeHtml(paramText(p.value)) +
               "</td><td>" + paramTypeName(p.value) + "</td></tr>";
      }
      out += "</tbody></table>";
    }
    out += "</div><div>";
    try {
      auto settings =
          nlohmann::json::parse(run_.info.resolvedSettings.empty() ? "{}" : run_.info.resolvedSettings);
      if (!settings.empty()) {
        out += "<h3 style=\"margin-top:6px\">Resolved settings</h3><table><tbody>";
        for (auto it = settings.begin(); it != settings.end(); ++it) {
          out += "<tr><td><code>" + escapeHtml(it.key()) + "</code></td><td>" +
                 escapeHtml(it->is_string() ? it->get<std::string>() : it->dump()) + "</td></tr>";
        }
        out += "</tbody></table>";
      }
    } catch (const std::exception&) {
      out += "<p class=\"note\">Resolved settings: " + escapeHtml(run_.info.resolvedSettings) + "</p>";
    }
    if (!run_.tags.empty()) {
      out += "<h3>Tags</h3><table><tbody>";
      for (const auto& [k, v] : run_.tags)
        out += "<tr><td><code>" + escapeHtml(k) + "</code></td><td>" + escapeHtml(v) + "</td></tr>";
      out += "</tbody></table>";
    }
    return out + "</div></div>";
  }

  std::string environment() {
    if (run_.environment.empty() && run_.artifacts.empty()) return "";
    std::string out = "<h2>Environment</h2>";
    if (!run_.environment.empty()) {
      out += "<p class=\"note\">Where and with what the run executed.</p><table><tbody>";
      for (const auto& [k, v] : run_.environment) {
        out += "<tr><td style=\"width:30%\">" + escapeHtml(k) + "</td><td>" + escapeHtml(v) + "</td></tr>";
      }
      out += "</tbody></table>";
    }
    if (!run_.artifacts.empty()) {
      out += "<h3>Artifacts</h3><div "
             "class=\"table-wrap\"><table><thead><tr><th>kind</th><th>stage</th><th>path</th>"
             "<th class=\"num\">size</th><th>sha256</th></tr></thead><tbody>";
      for (const auto& a : run_.artifacts) {
        out += "<tr><td>" + escapeHtml(a.kind) + "</td><td>" + escapeHtml(a.stage) + "</td><td><code>" +
               escapeHtml(a.path) + "</code></td><td class=\"num\">" + escapeHtml(humanBytes(a.bytes)) +
               "</td><td><code title=\"" + escapeHtml(a.sha256) + "\">" + escapeHtml(a.sha256.substr(0, 16)) +
               "</code></td></tr>";
      }
      out += "</tbody></table></div>";
    }
    return out;
  }

  Db& db_;
  ReportOptions options_;
  RunDetails run_;
  std::vector<MetricPoint> history_;
  std::vector<runtime::PredictionSet> predictions_;
  std::vector<runtime::CamRecord> cams_;
  int plotCounter_ = 0;
};

} // namespace

const std::set<std::string>& mhrKeywords() {
  // The keyword tokens of grammar/Mhr.g4 (a test checks that they agree). Words that are only values to
  // the grammar, such as the preservation modes, stay uncoloured.
  static const std::set<std::string> keywords = {
      "experiment", "seed",       "preservation", "include", "dataset", "network", "morph",
      "train",      "evaluate",   "on",           "at",      "sweep",   "upscale", "by",
      "deepen",     "after",      "with",         "widen",   "to",      "split",   "grow",
      "kernel",     "activation", "replace",      "head",    "branch",  "true",    "false"};
  return keywords;
}

std::string renderReport(Db& db, const std::string& runId, const ReportOptions& options) {
  return Page(db, runId, options).render();
}

void writeReport(Db& db, const std::string& runId, const std::string& path, const ReportOptions& options) {
  support::writeFileAtomic(path, renderReport(db, runId, options));
}

} // namespace mhr::tracker
