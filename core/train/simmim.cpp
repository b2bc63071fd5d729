#include "core/train/simmim.h"

#include "core/train/amp.h"
#include "core/model/masking.h"
#include "core/train/random.h"

namespace vitscope::train {

torch::Tensor simmim_loss(const torch::Tensor& prediction, const torch::Tensor& target, const torch::Tensor& token_mask,
                          int patch_size) {
  FullPrecisionScope fp32;
  const auto B = target.size(0), C = target.size(1);
  const auto g = target.size(2) / patch_size;
  auto pixel_mask = token_mask.to(torch::kFloat32)
                        .reshape({B, g, g})
                        .repeat_interleave(patch_size, 1)
                        .repeat_interleave(patch_size, 2)
                        .unsqueeze(1);  // (B, 1, H, W)
  auto l1 = (prediction.to(torch::kFloat32) - target.to(torch::kFloat32)).abs();
  return (l1 * pixel_mask).sum() / (pixel_mask.sum() + 1e-5) / static_cast<double>(C);
}

SimMimObjective::SimMimObjective(model::Model& model, SimMimOptions options)
    : model_(model), options_(options), normalize_(model.card.preprocess, model.device()) {
  if (!model.simmim_head || !model.encoder->mask_token.defined())
    throw std::invalid_argument("SimMIM training needs a model with a mask token and a SimMIM head");
}

torch::Tensor SimMimObjective::masked_loss(const torch::Tensor& x, torch::Generator& gen) {
  const auto& c = model_.config();
  auto mask = upload(model::simmim_block_mask(x.size(0), c.grid(), options_.mask_unit, options_.mask_ratio, gen), x.device());
  model::TokenMask token_mask;
  token_mask.replace = mask;
  auto tokens = model_.encoder->forward_features(x, {}, nullptr, token_mask);
  auto prediction = model_.simmim_head->forward(tokens, c.num_prefix_tokens());
  return simmim_loss(prediction, x, mask, c.patch_size);
}

LossTerms SimMimObjective::loss(const torch::Tensor& images, StepContext& ctx) {
  auto l = masked_loss(normalize_(augment(images, view_, ctx.random)), ctx.random);
  return {l, {{"simmim", l.detach()}}};
}

}  // namespace vitscope::train
