#include "core/analysis/attention_maps.h"

#include <stdexcept>
#include <string>

#include "core/analysis/common.h"

namespace vitscope::analysis {

int64_t AttentionQuery::token_index(int num_prefix_tokens, int grid_h, int grid_w) const {
  if (kind == Kind::Prefix) {
    if (prefix < 0 || prefix >= num_prefix_tokens)
      throw std::invalid_argument("prefix query " + std::to_string(prefix) + " outside 0.." +
                                  std::to_string(num_prefix_tokens - 1));
    return prefix;
  }
  if (row < 0 || row >= grid_h || col < 0 || col >= grid_w)
    throw std::invalid_argument("query patch (" + std::to_string(row) + ", " + std::to_string(col) + ") outside the " +
                                std::to_string(grid_h) + "x" + std::to_string(grid_w) + " grid");
  return num_prefix_tokens + static_cast<int64_t>(row) * grid_w + col;
}

torch::Tensor query_attention_maps(const torch::Tensor& attention, int num_prefix_tokens, int grid_h, int grid_w,
                                   const AttentionQuery& query) {
  check_attention_shape(attention, num_prefix_tokens, grid_h, grid_w);
  const auto q = query.token_index(num_prefix_tokens, grid_h, grid_w);
  const auto row = to_compute_dtype(attention.select(2, q).narrow(-1, num_prefix_tokens, grid_h * grid_w));
  return renormalise_rows(row, /*eps=*/0.0).reshape({attention.size(0), attention.size(1), grid_h, grid_w});
}

torch::Tensor head_attention_maps(const model::Capture& capture, int block, int image, const AttentionQuery& query) {
  const auto& attention = capture.attentions.at(block);
  if (!attention.defined())
    throw std::invalid_argument("attention of block " + std::to_string(block) + " was not captured");
  const auto one_image = attention.narrow(0, image, 1);
  return query_attention_maps(one_image, capture.num_prefix_tokens, capture.grid_h, capture.grid_w, query)[0];
}

torch::Tensor attention_map(const model::Capture& capture, int block, int image, int head,
                            const AttentionQuery& query) {
  const auto maps = head_attention_maps(capture, block, image, query);
  return head == kMeanOverHeads ? maps.mean(0) : maps[head];
}

}  // namespace vitscope::analysis
