#pragma once
// Per-query attention maps (paper-analyses.md §3.1, paper Fig. 2): where one query token looks
// among the patches. CL maps look alike for every query; MIM maps are a blob around the query.
#include <torch/torch.h>

#include <cstdint>

#include "core/model/capture.h"

namespace vitscope::analysis {

// The query of a map: a patch at (row, col) of the grid, or a prefix token (0 = CLS, then the
// registers). §3.1 pitfall: the notebook's (i, j) is (column, row).
struct AttentionQuery {
  enum class Kind { Patch, Prefix };
  Kind kind = Kind::Patch;
  int row = 0, col = 0;  // Kind::Patch, 0-based grid position
  int prefix = 0;        // Kind::Prefix, index among the prefix tokens

  static AttentionQuery patch(int row, int col) { return {Kind::Patch, row, col, 0}; }
  static AttentionQuery cls() { return {Kind::Prefix, 0, 0, 0}; }

  // Index of the query in the full token sequence (prefix first, then patches row-major).
  int64_t token_index(int num_prefix_tokens, int grid_h, int grid_w) const;
};

// Head index that asks attention_map for the head average.
inline constexpr int kMeanOverHeads = -1;

// §3.1 for every image and head of one block: the query's row over the patch keys (prefix
// columns dropped), renormalised to sum 1 without epsilon, reshaped row-major:
// (B, H, N, N) -> (B, H, grid_h, grid_w).
torch::Tensor query_attention_maps(const torch::Tensor& attention, int num_prefix_tokens, int grid_h, int grid_w,
                                   const AttentionQuery& query);

// All heads of one image and one (0-based) block of a capture: (H, grid_h, grid_w).
torch::Tensor head_attention_maps(const model::Capture& capture, int block, int image, const AttentionQuery& query);

// One head, or kMeanOverHeads for the mean over heads of the per-head renormalised maps:
// (grid_h, grid_w).
torch::Tensor attention_map(const model::Capture& capture, int block, int image, int head, const AttentionQuery& query);

}  // namespace vitscope::analysis
