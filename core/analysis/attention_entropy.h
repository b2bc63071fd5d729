#pragma once
// Attention entropy: how spread each query's attention is over the patches, per layer and head.
// Not a figure of the paper; it is the conditional-entropy term of the NMI of §3.3
// (MI = H(key) - mean_q H(A[q, :])) and uses the same renormalisation.
#include <torch/torch.h>

#include "core/analysis/common.h"
#include "core/model/capture.h"

namespace vitscope::analysis {

// (B, H, N, N) -> (B, H): mean over patch queries of -sum_key A ln A in nats, A = the
// patch-to-patch attention + 1e-8 with rows renormalised (as §3.3 step 1). Uniform attention
// gives ln L, a one-hot row about 0.
torch::Tensor attention_entropy(const torch::Tensor& attention, int num_prefix_tokens);

// Every captured block: per_head = mean over images, per_layer = then mean over heads.
LayerHeadTable attention_entropy_table(const model::Capture& capture);

}  // namespace vitscope::analysis
