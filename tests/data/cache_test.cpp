// The prepared cache: built once, reused, invalidated by what changes pixels (and only that), never torn by
// a killed build, and honest about files that fail to decode.
#include "data/cache.h"
#include "data/decode.h"
#include "data/preprocess.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <sstream>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace mhr::data {

using namespace test;
namespace fs = std::filesystem;

namespace {
plan::DatasetConfig mammo(const std::string& cache, int64_t count = 12, plan::Attrs extra = {}) {
  plan::Attrs options = {{"cache", str(cache)}};
  for (auto& e : extra) options.push_back(e);
  return config("mammo", "synthetic_mammo",
                {{"count", integer(count)}, {"size", size(96, 78)}, {"seed", integer(4)}}, options);
}
PrepareOptions quiet(std::ostream& out, int threads = 2) {
  PrepareOptions o;
  o.out = &out;
  o.progress = ProgressMode::Lines;
  o.threads = threads;
  return o;
}
} // namespace

TEST(Cache, BuiltOnceThenReusedAndHoldsThePreprocessedPixels) {
  TempDir dir;
  Dataset d = openDataset(mammo(dir / "cache"), 0);
  std::ostringstream log1, log2;
  auto c1 = prepareCache(d, 48, 40, quiet(log1));
  EXPECT_NE(log1.str().find("built cache for mammo at 48x40"), std::string::npos) << log1.str();
  EXPECT_NE(log1.str().find("prepare mammo at 48x40: 12/12"), std::string::npos) << log1.str();
  struct stat before;
  ASSERT_EQ(::stat(c1->path().c_str(), &before), 0);
  auto c2 = prepareCache(d, 48, 40, quiet(log2));
  EXPECT_NE(log2.str().find("reusing cache for mammo at 48x40"), std::string::npos) << log2.str();
  EXPECT_EQ(log2.str().find("prepare mammo"), std::string::npos) << "rebuilt although nothing changed";
  struct stat after;
  ASSERT_EQ(::stat(c2->path().c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);
  EXPECT_EQ(c1->path(), c2->path());
  EXPECT_EQ(fs::file_size(c1->path()), 4096u + 12u * 48 * 40 * 2);
  for (size_t i : {size_t(0), size_t(7)}) {
    Image expected = preprocess(d.load(i), d.options().preprocess, 48, 40);
    const uint16_t* px = c2->pixels(i);
    for (size_t k = 0; k < expected.pixels.size(); ++k)
      ASSERT_EQ(px[k], uint16_t(std::lround(std::clamp(double(expected.pixels[k]), 0.0, 1.0) * 65535.0)));
  }
  // Thread count does not change the bytes.
  TempDir other;
  Dataset d1 = openDataset(mammo(other / "cache"), 0);
  std::ostringstream log3;
  auto c3 = prepareCache(d1, 48, 40, quiet(log3, 1));
  for (size_t i = 0; i < 12; ++i) ASSERT_EQ(std::memcmp(c3->pixels(i), c2->pixels(i), 48 * 40 * 2), 0);
}

TEST(Cache, KeyFollowsPixelsNotLabelsOrNormalization) {
  TempDir dir;
  auto path = [&](plan::DatasetConfig c, int64_t h = 48, int64_t w = 40) {
    return cachePath(openDataset(c, 0), h, w);
  };
  std::string base = path(mammo(dir / "c"));
  EXPECT_EQ(base, path(mammo(dir / "c")));
  EXPECT_NE(base, path(mammo(dir / "c"), 96, 78));
  EXPECT_NE(base, path(mammo(dir / "c", 12, {{"preprocess", list({sym("clahe")})}})));
  EXPECT_NE(base, path(mammo(dir / "c", 12, {{"resize", sym("stretch")}})));
  EXPECT_NE(base, path(mammo(dir / "c", 13)));
  EXPECT_EQ(base, path(mammo(
                      dir / "c", 12,
                      {{"preprocess", list({call("normalize", {{"mean", num(0.3)}, {"std", num(0.2)}})})}})));
  // Files: the (path, size, mtime) fingerprint.
  touch(dir / "a.png");
  touch(dir / "b.png");
  writeText(dir / "m.csv", "image,label\na.png,x\nb.png,y\n");
  auto manifest = config("files", "manifest", {{"csv", str(dir / "m.csv")}}, {{"cache", str(dir / "c")}});
  std::string k1 = cacheKey(openDataset(manifest, 0), 32, 32);
  EXPECT_EQ(k1, cacheKey(openDataset(manifest, 0), 32, 32));
  struct timespec times[2] = {{0, UTIME_OMIT}, {1234567890, 5}};
  ASSERT_EQ(::utimensat(AT_FDCWD, (dir / "b.png").c_str(), times, 0), 0);
  std::string k2 = cacheKey(openDataset(manifest, 0), 32, 32);
  EXPECT_NE(k1, k2);
  writeText(dir / "b.png", "x");
  EXPECT_NE(k2, cacheKey(openDataset(manifest, 0), 32, 32));
}

TEST(Cache, DamagedFilesAreRebuiltNotTrusted) {
  TempDir dir;
  Dataset d = openDataset(mammo(dir / "cache", 4), 0);
  std::ostringstream log;
  std::string path = prepareCache(d, 32, 26, quiet(log))->path();
  fs::resize_file(path, fs::file_size(path) - 1); // truncated
  std::ostringstream log2;
  auto c = prepareCache(d, 32, 26, quiet(log2));
  EXPECT_NE(log2.str().find("built cache"), std::string::npos) << log2.str();
  EXPECT_EQ(fs::file_size(path), 4096u + 4u * 32 * 26 * 2);
  { // garbage header
    std::string bytes = support::readFile(path).value();
    bytes[0] = 'X';
    writeText(path, bytes);
  }
  std::ostringstream log3;
  prepareCache(d, 32, 26, quiet(log3));
  EXPECT_NE(log3.str().find("built cache"), std::string::npos) << log3.str();
}

TEST(Cache, AKilledBuildLeavesNoCacheAndItsDebrisIsCleanedUp) {
  TempDir dir;
  Dataset d = openDataset(mammo(dir / "cache", 1500), 0); // long enough to be killed in the middle
  std::string path = cachePath(d, 96, 78);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    std::ostringstream sink;
    PrepareOptions o = quiet(sink, 1);
    prepareCache(d, 96, 78, o);
    ::_exit(0);
  }
  std::string tmp = path + ".tmp." + std::to_string(child);
  for (int i = 0; i < 2000 && !fs::exists(tmp); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_TRUE(fs::exists(tmp)) << "the child never started building";
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ::kill(child, SIGKILL);
  int status = 0;
  ::waitpid(child, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the build finished before it could be killed";
  EXPECT_FALSE(fs::exists(path)) << "a killed build must not leave a cache file";
  EXPECT_TRUE(fs::exists(tmp));
  std::ostringstream log;
  auto c = prepareCache(d, 96, 78, quiet(log));
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(tmp)) << "the dead build's temporary file was not removed";
  EXPECT_EQ(c->count(), 1500u);
}

TEST(Cache, UndecodableFilesStopOrAreLeftOutAndReportedOnEveryUse) {
  TempDir dir;
  Image unused;
  writeText(dir / "a.png", "not an image at all");
  writeText(dir / "b.png", "neither");
  writeText(dir / "m.csv", "image,label\na.png,x\nb.png,y\n");
  auto cfg = [&](bool skip) {
    plan::Attrs o = {{"cache", str(dir / "c")}};
    if (skip) o.push_back({"on_error", sym("skip")});
    return config("files", "manifest", {{"csv", str(dir / "m.csv")}}, o);
  };
  std::ostringstream log;
  if (!imageIoAvailable()) { // built with MHR_WITH_IMAGE_IO=OFF: no cache, no decoder, a clear way out
    std::string off = errorOf([&] { prepareCache(openDataset(cfg(true), 0), 16, 16, quiet(log, 1)); });
    EXPECT_NE(off.find("this mhr cannot decode images"), std::string::npos) << off;
    EXPECT_NE(off.find("mhr prepare"), std::string::npos) << off;
    return;
  }
  std::string e = errorOf([&] { prepareCache(openDataset(cfg(false), 0), 16, 16, quiet(log, 1)); });
  EXPECT_NE(e.find(dir / "m.csv:2: " + dir / "a.png"), std::string::npos) << e;
  EXPECT_NE(e.find("on_error: skip"), std::string::npos) << e;
  EXPECT_TRUE(fs::is_empty(dir / "c")) << "a stopped build must not leave files";

  for (int use = 0; use < 2; ++use) { // built, then reused: the same warnings both times
    Warnings w;
    Dataset d = openDataset(cfg(true), 0, w.options());
    std::ostringstream l;
    auto c = prepareCache(d, 16, 16, quiet(l, 1));
    EXPECT_TRUE(c->failed(0));
    EXPECT_TRUE(c->failed(1));
    ASSERT_EQ(w.lines.size(), 3u) << l.str();
    EXPECT_NE(w.lines[0].find(dir / "a.png"), std::string::npos) << w.lines[0];
    EXPECT_NE(w.lines[2].find("2 of 2 images could not be read"), std::string::npos) << w.lines[2];
    EXPECT_NE(errorOf([&] { prepareSplit(d, SplitId::Train, 16, 16, quiet(l, 1)); }).find("failed to load"),
              std::string::npos);
  }
}

TEST(Cache, PreparedSplitCarriesLabelsAndNormalization) {
  TempDir dir;
  Dataset d = openDataset(
      mammo(dir / "cache", 20,
            {{"preprocess", list({call("normalize", {{"mean", num(0.25)}, {"std", num(0.5)}})})}}),
      0);
  std::ostringstream log;
  PreparedSplit s = prepareSplit(d, SplitId::Test, 32, 26, quiet(log));
  EXPECT_EQ(s.size(), d.indices(SplitId::Test).size());
  EXPECT_TRUE(s.normalize);
  EXPECT_EQ(s.mean, 0.25);
  EXPECT_EQ(s.classes, d.classes());
  for (size_t k = 0; k < s.size(); ++k) {
    EXPECT_EQ(s.ids[k], d.samples()[s.entries[k]].id);
    EXPECT_EQ(s.labels[k], d.samples()[s.entries[k]].label);
  }
}

TEST(Cache, StaleTemporariesOfDeadProcessesAreRemoved) {
  TempDir dir;
  Dataset d = openDataset(mammo(dir / "cache", 4), 0);
  std::string path = cachePath(d, 32, 26);
  pid_t dead = 999999;
  while (::kill(dead, 0) == 0) --dead;
  fs::create_directories(dir / "cache");
  writeText(path + ".tmp." + std::to_string(dead), "debris");
  std::ostringstream log;
  prepareCache(d, 32, 26, quiet(log));
  EXPECT_FALSE(fs::exists(path + ".tmp." + std::to_string(dead)));
}

} // namespace mhr::data
