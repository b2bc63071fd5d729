#include "core/model/reconstruction.h"

#include "core/io/image.h"
#include "core/model/masking.h"

namespace vitscope::model {

Reconstruction reconstruct(Model& model, const torch::Tensor& images, const torch::Tensor& mask_in) {
  if (!model.can_reconstruct()) throw std::invalid_argument(model.card.name + " has no decoder to reconstruct with");
  const auto& c = model.config();
  const int P = c.patch_size, g = c.grid();
  torch::NoGradGuard no_grad;
  Reconstruction r;
  r.mask = mask_in.to(images.device(), torch::kFloat32);
  if (r.mask.dim() == 1) r.mask = r.mask.unsqueeze(0).expand({images.size(0), -1}).contiguous();
  const auto B = images.size(0);
  r.pixel_mask = r.mask.reshape({B, 1, g, 1, g, 1}).expand({B, 1, g, P, g, P}).reshape({B, 1, g * P, g * P});
  torch::Tensor pred_normalised;
  if (model.mae_decoder) {
    auto idx = mae_indices(r.mask);
    auto latent = model.encoder->forward_features(images, {}, nullptr, {torch::Tensor(), idx.keep});
    auto patches = model.mae_decoder->forward(latent, idx.ids_restore);
    if (model.mae_decoder->config.norm_pixel_target) {
      // §3.13 display: de-normalise each patch with the *target* patch's own mean / variance.
      auto target = patchify(images, P);
      auto mean = target.mean(-1, true), var = target.var(-1, /*unbiased=*/true, true);
      patches = patches * (var + 1e-6).sqrt() + mean;
      r.borrowed_patch_statistics = true;
    }
    pred_normalised = unpatchify(patches, P, c.in_channels);
  } else {
    auto tokens = model.encoder->forward_features(images, {}, nullptr, {r.mask, torch::Tensor()});
    pred_normalised = model.simmim_head->forward(tokens, c.num_prefix_tokens());
  }
  const auto& pp = model.card.preprocess;
  r.original = io::denormalize(images, pp).clamp(0, 1);
  r.prediction = io::denormalize(pred_normalised, pp).clamp(0, 1);
  r.composite = r.original * (1 - r.pixel_mask) + r.prediction * r.pixel_mask;
  r.masked_input = r.original * (1 - r.pixel_mask) + 0.5 * r.pixel_mask;
  r.error = (r.prediction - r.original).abs().mean(1);
  auto sq = ((r.prediction - r.original).pow(2) * r.pixel_mask).sum();
  auto n = r.pixel_mask.sum() * r.original.size(1);
  r.masked_mse = n.item<double>() > 0 ? (sq / n).item<double>() : 0.0;
  return r;
}

}  // namespace vitscope::model
