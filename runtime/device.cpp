#include "runtime/device.h"

#include "runtime/distributed.h"
#include "support/error.h"

#include <cstdlib>
#include <fstream>
#include <limits>
#include <thread>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(MHR_TORCH_CUDA)
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace mhr::runtime {

torch::Device chooseDevice(const std::string& request) {
  const bool available = torch::cuda::is_available();
  if (request == "cpu") return torch::kCPU;
  if (request == "auto") return available ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (request == "cuda" || request.rfind("cuda:", 0) == 0) {
    if (!available)
      throw UserError("--device " + request + ": no CUDA device is usable (" +
#if defined(MHR_TORCH_CUDA)
                      std::string("no GPU is visible to this process") +
#else
                      std::string(
                          "this mhr was built against a CPU-only LibTorch; see docs for the CUDA build") +
#endif
                      ")");
    torch::Device d(request);
    if (d.has_index() && d.index() >= static_cast<int>(torch::cuda::device_count()))
      throw UserError("--device " + request + ": only " + std::to_string(torch::cuda::device_count()) +
                      " CUDA device(s) are visible");
    return d.has_index() ? d : torch::Device(torch::kCUDA, 0);
  }
  throw UserError("--device " + request + ": expected cpu, cuda, cuda:N or auto");
}

std::map<std::string, std::string> environmentFacts(const torch::Device& device) {
  std::map<std::string, std::string> f;
  f["libtorch"] = TORCH_VERSION;
  f["device"] = device.str();
  f["cpu_threads"] = std::to_string(at::get_num_threads());
  f["hardware_threads"] = std::to_string(std::thread::hardware_concurrency());
  f["mkldnn"] = at::globalContext().hasMKLDNN() ? "yes" : "no";
  f["cuda_available"] = torch::cuda::is_available() ? "yes" : "no";
  // What was compiled in, apart from what this machine offers at run time (a CUDA build on a host without a
  // GPU says cuda_compiled yes, cuda_available no).
#if defined(MHR_TORCH_CUDA)
  f["cuda_compiled"] = "yes";
#else
  f["cuda_compiled"] = "no";
#endif
  f["gloo_compiled"] = distributedAvailable("gloo") ? "yes" : "no";
  f["nccl_compiled"] = distributedAvailable("nccl") ? "yes" : "no";
  {
    std::ifstream cpu("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpu, line))
      if (line.rfind("model name", 0) == 0) {
        f["cpu"] = line.substr(line.find(':') + 2);
        break;
      }
  }
#if defined(MHR_TORCH_CUDA)
  if (device.is_cuda()) {
    const cudaDeviceProp* p = at::cuda::getDeviceProperties(device.index());
    f["device_name"] = p->name;
    f["device_memory_bytes"] = std::to_string(p->totalGlobalMem);
    f["cuda_capability"] = std::to_string(p->major) + "." + std::to_string(p->minor);
    if (at::detail::getCUDAHooks().hasCuDNN())
      f["cudnn"] = std::to_string(at::detail::getCUDAHooks().versionCuDNN());
    f["cuda_runtime"] = std::to_string(CUDART_VERSION);
  }
#endif
  if (!device.is_cuda()) f["device_name"] = f.count("cpu") ? f["cpu"] : "cpu";
  return f;
}

int64_t deviceMemoryBytes(const torch::Device& device) {
#if defined(MHR_TORCH_CUDA)
  if (device.is_cuda())
    return static_cast<int64_t>(at::cuda::getDeviceProperties(device.index())->totalGlobalMem);
#endif
  return 0;
}

int64_t peakMemoryBytes(const torch::Device& device) {
#if defined(MHR_TORCH_CUDA)
  // Index 0 of the stat array is the aggregate over pool types in every LibTorch version.
  if (device.is_cuda())
    return c10::cuda::CUDACachingAllocator::getDeviceStats(device.index()).allocated_bytes[0].peak;
#endif
  return -1;
}

void resetPeakMemory(const torch::Device& device) {
#if defined(MHR_TORCH_CUDA)
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index());
#endif
  (void)device;
}

void keepHostMemory() {
#if defined(__GLIBC__)
  const char* choice = std::getenv("MHR_HOST_MALLOC");
  if (choice && std::string(choice) == "system") return;
  // No mmap for large blocks, and no trimming of the heap's top below 2 GiB of free space.
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
#endif
}

void configureBackends(const torch::Device& device, bool deterministic, bool cudnnBenchmark) {
  if (device.is_cuda()) {
    at::globalContext().setBenchmarkCuDNN(cudnnBenchmark);
    // Bit-reproducibility is a CPU promise; on CUDA deterministic algorithms would refuse some backward
    // kernels (adaptive pooling) and cost speed, so only cuDNN's choice is pinned when benchmark is off.
    at::globalContext().setDeterministicCuDNN(deterministic && !cudnnBenchmark);
  } else {
    at::globalContext().setDeterministicAlgorithms(deterministic, /*warn_only=*/true);
  }
}

} // namespace mhr::runtime
