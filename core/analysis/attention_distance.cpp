#include "core/analysis/attention_distance.h"

namespace vitscope::analysis {

torch::Tensor patch_distance_pixels(int grid_h, int grid_w, int patch_size, const torch::TensorOptions& options) {
  const auto positions = patch_positions(grid_h, grid_w, options);
  // Explicit differences, not cdist: its matmul path leaves round-off on the zero diagonal.
  const auto offsets = positions.unsqueeze(1) - positions.unsqueeze(0);
  return offsets.pow(2).sum(-1).sqrt() * patch_size;
}

torch::Tensor mean_attention_distance(const torch::Tensor& attention, int num_prefix_tokens, int grid_h, int grid_w,
                                      int patch_size) {
  check_attention_shape(attention, num_prefix_tokens, grid_h, grid_w);
  // Steps 2-4 without a renormalised copy: Σ_key (A + ε) d / Σ_key (A + ε) per query, then the
  // mean over queries.
  constexpr double eps = 1e-32;
  const auto a = patch_to_patch_attention(attention, num_prefix_tokens);
  const auto l = a.size(-1);
  const auto distance = patch_distance_pixels(grid_h, grid_w, patch_size, a.options());
  const auto weighted = (a * distance).sum(-1) + eps * distance.sum(-1);
  const auto total = a.sum(-1) + eps * static_cast<double>(l);
  return (weighted / total).mean(-1);  // keys, then queries (§3.2 step 4)
}

LayerHeadTable attention_distance_table(const model::Capture& capture) {
  return layer_head_table(
      capture,
      [&](const torch::Tensor& attention) {
        return mean_attention_distance(attention, capture.num_prefix_tokens, capture.grid_h, capture.grid_w,
                                       capture.patch_size);
      },
      {{"spec", "paper-analyses.md §3.2"},
       {"unit", "pixels of the input image (patch_size x Euclidean distance between patch centres)"},
       {"epsilon", "1e-32 added before renormalising the patch-to-patch rows"},
       {"averaging", "weighted sum over keys, then mean over queries, images, heads"}});
}

}  // namespace vitscope::analysis
