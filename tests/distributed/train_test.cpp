// Data-parallel training against one process (tests/distributed/dist_train_helper.cpp): two Gloo processes
// on the loopback interface, each with half of every batch, reach the weights one process reaches over the
// whole batches — exactly in principle, so within float tolerance — when nothing depends on the split of a
// batch: no batch norm, or batch norm with sync_bn. Batch norm without sync normalises each half with its
// own statistics and must differ (which shows the comparison can fail). Also: gradient accumulation and
// activation checkpointing in the data-parallel path, and a peer that never arrives is a clear error.
#include "runtime/state_dict.h"
#include "tests/runtime/test_support.h"

#include <gtest/gtest.h>

namespace mhr::runtime {
namespace {

using test::CommandResult;
using test::TempDir;

std::string helper() {
  return MHR_DIST_HELPER;
}

// One process alone; writes OUT.rank0.
CommandResult single(const std::string& out, const std::string& flags) {
  return test::runCommand("env -u WORLD_SIZE -u RANK " + helper() + " " + out + " " + flags);
}

// Two ranks over a FileStore; both must succeed.
CommandResult pair(const TempDir& dir, const std::string& out, const std::string& flags) {
  const std::string store = dir.file("store-" + std::to_string(std::rand()));
  const std::string env = "MHR_DIST_STORE=" + store + " WORLD_SIZE=2 MHR_DIST_TIMEOUT=60 ";
  return test::runCommand("(" + env + "RANK=0 " + helper() + " " + out + " " + flags + " & p0=$!; " + env +
                          "RANK=1 " + helper() + " " + out + " " + flags +
                          " & p1=$!; wait $p0; a=$?; wait $p1; " + "b=$?; exit $((a | b)))");
}

// Largest |a - b| over every tensor, relative to max(1, |a|).
double maxDifference(const StateDict& a, const StateDict& b) {
  EXPECT_EQ(a.names(), b.names());
  double worst = 0;
  for (const std::string& n : a.names()) {
    torch::Tensor x = a.at(n).to(torch::kDouble), y = b.at(n).to(torch::kDouble);
    worst = std::max(worst, ((x - y).abs() / x.abs().clamp_min(1.0)).max().item<double>());
  }
  return worst;
}

// Trains alone and as two ranks; returns the largest difference between the lone weights and rank 0's (and
// checks both ranks agree to the last bit).
double compare(const std::string& singleFlags, const std::string& pairFlags) {
  TempDir dir;
  CommandResult s = single(dir.file("one.pt"), singleFlags);
  EXPECT_EQ(s.exitCode, 0) << s.output;
  CommandResult p = pair(dir, dir.file("two.pt"), pairFlags);
  EXPECT_EQ(p.exitCode, 0) << p.output;
  if (s.exitCode != 0 || p.exitCode != 0) return 1e9;
  StateDict one = readStateDict(dir.file("one.pt.rank0"));
  StateDict r0 = readStateDict(dir.file("two.pt.rank0")), r1 = readStateDict(dir.file("two.pt.rank1"));
  EXPECT_EQ(maxDifference(r0, r1), 0.0) << "the ranks' weights differ";
  return maxDifference(one, r0);
}

constexpr double kTolerance = 1e-5;

TEST(DistributedTrain, TwoRanksEqualOneProcessOverTheCombinedBatch) {
  EXPECT_LT(compare("", ""), kTolerance);
}

TEST(DistributedTrain, GradientAccumulationAcrossRanks) {
  // Each rank: micro-batches of 2, two per step; the lone process: batches of 8.
  EXPECT_LT(compare("", "--accumulate 2"), kTolerance);
}

TEST(DistributedTrain, SyncBatchNormMatchesTheCombinedBatch) {
  EXPECT_LT(compare("--bn", "--bn --sync-bn"), kTolerance);
}

TEST(DistributedTrain, PerRankBatchNormDiffersFromTheCombinedBatch) {
  // Each rank normalises its half with its own statistics: a different computation, visibly.
  EXPECT_GT(compare("--bn", "--bn"), 1e-3);
}

TEST(DistributedTrain, ActivationCheckpointingWithSyncBatchNorm) {
  EXPECT_LT(compare("--bn", "--bn --sync-bn --checkpointing"), kTolerance);
}

TEST(DistributedTrain, AMissingPeerIsAClearErrorAfterTheTimeout) {
  TempDir dir;
  CommandResult r =
      test::runCommand("MHR_DIST_STORE=" + dir.file("store") + " WORLD_SIZE=2 RANK=0 MHR_DIST_TIMEOUT=2 " +
                       helper() + " " + dir.file("x.pt"));
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("rank 0 of 2"), std::string::npos) << r.output;
}

TEST(DistributedTrain, BadEnvironmentIsAClearError) {
  CommandResult r = test::runCommand("WORLD_SIZE=2 RANK=5 " + helper() + " /dev/null");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("RANK"), std::string::npos) << r.output;
  r = test::runCommand("WORLD_SIZE=2 " + helper() + " /dev/null");
  EXPECT_EQ(r.exitCode, 1) << r.output;
  EXPECT_NE(r.output.find("RANK is not"), std::string::npos) << r.output;
}

} // namespace
} // namespace mhr::runtime
