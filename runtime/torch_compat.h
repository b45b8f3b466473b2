// runtime/torch_compat.h — the one include of LibTorch for the runtime (and its precompiled header), plus the
// few guards for API differences between Debian's LibTorch 1.13 (CPU) and LibTorch 2.x (CUDA builds).
// In: nothing. Out: <torch/torch.h> and MHR_TORCH_AT_LEAST(major, minor).
#pragma once

#include <torch/torch.h>
#include <torch/version.h>

// True when the LibTorch we compile against is at least MAJOR.MINOR.
#define MHR_TORCH_AT_LEAST(major, minor)                                                                     \
  (TORCH_VERSION_MAJOR > (major) || (TORCH_VERSION_MAJOR == (major) && TORCH_VERSION_MINOR >= (minor)))
