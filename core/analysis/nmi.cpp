#include "core/analysis/nmi.h"

#include <cmath>
#include <stdexcept>

namespace vitscope::analysis {

torch::Tensor attention_nmi(const torch::Tensor& attention, int num_prefix_tokens) {
  if (attention.dim() != 4 || attention.size(2) != attention.size(3) || attention.size(2) <= num_prefix_tokens + 1)
    throw std::invalid_argument("attention must be (B, H, N, N) with at least two patch tokens, got " +
                                c10::str(attention.sizes()));
  // Step 1 without a renormalised copy: x = patch-to-patch attention + ε, whose rows divided by
  // their sums s are A.
  const auto x = patch_to_patch_attention(attention, num_prefix_tokens) + 1e-8;
  const auto l = x.size(-1);
  const auto s = x.sum(-1);  // (B, H, L)
  // p(q) = 1/L, p(q, key) = A[q, key] / L, p(key) = column mean of A = (1/s)ᵀ x / L (steps 2-3).
  const auto key_marginal = torch::matmul(s.reciprocal().unsqueeze(-2), x).squeeze(-2) / static_cast<double>(l);
  const auto key_entropy = entropy(key_marginal);
  // MI in the equivalent form of step 6, H(key) - mean_q H(A[q, :]), with
  // H(A[q, :]) = ln s - Σ x ln x / s: two passes over the L x L rows fewer than renormalising.
  const auto row_entropy = s.log() - x.log().mul_(x).sum(-1) / s;
  const auto mutual_information = key_entropy - row_entropy.mean(-1);
  const auto query_entropy = std::log(static_cast<double>(l));
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
