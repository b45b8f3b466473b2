// tracker/runs_output.cpp — see runs_output.h.
#include "tracker/runs_output.h"

#include "support/error.h"
#include "support/strings.h"
#include "tracker/aggregate.h"
#include "tracker/param_value.h"
#include "tracker/text_table.h"
#include "tracker/time_format.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace mhr::tracker {

namespace {

std::string cellText(const SqlValue& v) {
  if (std::holds_alternative<std::nullptr_t>(v)) return "";
  if (auto i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (auto d = std::get_if<double>(&v)) return formatMetric(*d);
  return std::get<std::string>(v);
}

std::optional<double> cellNumber(const SqlValue& v) {
  if (auto i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  if (auto d = std::get_if<double>(&v)) return *d;
  return std::nullopt;
}

std::string headerOf(const FieldRef& f) {
  if (f.entity != Entity::Attribute) return f.label;
  if (f.name == "run_id") return "run";
  if (f.name == "run_name") return "name";
  if (f.name == "start_time") return "started";
  if (f.name == "end_time") return "ended";
  return f.name;
}

std::string formatCell(const FieldRef& f, const SqlValue& v) {
  if (std::holds_alternative<std::nullptr_t>(v)) return "";
  if (f.entity == Entity::Attribute) {
    if (f.name == "run_id") return shortId(cellText(v));
    if (f.name == "start_time" || f.name == "end_time") {
      auto ms = cellNumber(v);
      return ms ? formatLocalTime(static_cast<int64_t>(*ms)) : cellText(v);
    }
    if (f.name == "duration") {
      auto s = cellNumber(v);
      return s ? formatDuration(*s) : "";
    }
    return cellText(v);
  }
  if (f.entity == Entity::Param) {
    if (auto d = std::get_if<double>(&v)) return support::formatNumber(*d);
  }
  return cellText(v);
}

bool numericColumn(const FieldRef& f) {
  if (f.entity == Entity::Metric) return true;
  if (f.entity == Entity::Attribute) {
    return f.name == "duration" || f.name == "seed" || f.name == "experiment_id" || f.name == "resume_count";
  }
  return false;
}

std::string entityWord(Entity e) {
  switch (e) {
  case Entity::Metric:
    return "metric";
  case Entity::Param:
    return "param";
  case Entity::Tag:
    return "tag";
  case Entity::Env:
    return "environment fact";
  case Entity::Attribute:
    return "attribute";
  }
  return "";
}

std::string paramDisplay(const runtime::ParamValue& v) {
  return paramText(v);
}

std::string errorCell(double v) {
  return std::isnan(v) ? "-" : fmt::format("{:.2g}", v);
}

std::vector<std::vector<std::string>> chunks(const std::vector<std::string>& ids, size_t size) {
  std::vector<std::vector<std::string>> out;
  for (size_t i = 0; i < ids.size(); i += size) {
    out.emplace_back(ids.begin() + static_cast<long>(i),
                     ids.begin() + static_cast<long>(std::min(ids.size(), i + size)));
  }
  return out;
}

std::string placeholders(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ", ?" : "?";
  return s;
}

nlohmann::json jsonNumber(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

nlohmann::json jsonParam(const runtime::ParamValue& v) {
  if (auto d = std::get_if<double>(&v)) return jsonNumber(*d);
  return std::visit([](const auto& x) { return nlohmann::json(x); }, v);
}

} // namespace

// ------------------------------------------------------------------------------------------------- list

std::vector<std::string> fieldWarnings(Db& db, const ListOptions& options) {
  std::vector<FieldRef> fields = compileWhere(options.selection.where).fields;
  for (const auto& key : parseSort(options.selection.sort)) fields.push_back(key.field);
  for (const auto& column : parseColumns(options.columns)) fields.push_back(column);
  std::vector<std::string> warnings;
  std::set<std::string> seen;
  for (const auto& f : fields) {
    if (f.entity == Entity::Attribute || !seen.insert(f.label).second) continue;
    if (keyExists(db, f.entity, f.name)) continue;
    std::string suggestion = support::closestMatch(f.name, knownKeys(db, f.entity));
    warnings.push_back("no run has " + entityWord(f.entity) + " '" + f.name + "'" +
                       (suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)"));
  }
  return warnings;
}

std::string renderList(Db& db, const ListOptions& options) {
  std::vector<FieldRef> columns;
  if (options.columns.empty()) {
    columns = parseColumns("run_id, experiment, run_name, status, start_time, duration");
    std::set<std::string> shown;
    auto addUsed = [&](const FieldRef& f) {
      if (f.entity != Entity::Attribute && shown.insert(f.label).second) columns.push_back(f);
    };
    for (const auto& f : compileWhere(options.selection.where).fields) addUsed(f);
    for (const auto& key : parseSort(options.selection.sort)) addUsed(key.field);
  } else {
    columns = parseColumns(options.columns);
  }
  auto rows = queryRuns(db, options.selection, columns);
  if (rows.empty()) {
    bool any = db.read([&] {
      Stmt s = db.prepare("SELECT 1 FROM runs LIMIT 1");
      return s.step();
    });
    if (!any) return "no runs in '" + db.path() + "' yet\n";
    return "no run matches the selection\n";
  }
  std::vector<std::string> header;
  for (const auto& c : columns) header.push_back(headerOf(c));
  TextTable table(header);
  for (size_t c = 0; c < columns.size(); ++c) {
    bool numeric = numericColumn(columns[c]);
    if (columns[c].entity == Entity::Param) {
      numeric = true; // right-align params whose every value is a number
      for (const auto& row : rows) {
        if (std::holds_alternative<std::string>(row[c + 1])) numeric = false;
      }
    }
    if (numeric) table.alignRight(c);
  }
  for (const auto& row : rows) {
    std::vector<std::string> cells;
    for (size_t c = 0; c < columns.size(); ++c) cells.push_back(formatCell(columns[c], row[c + 1]));
    table.addRow(std::move(cells));
  }
  return table.render(48);
}

// ------------------------------------------------------------------------------------------------- show

std::string renderShow(Db& db, const std::string& runId, bool withSpec) {
  RunDetails d = loadRun(db, runId);
  const RunInfo& r = d.info;
  std::string out;
  auto field = [&](const std::string& name, const std::string& value) {
    if (!value.empty()) out += fmt::format("{:<15}{}\n", name, value);
  };
  field("run", r.id);
  field("name", r.name);
  field("experiment", r.experiment);
  field("status", r.status + (r.statusMessage.empty() ? "" : ": " + r.statusMessage));
  std::string started = formatLocalTime(r.startTime);
  if (r.endTime) {
    started += "  (ended " + formatLocalTime(*r.endTime) + ", took " +
               formatDuration(double(*r.endTime - r.startTime) / 1000.0) + ")";
  }
  field("started", started);
  if (r.resumeCount > 0)
    field("resumed", std::to_string(r.resumeCount) + (r.resumeCount == 1 ? " time" : " times"));
  field("spec", r.specPath);
  field("spec hash", r.specHash);
  field("semantic hash", r.semanticHash);
  field("seed", r.seed ? std::to_string(*r.seed) : "");
  field("user", r.userId);
  field("mhr commit", r.sourceVersion);

  if (!d.params.empty()) {
    out += "\nParams (" + std::to_string(d.params.size()) + ")\n";
    TextTable t({"key", "value", "type"}, "  ");
    for (const auto& p : d.params) t.addRow({p.key, paramDisplay(p.value), paramTypeName(p.value)});
    out += t.render();
  }
  if (!d.latest.empty()) {
    out += fmt::format("\nMetrics (latest value of {} keys; {} points logged)\n", d.latest.size(),
                       d.metricPoints);
    TextTable t({"key", "value", "step", "epoch"}, "  ");
    t.alignRight(1);
    t.alignRight(2);
    t.alignRight(3);
    for (const auto& m : d.latest) {
      t.addRow({m.key, formatExact(m.value), std::to_string(m.step), m.epoch ? std::to_string(m.epoch) : ""});
    }
    out += t.render();
  }
  if (!d.verdicts.empty()) {
    out += "\nVerdicts (numeric re-check: max abs error, border pixels, relative)\n";
    TextTable t({"network", "#", "statement", "verdict", "mode", "max abs", "border", "rel", "reason"}, "  ");
    for (size_t c : {1, 5, 6, 7}) t.alignRight(c);
    for (const auto& v : d.verdicts) {
      t.addRow({v.network, std::to_string(v.statementIndex), v.statement, v.verdict, v.mode,
                errorCell(v.maxAbsError), errorCell(v.borderError), errorCell(v.relError), v.reason});
    }
    out += t.render();
  }
  if (!d.lineage.empty()) {
    out += "\nLineage\n";
    for (const auto& l : d.lineage) {
      out += "  " + l.child + " <- " + l.parent +
             (l.parentStage.empty() ? " (initial weights)" : " (weights after " + l.parentStage + ")") + "\n";
      for (const auto& s : l.statements) out += "      " + s + "\n";
    }
  }
  if (!d.predictionSets.empty() || d.camCount > 0) {
    out += "\nPredictions\n";
    for (const auto& p : d.predictionSets) {
      out += fmt::format("  {}: {} samples, {} {} ({})\n", p.stage, p.samples, p.classes.size(),
                         p.multiLabel ? "labels" : "classes", support::join(p.classes, ", "));
    }
    if (d.camCount > 0)
      out += fmt::format("  {} class-activation maps (mhr report shows them)\n", d.camCount);
  }
  if (!d.artifacts.empty()) {
    out += "\nArtifacts\n";
    TextTable t({"kind", "stage", "path", "bytes", "sha256"}, "  ");
    t.alignRight(3);
    for (const auto& a : d.artifacts) {
      t.addRow({a.kind, a.stage, a.path, std::to_string(a.bytes), a.sha256.substr(0, 16)});
    }
    out += t.render();
  }
  if (!d.environment.empty()) {
    out += "\nEnvironment\n";
    TextTable t({"key", "value"}, "  ");
    for (const auto& [k, v] : d.environment) t.addRow({k, v});
    out += t.render();
  }
  if (!d.tags.empty()) {
    out += "\nTags\n";
    TextTable t({"key", "value"}, "  ");
    for (const auto& [k, v] : d.tags) t.addRow({k, v});
    out += t.render();
  }
  if (!r.resolvedSettings.empty() && r.resolvedSettings != "{}") {
    out += "\nResolved settings\n";
    try {
      auto j = nlohmann::json::parse(r.resolvedSettings);
      for (auto it = j.begin(); it != j.end(); ++it) {
        out += "  " + it.key() + " = " + (it->is_string() ? it->get<std::string>() : it->dump()) + "\n";
      }
    } catch (const std::exception&) {
      out += "  " + r.resolvedSettings + "\n";
    }
  }
  if (withSpec) {
    out += "\nSpec (" + (r.specPath.empty() ? std::string("as run") : r.specPath) + ")\n";
    out += d.specText;
    if (!d.specText.empty() && d.specText.back() != '\n') out += "\n";
  }
  return support::terminalSafe(out); // names, tags, params and error texts are user text
}

// ---------------------------------------------------------------------------------------------- compare

Agreement compareHistories(const std::vector<MetricPoint>& a, const std::vector<MetricPoint>& b,
                           double tolerance) {
  // The last value per (key, step): a resumed run may have logged a step twice.
  auto index = [](const std::vector<MetricPoint>& points) {
    std::map<std::pair<std::string, int64_t>, double> byStep;
    for (const auto& p : points) byStep[{p.key, p.step}] = p.value;
    return byStep;
  };
  auto ia = index(a), ib = index(b);
  std::set<std::string> keysA, keysB;
  for (const auto& [k, v] : ia) keysA.insert(k.first);
  for (const auto& [k, v] : ib) keysB.insert(k.first);
  Agreement result;
  for (const auto& k : keysA) result.keysOnlyInOne += keysB.count(k) ? 0 : 1;
  for (const auto& k : keysB) result.keysOnlyInOne += keysA.count(k) ? 0 : 1;
  bool identical = true;
  for (const auto& [key, va] : ia) {
    auto it = ib.find(key);
    if (it == ib.end()) {
      if (keysB.count(key.first)) ++result.stepsOnlyInOne;
      continue;
    }
    double vb = it->second;
    ++result.sharedPoints;
    bool same = (std::isnan(va) && std::isnan(vb)) || va == vb;
    if (same) continue;
    identical = false;
    double abs = std::isnan(va) || std::isnan(vb) ? INFINITY : std::fabs(va - vb);
    double scale = std::max({std::fabs(va), std::fabs(vb), 1e-300});
    double rel = std::isinf(abs) ? INFINITY : abs / scale;
    if (result.firstDiffKey.empty()) {
      result.firstDiffKey = key.first;
      result.firstDiffStep = key.second;
      result.firstDiffA = va;
      result.firstDiffB = vb;
    }
    result.maxAbsDiff = std::max(result.maxAbsDiff, abs);
    result.maxRelDiff = std::max(result.maxRelDiff, rel);
  }
  for (const auto& [key, vb] : ib) {
    (void)vb;
    if (!ia.count(key) && keysA.count(key.first)) ++result.stepsOnlyInOne;
  }
  bool complete = result.keysOnlyInOne == 0 && result.stepsOnlyInOne == 0;
  if (identical && complete) {
    result.kind = Agreement::Kind::Identical;
  } else if (complete && result.maxRelDiff <= tolerance) {
    result.kind = Agreement::Kind::WithinTolerance;
  } else {
    result.kind = Agreement::Kind::Differ;
  }
  return result;
}

std::vector<std::string> runsOfSweep(Db& db, const std::string& sweepId) {
  return db.read([&] {
    std::vector<std::string> ids;
    Stmt s = db.prepare("SELECT r.run_uuid FROM runs r JOIN tags t ON t.run_uuid = r.run_uuid "
                        "WHERE t.key = 'sweep' AND t.value = ? ORDER BY r.start_time, r.run_uuid");
    s.bind(1, sweepId);
    while (s.step()) ids.push_back(s.getText(0));
    return ids;
  });
}

// Members of a sweep that differ only in `seed` are one configuration: per evaluation metric, the mean over
// them and its 95% confidence interval (Student's t over the runs). Empty unless every run is a sweep member.
static std::string renderSeedSummary(const std::vector<RunDetails>& runs) {
  std::map<std::string, std::vector<const RunDetails*>> groups;
  std::set<std::string> keys;
  for (const auto& r : runs) {
    auto it = r.tags.find("sweep.label");
    if (it == r.tags.end()) return "";
    std::string label, word;
    std::istringstream words(it->second);
    while (words >> word)
      if (word.rfind("seed=", 0) != 0) label += (label.empty() ? "" : " ") + word;
    groups[label.empty() ? "(every member)" : label].push_back(&r);
    for (const auto& m : r.latest)
      if (m.key.rfind("evaluate.", 0) == 0 && m.key.find("_ci_") == std::string::npos) keys.insert(m.key);
  }
  if (keys.empty()) return "";
  std::vector<std::string> header = {"configuration", "runs"};
  for (const auto& k : keys) header.push_back(k);
  TextTable table(header);
  for (const auto& [label, members] : groups) {
    std::vector<std::string> row = {label, std::to_string(members.size())};
    for (const auto& k : keys) {
      std::vector<double> v;
      for (const RunDetails* r : members)
        for (const auto& m : r->latest)
          if (m.key == k && std::isfinite(m.value)) v.push_back(m.value);
      if (v.empty()) {
        row.push_back("-");
        continue;
      }
      const Summary s = summarize(v);
      row.push_back(s.n < 2 ? fmt::format("{:.4f} (n=1)", s.mean)
                            : fmt::format("{:.4f} ± {:.4f}", s.mean, s.halfWidth));
    }
    table.addRow(row);
  }
  return "\nOver seeds: mean ± 95% CI (Student's t over the runs of each configuration)\n" + table.render();
}

std::string renderCompare(Db& db, const std::vector<std::string>& runIds, const CompareOptions& options) {
  if (runIds.size() < 2) throw UserError("compare needs at least two runs");
  std::vector<RunDetails> runs;
  for (const auto& id : runIds) runs.push_back(loadRun(db, id));
  std::vector<std::string> ids;
  for (const auto& r : runs) ids.push_back(shortId(r.info.id));
  // Two runs whose ids share 8 characters: show more so that the columns can be told apart.
  std::set<std::string> unique(ids.begin(), ids.end());
  if (unique.size() != ids.size()) {
    ids.clear();
    for (const auto& r : runs) ids.push_back(r.info.id);
  }

  std::string out;
  std::vector<std::string> header = {""};
  header.insert(header.end(), ids.begin(), ids.end());
  {
    TextTable t(header);
    auto row = [&](const std::string& name, auto get) {
      std::vector<std::string> cells = {name};
      for (const auto& r : runs) cells.push_back(get(r));
      t.addRow(cells);
    };
    row("name", [](const RunDetails& r) { return r.info.name; });
    row("experiment", [](const RunDetails& r) { return r.info.experiment; });
    row("status", [](const RunDetails& r) { return r.info.status; });
    row("started", [](const RunDetails& r) { return formatLocalTime(r.info.startTime); });
    row("duration", [](const RunDetails& r) {
      return r.info.endTime ? formatDuration(double(*r.info.endTime - r.info.startTime) / 1000.0)
                            : std::string();
    });
    row("seed",
        [](const RunDetails& r) { return r.info.seed ? std::to_string(*r.info.seed) : std::string(); });
    row("spec hash", [](const RunDetails& r) { return r.info.specHash.substr(0, 12); });
    row("semantic hash", [](const RunDetails& r) { return r.info.semanticHash.substr(0, 12); });
    out += t.render(40);
  }

  // Data provenance first: two runs that read different data are not comparable as the same experiment,
  // whatever their params say (a relative root read from another folder, a CSV edited in place).
  {
    std::map<std::string, std::vector<std::string>> fingerprints, roots, images; // by data set name
    for (size_t i = 0; i < runs.size(); ++i) {
      for (const auto& p : runs[i].params) {
        if (!support::startsWith(p.key, "data.")) continue;
        size_t dot = p.key.rfind('.');
        if (dot <= 5) continue;
        std::string set = p.key.substr(5, dot - 5), field = p.key.substr(dot + 1);
        auto* m = field == "fingerprint" ? &fingerprints
                  : field == "root"      ? &roots
                  : field == "images"    ? &images
                                         : nullptr;
        if (!m) continue;
        auto& slot = (*m)[set];
        slot.resize(runs.size());
        slot[i] = paramDisplay(p.value);
      }
    }
    if (!fingerprints.empty()) {
      std::vector<std::string> lines;
      bool allSame = true;
      for (auto& [set, fps] : fingerprints) {
        fps.resize(runs.size());
        auto& rs = roots[set];
        rs.resize(runs.size());
        auto& ns = images[set];
        ns.resize(runs.size());
        bool same = std::all_of(fps.begin(), fps.end(), [&](const std::string& f) { return f == fps[0]; });
        allSame = allSame && same;
        std::string line = "  " + set + ": ";
        if (same) {
          line += "fingerprint " + fps[0].substr(0, 12) + ", " + ns[0] + " images";
        } else {
          std::vector<std::string> cells;
          for (size_t i = 0; i < runs.size(); ++i)
            cells.push_back(ids[i] + " " + (fps[i].empty() ? "(not recorded)" : fps[i].substr(0, 12)) +
                            (ns[i].empty() ? "" : ", " + ns[i] + " images") +
                            (rs[i].empty() ? "" : " from " + rs[i]));
          line += "DIFFERENT DATA: " + support::join(cells, "; ");
        }
        lines.push_back(line);
      }
      out += allSame ? "\nData: the same in every run\n" : "\nData: the runs read different data\n";
      for (const std::string& l : lines) out += l + "\n";
    }
  }

  // Params that differ (a param missing from a run counts as a difference).
  std::map<std::string, std::vector<std::optional<runtime::ParamValue>>> params;
  for (size_t i = 0; i < runs.size(); ++i) {
    for (const auto& p : runs[i].params) {
      auto& slot = params[p.key];
      slot.resize(runs.size());
      slot[i] = p.value;
    }
  }
  {
    TextTable t(header, "  ");
    size_t same = 0;
    for (auto& [key, values] : params) {
      values.resize(runs.size());
      bool differ = false;
      for (const auto& v : values) differ = differ || v != values[0];
      if (!differ) {
        ++same;
        continue;
      }
      std::vector<std::string> cells = {key};
      for (const auto& v : values) cells.push_back(v ? paramDisplay(*v) : "(unset)");
      t.addRow(cells);
    }
    if (t.rows() == 0) {
      out += fmt::format("\nParams: all {} are equal\n", params.size());
    } else {
      out += fmt::format("\nParams that differ ({} of {}; the other {} are equal)\n", t.rows(), params.size(),
                         same);
      out += t.render(40);
    }
  }

  // Latest metrics side by side, with the difference to the first run.
  std::map<std::string, std::vector<std::optional<MetricPoint>>> metrics;
  for (size_t i = 0; i < runs.size(); ++i) {
    for (const auto& m : runs[i].latest) {
      auto& slot = metrics[m.key];
      slot.resize(runs.size());
      slot[i] = m;
    }
  }
  if (!metrics.empty()) {
    std::vector<std::string> mheader = header;
    if (runs.size() == 2) mheader.push_back("diff");
    TextTable t(mheader, "  ");
    for (size_t c = 1; c < mheader.size(); ++c) t.alignRight(c);
    for (auto& [key, values] : metrics) {
      values.resize(runs.size());
      std::vector<std::string> cells = {key};
      for (const auto& v : values) cells.push_back(v ? formatMetric(v->value) : "-");
      if (runs.size() == 2) {
        cells.push_back(values[0] && values[1] ? formatMetric(values[1]->value - values[0]->value) : "");
      }
      t.addRow(cells);
    }
    out += "\nMetrics (latest value)\n" + t.render(40);
  }

  // Verdicts per morph statement.
  std::map<std::pair<std::string, int>, std::vector<std::optional<runtime::VerdictRecord>>> verdicts;
  for (size_t i = 0; i < runs.size(); ++i) {
    for (const auto& v : runs[i].verdicts) {
      auto& slot = verdicts[{v.network, v.statementIndex}];
      slot.resize(runs.size());
      slot[i] = v;
    }
  }
  if (!verdicts.empty()) {
    std::vector<std::string> vheader = {"statement"};
    vheader.insert(vheader.end(), ids.begin(), ids.end());
    TextTable t(vheader, "  ");
    for (auto& [key, values] : verdicts) {
      values.resize(runs.size());
      std::string statement;
      for (const auto& v : values) {
        if (v) statement = v->statement;
      }
      std::vector<std::string> cells = {key.first + "[" + std::to_string(key.second) + "] " + statement};
      for (const auto& v : values) {
        cells.push_back(v ? v->verdict + (std::isnan(v->maxAbsError) ? "" : " " + errorCell(v->maxAbsError))
                          : "-");
      }
      t.addRow(cells);
    }
    out += "\nVerdicts (and max abs error of the numeric re-check)\n" + t.render(48);
  }

  // Runs that mean the same experiment (same semantic hash) should agree: check every metric point. What may
  // make them differ legitimately is said beside the verdict: other seeds, or other execution settings (CPU
  // results are bit-identical only for the same thread count and device).
  auto settingsNote = [&](size_t a, size_t b) {
    nlohmann::json ja, jb;
    try {
      ja =
          nlohmann::json::parse(runs[a].info.resolvedSettings.empty() ? "{}" : runs[a].info.resolvedSettings);
      jb =
          nlohmann::json::parse(runs[b].info.resolvedSettings.empty() ? "{}" : runs[b].info.resolvedSettings);
    } catch (const nlohmann::json::exception&) {
      return std::string();
    }
    std::vector<std::string> parts;
    for (const char* key : {"device", "threads", "world_size"}) {
      auto text = [&](const nlohmann::json& j) {
        if (!j.is_object() || !j.contains(key)) return std::string("-");
        return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
      };
      if (text(ja) != text(jb)) parts.push_back(fmt::format("{} {} vs {}", key, text(ja), text(jb)));
    }
    return parts.empty() ? std::string() : " (their settings differ: " + support::join(parts, ", ") + ")";
  };
  std::map<std::string, std::vector<size_t>> groups;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!runs[i].info.semanticHash.empty()) groups[runs[i].info.semanticHash].push_back(i);
  }
  std::string agreement;
  for (const auto& [hash, members] : groups) {
    if (members.size() < 2) continue;
    std::string group;
    auto reference = loadMetricHistory(db, runs[members[0]].info.id);
    for (size_t m = 1; m < members.size(); ++m) {
      size_t other = members[m];
      auto history = loadMetricHistory(db, runs[other].info.id);
      Agreement a = compareHistories(reference, history, options.tolerance);
      std::string pair = ids[members[0]] + " vs " + ids[other];
      std::string why; // what may explain a difference
      if (runs[members[0]].info.seed != runs[other].info.seed) why = " (their seeds differ)";
      why += settingsNote(members[0], other);
      switch (a.kind) {
      case Agreement::Kind::Identical:
        group += fmt::format("  {}: agree, bit-identical ({} metric points){}\n", pair, a.sharedPoints, why);
        break;
      case Agreement::Kind::WithinTolerance:
        group +=
            fmt::format("  {}: agree within tolerance {} (max relative difference {:.3g} over {} points){}\n",
                        pair, formatExact(options.tolerance), a.maxRelDiff, a.sharedPoints, why);
        break;
      case Agreement::Kind::Differ: {
        std::string detail;
        if (!a.firstDiffKey.empty()) {
          detail +=
              fmt::format("first at {} step {}: {} vs {}; max relative difference {:.3g} over {} points",
                          a.firstDiffKey, a.firstDiffStep, formatExact(a.firstDiffA),
                          formatExact(a.firstDiffB), a.maxRelDiff, a.sharedPoints);
        }
        if (a.keysOnlyInOne || a.stepsOnlyInOne) {
          detail +=
              (detail.empty() ? "" : "; ") + fmt::format("{} keys and {} steps logged by only one of them",
                                                         a.keysOnlyInOne, a.stepsOnlyInOne);
        }
        group += "  " + pair + ": DIFFER: " + detail + why + "\n";
        break;
      }
      }
    }
    agreement += "  semantic hash " + hash.substr(0, 12) + "\n" + group;
  }
  if (!agreement.empty()) out += "\nRuns of the same semantic hash\n" + agreement;
  out += renderSeedSummary(runs);
  return support::terminalSafe(out);
}

// ---------------------------------------------------------------------------------------------- export

std::string renderExport(Db& db, const Selection& selection, ExportFormat format, bool history) {
  if (history && format == ExportFormat::Csv) {
    throw UserError("--history needs --format json (a CSV row per run has no room for metric histories)");
  }
  std::vector<std::string> ids = selectRuns(db, selection);
  struct Row {
    RunInfo info;
    std::map<std::string, runtime::ParamValue> params;
    std::map<std::string, double> metrics;
    std::map<std::string, std::string> tags;
  };
  std::vector<Row> rows(ids.size());
  std::map<std::string, size_t> position;
  for (size_t i = 0; i < ids.size(); ++i) position[ids[i]] = i;

  db.read([&] {
    for (const auto& chunk : chunks(ids, 400)) {
      std::string in = "(" + placeholders(chunk.size()) + ")";
      auto each = [&](const std::string& sql, auto fn) {
        Stmt s = db.prepare(sql + in);
        for (size_t i = 0; i < chunk.size(); ++i) s.bind(static_cast<int>(i + 1), chunk[i]);
        while (s.step()) fn(s, rows[position.at(s.getText(0))]);
      };
      each(std::string(kRunInfoSelect) + " WHERE r.run_uuid IN ",
           [](Stmt& s, Row& row) { row.info = runInfoFromRow(s); });
      each("SELECT run_uuid, key, value, value_type FROM params WHERE run_uuid IN ",
           [](Stmt& s, Row& row) { row.params[s.getText(1)] = paramFromRow(s.getText(3), s.getText(2)); });
      each("SELECT run_uuid, key, value, is_nan FROM latest_metrics WHERE run_uuid IN ",
           [](Stmt& s, Row& row) { row.metrics[s.getText(1)] = s.getInt(3) ? NAN : s.getDouble(2); });
      each("SELECT run_uuid, key, value FROM tags WHERE run_uuid IN ",
           [](Stmt& s, Row& row) { row.tags[s.getText(1)] = s.getText(2); });
    }
  });

  if (format == ExportFormat::Json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& row : rows) {
      const RunInfo& r = row.info;
      nlohmann::json j;
      j["run_id"] = r.id;
      j["experiment"] = r.experiment;
      j["run_name"] = r.name;
      j["status"] = r.status;
      j["status_message"] =
          r.statusMessage.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.statusMessage);
      j["start_time"] = r.startTime;
      j["end_time"] = r.endTime ? nlohmann::json(*r.endTime) : nlohmann::json(nullptr);
      j["start"] = formatIsoTime(r.startTime);
      j["seed"] = r.seed ? nlohmann::json(*r.seed) : nlohmann::json(nullptr);
      j["spec_path"] = r.specPath;
      j["spec_hash"] = r.specHash;
      j["semantic_hash"] = r.semanticHash;
      j["user_id"] = r.userId;
      j["source_version"] = r.sourceVersion;
      j["resume_count"] = r.resumeCount;
      try {
        j["resolved_settings"] =
            nlohmann::json::parse(r.resolvedSettings.empty() ? "{}" : r.resolvedSettings);
      } catch (const std::exception&) {
        j["resolved_settings"] = r.resolvedSettings;
      }
      nlohmann::json params = nlohmann::json::object(), metrics = nlohmann::json::object(),
                     tags = nlohmann::json::object();
      for (const auto& [k, v] : row.params) params[k] = jsonParam(v);
      for (const auto& [k, v] : row.metrics) metrics[k] = jsonNumber(v);
      for (const auto& [k, v] : row.tags) tags[k] = v;
      j["params"] = params;
      j["metrics"] = metrics;
      j["tags"] = tags;
      if (history) {
        nlohmann::json h = nlohmann::json::object();
        for (const auto& p : loadMetricHistory(db, r.id)) {
          h[p.key].push_back({{"step", p.step},
                              {"epoch", p.epoch},
                              {"value", jsonNumber(p.value)},
                              {"timestamp", p.timestamp}});
        }
        j["history"] = h;
      }
      out.push_back(std::move(j));
    }
    return out.dump(2) + "\n";
  }

  std::set<std::string> paramKeys, metricKeys, tagKeys;
  for (const auto& row : rows) {
    for (const auto& [k, v] : row.params) paramKeys.insert(k);
    for (const auto& [k, v] : row.metrics) metricKeys.insert(k);
    for (const auto& [k, v] : row.tags) tagKeys.insert(k);
  }
  std::vector<std::string> header = {"run_id",     "experiment", "run_name",     "status",
                                     "start_time", "end_time",   "duration_s",   "seed",
                                     "spec_path",  "spec_hash",  "semantic_hash"};
  for (const auto& k : paramKeys) header.push_back("params." + k);
  for (const auto& k : metricKeys) header.push_back("metrics." + k);
  for (const auto& k : tagKeys) header.push_back("tags." + k);
  std::string out;
  for (size_t i = 0; i < header.size(); ++i) out += (i ? "," : "") + csvField(header[i]);
  out += "\n";
  for (const auto& row : rows) {
    const RunInfo& r = row.info;
    std::vector<std::string> cells = {r.id,
                                      r.experiment,
                                      r.name,
                                      r.status,
                                      formatIsoTime(r.startTime),
                                      r.endTime ? formatIsoTime(*r.endTime) : "",
                                      r.endTime ? formatExact(double(*r.endTime - r.startTime) / 1000.0) : "",
                                      r.seed ? std::to_string(*r.seed) : "",
                                      r.specPath,
                                      r.specHash,
                                      r.semanticHash};
    for (const auto& k : paramKeys) {
      auto it = row.params.find(k);
      cells.push_back(it == row.params.end() ? "" : paramText(it->second));
    }
    for (const auto& k : metricKeys) {
      auto it = row.metrics.find(k);
      cells.push_back(it == row.metrics.end() ? "" : formatExact(it->second));
    }
    for (const auto& k : tagKeys) {
      auto it = row.tags.find(k);
      cells.push_back(it == row.tags.end() ? "" : it->second);
    }
    for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + csvField(cells[i]);
    out += "\n";
  }
  return out;
}

} // namespace mhr::tracker
