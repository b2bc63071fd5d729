#include "core/analysis/attention_entropy.h"

#include <cmath>
#include <stdexcept>

namespace vitscope::analysis {

torch::Tensor attention_entropy(const torch::Tensor& attention, int num_prefix_tokens) {
  if (attention.dim() != 4 || attention.size(2) != attention.size(3) || attention.size(2) <= num_prefix_tokens)
    throw std::invalid_argument("attention must be (B, H, N, N) with patch tokens, got " + c10::str(attention.sizes()));
  return entropy(renormalised_patch_attention(attention, num_prefix_tokens, /*eps=*/1e-8)).mean(-1);
}

LayerHeadTable attention_entropy_table(const model::Capture& capture) {
  const auto max_entropy = std::log(static_cast<double>(capture.num_patches()));
  return layer_head_table(
      capture, [&](const torch::Tensor& attention) { return attention_entropy(attention, capture.num_prefix_tokens); },
      {{"definition",
        "mean over patch queries of the row entropy -sum A ln A of the patch-to-patch attention, prefix "
        "dropped, A + 1e-8 renormalised per row (as paper-analyses.md §3.3 step 1)"},
       {"unit", "nats; uniform attention = ln L = " + std::to_string(max_entropy)},
       {"averaging", "per image and head, then mean over images, then over heads"}});
}

}  // namespace vitscope::analysis
