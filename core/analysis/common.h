#pragma once
// Pieces several analyses share (each analysis has its own file; this one holds what would
// otherwise be copied between them). All functions are pure and run on the tensors' device.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/model/capture.h"

namespace vitscope::analysis {

// The definition a result was computed with: spec section, epsilons, units, and every choice
// the spec marks UNVERIFIED (paper-analyses.md §0), so a user can see what to match.
using Metadata = std::map<std::string, std::string>;

// fp64 stays fp64 (the §4 checks need it); every other dtype is computed in fp32.
torch::Tensor to_compute_dtype(const torch::Tensor& t);

// Throws std::invalid_argument unless attention is (B, H, N, N) with N = prefix + grid_h*grid_w.
void check_attention_shape(const torch::Tensor& attention, int num_prefix_tokens, int grid_h, int grid_w);
// Throws unless patch_tokens is (B, grid_h*grid_w, D) (prefix already dropped).
void check_patch_tokens_shape(const torch::Tensor& patch_tokens, int grid_h, int grid_w);

// §3.1-§3.3 and §5 pitfall 1: the patch-to-patch part (..., L, L) of an attention (..., N, N),
// prefix rows and columns dropped, in the compute dtype (a view when that is the input's).
torch::Tensor patch_to_patch_attention(const torch::Tensor& attention, int num_prefix_tokens);
// The same, each row renormalised: A <- (A + eps) / sum_key (A + eps). eps is 0 for per-query
// maps (§3.1), 1e-8 for NMI (§3.3), 1e-32 for attention distance (§3.2).
torch::Tensor renormalised_patch_attention(const torch::Tensor& attention, int num_prefix_tokens, double eps);
// The same renormalisation along the last axis of any rows. Always returns a new tensor.
torch::Tensor renormalise_rows(const torch::Tensor& rows, double eps);

// Shannon entropy -sum p ln p (nats, 0 ln 0 = 0) of the distributions along the last axis.
torch::Tensor entropy(const torch::Tensor& p);

// Grid position of every patch token, row-major (§1.2): (L, 2) holding [row, col].
torch::Tensor patch_positions(int grid_h, int grid_w, const torch::TensorOptions& options);

// Patch tokens (B, L, D) -> channels-last feature maps (B, grid_h, grid_w, D), a view; token m
// sits at (m / grid_w, m % grid_w) (§3.6 step 1).
torch::Tensor tokens_to_feature_maps(const torch::Tensor& patch_tokens, int grid_h, int grid_w);

// Scores (..., n, k) of the rows of x (..., n, d) on their top-k principal components (rows
// centred first). Signs are fixed so that the score of largest magnitude in every component is
// positive (scikit-learn's svd_flip rule), which makes the result independent of the SVD's sign
// choice and of negating x. Components beyond min(n, d) are zero. rows (..., n) bool, optional:
// only these rows define the mean and the components; the other rows score 0.
torch::Tensor principal_component_scores(const torch::Tensor& x, int k, const torch::Tensor& rows = {});

// NaN policy of dataset runs: an image whose values contain NaN or Inf is invalid; it is
// reported, never averaged in. per_image: (B, ...) -> (B) bool, true where all values are finite.
torch::Tensor finite_images(const torch::Tensor& per_image);
// Batch indices where `finite` (B, bool) is false.
std::vector<int64_t> false_indices(const torch::Tensor& finite);

// fp64 values of a tensor, row-major, and back (JSON serialisation of accumulators).
std::vector<double> to_double_vector(const torch::Tensor& t);
torch::Tensor from_double_vector(const std::vector<double>& values, const std::vector<int64_t>& shape);

// A per-block attention statistic (distance, NMI, entropy) for every captured block.
struct LayerHeadTable {
  std::vector<int> blocks;              // 0-based indices of the captured blocks, one row each
  torch::Tensor per_image;              // (B, blocks, H)
  torch::Tensor per_head;               // (blocks, H): mean over the valid images
  torch::Tensor per_layer;              // (blocks): mean over heads, taken last (§5 pitfall 2)
  std::vector<int64_t> invalid_images;  // batch indices with NaN/Inf, left out of the means
  Metadata metadata;
};

// Applies per_block ((B, H, N, N) attention -> (B, H) values) to every captured block.
LayerHeadTable layer_head_table(const model::Capture& capture,
                                const std::function<torch::Tensor(const torch::Tensor&)>& per_block, Metadata metadata);

}  // namespace vitscope::analysis
