#include "core/analysis/common.h"

#include <limits>
#include <stdexcept>

namespace vitscope::analysis {

torch::Tensor to_compute_dtype(const torch::Tensor& t) {
  return t.scalar_type() == torch::kDouble ? t : t.to(torch::kFloat);
}

void check_attention_shape(const torch::Tensor& attention, int num_prefix_tokens, int grid_h, int grid_w) {
  const int64_t n = num_prefix_tokens + static_cast<int64_t>(grid_h) * grid_w;
  if (attention.dim() != 4 || attention.size(2) != n || attention.size(3) != n)
    throw std::invalid_argument("attention must be (B, H, N, N) with N = " + std::to_string(num_prefix_tokens) +
                                " prefix + " + std::to_string(grid_h) + "x" + std::to_string(grid_w) +
                                " patches, got " + c10::str(attention.sizes()));
}

void check_patch_tokens_shape(const torch::Tensor& patch_tokens, int grid_h, int grid_w) {
  if (patch_tokens.dim() != 3 || patch_tokens.size(1) != static_cast<int64_t>(grid_h) * grid_w)
    throw std::invalid_argument("patch tokens must be (B, " + std::to_string(grid_h * grid_w) + ", D) for a " +
                                std::to_string(grid_h) + "x" + std::to_string(grid_w) + " grid, got " +
                                c10::str(patch_tokens.sizes()));
}

torch::Tensor renormalise_rows(const torch::Tensor& rows, double eps) {
  if (eps == 0.0) return rows / rows.sum(-1, /*keepdim=*/true);
  auto shifted = rows + eps;  // a fresh tensor: divide in place (attention tensors are large)
  return shifted.div_(shifted.sum(-1, /*keepdim=*/true));
}

// p · ln max(p, tiny) rather than special::entr, which LibTorch 1.13 runs as a scalar loop on the
// CPU (2 % of a dataset run); the clamp changes no term above the smallest normal float, and
// keeps 0 · ln 0 = 0.
torch::Tensor entropy(const torch::Tensor& p) {
  return -(p * p.clamp_min(std::numeric_limits<float>::min()).log()).sum(-1);
}

torch::Tensor patch_to_patch_attention(const torch::Tensor& attention, int num_prefix_tokens) {
  const auto l = attention.size(-1) - num_prefix_tokens;
  return to_compute_dtype(attention.narrow(-2, num_prefix_tokens, l).narrow(-1, num_prefix_tokens, l));
}

torch::Tensor renormalised_patch_attention(const torch::Tensor& attention, int num_prefix_tokens, double eps) {
  return renormalise_rows(patch_to_patch_attention(attention, num_prefix_tokens), eps);
}

torch::Tensor patch_positions(int grid_h, int grid_w, const torch::TensorOptions& options) {
  const auto index = torch::arange(static_cast<int64_t>(grid_h) * grid_w, options.dtype(torch::kLong));
  return torch::stack({torch::div(index, grid_w, "floor"), torch::remainder(index, grid_w)}, 1).to(options);
}

torch::Tensor tokens_to_feature_maps(const torch::Tensor& patch_tokens, int grid_h, int grid_w) {
  check_patch_tokens_shape(patch_tokens, grid_h, grid_w);
  return patch_tokens.reshape({patch_tokens.size(0), grid_h, grid_w, patch_tokens.size(2)});
}

torch::Tensor principal_component_scores(const torch::Tensor& x, int k, const torch::Tensor& rows) {
  torch::Tensor centred;
  if (rows.defined()) {
    // Masked rows become zero after centring, so they change neither the mean nor X^T X.
    const auto weight = rows.to(x.scalar_type()).unsqueeze(-1);
    const auto mean = (x * weight).sum(-2, /*keepdim=*/true) / weight.sum(-2, /*keepdim=*/true).clamp_min(1);
    centred = (x - mean) * weight;
  } else {
    centred = x - x.mean(-2, /*keepdim=*/true);
  }
  torch::Tensor u, s, vh;
  std::tie(u, s, vh) = torch::linalg_svd(centred, /*full_matrices=*/false);
  const int64_t available = std::min<int64_t>(k, s.size(-1));
  auto scores = u.narrow(-1, 0, available) * s.narrow(-1, 0, available).unsqueeze(-2);
  // svd_flip: the entry of largest magnitude in every component becomes positive.
  const auto largest = scores.gather(-2, scores.abs().argmax(-2, /*keepdim=*/true));
  scores = torch::where(largest < 0, -scores, scores);
  if (available < k) {
    auto padding_shape = scores.sizes().vec();
    padding_shape.back() = k - available;
    scores = torch::cat({scores, torch::zeros(padding_shape, scores.options())}, -1);
  }
  return scores;
}

torch::Tensor finite_images(const torch::Tensor& per_image) {
  return torch::isfinite(per_image).reshape({per_image.size(0), -1}).all(1);
}

std::vector<int64_t> false_indices(const torch::Tensor& finite) {
  const auto idx = torch::nonzero(finite.logical_not()).flatten().to(torch::kCPU);
  return {idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + idx.numel()};
}

std::vector<double> to_double_vector(const torch::Tensor& t) {
  const auto c = t.to(torch::kCPU, torch::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

torch::Tensor from_double_vector(const std::vector<double>& values, const std::vector<int64_t>& shape) {
  return torch::tensor(values, torch::kDouble).reshape(shape);
}

LayerHeadTable layer_head_table(const model::Capture& capture,
                                const std::function<torch::Tensor(const torch::Tensor&)>& per_block,
                                Metadata metadata) {
  LayerHeadTable table;
  std::vector<torch::Tensor> rows;
  for (int block = 0; block < capture.depth(); ++block) {
    if (!capture.attentions[block].defined()) continue;
    table.blocks.push_back(block);
    rows.push_back(per_block(capture.attentions[block]));
  }
  if (rows.empty()) throw std::invalid_argument("the capture holds no attention");
  table.per_image = torch::stack(rows, 1);
  const auto valid = finite_images(table.per_image);
  table.invalid_images = false_indices(valid);
  table.per_head = table.per_image.index({valid}).mean(0);
  table.per_layer = table.per_head.mean(-1);
  table.metadata = std::move(metadata);
  return table;
}

}  // namespace vitscope::analysis
