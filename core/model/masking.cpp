#include "core/model/masking.h"

#include <cmath>
#include <stdexcept>

namespace vitscope::model {

torch::Tensor mae_random_mask(int64_t batch, int64_t L, double ratio, torch::Generator& gen) {
  if (ratio < 0 || ratio >= 1) throw std::invalid_argument("MAE mask ratio must be in [0, 1)");
  const auto keep = static_cast<int64_t>(std::floor(L * (1 - ratio)));
  if (keep < 1) throw std::invalid_argument("MAE mask ratio leaves no visible patch");
  auto noise = torch::rand({batch, L}, gen);
  auto order = noise.argsort(1, false);
  auto mask = torch::ones({batch, L});
  mask.scatter_(1, order.narrow(1, 0, keep), 0.0);
  return mask;
}

torch::Tensor simmim_block_mask(int64_t batch, int64_t grid, int64_t unit, double ratio, torch::Generator& gen) {
  if (unit <= 0 || grid % unit != 0)
    throw std::invalid_argument("SimMIM mask unit " + std::to_string(unit) + " does not divide the grid " + std::to_string(grid));
  if (ratio < 0 || ratio > 1) throw std::invalid_argument("SimMIM mask ratio must be in [0, 1]");
  const int64_t side = grid / unit, blocks = side * side;
  const auto count = static_cast<int64_t>(std::ceil(blocks * ratio));
  auto order = torch::rand({batch, blocks}, gen).argsort(1, false);  // uniform without replacement
  auto block_mask = torch::zeros({batch, blocks});
  block_mask.scatter_(1, order.narrow(1, 0, count), 1.0);
  return block_mask.reshape({batch, side, 1, side, 1})
      .expand({batch, side, unit, side, unit})
      .reshape({batch, grid * grid});
}

MaeIndices mae_indices(const torch::Tensor& mask) {
  auto m = mask.to(torch::kFloat32);
  auto masked_counts = m.sum(1);
  if (!torch::all(masked_counts == masked_counts[0]).item<bool>())
    throw std::invalid_argument("every image of a batch must hide the same number of patches");
  const auto L = m.size(1), keep = L - static_cast<int64_t>(masked_counts[0].item<float>());
  // Stable sort of (mask, index): visible patches first in grid order, then masked ones.
  auto key = m * L + torch::arange(L, m.options()).unsqueeze(0);
  auto shuffle = key.argsort(1, false);
  return {shuffle.narrow(1, 0, keep), shuffle.argsort(1, false)};
}

}  // namespace vitscope::model
