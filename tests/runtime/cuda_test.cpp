// The runtime on a CUDA device: device choice and properties, autocast state, peak-memory statistics, and a
// short bf16 training run through runtime::execute. Built in every configuration; each test that needs a GPU
// skips with "no CUDA device" where none is visible (CI, the build machines), so a CUDA build is at least
// linked and started on every change. The first tests need no device: they say what the build compiled in.
#include "compiler/pipeline.h"
#include "runtime/device.h"
#include "runtime/distributed.h"
#include "runtime/execute.h"
#include "stdlib/catalog.h"
#include "support/error.h"
#include "support/files.h"
#include "tests/runtime/recording_sink.h"
#include "tests/runtime/test_support.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>

namespace mhr::runtime {
namespace {

#define MHR_NEED_CUDA()                                                                                      \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device"

TEST(CudaBuild, EnvironmentSaysWhatWasCompiledInApartFromTheDevice) {
  auto f = environmentFacts(torch::Device(torch::kCPU));
#if defined(MHR_TORCH_CUDA)
  EXPECT_EQ(f["cuda_compiled"], "yes");
  // A CUDA LibTorch found with nccl.h is built with NCCL (runtime/CMakeLists.txt); the wheel's is.
  EXPECT_EQ(f["nccl_compiled"], MHR_EXPECT_NCCL ? "yes" : "no");
#else
  EXPECT_EQ(f["cuda_compiled"], "no");
  EXPECT_EQ(f["nccl_compiled"], "no");
#endif
  EXPECT_EQ(f["cuda_available"], torch::cuda::is_available() ? "yes" : "no");
}

TEST(CudaBuild, CudaWithoutADeviceIsAClearError) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a CUDA device is visible";
  try {
    chooseDevice("cuda");
    FAIL() << "expected a UserError";
  } catch (const UserError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("no CUDA device is usable"), std::string::npos) << m;
#if defined(MHR_TORCH_CUDA)
    EXPECT_NE(m.find("no GPU is visible"), std::string::npos) << m;
#else
    EXPECT_NE(m.find("CPU-only LibTorch"), std::string::npos) << m;
#endif
  }
  EXPECT_EQ(chooseDevice("auto"), torch::Device(torch::kCPU));
}

// The autocast state is thread-local dispatch state, no device needed: this reaches compat's LibTorch 2.4+
// spelling (per device type) on the 2.15 leg and the CUDA-only 1.13 spelling on the default leg.
TEST(CudaBuild, AutocastStateNestsAndRestoresWithoutADevice) {
  EXPECT_FALSE(compat::cudaAutocastEnabled());
  const at::ScalarType before = compat::cudaAutocastDtype();
  {
    compat::CudaAutocastGuard outer(true, at::kBFloat16);
    EXPECT_TRUE(compat::cudaAutocastEnabled());
    EXPECT_EQ(compat::cudaAutocastDtype(), at::kBFloat16);
    {
      compat::CudaAutocastGuard inner(true, at::kHalf);
      EXPECT_EQ(compat::cudaAutocastDtype(), at::kHalf);
      compat::CudaAutocastGuard off(false, at::kFloat); // a disabled guard changes nothing
      EXPECT_TRUE(compat::cudaAutocastEnabled());
      EXPECT_EQ(compat::cudaAutocastDtype(), at::kHalf);
    }
    EXPECT_TRUE(compat::cudaAutocastEnabled());
    EXPECT_EQ(compat::cudaAutocastDtype(), at::kBFloat16);
  }
  EXPECT_FALSE(compat::cudaAutocastEnabled());
  EXPECT_EQ(compat::cudaAutocastDtype(), before);
  // CPU tensors are never cast by the CUDA autocast state the runtime sets.
  compat::CudaAutocastGuard on(true, at::kBFloat16);
  auto a = torch::randn({4, 4});
  EXPECT_EQ(torch::mm(a, a).scalar_type(), at::kFloat);
}

// The default generator follows the device; on the CPU its state round-trips (what checkpoints save).
TEST(CudaBuild, CpuGeneratorStateRoundTrips) {
  at::Generator g = compat::defaultGenerator(torch::kCPU);
  EXPECT_EQ(g.device().type(), torch::kCPU);
  torch::Tensor state = g.get_state().clone();
  auto x = torch::randn({8});
  g.set_state(state);
  EXPECT_TRUE(torch::equal(x, torch::randn({8})));
}

TEST(Cuda, DeviceChoiceAndProperties) {
  MHR_NEED_CUDA();
  torch::Device d = chooseDevice("cuda");
  EXPECT_TRUE(d.is_cuda());
  EXPECT_EQ(d.index(), 0);
  EXPECT_EQ(chooseDevice("auto"), d);
  EXPECT_THROW(chooseDevice("cuda:" + std::to_string(torch::cuda::device_count())), UserError);
  auto f = environmentFacts(d);
  EXPECT_FALSE(f["device_name"].empty());
  EXPECT_GT(std::stoll(f["device_memory_bytes"]), 0);
  EXPECT_FALSE(f["cuda_capability"].empty());
  EXPECT_GT(deviceMemoryBytes(d), int64_t{1} << 30);
}

TEST(Cuda, AutocastGuardCastsInsideAndRestoresOutside) {
  MHR_NEED_CUDA();
  auto a = torch::randn({16, 16}, torch::kCUDA);
  EXPECT_FALSE(compat::cudaAutocastEnabled());
  {
    compat::CudaAutocastGuard guard(true, at::kBFloat16);
    EXPECT_TRUE(compat::cudaAutocastEnabled());
    EXPECT_EQ(compat::cudaAutocastDtype(), at::kBFloat16);
    EXPECT_EQ(torch::mm(a, a).scalar_type(), at::kBFloat16);
  }
  EXPECT_FALSE(compat::cudaAutocastEnabled());
  EXPECT_EQ(torch::mm(a, a).scalar_type(), at::kFloat);
  compat::CudaAutocastGuard off(false, at::kHalf); // a disabled guard changes nothing
  EXPECT_FALSE(compat::cudaAutocastEnabled());
}

TEST(Cuda, PeakMemoryIsMeasuredAndReset) {
  MHR_NEED_CUDA();
  torch::Device d = chooseDevice("cuda");
  resetPeakMemory(d);
  {
    auto big = torch::empty({64, 1024, 1024}, torch::TensorOptions().device(d)); // 256 MiB
    EXPECT_GE(peakMemoryBytes(d), int64_t{256} << 20);
  }
  resetPeakMemory(d);
  EXPECT_LT(peakMemoryBytes(d), int64_t{256} << 20);
  EXPECT_EQ(peakMemoryBytes(torch::kCPU), -1);
}

TEST(Cuda, GeneratorStateFollowsTheDevice) {
  MHR_NEED_CUDA();
  at::Generator g = compat::defaultGenerator(chooseDevice("cuda"));
  EXPECT_EQ(g.device().type(), torch::kCUDA);
  torch::Tensor state = g.get_state();
  auto x = torch::randn({4}, torch::kCUDA);
  g.set_state(state);
  EXPECT_TRUE(torch::equal(x, torch::randn({4}, torch::kCUDA)));
}

TEST(Cuda, TrainsAndEvaluatesInBf16) {
  MHR_NEED_CUDA();
  test::TempDir dir;
  support::writeFileAtomic(dir.file("spec.mhr"), R"(experiment "runtime/cuda"
seed 5
dataset d = synthetic_mammo(count: 24, size: 64x52, seed: 3)
network base = tiny_cnn(classes: 2, in_channels: 1)
train base on d.train at 64x52 { epochs: 2; batch: 4; optimizer: adam(lr: 0.001); precision: bf16 }
evaluate base on d.test at 64x52 { metrics: [auc] }
)");
  compiler::CompileOptions co;
  co.catalog = &stdlib::catalog();
  compiler::CompileResult cr = compiler::compileFile(dir.file("spec.mhr"), co);
  ASSERT_TRUE(cr.ok() && cr.plan);
  test::RecordingSink sink;
  ExecuteOptions o;
  o.device = "cuda";
  o.checkpointDir = dir.file("ckpt");
  o.cacheDir = dir.file("cache");
  o.progress = false;
  std::ostringstream log;
  o.log = &log;
  ExecuteResult r = execute(*cr.plan, o, sink);
  EXPECT_EQ(r.device.rfind("cuda", 0), 0u) << r.device;
  EXPECT_TRUE(std::isfinite(sink.last("train.base/epoch_loss")));
  EXPECT_GT(sink.last("train.base/peak_memory_bytes"), 0);
  EXPECT_FALSE(sink.environment["device_name"].empty());
  EXPECT_FALSE(std::isnan(sink.last("evaluate.base/auc")));
}

} // namespace
} // namespace mhr::runtime
