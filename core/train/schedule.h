#pragma once
// Learning-rate schedule of MAE / MoCo v3 pre-training: linear warm-up from 0, then half-cosine
// decay to min_lr, evaluated per step (fractional epochs).
#include <cstdint>

namespace vitscope::train {

struct LrSchedule {
  double peak_lr = 1e-3;
  double min_lr = 0.0;
  int64_t warmup_steps = 0;
  int64_t total_steps = 1;
};

double learning_rate(const LrSchedule& schedule, int64_t step);

}  // namespace vitscope::train
