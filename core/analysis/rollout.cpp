#include "core/analysis/rollout.h"

#include <stdexcept>
#include <string>

namespace vitscope::analysis {

namespace rollout_detail {

torch::Tensor fuse_heads(const torch::Tensor& attention, HeadFusion fusion) {
  switch (fusion) {
    case HeadFusion::Min:
      return std::get<0>(attention.min(1));
    case HeadFusion::Max:
      return std::get<0>(attention.max(1));
    case HeadFusion::Mean:
      break;
  }
  return attention.mean(1);
}

// Zeroes the smallest `ratio` of each image's weights, keeping the CLS -> CLS entry.
torch::Tensor discard_smallest(const torch::Tensor& fused, double ratio) {
  const auto flat = fused.flatten(1);
  const auto count = static_cast<int64_t>(static_cast<double>(flat.size(1)) * ratio);
  if (count <= 0) return fused;
  const auto smallest = std::get<1>(flat.topk(count, 1, /*largest=*/false));
  auto kept = flat.scatter(1, smallest, 0.0);
  kept.select(1, 0).copy_(flat.select(1, 0));
  return kept.view_as(fused);
}

const char* fusion_name(HeadFusion fusion) {
  switch (fusion) {
    case HeadFusion::Min:
      return "min";
    case HeadFusion::Max:
      return "max";
    case HeadFusion::Mean:
      break;
  }
  return "mean";
}

Metadata metadata(const RolloutOptions& options) {
  return {{"method", "attention rollout, Abnar & Zuidema 2020"},
          {"head fusion", fusion_name(options.head_fusion)},
          {"discard ratio", std::to_string(options.discard_ratio) + " of the smallest fused weights per layer "
                                                                    "and image (CLS->CLS kept)"},
          {"residual", "A' = 0.5 A + 0.5 I, rows renormalised"},
          {"order", "R = A'_last ... A'_first"},
          {"maps", "raw rollout weights on the patch inputs, not renormalised"}};
}

}  // namespace rollout_detail

torch::Tensor attention_rollout(const std::vector<torch::Tensor>& attentions, const RolloutOptions& options) {
  if (attentions.empty()) throw std::invalid_argument("rollout needs at least one attention tensor");
  if (options.discard_ratio < 0.0 || options.discard_ratio >= 1.0)
    throw std::invalid_argument("rollout discard_ratio must lie in [0, 1)");
  torch::Tensor rollout;
  for (const auto& attention : attentions) {
    if (attention.dim() != 4 || attention.size(2) != attention.size(3))
      throw std::invalid_argument("rollout: attention must be (B, H, N, N), got " + c10::str(attention.sizes()));
    const auto fused = rollout_detail::discard_smallest(
        rollout_detail::fuse_heads(to_compute_dtype(attention), options.head_fusion), options.discard_ratio);
    const auto identity = torch::eye(fused.size(-1), fused.options());
    const auto layer = renormalise_rows(0.5 * fused + 0.5 * identity, /*eps=*/0.0);
    rollout = rollout.defined() ? torch::matmul(layer, rollout) : layer;
  }
  return rollout;
}

Rollout attention_rollout(const model::Capture& capture, const RolloutOptions& options, int first_block,
                          int last_block) {
  if (last_block < 0) last_block = capture.depth() - 1;
  if (first_block < 0 || first_block > last_block || last_block >= capture.depth())
    throw std::invalid_argument("rollout: block range " + std::to_string(first_block) + ".." +
                                std::to_string(last_block) + " outside 0.." + std::to_string(capture.depth() - 1));
  std::vector<torch::Tensor> chain;
  for (int block = first_block; block <= last_block; ++block) {
    if (!capture.attentions[block].defined())
      throw std::invalid_argument("rollout: attention of block " + std::to_string(block) + " was not captured");
    chain.push_back(capture.attentions[block]);
  }
  return {attention_rollout(chain, options), first_block, last_block, rollout_detail::metadata(options)};
}

torch::Tensor rollout_map(const torch::Tensor& rollout, int num_prefix_tokens, int grid_h, int grid_w,
                          const AttentionQuery& query) {
  const int64_t num_patches = static_cast<int64_t>(grid_h) * grid_w;
  if (rollout.dim() != 3 || rollout.size(1) != num_prefix_tokens + num_patches || rollout.size(2) != rollout.size(1))
    throw std::invalid_argument("rollout must be (B, N, N) with N = prefix + grid_h*grid_w, got " +
                                c10::str(rollout.sizes()));
  const auto q = query.token_index(num_prefix_tokens, grid_h, grid_w);
  return rollout.select(1, q).narrow(-1, num_prefix_tokens, num_patches).reshape({rollout.size(0), grid_h, grid_w});
}

}  // namespace vitscope::analysis
