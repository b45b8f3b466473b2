// support/files.h — whole-file reads and crash-safe writes. An atomic write goes to a temporary file in the
// same folder, is fsync'ed and renamed over the target, so a killed process leaves the old or the new file,
// never half of one (checkpoints, caches, reports).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace mhr::support {

// nullopt when the file cannot be opened.
std::optional<std::string> readFile(const std::string& path);
// Throws mhr::UserError naming the file on failure.
void writeFileAtomic(const std::string& path, std::string_view contents);
// Creates the folder and its parents; throws mhr::UserError on failure.
void makeDirectories(const std::string& path);
// The absolute folder that relative paths written in the source `sourcePath` resolve against: the file's own
// folder, or the working directory for a pseudo-file such as "<--set 1>" (a command-line value).
std::string sourceFolder(const std::string& sourcePath);

} // namespace mhr::support
