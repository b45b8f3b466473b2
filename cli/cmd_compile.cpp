// cli/cmd_compile.cpp — `mhr check`, `mhr explain`, `mhr emit ast|ir|plan`, `mhr fmt`: the compiler's
// commands. All of them read a .mhr file, print diagnostics to stderr (text or JSON) and exit 1 when there
// are errors.
#include "cli/commands.h"
#include "cli/compile_setup.h"
#include "compiler/ast/formatter.h"
#include "compiler/ast/printer.h"
#include "compiler/cost/cost_report.h"
#include "compiler/ir/printer.h"
#include "compiler/parse/parser.h"
#include "compiler/pipeline.h"
#include "compiler/plan/plan_printer.h"
#include "compiler/verify/verdict_table.h"
#include "support/files.h"

#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace mhr::cli {

namespace {

struct CompileArgs {
  std::string file;
  std::vector<std::string> overrides;
  std::string format = "text";
  std::string device = "cpu";
};

void addCommon(CLI::App* cmd, CompileArgs& a) {
  cmd->add_option("file", a.file, "the .mhr file")->required();
  cmd->add_option("--set", a.overrides, "override a setting: KEY=VALUE (repeatable), e.g. train.hr.epochs=2");
}

int reportDiagnostics(const compiler::CompileResult& r, const std::string& format) {
  if (format == "json")
    r.diags->renderJson(std::cout);
  else
    r.diags->renderText(std::cerr);
  return r.ok() ? 0 : 1;
}

// The verdict table of every morph network that reached the prover (also when some statement failed).
void printVerdictTables(const compiler::CompileResult& r) {
  for (const auto& n : r.networks)
    if (n.morph)
      std::cout << verify::verdictTable(n.stmt->name.text, n.stmt->parent.text, n.morph->steps,
                                        n.morph->verdict, n.morph->mode);
}

compiler::CompileResult compile(const CompileArgs& a, compiler::Stage stopAfter) {
  return compileSpec(a.file, a.overrides, a.device, stopAfter);
}

int runCheck(const CompileArgs& a) {
  auto r = compile(a, compiler::Stage::Verify);
  if (a.format == "json") return reportDiagnostics(r, "json");
  printVerdictTables(r);
  int code = reportDiagnostics(r, a.format);
  if (r.ok()) std::cout << a.file << ": ok\n";
  return code;
}

int runEmit(const std::string& what, const CompileArgs& a) {
  auto r = compile(a, what == "ast" ? compiler::Stage::Parse : compiler::Stage::Lower);
  if (!r.ok()) return reportDiagnostics(r, "text");
  if (what == "ast") {
    for (const auto& f : r.program->files) std::cout << ast::printAst(*f, *r.sources);
  } else if (what == "ir") {
    for (const auto& n : r.networks) {
      std::cout << "network " << n.stmt->name.text;
      // Shapes at the first resolution a stage uses the network at.
      std::optional<ir::ShapeResult> shapes;
      for (const auto* st : r.symbols->stages)
        if (st->network.text == n.stmt->name.text) {
          shapes = ir::inferShapes(n.graph, 1, st->resolution.h, st->resolution.w);
          std::cout << " at " << st->resolution.h << "x" << st->resolution.w;
          break;
        }
      std::cout << "\n";
      ir::PrintOptions options;
      if (shapes && shapes->ok()) options.shapes = &shapes->shapes;
      options.sources = r.sources.get();
      options.channelClasses = true;
      std::cout << ir::printGraph(n.graph, options) << "\n";
    }
  } else {
    std::cout << plan::printPlan(*r.plan);
  }
  r.diags->renderText(std::cerr); // warnings
  return 0;
}

// What `checkpoint:` and `early_stop:` of a train stage will do, in words (nothing when neither is set).
std::vector<std::string> selectionVerdicts(const plan::Stage& st) {
  std::vector<std::string> out;
  if (st.kind != plan::Stage::Kind::Train) return out;
  const plan::TrainConfig& t = st.train;
  auto num = [](double v) {
    std::ostringstream o;
    o << v;
    return o.str();
  };
  if (t.selectBest)
    out.push_back("checkpoint: best(" + t.selectBest->text() +
                  "): hands on the weights of the epoch with the " +
                  (t.selectBest->maximize ? "highest " : "lowest ") + t.selectBest->text() + " on " +
                  t.valSplit + " (ties: the earliest), not those of the last epoch");
  if (t.patience > 0) {
    std::string line = "early_stop: patience(" + std::to_string(t.patience) + ", on: " + t.stopOn.text() +
                       "): stops after " + std::to_string(t.patience) + " epochs in a row in which " +
                       t.stopOn.text() + " gets no more than " + num(t.minDelta) +
                       (t.stopOn.maximize ? " above" : " below") + " its best so far";
    line +=
        "; " + (t.patience + 1 < t.epochs
                    ? "runs " + std::to_string(t.patience + 1) + " to " + std::to_string(t.epochs) + " epochs"
                    : "has no effect on a stage of " + std::to_string(t.epochs) + " epochs");
    out.push_back(line);
  }
  return out;
}

// `mhr explain`: per network, parameters and for every stage that uses it the MACs and the training step's
// memory (cost model), then the verdict table of morph networks.
int runExplain(const CompileArgs& a, bool json) {
  auto r = compile(a, compiler::Stage::Lower);
  if (!r.ok()) return reportDiagnostics(r, "text");
  nlohmann::json out = nlohmann::json::object();
  out["experiment"] = r.plan->name;
  out["networks"] = nlohmann::json::array();
  for (const auto& np : r.plan->networks) {
    nlohmann::json jn;
    jn["name"] = np.name;
    if (!json) {
      std::cout << "network " << np.name << " = "
                << (np.origin == plan::NetworkPlan::Origin::Stdlib ? np.builder : "morph " + np.parent)
                << " (" << np.graph.size() << " nodes)\n";
    }
    jn["stages"] = nlohmann::json::array();
    for (const auto& st : r.plan->stages) {
      if (st.network != np.name) continue;
      cost::TrainingSetup setup;
      cost::CheckpointPolicy policy = cost::CheckpointPolicy::Off;
      int64_t budget = 0;
      if (st.kind == plan::Stage::Kind::Train) {
        setup.batch = st.train.batch;
        setup.precision = st.train.precision;
        setup.optimizer = st.train.optimizer.kind;
        setup.momentum = st.train.optimizer.momentum > 0;
        policy = st.train.checkpointing;
        budget = st.train.memoryBudgetBytes;
      } else {
        setup.batch = st.eval.batch;
      }
      std::string error;
      auto report = cost::costReport(np.name, np.graph, st.resolution.h, st.resolution.w, setup, policy,
                                     budget, &error);
      if (!report) {
        if (!json) std::cout << "  " << st.key << ": " << error << "\n";
        continue;
      }
      const std::vector<std::string> selection = selectionVerdicts(st);
      if (json) {
        nlohmann::json js = nlohmann::json::parse(cost::costJson(*report));
        js["stage"] = st.key;
        if (!selection.empty()) js["selection"] = selection;
        jn["stages"].push_back(js);
      } else {
        std::cout << "  " << st.key << " at " << st.resolution.h << "x" << st.resolution.w << "\n";
        std::istringstream lines(cost::costText(*report));
        bool train = st.kind == plan::Stage::Kind::Train;
        for (std::string line; std::getline(lines, line);) {
          // An evaluation runs forward only: its training-step memory would mislead.
          if (!train && line.find("parameters") == std::string::npos &&
              line.find("MACs") == std::string::npos)
            continue;
          std::cout << "    " << line << "\n";
        }
        for (const std::string& v : selection) std::cout << "    " << v << "\n";
      }
    }
    if (np.origin == plan::NetworkPlan::Origin::Morph) {
      if (json)
        jn["verdicts"] = nlohmann::json::parse(
            verify::verdictTableJson(np.name, np.parent, np.steps, np.verdict, np.mode));
      else
        std::cout << verify::verdictTable(np.name, np.parent, np.steps, np.verdict, np.mode);
    }
    out["networks"].push_back(jn);
  }
  if (json) std::cout << out.dump(2) << "\n";
  r.diags->renderText(std::cerr);
  return 0;
}

int runFmt(const std::string& file, bool check, bool inPlace) {
  diag::SourceManager sources;
  diag::DiagnosticEngine diags(sources);
  auto text = support::readFile(file);
  if (!text) {
    std::cerr << "mhr: error: cannot read '" << file << "'\n";
    return 1;
  }
  diag::FileId id = sources.addFile(file, *text);
  auto ast = parse::parseFile(id, sources, diags);
  if (diags.hasErrors()) {
    diags.renderText(std::cerr);
    return 1;
  }
  std::string formatted = ast::formatFile(*ast, sources);
  if (check) {
    if (formatted == *text) return 0;
    std::cerr << file << ": not formatted (run `mhr fmt " << file << " -i`)\n";
    return 1;
  }
  if (inPlace) {
    if (formatted != *text) support::writeFileAtomic(file, formatted);
    return 0;
  }
  std::cout << formatted;
  return 0;
}

} // namespace

void registerCompilerCommands(CLI::App& app, Runner& run) {
  static CompileArgs checkArgs, explainArgs, emitArgs;
  static std::string emitWhat;
  static bool explainJson = false;

  auto* check = app.add_subcommand(
      "check", "parse, check and prove function preservation; print diagnostics and the verdict table");
  addCommon(check, checkArgs);
  check->add_option("--format", checkArgs.format, "text or json")->check(CLI::IsMember({"text", "json"}));
  check->add_option(
      "--device", checkArgs.device,
      "cpu (default: stages must fit the host's RAM) or cuda[:N] (only memory_budget: is checked)");
  check->callback([&run]() { run = [] { return runCheck(checkArgs); }; });

  auto* emit = app.add_subcommand(
      "emit", "print a compiler stage: ast, ir or plan (stable text, for tests and debugging)");
  emit->add_option("stage", emitWhat, "ast | ir | plan")
      ->required()
      ->check(CLI::IsMember({"ast", "ir", "plan"}));
  addCommon(emit, emitArgs);
  emit->callback([&run]() { run = [] { return runEmit(emitWhat, emitArgs); }; });

  auto* explain = app.add_subcommand(
      "explain", "the lowered plan: layers, parameters, MACs, memory per resolution; verdict per morph");
  addCommon(explain, explainArgs);
  explain->add_flag("--json", explainJson, "machine-readable output");
  explain->callback([&run]() { run = [] { return runExplain(explainArgs, explainJson); }; });

  static std::string fmtFile;
  static bool fmtCheck = false, fmtInPlace = false;
  auto* fmt = app.add_subcommand("fmt", "print the file in canonical layout (keeps comments)");
  fmt->add_option("file", fmtFile, "the .mhr file")->required();
  fmt->add_flag("--check", fmtCheck, "exit 1 when the file is not formatted; change nothing");
  fmt->add_flag("-i,--in-place", fmtInPlace, "rewrite the file");
  fmt->callback([&run]() { run = [] { return runFmt(fmtFile, fmtCheck, fmtInPlace); }; });
}

} // namespace mhr::cli
