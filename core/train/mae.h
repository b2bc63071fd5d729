#pragma once
// MAE (paper-analyses.md §3.13): the encoder sees only the visible quarter of the patches, a
// light decoder fills in mask tokens and predicts every patch; MSE on the removed patches only.
#include <torch/torch.h>

#include "core/model/model.h"
#include "core/train/augment.h"
#include "core/train/objective.h"

namespace vitscope::train {

struct MaeOptions {
  double mask_ratio = 0.75;
};

// Per-patch MSE averaged over the patch's values, then over removed patches (mask = 1) only.
// With norm_pixel_target each target patch is standardised first: (t − mean) / sqrt(var + 1e-6),
// unbiased variance over the patch's values. prediction / target_patches: (B, L, P·P·C) in
// patchify order. Computed in fp32.
torch::Tensor mae_loss(const torch::Tensor& prediction, const torch::Tensor& target_patches, const torch::Tensor& mask,
                       bool norm_pixel_target);

class MaeObjective : public Objective {
 public:
  // The model needs an MAE decoder, on the training device. The target (plain or per-patch
  // normalised pixels) follows the card's decoder config.
  MaeObjective(model::Model& model, MaeOptions options);
  LossTerms loss(const torch::Tensor& images, StepContext& context) override;
  // The MAE loss of normalised images (B, 3, S, S) with masks drawn from `gen`.
  torch::Tensor masked_loss(const torch::Tensor& normalized, torch::Generator& gen);

 private:
  model::Model& model_;
  MaeOptions options_;
  ViewRecipe view_ = ViewRecipe::mae();
  Normalizer normalize_;
};

}  // namespace vitscope::train
