#include "core/train/mae.h"

#include "core/model/heads.h"
#include "core/model/masking.h"
#include "core/train/amp.h"
#include "core/train/random.h"

namespace vitscope::train {

torch::Tensor mae_loss(const torch::Tensor& prediction, const torch::Tensor& target_patches, const torch::Tensor& mask,
                       bool norm_pixel_target) {
  FullPrecisionScope fp32;
  auto target = target_patches.to(torch::kFloat32);
  if (norm_pixel_target) {
    auto mean = target.mean(-1, /*keepdim=*/true);
    auto var = target.var(-1, /*unbiased=*/true, /*keepdim=*/true);
    target = (target - mean) / (var + 1e-6).sqrt();
  }
  auto per_patch = (prediction.to(torch::kFloat32) - target).pow(2).mean(-1);  // (B, L)
  auto m = mask.to(torch::kFloat32);
  return (per_patch * m).sum() / m.sum();
}

MaeObjective::MaeObjective(model::Model& model, MaeOptions options)
    : model_(model), options_(options), normalize_(model.card.preprocess, model.device()) {
  if (!model.mae_decoder) throw std::invalid_argument("MAE training needs a model with an MAE decoder");
  if (model.config().num_prefix_tokens() != 1)
    throw std::invalid_argument("MAE training expects exactly one prefix token (CLS)");
}

torch::Tensor MaeObjective::masked_loss(const torch::Tensor& x, torch::Generator& gen) {
  const auto& c = model_.config();
  auto mask = model::mae_random_mask(x.size(0), c.num_patches(), options_.mask_ratio, gen);
  auto indices = model::mae_indices(mask);
  model::TokenMask token_mask;
  token_mask.keep = upload(indices.keep, x.device());
  auto encoded = model_.encoder->forward_features(x, {}, nullptr, token_mask);
  auto prediction = model_.mae_decoder->forward(encoded, upload(indices.ids_restore, x.device()));
  return mae_loss(prediction, model::patchify(x, c.patch_size), upload(mask, x.device()),
                  model_.mae_decoder->config.norm_pixel_target);
}

LossTerms MaeObjective::loss(const torch::Tensor& images, StepContext& ctx) {
  auto l = masked_loss(normalize_(augment(images, view_, ctx.random)), ctx.random);
  return {l, {{"mae", l.detach()}}};
}

}  // namespace vitscope::train
