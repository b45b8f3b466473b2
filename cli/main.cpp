// cli/main.cpp — entry point of `mhr`. Parses the command line with CLI11 and runs the chosen subcommand;
// commands that need LibTorch, OpenCV or DCMTK are forwarded, with the original arguments, to
// libmhr_backend.so (loaded only then). Anything that escapes a command becomes a message and exit code 1.
#include "cli/commands.h"
#include "cli/version.h"
#include "support/error.h"
#include "support/strings.h"

#include <dlfcn.h>
#include <filesystem>
#include <iostream>
#include <unistd.h>

namespace {

// libmhr_backend.so next to the executable (build tree), or in ../lib/mhr/ (an installed tree).
std::string backendPath() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::filesystem::path dir = ec ? std::filesystem::path(".") : exe.parent_path();
  for (const auto& candidate : {dir / "libmhr_backend.so", dir / ".." / "lib" / "mhr" / "libmhr_backend.so"})
    if (std::filesystem::exists(candidate, ec)) return candidate.string();
  return (dir / "libmhr_backend.so").string();
}

int forwardToBackend(int argc, char** argv) {
  std::string path = backendPath();
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    std::cerr << "mhr: error: this command needs the runtime library " << path
              << ", which could not be loaded:\n  " << ::dlerror()
              << "\nBuild it with `make build` (it is built next to the mhr binary).\n";
    return 1;
  }
  using Entry = int (*)(int, char**);
  auto entry = reinterpret_cast<Entry>(::dlsym(handle, "mhr_backend_main"));
  if (!entry) {
    std::cerr << "mhr: error: " << path << " is not an mhr backend (no mhr_backend_main)\n";
    return 1;
  }
  return entry(argc, argv);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "mhr: experiments on high-resolution medical images by function-preserving network morphisms.\n"
      "Write a .mhr file, check it (the compiler proves each morph preserves the parent's function),\n"
      "run it, compare runs in the tracker."};
  app.set_version_flag("--version", std::string("mhr ") + mhr::cli::kVersion + " (" + mhr::cli::kGitCommit +
                                        ")\nbuilt with " + mhr::cli::kBuildFacts);
  app.require_subcommand(1);

  mhr::cli::Runner run;
  mhr::cli::registerCompilerCommands(app, run);
  mhr::cli::registerTrackerCommands(app, run);
  for (const auto& c : mhr::cli::backendCommands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    // Everything after the command name (its own --help included) is the backend's to parse.
    sub->prefix_command();
    sub->allow_extras();
    sub->set_help_flag();
    sub->callback([&run, argc, argv] { run = [argc, argv] { return forwardToBackend(argc, argv); }; });
  }

  return mhr::cli::parseAndRun(app, argc, argv, run);
}
