#include "core/analysis/representation.h"

#include <limits>
#include <stdexcept>
#include <string>

namespace vitscope::analysis {

namespace representation_detail {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// LAPACK refuses non-finite input, so invalid images (NaN policy, common.h) are zeroed for the
// decomposition and their results are set to NaN afterwards. Returns the zeroed tokens.
torch::Tensor zero_invalid_images(const torch::Tensor& tokens, const torch::Tensor& finite) {
  return tokens.masked_fill(finite.logical_not().view({-1, 1, 1}), 0.0);
}

torch::Tensor nan_invalid_images(const torch::Tensor& per_image, const torch::Tensor& finite) {
  auto shape = std::vector<int64_t>(per_image.dim(), 1);
  shape[0] = -1;
  return per_image.masked_fill(finite.logical_not().view(shape), kNaN);
}

// Min-max scaling to [0, 1] along axis -2 over the rows where `rows` (..., n) is true; a
// constant component maps to 0.
torch::Tensor min_max_scale(const torch::Tensor& scores, const torch::Tensor& rows) {
  const auto inside = rows.unsqueeze(-1);
  const auto inf = std::numeric_limits<double>::infinity();
  const auto low = scores.masked_fill(inside.logical_not(), inf).amin(-2, /*keepdim=*/true);
  const auto high = scores.masked_fill(inside.logical_not(), -inf).amax(-2, /*keepdim=*/true);
  const auto range = (high - low).clamp_min(std::numeric_limits<float>::min());
  return ((scores - low) / range).masked_fill(inside.logical_not(), 0.0);
}

}  // namespace representation_detail

torch::Tensor pca_rgb(const torch::Tensor& patch_tokens, int grid_h, int grid_w, const PcaRgbOptions& options) {
  using namespace representation_detail;
  check_patch_tokens_shape(patch_tokens, grid_h, grid_w);
  const auto finite = finite_images(patch_tokens);
  const auto tokens = zero_invalid_images(to_compute_dtype(patch_tokens), finite);
  const auto all_rows = torch::ones({tokens.size(0), tokens.size(1)}, tokens.options().dtype(torch::kBool));
  auto rgb = min_max_scale(principal_component_scores(tokens, 3), all_rows);
  if (options.foreground_threshold) {
    const auto foreground = rgb.select(-1, 0) > *options.foreground_threshold;
    rgb = min_max_scale(principal_component_scores(tokens, 3, foreground), foreground);
  }
  return nan_invalid_images(rgb, finite).reshape({tokens.size(0), grid_h, grid_w, 3});
}

torch::Tensor singular_values(const torch::Tensor& x, bool centre) {
  const auto m = to_compute_dtype(x);
  return torch::linalg_svdvals(centre ? m - m.mean(-2, /*keepdim=*/true) : m);
}

torch::Tensor effective_rank(const torch::Tensor& singular_values) {
  return entropy(singular_values / singular_values.sum(-1, /*keepdim=*/true)).exp();
}

torch::Tensor mean_pairwise_cosine_similarity(const torch::Tensor& tokens) {
  if (tokens.dim() != 3 || tokens.size(1) < 2)
    throw std::invalid_argument("cosine similarity needs (B, L, D) tokens with L >= 2, got " +
                                c10::str(tokens.sizes()));
  // With unit rows u_i: sum_{i != j} u_i.u_j = |sum_i u_i|^2 - sum_i |u_i|^2, O(L D) instead of O(L^2 D).
  const auto units =
      torch::nn::functional::normalize(to_compute_dtype(tokens), torch::nn::functional::NormalizeFuncOptions().dim(-1));
  const auto total = units.sum(1).pow(2).sum(-1);
  const auto self = units.pow(2).sum({1, 2});
  const auto pairs = static_cast<double>(tokens.size(1) * (tokens.size(1) - 1));
  return (total - self) / pairs;
}

TokenGeometry token_geometry(const model::Capture& capture, const TokenGeometryOptions& options) {
  using namespace representation_detail;
  TokenGeometry result;
  std::vector<torch::Tensor> sigmas, ranks, cosines, finites;
  for (int tap = 0; tap < static_cast<int>(capture.taps.size()); ++tap) {
    if (!capture.taps[tap].defined()) continue;
    const auto raw = capture.patch_tokens(tap);
    const auto finite = finite_images(raw);
    const auto tokens = zero_invalid_images(to_compute_dtype(raw), finite);
    const auto sigma = singular_values(tokens, options.centre);
    result.taps.push_back(tap);
    sigmas.push_back(nan_invalid_images(sigma, finite));
    ranks.push_back(nan_invalid_images(effective_rank(sigma), finite));
    cosines.push_back(nan_invalid_images(mean_pairwise_cosine_similarity(tokens), finite));
    finites.push_back(finite);
  }
  if (sigmas.empty()) throw std::invalid_argument("the capture holds no residual-stream tap");
  const auto valid = torch::stack(finites, 1).all(1);
  result.singular_values = torch::stack(sigmas, 1);
  result.mean_singular_values = result.singular_values.index({valid}).mean(0);
  result.effective_rank = torch::stack(ranks, 1);
  result.mean_cosine_similarity = torch::stack(cosines, 1);
  result.invalid_images = false_indices(valid);
  result.metadata = {{"spec", "paper-analyses.md §3.5 (UNVERIFIED, reconstructed definition)"},
                     {"tokens", "patch tokens of each tap (prefix dropped), pre-final-LayerNorm residual stream"},
                     {"singular values", std::string("of each image's L x D token matrix, ") +
                                             (options.centre ? "centred (mean token subtracted)" : "not centred") +
                                             "; mean over images index by index"},
                     {"effective rank", "exp(-sum p ln p), p = sigma / sum sigma"},
                     {"cosine similarity", "mean over the L(L-1) ordered pairs of distinct tokens"}};
  return result;
}

torch::Tensor image_vectors(const model::Capture& capture, int tap, ImageVector kind) {
  if (kind == ImageVector::MeanPatch) return capture.patch_tokens(tap).mean(1);
  if (capture.num_prefix_tokens < 1) throw std::invalid_argument("the model has no CLS token");
  const auto& tokens = capture.taps.at(tap);
  if (!tokens.defined()) throw std::invalid_argument("tap " + std::to_string(tap) + " was not captured");
  return tokens.select(1, 0);
}

ImageSpectrum image_level_spectrum(const torch::Tensor& image_vectors, ImageVector kind, bool centre) {
  if (image_vectors.dim() != 2) throw std::invalid_argument("image vectors must be (images, D)");
  const auto finite = finite_images(image_vectors);
  ImageSpectrum result;
  result.singular_values = singular_values(image_vectors.index({finite}), centre);
  result.effective_rank = effective_rank(result.singular_values);
  result.invalid_images = false_indices(finite);
  result.metadata = {
      {"spec", "paper-analyses.md §3.5 item 3b (UNVERIFIED, reconstructed definition)"},
      {"image vector", kind == ImageVector::Cls ? "CLS token" : "mean of the patch tokens"},
      {"singular values", std::string("of the images x D matrix, ") + (centre ? "centred" : "not centred")},
      {"effective rank", "exp(-sum p ln p), p = sigma / sum sigma"}};
  return result;
}

}  // namespace vitscope::analysis
