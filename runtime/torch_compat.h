// runtime/torch_compat.h — the one include of LibTorch for the runtime (and its precompiled header), plus the
// few guards for API differences between Debian's LibTorch 1.13 (CPU) and LibTorch 2.x (CUDA builds).
// In: nothing. Out: <torch/torch.h>, MHR_TORCH_AT_LEAST(major, minor) and small wrappers (autocast state,
// device-generic RNG state) whose spelling changed between versions.
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

// True when the LibTorch we compile against is at least MAJOR.MINOR.
#define MHR_TORCH_AT_LEAST(major, minor)                                                                     \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))

namespace mhr::runtime::compat {

// Autocast on CUDA (the only device the runtime autocasts on: CPU runs stay fp32). LibTorch 2.4 generalised
// the API per device type and deprecated the CUDA-only spelling that 1.13 has.
inline bool cudaAutocastEnabled() {
#if MHR_TORCH_AT_LEAST(2, 4)
  return at::autocast::is_autocast_enabled(at::kCUDA);
#else
  return at::autocast::is_enabled();
#endif
}

inline at::ScalarType cudaAutocastDtype() {
#if MHR_TORCH_AT_LEAST(2, 4)
  return at::autocast::get_autocast_dtype(at::kCUDA);
#else
  return at::autocast::get_autocast_gpu_dtype();
#endif
}

inline void setCudaAutocast(bool enabled, at::ScalarType dtype) {
#if MHR_TORCH_AT_LEAST(2, 4)
  at::autocast::set_autocast_enabled(at::kCUDA, enabled);
  at::autocast::set_autocast_dtype(at::kCUDA, dtype);
#else
  at::autocast::set_enabled(enabled);
  at::autocast::set_autocast_gpu_dtype(dtype);
#endif
}

// RAII: CUDA autocast to `dtype` inside the scope (no-op when !enabled), restoring the previous state and
// clearing the cast cache when the outermost region closes, as Python's torch.autocast does.
class CudaAutocastGuard {
public:
  CudaAutocastGuard(bool enabled, at::ScalarType dtype) : active_(enabled) {
    if (!active_) return;
    prevEnabled_ = cudaAutocastEnabled();
    prevDtype_ = cudaAutocastDtype();
    setCudaAutocast(true, dtype);
    at::autocast::increment_nesting();
  }
  ~CudaAutocastGuard() {
    if (!active_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    setCudaAutocast(prevEnabled_, prevDtype_);
  }
  CudaAutocastGuard(const CudaAutocastGuard&) = delete;
  CudaAutocastGuard& operator=(const CudaAutocastGuard&) = delete;

private:
  bool active_;
  bool prevEnabled_ = false;
  at::ScalarType prevDtype_ = at::kHalf;
};

// The default random generator of a device (CPU, or the current CUDA device), whose state the trainer saves
// in checkpoints and activation checkpointing replays.
inline at::Generator defaultGenerator(const torch::Device& device) {
  return at::globalContext().defaultGenerator(device.is_cuda() ? device : torch::Device(torch::kCPU));
}

} // namespace mhr::runtime::compat
