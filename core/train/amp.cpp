#include "core/train/amp.h"

#ifdef VITSCOPE_HAS_AUTOCAST
#include <ATen/autocast_mode.h>
#endif

namespace vitscope::train {

bool autocast_available(const torch::Device& device) {
#ifdef VITSCOPE_HAS_AUTOCAST
  return device.is_cuda();
#else
  (void)device;
  return false;
#endif
}

void allow_tf32(bool allow) {
  at::globalContext().setAllowTF32CuBLAS(allow);
  at::globalContext().setAllowTF32CuDNN(allow);
}

AutocastScope::AutocastScope(const torch::Device& device, bool enabled) {
#ifdef VITSCOPE_HAS_AUTOCAST
  if (!enabled || !autocast_available(device)) return;
  previous_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
  previous_dtype_ = at::autocast::get_autocast_dtype(at::kCUDA);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
  at::autocast::increment_nesting();
  active_ = true;
#else
  (void)device;
  (void)enabled;
#endif
}

AutocastScope::~AutocastScope() {
#ifdef VITSCOPE_HAS_AUTOCAST
  if (!active_) return;
  // Like torch.autocast.__exit__: drop the cached low-precision weight casts when the outermost
  // scope closes.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(at::kCUDA, previous_enabled_);
  at::autocast::set_autocast_dtype(at::kCUDA, previous_dtype_);
#endif
}

FullPrecisionScope::FullPrecisionScope() {
#ifdef VITSCOPE_HAS_AUTOCAST
  if (at::autocast::is_autocast_enabled(at::kCUDA)) {
    at::autocast::set_autocast_enabled(at::kCUDA, false);
    suspended_ = true;
  }
#endif
}

FullPrecisionScope::~FullPrecisionScope() {
#ifdef VITSCOPE_HAS_AUTOCAST
  if (suspended_) at::autocast::set_autocast_enabled(at::kCUDA, true);
#endif
}

}  // namespace vitscope::train
