// runtime/device.h — the device a run uses and what the tracker records about it. In: `--device cpu | cuda |
// auto`. Out: a torch::Device (or a UserError saying why CUDA is not usable), environment facts (LibTorch
// version, device name, CUDA/cuDNN versions, CPU threads), the device's memory, and peak-memory statistics
// on CUDA. CUDA-only calls compile only when the LibTorch build has CUDA (MHR_TORCH_CUDA, set by CMake).
#pragma once

#include "runtime/torch_compat.h"

#include <cstdint>
#include <map>
#include <string>

namespace mhr::runtime {

torch::Device chooseDevice(const std::string& request);

std::map<std::string, std::string> environmentFacts(const torch::Device& device);

// Total memory of a CUDA device in bytes; 0 on the CPU.
int64_t deviceMemoryBytes(const torch::Device& device);

// CUDA: the peak of allocated bytes since the last reset; -1 on the CPU.
int64_t peakMemoryBytes(const torch::Device& device);
void resetPeakMemory(const torch::Device& device);

// Keeps freed CPU memory in the process (glibc only; call once, before the first tensor). A batch of
// full-resolution feature maps is tens of MB per tensor, above glibc's mmap threshold, so by default every
// training step maps fresh pages and the kernel zero-fills them again: on 2 cores about half of a 512x416
// step of the quickstart was spent in page faults. Served from a heap that is never trimmed, the pages stay
// mapped and the process holds its peak memory until it exits. MHR_HOST_MALLOC=system keeps glibc's defaults.
void keepHostMemory();

// Reproducibility and speed switches of a train stage: deterministic CPU kernels, cudnn.benchmark on CUDA.
void configureBackends(const torch::Device& device, bool deterministic, bool cudnnBenchmark);

} // namespace mhr::runtime
