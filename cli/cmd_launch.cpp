// cli/cmd_launch.cpp — `mhr launch slurm FILE.mhr --nodes N --gpus-per-node G`: writes an sbatch script that
// runs the spec data-parallel on N nodes (one task per GPU, or --tasks-per-node on CPU nodes) through srun,
// with the environment torchrun would set (RANK, WORLD_SIZE, LOCAL_RANK from SLURM_PROCID, SLURM_NTASKS,
// SLURM_LOCALID; MASTER_ADDR the job's first node). A spec with a `sweep` block becomes a job array, one
// task per member (`mhr run --sweep-index $SLURM_ARRAY_TASK_ID --sweep-id ID`, ID fixed here so every member
// is tagged alike). Runs nothing: prints the script, or writes it with -o. docs/distributed.md.
#include "cli/commands.h"
#include "cli/compile_setup.h"
#include "compiler/lower/sweep.h"
#include "compiler/pipeline.h"
#include "support/error.h"
#include "support/files.h"
#include "tracker/tracker.h"

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>

namespace mhr::cli {

namespace {

struct LaunchArgs {
  std::string file;
  int64_t nodes = 1;
  int64_t gpusPerNode = 0;
  int64_t tasksPerNode = 1; // CPU nodes (gpus-per-node 0)
  int64_t cpusPerTask = 0;
  std::string time, partition, account, mem, jobName, output, sweepId, mhr, db;
  std::vector<std::string> overrides;
  int64_t port = 29500;
};

// A word for bash: bare when it is made of safe characters, else single-quoted.
std::string shellWord(const std::string& s) {
  bool safe = !s.empty();
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) ||
          std::string("@%+=:,./_-").find(c) != std::string::npos))
      safe = false;
  if (safe) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Slurm job names: letters, digits, '-', '_', '.'.
std::string jobNameFor(const std::string& experiment) {
  std::string out;
  for (char c : experiment)
    out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '-';
  return out.empty() ? "mhr" : out;
}

std::string thisProgram() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "mhr" : exe.string();
}

int launchSlurm(const LaunchArgs& a) {
  compiler::CompileResult compiled = compileSpec(a.file, a.overrides);
  compiled.diags->renderText(std::cerr);
  if (!compiled.ok() || !compiled.plan) return 1;
  const plan::ExperimentPlan& plan = *compiled.plan;
  const size_t members = lower::expandSweep(plan.sweep).size();

  const bool gpus = a.gpusPerNode > 0;
  const int64_t tasksPerNode = gpus ? a.gpusPerNode : a.tasksPerNode;
  const int64_t world = a.nodes * tasksPerNode;
  const std::string name = a.jobName.empty() ? jobNameFor(plan.name) : a.jobName;
  const std::string sweepId =
      members == 0 ? "" : (a.sweepId.empty() ? "sweep-" + tracker::newRunId().substr(0, 8) : a.sweepId);

  std::ostringstream s;
  s << "#!/bin/bash\n";
  s << "# Written by `mhr launch slurm` for " << a.file << " (experiment \"" << plan.name
    << "\"): " << a.nodes << " node(s) x " << tasksPerNode << (gpus ? " GPU task(s)" : " CPU task(s)")
    << " = " << world << " data-parallel rank(s)";
  if (members) s << "; sweep " << sweepId << " of " << members << " run(s) as a job array";
  s << ".\n# Submit with: sbatch THIS_FILE (from the folder the paths below are relative to).\n";
  s << "#SBATCH --job-name=" << name << "\n";
  s << "#SBATCH --nodes=" << a.nodes << "\n";
  s << "#SBATCH --ntasks-per-node=" << tasksPerNode << "\n";
  if (gpus) s << "#SBATCH --gpus-per-node=" << a.gpusPerNode << "\n";
  if (a.cpusPerTask > 0) s << "#SBATCH --cpus-per-task=" << a.cpusPerTask << "\n";
  if (!a.mem.empty()) s << "#SBATCH --mem=" << a.mem << "\n";
  if (!a.time.empty()) s << "#SBATCH --time=" << a.time << "\n";
  if (!a.partition.empty()) s << "#SBATCH --partition=" << a.partition << "\n";
  if (!a.account.empty()) s << "#SBATCH --account=" << a.account << "\n";
  if (members) {
    s << "#SBATCH --array=0-" << members - 1 << "\n";
    s << "#SBATCH --output=" << name << "-%A_%a.out\n";
  } else {
    s << "#SBATCH --output=" << name << "-%j.out\n";
  }
  s << "set -euo pipefail\n";
  s << "cd \"$SLURM_SUBMIT_DIR\"\n\n";
  if (world > 1) {
    s << "# Rendezvous: rank 0 serves c10d's TCP store on the job's first node.\n";
    s << "export MASTER_ADDR=\"$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1)\"\n";
    s << "export MASTER_PORT=$((" << a.port << " + SLURM_JOB_ID % 1000))\n";
    s << "export MHR_DIST_TIMEOUT=\"${MHR_DIST_TIMEOUT:-600}\"\n\n";
  }
  std::vector<std::string> cmd = {a.mhr.empty() ? thisProgram() : a.mhr, "run", a.file, "--no-progress"};
  cmd.push_back("--device");
  cmd.push_back(gpus ? "cuda" : "cpu");
  if (!a.db.empty()) {
    cmd.push_back("--db");
    cmd.push_back(a.db);
  }
  for (const std::string& o : a.overrides) {
    cmd.push_back("--set");
    cmd.push_back(o);
  }
  if (a.cpusPerTask > 0) {
    cmd.push_back("--threads");
    cmd.push_back(std::to_string(a.cpusPerTask));
  }
  std::string line;
  for (const std::string& w : cmd) line += (line.empty() ? "" : " ") + shellWord(w);
  if (members) line += " --sweep-index \"$SLURM_ARRAY_TASK_ID\" --sweep-id " + shellWord(sweepId);
  if (world > 1) {
    s << "# One task per rank; srun's own variables become torchrun's. A rank that fails ends the step.\n";
    s << "srun --kill-on-bad-exit=1 bash -c 'export RANK=$SLURM_PROCID LOCAL_RANK=$SLURM_LOCALID "
         "WORLD_SIZE=$SLURM_NTASKS; exec \"$@\"' mhr-rank \\\n  "
      << line << "\n";
  } else {
    s << "srun " << line << "\n";
  }

  if (a.output.empty()) {
    std::cout << s.str();
  } else {
    support::writeFileAtomic(a.output, s.str());
    std::cerr << "wrote " << a.output << " (" << world << " rank(s)"
              << (members ? ", job array of " + std::to_string(members) + " run(s), " + sweepId : "")
              << "); submit it with `sbatch " << a.output << "`\n";
  }
  return 0;
}

} // namespace

void registerLaunchCommand(CLI::App& app, Runner& run) {
  CLI::App* launch = app.add_subcommand(
      "launch", "write an sbatch script for a data-parallel run or a sweep (runs nothing)");
  launch->require_subcommand(1);
  auto a = std::make_shared<LaunchArgs>();
  CLI::App* cmd = launch->add_subcommand(
      "slurm",
      "an sbatch script: srun with RANK/WORLD_SIZE/LOCAL_RANK/MASTER_ADDR per task; a sweep becomes a "
      "job array (docs/distributed.md)");
  cmd->add_option("file", a->file, "the .mhr file")->required();
  cmd->add_option("--nodes", a->nodes, "nodes (default 1)")->check(CLI::Range(1, 100000));
  cmd->add_option("--gpus-per-node", a->gpusPerNode, "GPUs per node, one rank each (default 0: CPU nodes)")
      ->check(CLI::Range(0, 1024));
  cmd->add_option("--tasks-per-node", a->tasksPerNode,
                  "ranks per CPU node (without --gpus-per-node; default 1)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--cpus-per-task", a->cpusPerTask, "CPUs per rank (also its --threads)")
      ->check(CLI::Range(1, 4096));
  cmd->add_option("--time", a->time, "time limit, e.g. 12:00:00");
  cmd->add_option("--partition", a->partition, "partition");
  cmd->add_option("--account", a->account, "account");
  cmd->add_option("--mem", a->mem, "memory per node, e.g. 64G");
  cmd->add_option("--job-name", a->jobName, "job name (default: the experiment's name)");
  cmd->add_option("--db", a->db, "tracker database the job writes (on a file system every node sees)");
  cmd->add_option("--set", a->overrides, "override a setting: KEY=VALUE (repeatable; forwarded to mhr run)");
  cmd->add_option("--sweep-id", a->sweepId, "sweep id of a job array (default: a new one)");
  cmd->add_option("--mhr", a->mhr, "the mhr program the job runs (default: this one's absolute path)");
  cmd->add_option("--port", a->port, "base of MASTER_PORT (plus the job id modulo 1000; default 29500)")
      ->check(CLI::Range(1024, 64535));
  cmd->add_option("-o,--output", a->output, "write the script to this file (default: print it)");
  cmd->callback([a, &run] { run = [a] { return launchSlurm(*a); }; });
}

} // namespace mhr::cli
