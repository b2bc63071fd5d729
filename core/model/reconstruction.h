#pragma once
// Masked reconstruction for the MIM views (paper-analyses.md §3.13): MAE (encoder on visible
// patches + decoder) or SimMIM (mask token + pixel-shuffle head), from any patch mask.
#include <torch/torch.h>

#include "core/model/model.h"

namespace vitscope::model {

struct Reconstruction {
  torch::Tensor mask;          // (B, L) 1 = masked
  torch::Tensor pixel_mask;    // (B, 1, H, W) mask upsampled to pixels
  torch::Tensor original;      // (B, 3, H, W) in [0, 1]
  torch::Tensor masked_input;  // original with the masked patches grey
  torch::Tensor prediction;    // the model's image, (B, 3, H, W) in [0, 1]
  torch::Tensor composite;     // prediction on masked patches, original elsewhere
  torch::Tensor error;         // (B, H, W) mean |prediction - original| over channels
  double masked_mse = 0;       // mean squared error on masked pixels, [0,1] units
  bool borrowed_patch_statistics = false;  // norm-pix MAE: display uses the target's patch stats
};

// `images`: (B, 3, H, W) normalised model inputs; `mask`: (B, L). Throws when the model has no
// decoder or head.
Reconstruction reconstruct(Model& model, const torch::Tensor& images, const torch::Tensor& mask);

}  // namespace vitscope::model
