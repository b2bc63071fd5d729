#pragma once
// Mean attention distance (paper-analyses.md §3.2): the attention-weighted distance in input
// pixels between a query patch and its keys, an analogue of receptive-field size.
#include <torch/torch.h>

#include "core/analysis/common.h"
#include "core/model/capture.h"

namespace vitscope::analysis {

// §3.2 step 3: (L, L) Euclidean distance between patch centres in pixels (patch_size x the
// distance in patches), token order row-major.
torch::Tensor patch_distance_pixels(int grid_h, int grid_w, int patch_size, const torch::TensorOptions& options);

// §3.2 steps 1-4 for one block: (B, H, N, N) -> (B, H) mean attention distance in pixels.
// Prefix dropped, A + 1e-32 renormalised per row, weighted sum over keys, mean over queries.
torch::Tensor mean_attention_distance(const torch::Tensor& attention, int num_prefix_tokens, int grid_h, int grid_w,
                                      int patch_size);

// Every captured block: per_head = mean over images, per_layer = then mean over heads (step 5).
LayerHeadTable attention_distance_table(const model::Capture& capture);

}  // namespace vitscope::analysis
