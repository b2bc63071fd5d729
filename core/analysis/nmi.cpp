#include "core/analysis/nmi.h"

#include <cmath>
#include <stdexcept>

namespace vitscope::analysis {

torch::Tensor attention_nmi(const torch::Tensor& attention, int num_prefix_tokens) {
  if (attention.dim() != 4 || attention.size(2) != attention.size(3) || attention.size(2) <= num_prefix_tokens + 1)
    throw std::invalid_argument("attention must be (B, H, N, N) with at least two patch tokens, got " +
                                c10::str(attention.sizes()));
  const auto a = renormalised_patch_attention(attention, num_prefix_tokens, /*eps=*/1e-8);
  // p(q) = 1/L, p(q, key) = A[q, key] / L, p(key) = column mean (steps 2-3). MI in the
  // equivalent form of step 6, H(key) - mean_q H(A[q, :]): one pass less over the L x L rows.
  const auto key_entropy = entropy(a.mean(-2));
  const auto mutual_information = key_entropy - entropy(a).mean(-1);
  const auto query_entropy = std::log(static_cast<double>(a.size(-1)));
  return mutual_information / (query_entropy * key_entropy).sqrt();
}

LayerHeadTable nmi_table(const model::Capture& capture) {
  return layer_head_table(
      capture, [&](const torch::Tensor& attention) { return attention_nmi(attention, capture.num_prefix_tokens); },
      {{"spec", "paper-analyses.md §3.3"},
       {"epsilon", "1e-8 added before renormalising the patch-to-patch rows"},
       {"query prior", "uniform 1/L"},
       {"mutual information", "H(key) - mean over queries of H(A[q, :]) (§3.3 step 6, equivalent form)"},
       {"log", "natural (the ratio does not depend on the base)"},
       {"averaging", "NMI per image and head, then mean over images, then over heads"}});
}

}  // namespace vitscope::analysis
