#pragma once
// Normalised mutual information between queries and keys (paper-analyses.md §3.3): how much
// the attention distribution depends on the query. NMI -> 0: every query sees the same map
// ("attention collapse").
#include <torch/torch.h>

#include "core/analysis/common.h"
#include "core/model/capture.h"

namespace vitscope::analysis {

// §3.3 steps 1-6 for one block: (B, H, N, N) -> (B, H). Prefix dropped, A + 1e-8 renormalised
// per row, uniform query prior 1/L, natural log, NMI = MI / sqrt(H(q) H(key)).
torch::Tensor attention_nmi(const torch::Tensor& attention, int num_prefix_tokens);

// Every captured block: per_head = mean over images, per_layer = then mean over heads (step 7;
// NMI per head, never NMI of the head-averaged attention).
LayerHeadTable nmi_table(const model::Capture& capture);

}  // namespace vitscope::analysis
