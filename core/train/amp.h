#pragma once
// Mixed precision for training: bf16 autocast on CUDA, only in LibTorch >= 2.4 builds with
// VITSCOPE_TORCH2_FEATURES (the device-generic at::autocast API; the 1.13 builds here are
// CPU-only anyway). Everywhere else training runs in fp32 (with TF32 matmuls on CUDA where the
// process only trains: TrainConfig::allow_tf32).
#include <torch/torch.h>

#if defined(VITSCOPE_TORCH2_FEATURES) && \
    (TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4))
#define VITSCOPE_HAS_AUTOCAST 1
#endif

namespace vitscope::train {

// True when this build can run bf16 autocast on `device`.
bool autocast_available(const torch::Device& device);

// Lets cuBLAS / cuDNN use TF32 for fp32 matmuls and convolutions (process-wide setting).
void allow_tf32(bool allow);

// Inside this scope, CUDA ops run under bf16 autocast (when `enabled` and available). The
// setting is thread-local, like Python's torch.autocast, and restored on exit.
class AutocastScope {
 public:
  AutocastScope(const torch::Device& device, bool enabled);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;
  bool active() const { return active_; }

 private:
  bool active_ = false;
  bool previous_enabled_ = false;
  c10::ScalarType previous_dtype_ = c10::ScalarType::Half;
};

// Suspends autocast for the losses, which are computed in fp32 (like torch.autocast(enabled=False)).
class FullPrecisionScope {
 public:
  FullPrecisionScope();
  ~FullPrecisionScope();
  FullPrecisionScope(const FullPrecisionScope&) = delete;
  FullPrecisionScope& operator=(const FullPrecisionScope&) = delete;

 private:
  bool suspended_ = false;
};

}  // namespace vitscope::train
