#pragma once
// Which patches a masked-image-modelling step hides (paper-analyses.md §3.13). Masks are drawn
// on the CPU from the step's generator and returned on `device`.
#include <torch/torch.h>

namespace vitscope::train {

// MAE random masking, per image: uniform noise per token, ascending sort, keep the first
// ⌊L·(1 − ratio)⌋ tokens.
struct MaeMask {
  torch::Tensor keep;         // (B, L_keep) int64 kept patch indices, in shuffled order
  torch::Tensor mask;         // (B, L) float, 1 = removed, 0 = kept, in original token order
  torch::Tensor ids_restore;  // (B, L) int64, argsort of the shuffle (inverse permutation)
};
MaeMask mae_random_mask(int64_t batch, int64_t num_patches, double mask_ratio, torch::Generator& gen,
                        const torch::Device& device);

// SimMIM mask generator generalised to any grid: the token grid is tiled with mask units of
// unit x unit tokens (SimMIM ViT-B/16: 32 px units = 2 x 2 tokens), ⌈U·ratio⌉ of the U units are
// chosen uniformly without replacement per image. Returns (B, grid*grid) float, 1 = masked,
// row-major like the patch tokens. Throws when grid is not a multiple of unit.
torch::Tensor simmim_block_mask(int64_t batch, int grid, int unit, double mask_ratio, torch::Generator& gen,
                                const torch::Device& device);

}  // namespace vitscope::train
