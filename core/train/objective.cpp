#include "core/train/objective.h"

namespace vitscope::train {

Normalizer::Normalizer(const model::Preprocess& p, const torch::Device& device) {
  mean_ = torch::tensor({p.mean[0], p.mean[1], p.mean[2]}).reshape({1, 3, 1, 1}).to(device);
  std_ = torch::tensor({p.std[0], p.std[1], p.std[2]}).reshape({1, 3, 1, 1}).to(device);
}

}  // namespace vitscope::train
