// cli/cmd_runs.cpp — `mhr runs list|show|compare|export|aggregate` and `mhr report`: read the tracker. Flags
// are parsed here; what is printed comes from tracker/runs_output.h, tracker/aggregate.h and
// tracker/report.h, which the tests call directly.
#include "cli/commands.h"

#include "support/error.h"
#include "support/files.h"
#include "support/strings.h"
#include "tracker/aggregate.h"
#include "tracker/report.h"
#include "tracker/runs_output.h"
#include "tracker/text_table.h"
#include "tracker/tracker.h"

#include <cmath>
#include <iostream>
#include <memory>
#include <unistd.h>

namespace mhr::cli {

namespace {

using namespace mhr::tracker;

struct CommonOptions {
  std::string db;
};

void addDbOption(CLI::App* cmd, CommonOptions& common) {
  cmd->add_option("--db", common.db, "tracker database (default: $MHR_DB, else ./mhr-runs.sqlite)");
}

Tracker openForReading(const CommonOptions& common) {
  std::string path = resolveDbPath(common.db.empty() ? std::nullopt : std::optional<std::string>(common.db));
  if (path == "none") throw UserError("--db none records nothing, so there is nothing to read");
  return Tracker::openExisting(path);
}

void addSelectionOptions(CLI::App* cmd, Selection& selection) {
  cmd->add_option(
      "--where", selection.where,
      "filter, e.g. \"metrics.evaluate.hr/auc > 0.8 and params.lr < 1e-3 and status = 'finished'\" "
      "(docs/tracker.md)");
  cmd->add_option("--sort", selection.sort, "sort keys, e.g. \"metrics.evaluate.hr/auc desc, start_time\"");
  cmd->add_option("--experiment", selection.experiment, "only runs of this experiment");
  cmd->add_option("--limit", selection.limit, "at most this many runs")->check(CLI::NonNegativeNumber);
}

void registerList(CLI::App* runs, Runner& run) {
  auto common = std::make_shared<CommonOptions>();
  auto options = std::make_shared<ListOptions>();
  CLI::App* cmd = runs->add_subcommand("list", "table of runs: chosen columns, --where filter, --sort");
  addDbOption(cmd, *common);
  addSelectionOptions(cmd, options->selection);
  cmd->add_option(
      "--columns", options->columns,
      "comma-separated: run attributes (run_id, run_name, status, start_time, duration, seed, ...), "
      "metrics.X, params.X, tags.X, env.X");
  cmd->callback([&run, common, options] {
    run = [common, options] {
      Tracker tracker = openForReading(*common);
      for (const auto& w : fieldWarnings(tracker.db(), *options))
        std::cerr << "mhr: warning: " << support::terminalSafe(w) << "\n";
      std::cout << renderList(tracker.db(), *options);
      return 0;
    };
  });
}

void registerShow(CLI::App* runs, Runner& run) {
  auto common = std::make_shared<CommonOptions>();
  auto runRef = std::make_shared<std::string>();
  auto withSpec = std::make_shared<bool>(false);
  CLI::App* cmd = runs->add_subcommand("show", "everything recorded about one run");
  cmd->add_option("run", *runRef, "run id, unique id prefix (at least 4 hex digits) or run name")->required();
  addDbOption(cmd, *common);
  cmd->add_flag("--spec", *withSpec, "also print the spec text the run used");
  cmd->callback([&run, common, runRef, withSpec] {
    run = [common, runRef, withSpec] {
      Tracker tracker = openForReading(*common);
      std::cout << renderShow(tracker.db(), tracker.resolveRunId(*runRef), *withSpec);
      return 0;
    };
  });
}

void registerCompare(CLI::App* runs, Runner& run) {
  auto common = std::make_shared<CommonOptions>();
  auto refs = std::make_shared<std::vector<std::string>>();
  auto sweep = std::make_shared<std::string>();
  auto options = std::make_shared<CompareOptions>();
  CLI::App* cmd = runs->add_subcommand(
      "compare",
      "runs side by side: params that differ, metrics, verdicts, and whether runs of the same semantic "
      "hash agree");
  cmd->add_option("runs", *refs, "two or more runs (id, id prefix or name)");
  cmd->add_option("--sweep", *sweep, "compare every run tagged sweep=ID");
  addDbOption(cmd, *common);
  cmd->add_option("--tolerance", options->tolerance,
                  "relative difference under which runs of one semantic hash agree (default 1e-6)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([&run, common, refs, sweep, options] {
    run = [common, refs, sweep, options] {
      Tracker tracker = openForReading(*common);
      std::vector<std::string> ids;
      for (const auto& ref : *refs) ids.push_back(tracker.resolveRunId(ref));
      if (!sweep->empty()) {
        auto swept = runsOfSweep(tracker.db(), *sweep);
        if (swept.empty()) throw UserError("no run is tagged sweep=" + *sweep);
        ids.insert(ids.end(), swept.begin(), swept.end());
      }
      if (ids.size() < 2) throw UserError("compare needs at least two runs (give run ids, or --sweep ID)");
      std::cout << renderCompare(tracker.db(), ids, *options);
      return 0;
    };
  });
}

void registerExport(CLI::App* runs, Runner& run) {
  auto common = std::make_shared<CommonOptions>();
  auto selection = std::make_shared<Selection>();
  auto format = std::make_shared<std::string>("csv");
  auto output = std::make_shared<std::string>();
  auto history = std::make_shared<bool>(false);
  CLI::App* cmd =
      runs->add_subcommand("export", "runs as CSV or JSON (attributes, params, latest metrics, tags)");
  addDbOption(cmd, *common);
  addSelectionOptions(cmd, *selection);
  cmd->add_option("--format", *format, "csv or json (default csv)")->check(CLI::IsMember({"csv", "json"}));
  cmd->add_option("-o,--output", *output, "write to this file instead of standard output");
  cmd->add_flag("--history", *history, "include every metric point (JSON only)");
  cmd->callback([&run, common, selection, format, output, history] {
    run = [common, selection, format, output, history] {
      Tracker tracker = openForReading(*common);
      std::string text = renderExport(tracker.db(), *selection,
                                      *format == "json" ? ExportFormat::Json : ExportFormat::Csv, *history);
      if (output->empty()) {
        // On a terminal the export is read, not parsed: user text must not drive it.
        std::cout << (::isatty(STDOUT_FILENO) ? support::terminalSafe(text) : text);
      } else {
        support::writeFileAtomic(*output, text);
        std::cerr << "mhr: wrote " << *output << "\n";
      }
      return 0;
    };
  });
}

void registerAggregate(CLI::App* runs, Runner& run) {
  auto common = std::make_shared<CommonOptions>();
  auto options = std::make_shared<AggregateOptions>();
  struct Flags {
    std::string order, compare, csv, markdown, html, svg, json;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = runs->add_subcommand(
      "aggregate",
      "one metric of a multi-seed study: mean and 95% CI per tag group, paired comparisons by seed");
  cmd->add_option("--metric", options->metric, "the metric key, e.g. evaluate.net/auc")->required();
  cmd->add_option("--by", options->by, "the tag whose values are the groups, e.g. arm")->required();
  cmd->add_option("--within", options->within,
                  "a tag to split by first (rows and a plot per value), e.g. target_size");
  cmd->add_option("--pair", options->pair, "the tag that pairs runs of two groups, e.g. seed")->required();
  addDbOption(cmd, *common);
  cmd->add_option("--where", options->where, "filter, as in `mhr runs list` (docs/tracker.md)");
  cmd->add_option("--order", flags->order,
                  "the --by groups in this order, comma-separated (default: sorted)");
  cmd->add_option("--compare", flags->compare, "paired comparisons A:B of --by groups, e.g. c:a,c:b,d:c");
  cmd->add_option("--metric-column", options->metricColumn, "the metric's CSV column (default: the key)");
  cmd->add_option("--csv", flags->csv, "write one row per run to this CSV file");
  cmd->add_option("--markdown", flags->markdown, "write both tables as GitHub markdown to this file");
  cmd->add_option("--html", flags->html, "write a self-contained HTML page with dot plots and both tables");
  cmd->add_option("--svg", flags->svg, "write the dot plots as one standalone SVG file");
  cmd->add_option("--json", flags->json, "write everything (runs, groups, comparisons, verdicts) as JSON");
  cmd->add_option("--title", options->title, "the HTML page's title");
  cmd->callback([&run, common, options, flags] {
    run = [common, options, flags] {
      if (!flags->order.empty()) options->order = parseOrderList(flags->order);
      if (!flags->compare.empty()) options->compare = parseCompareList(flags->compare);
      Tracker tracker = openForReading(*common);
      Aggregate result = aggregateRuns(tracker.db(), *options);
      // Unfinished runs are left out on purpose, but never silently: a study missing runs must show it.
      std::string note = leftOutNote(result);
      if (!note.empty()) std::cerr << "mhr: note: " << support::terminalSafe(note) << "\n";
      std::cout << support::terminalSafe(renderAggregateText(result));
      auto write = [](const std::string& path, const std::string& text) {
        if (path.empty()) return;
        support::writeFileAtomic(path, text);
        std::cerr << "mhr: wrote " << path << "\n";
      };
      write(flags->csv, renderAggregateCsv(result));
      write(flags->markdown, renderAggregateMarkdown(result));
      write(flags->html, renderAggregateHtml(result));
      write(flags->svg, renderAggregateSvg(result));
      write(flags->json, renderAggregateJson(result));
      return 0;
    };
  });
}

void registerReport(CLI::App& app, Runner& run) {
  auto common = std::make_shared<CommonOptions>();
  auto runRef = std::make_shared<std::string>();
  auto output = std::make_shared<std::string>();
  auto options = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "report", "one self-contained HTML file: spec with verdicts, learning curves, ROC curves, confusion "
                "matrices, CAM overlays, environment");
  cmd->add_option("run", *runRef, "run id, unique id prefix or run name")->required();
  cmd->add_option("-o,--output", *output, "the HTML file (default report-<run id prefix>.html)");
  addDbOption(cmd, *common);
  auto threshold = std::make_shared<double>(NAN);
  cmd->add_option("--threshold", *threshold,
                  "decision threshold of the confusion matrices (default: each stage's own, as the run "
                  "recorded it)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--max-samples", options->maxSamples, "CAM samples shown (default 24)");
  cmd->callback([&run, common, runRef, output, options, threshold] {
    run = [common, runRef, output, options, threshold] {
      if (!std::isnan(*threshold)) options->threshold = *threshold;
      Tracker tracker = openForReading(*common);
      std::string id = tracker.resolveRunId(*runRef);
      std::string path = output->empty() ? "report-" + shortId(id) + ".html" : *output;
      // OpenCV's PNG encoder where the build has image I/O (smaller files), else the built-in one.
      writeReport(tracker.db(), id, path, *options);
      std::cout << path << "\n";
      return 0;
    };
  });
}

} // namespace

void registerTrackerCommands(CLI::App& app, Runner& run) {
  CLI::App* runs = app.add_subcommand("runs", "query the tracker: list, show, compare, export, aggregate");
  runs->require_subcommand(1);
  registerList(runs, run);
  registerShow(runs, run);
  registerCompare(runs, run);
  registerExport(runs, run);
  registerAggregate(runs, run);
}

void registerReportCommand(CLI::App& app, Runner& run) {
  registerReport(app, run);
}

} // namespace mhr::cli
