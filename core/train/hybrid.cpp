#include "core/train/hybrid.h"

namespace vitscope::train {

HybridObjective::HybridObjective(model::Model& model, double lambda, MocoV3Options moco, SimMimOptions simmim)
    : lambda_(lambda), moco_(model, moco), simmim_(model, simmim) {
  if (lambda < 0.0 || lambda > 1.0) throw std::invalid_argument("hybrid λ must lie in [0, 1]");
}

LossTerms HybridObjective::loss(const torch::Tensor& images, StepContext& ctx) {
  auto mim = simmim_.loss(images, ctx);
  auto cl = moco_.loss(images, ctx);
  auto total = (1.0 - lambda_) * mim.total + lambda_ * cl.total;
  return {total, {mim.parts.front(), cl.parts.front()}};
}

}  // namespace vitscope::train
