// cli/cmd_run.cpp — `mhr run`: its flags, gathered into a RunRequest and handed to runSpec
// (cli/run_session.h), which runs the experiment. Without the LibTorch runtime it says how to build it.
#include "cli/commands.h"
#include "cli/run_session.h"
#include "support/error.h"

#if !MHR_WITH_TORCH
namespace mhr::cli {
int runSpec(const RunRequest&) {
  throw UserError(
      "this mhr was built without the LibTorch runtime (MHR_WITH_TORCH=OFF); rebuild with "
      "`make build` (Debian's libtorch-dev) or `make build TORCH_DIR=/path/to/libtorch/share/cmake/Torch`");
}
} // namespace mhr::cli
#endif

#include <memory>

namespace mhr::cli {

void registerRunCommand(CLI::App& app, Runner& run, const std::vector<std::string>& argv) {
  auto a = std::make_shared<RunRequest>();
  CLI::App* cmd = app.add_subcommand(
      "run", "execute a spec: build, morph (re-checked numerically), train and evaluate; log to the tracker");
  cmd->add_option("file", a->file, "the .mhr file")->required();
  cmd->add_option("--db", a->db,
                  "tracker database (default $MHR_DB, else ./mhr-runs.sqlite); none: record nothing");
  cmd->add_option("--device", a->device, "cpu, cuda, cuda:N or auto (default auto)");
  cmd->add_option("--set", a->overrides,
                  "override a setting: KEY=VALUE (repeatable), e.g. train.hr.epochs=2");
  cmd->add_option("--resume", a->resume,
                  "continue an interrupted run (id, id prefix or name) from its checkpoint");
  cmd->add_option("--name", a->name, "run name (default: the spec's name and the run id's prefix)");
  cmd->add_option("--tag", a->tags, "tag the run: KEY=VALUE (repeatable)");
  cmd->add_option("--checkpoints", a->checkpoints,
                  "checkpoint folder (default mhr-checkpoints/RUN next to the database)");
  cmd->add_option("--report", a->report,
                  "HTML report path (default mhr-reports/RUN.html next to the database)");
  cmd->add_flag("--no-report", a->noReport, "do not write the HTML report");
  cmd->add_flag("--no-progress", a->noProgress, "no progress output");
  cmd->add_option(
      "--cache-dir", a->cacheDir,
      "folder for prepared-image caches (default: each data set's cache option, else ./.mhr-cache)");
  cmd->add_option("--threads", a->threads,
                  "CPU threads for LibTorch (default: every core this process may use; under torchrun/srun, "
                  "LibTorch's choice)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--sweep-index", a->sweepIndex,
                  "run only this member of the spec's sweep (0-based; Slurm arrays)");
  cmd->add_option("--sweep-id", a->sweepId, "sweep id to tag the runs with (default: a new one)");
  cmd->add_flag("--no-reuse", a->noReuse,
                "sweeps: train every stage in every member, even where an earlier member trained it with the "
                "same inputs");
  cmd->add_option("--nproc", a->nproc, "local data-parallel processes (default 1; docs/distributed.md)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--dist-timeout", a->distTimeout,
                  "data-parallel: seconds a collective may wait for the other ranks (default "
                  "$MHR_DIST_TIMEOUT or 300)")
      ->check(CLI::Range(1, 7 * 24 * 3600));
  a->argv = argv;
  cmd->callback([a, &run] { run = [a] { return runSpec(*a); }; });
}

} // namespace mhr::cli
