#pragma once
// SimMIM (paper-analyses.md §3.13): masked patch embeddings are replaced by a learned mask token,
// a 1x1 conv + pixel-shuffle head predicts the normalised image, L1 on the masked pixels.
#include <torch/torch.h>

#include "core/model/model.h"
#include "core/train/augment.h"
#include "core/train/objective.h"

namespace vitscope::train {

struct SimMimOptions {
  double mask_ratio = 0.6;
  int mask_unit = 2;  // mask unit side in tokens: SimMIM ViT-B/16 masks 32 px = 2 x 2 tokens
};

// L1 between prediction and target (B, C, H, W) summed over masked pixels, divided by
// (number of masked pixels + 1e-5) and by C. token_mask: (B, L) 1 = masked, row-major tokens of
// patch_size pixels. Computed in fp32.
torch::Tensor simmim_loss(const torch::Tensor& prediction, const torch::Tensor& target, const torch::Tensor& token_mask,
                          int patch_size);

class SimMimObjective : public Objective {
 public:
  // The model needs an encoder with a mask token and a SimMIM head, on the training device.
  SimMimObjective(model::Model& model, SimMimOptions options);
  LossTerms loss(const torch::Tensor& images, StepContext& context) override;
  // The SimMIM loss of normalised images (B, 3, S, S) with masks drawn from `gen`; for training
  // views and for held-out reconstruction loss alike.
  torch::Tensor masked_loss(const torch::Tensor& normalized, torch::Generator& gen);

 private:
  model::Model& model_;
  SimMimOptions options_;
  ViewRecipe view_ = ViewRecipe::simmim();
  Normalizer normalize_;
};

}  // namespace vitscope::train
