#include "support/files.h"

#include "support/error.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace mhr::support {

std::optional<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return std::nullopt;
  return ss.str();
}

void writeFileAtomic(const std::string& path, std::string_view contents) {
  std::filesystem::path target(path);
  if (target.has_parent_path()) makeDirectories(target.parent_path().string());
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) throw UserError("cannot write '" + tmp + "': " + std::strerror(errno));
  const char* p = contents.data();
  size_t left = contents.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      throw UserError("cannot write '" + tmp + "': " + std::strerror(err));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    throw UserError("cannot flush '" + tmp + "': " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    throw UserError("cannot rename '" + tmp + "' to '" + path + "': " + std::strerror(err));
  }
}

void makeDirectories(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) throw UserError("cannot create folder '" + path + "': " + ec.message());
}

std::string sourceFolder(const std::string& sourcePath) {
  std::error_code ec;
  std::filesystem::path cwd = std::filesystem::current_path(ec);
  if (sourcePath.empty() || sourcePath.front() == '<') return cwd.string();
  std::filesystem::path p(sourcePath);
  if (p.is_relative()) p = cwd / p;
  return p.lexically_normal().parent_path().string();
}

} // namespace mhr::support
