#include "core/train/schedule.h"

#include <algorithm>
#include <cmath>

namespace vitscope::train {

double learning_rate(const LrSchedule& s, int64_t step) {
  if (step < s.warmup_steps) return s.peak_lr * static_cast<double>(step) / static_cast<double>(s.warmup_steps);
  const double span = static_cast<double>(std::max<int64_t>(1, s.total_steps - s.warmup_steps));
  const double t = std::min(1.0, static_cast<double>(step - s.warmup_steps) / span);
  return s.min_lr + (s.peak_lr - s.min_lr) * 0.5 * (1.0 + std::cos(M_PI * t));
}

}  // namespace vitscope::train
