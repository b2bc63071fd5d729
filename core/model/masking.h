#pragma once
// Which patches a masked-image model hides (paper-analyses.md §3.13). Masks are (B, L) float
// tensors over the row-major patch grid, 1 = masked, 0 = visible. Used by training and by the
// reconstruction views.
#include <torch/torch.h>

namespace vitscope::model {

// MAE: per-sample uniform noise, the ⌊L(1-ratio)⌋ patches with the smallest noise stay visible.
torch::Tensor mae_random_mask(int64_t batch, int64_t num_patches, double ratio, torch::Generator& gen);

// SimMIM: the grid is cut into `unit`×`unit` blocks of patches; ⌈blocks·ratio⌉ blocks are
// chosen uniformly without replacement per image and masked (SimMIM ViT-B: 32-px blocks = 2×2
// patches, ratio 0.6). The grid must be a multiple of `unit`.
torch::Tensor simmim_block_mask(int64_t batch, int64_t grid, int64_t unit, double ratio, torch::Generator& gen);

// What the MAE encoder needs from a mask: the visible patch indices (B, L_keep) and the
// inverse permutation of [visible…, masked…] (B, L). Every row must hide the same number of
// patches (the encoder batches equal-length sequences).
struct MaeIndices {
  torch::Tensor keep;
  torch::Tensor ids_restore;
};
MaeIndices mae_indices(const torch::Tensor& mask);

}  // namespace vitscope::model
