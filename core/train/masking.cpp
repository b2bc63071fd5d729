#include "core/train/masking.h"

#include <cmath>
#include <stdexcept>

#include "core/train/random.h"

namespace vitscope::train {

MaeMask mae_random_mask(int64_t B, int64_t L, double ratio, torch::Generator& gen, const torch::Device& device) {
  const auto len_keep = static_cast<int64_t>(std::floor(static_cast<double>(L) * (1.0 - ratio)));
  if (len_keep < 1) throw std::invalid_argument("MAE mask ratio leaves no visible patch");
  auto noise = torch::rand({B, L}, gen);
  auto ids_shuffle = noise.argsort(/*dim=*/static_cast<int64_t>(1));
  auto ids_restore = ids_shuffle.argsort(static_cast<int64_t>(1));
  auto mask = torch::ones({B, L});
  mask.narrow(1, 0, len_keep).zero_();
  mask = mask.gather(1, ids_restore);
  return {upload(ids_shuffle.narrow(1, 0, len_keep).contiguous(), device), upload(mask, device), upload(ids_restore, device)};
}

torch::Tensor simmim_block_mask(int64_t B, int grid, int unit, double ratio, torch::Generator& gen,
                                const torch::Device& device) {
  if (unit <= 0 || grid % unit != 0)
    throw std::invalid_argument("SimMIM mask unit of " + std::to_string(unit) + " tokens does not tile a " +
                                std::to_string(grid) + "x" + std::to_string(grid) + " token grid");
  const int64_t units_per_side = grid / unit, units = units_per_side * units_per_side;
  const auto count = static_cast<int64_t>(std::ceil(static_cast<double>(units) * ratio));
  // The first `count` units of a random permutation per image are masked.
  auto order = torch::rand({B, units}, gen).argsort(static_cast<int64_t>(1));
  auto chosen = torch::zeros({B, units});
  chosen.scatter_(1, order.narrow(1, 0, count), 1.0);
  auto m = chosen.reshape({B, units_per_side, units_per_side})
               .repeat_interleave(unit, 1)
               .repeat_interleave(unit, 2);
  return upload(m.reshape({B, static_cast<int64_t>(grid) * grid}).contiguous(), device);
}

}  // namespace vitscope::train
