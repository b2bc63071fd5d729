#pragma once
// Attention rollout (Abnar & Zuidema 2020, "Quantifying Attention Flow in Transformers"): how
// much each output token draws on each input token through the chain of attention layers, with
// the residual connection modelled as an identity half of every layer.
#include <torch/torch.h>

#include <vector>

#include "core/analysis/attention_maps.h"
#include "core/analysis/common.h"
#include "core/model/capture.h"

namespace vitscope::analysis {

enum class HeadFusion { Mean, Min, Max };

struct RolloutOptions {
  HeadFusion head_fusion = HeadFusion::Mean;
  // Fraction of the smallest fused weights of every layer (per image, over the whole N x N
  // matrix) set to 0 before the identity is added; the CLS -> CLS weight is always kept.
  double discard_ratio = 0.0;
};

// attentions: (B, H, N, N) of consecutive blocks, first block first. Per block: fuse heads,
// discard, A' = 0.5 A + 0.5 I, renormalise rows; R = A'_last ... A'_first. Returns (B, N, N),
// row i = contribution of every input token to output token i (prefix tokens included).
torch::Tensor attention_rollout(const std::vector<torch::Tensor>& attentions, const RolloutOptions& options = {});

struct Rollout {
  torch::Tensor matrix;  // (B, N, N) as above
  int first_block = 0, last_block = 0;
  Metadata metadata;
};

// Rollout through blocks first_block..last_block (0-based, inclusive; -1 = the last block) of a
// capture; every block in the range must have been captured.
Rollout attention_rollout(const model::Capture& capture, const RolloutOptions& options = {}, int first_block = 0,
                          int last_block = -1);

// The query's row of a rollout (B, N, N) over the patch inputs, reshaped row-major:
// (B, grid_h, grid_w). Raw rollout weights (not renormalised; the prefix columns' share is
// simply left out), as in the paper's CLS maps.
torch::Tensor rollout_map(const torch::Tensor& rollout, int num_prefix_tokens, int grid_h, int grid_w,
                          const AttentionQuery& query);

}  // namespace vitscope::analysis
