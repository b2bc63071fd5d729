#include "core/analysis/tsne.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace vitscope::analysis {

namespace tsne_detail {

constexpr double kMachineEpsilon = std::numeric_limits<double>::epsilon();

torch::Tensor as_finite_matrix(const torch::Tensor& features) {
  if (features.dim() < 2 || features.size(0) < 2) throw std::invalid_argument("t-SNE needs (N, ...) features, N >= 2");
  const auto x = features.reshape({features.size(0), -1});
  if (!torch::isfinite(x).all().item<bool>()) throw std::invalid_argument("t-SNE features contain NaN or Inf");
  return x;
}

// Squared Euclidean distances (N, N) of the rows of x.
torch::Tensor squared_distances(const torch::Tensor& x) {
  const auto squared_norms = x.pow(2).sum(1);
  auto d = torch::addmm(squared_norms.unsqueeze(1), x, x.t(), /*beta=*/1, /*alpha=*/-2);
  return d.add_(squared_norms.unsqueeze(0)).clamp_min_(0.0);
}

// Unnormalised conditional probabilities exp(-beta_i d_ij) of every row, written into `p`
// (zero diagonal), and the entropy of each normalised row: ln S + beta sum_j d_ij p_ij / S.
// d is shifted so that each row's smallest off-diagonal entry is 0: the same distribution, and
// no underflow to 0/0. In-place into a reused buffer: the N x N temporaries dominate the cost.
torch::Tensor unnormalised_conditionals(const torch::Tensor& shifted_d, const torch::Tensor& beta, torch::Tensor& p) {
  torch::mul_out(p, shifted_d, -beta.unsqueeze(1));
  p.exp_().fill_diagonal_(0.0);
  const auto total = p.sum(1);
  const auto weighted = torch::bmm(shifted_d.unsqueeze(1), p.unsqueeze(2)).view(-1);  // row-wise dot
  return total.log() + beta * weighted / total;
}

// N x N work space of the gradient, kept across iterations.
struct GradientBuffers {
  torch::Tensor kernel, weights;
};

// Exact gradient with P already scaled by the exaggeration. The Student-t kernel
// 1 / (1 + |y_i - y_j|^2) comes from one product, [y_i, |y_i|^2, 1] . [-2 y_j, 1, 1 + |y_j|^2].
torch::Tensor kl_gradient(const torch::Tensor& scaled_p, const torch::Tensor& y, GradientBuffers& buffers) {
  auto& kernel = buffers.kernel;
  auto& weights = buffers.weights;
  const auto squared_norms = y.pow(2).sum(1, /*keepdim=*/true);
  const auto ones = torch::ones_like(squared_norms);
  torch::mm_out(kernel, torch::cat({y, squared_norms, ones}, 1), torch::cat({-2 * y, ones, 1 + squared_norms}, 1).t());
  kernel.reciprocal_().fill_diagonal_(0.0);
  // W = (P - Q) * kernel with Q = kernel / sum(kernel).
  torch::add_out(weights, scaled_p, kernel, -1.0 / kernel.sum().item<double>());
  weights.mul_(kernel);
  // grad_i = 4 (sum_j W_ij y_i - sum_j W_ij y_j); one product gives both sums.
  const auto products = torch::mm(weights, torch::cat({y, ones}, 1));
  return 4 * (products.narrow(1, 2, 1) * y - products.narrow(1, 0, 2));
}

double kl_divergence(const torch::Tensor& p, const torch::Tensor& y) {
  const auto y64 = y.to(torch::kDouble);
  const auto kernel = (1 + torch::cdist(y64, y64).pow(2)).reciprocal().fill_diagonal_(0.0);
  const auto q = (kernel / kernel.sum()).clamp_min(kMachineEpsilon);
  return (p * (p.clamp_min(kMachineEpsilon) / q).log()).sum().item<double>();
}

}  // namespace tsne_detail

torch::Tensor tsne_joint_probabilities(const torch::Tensor& features, double perplexity) {
  using namespace tsne_detail;
  const auto features_matrix = to_compute_dtype(as_finite_matrix(features));
  const auto n = features_matrix.size(0);
  if (perplexity <= 0 || perplexity >= static_cast<double>(n))
    throw std::invalid_argument("t-SNE perplexity must lie in (0, N)");
  // Distances in the features' precision (the N x N x D product is the cost); the search in fp64.
  auto d = squared_distances(features_matrix).to(torch::kDouble);
  d.fill_diagonal_(std::numeric_limits<double>::infinity());
  d.sub_(std::get<0>(d.min(1)).unsqueeze(1)).fill_diagonal_(0.0);

  // sklearn's per-point binary search (_binary_search_perplexity), all points at once.
  const auto target = std::log(perplexity);
  const auto inf = std::numeric_limits<double>::infinity();
  auto beta = torch::ones({n}, d.options());
  auto beta_min = torch::full({n}, -inf, d.options());
  auto beta_max = torch::full({n}, inf, d.options());
  auto conditional = torch::empty_like(d);
  for (int step = 0; step < 100; ++step) {
    const auto excess = unnormalised_conditionals(d, beta, conditional) - target;
    const auto searching = excess.abs() > 1e-5;
    if (!searching.any().item<bool>()) break;
    const auto too_flat = torch::logical_and(searching, excess > 0);  // entropy too high: sharpen
    const auto too_sharp = torch::logical_and(searching, excess <= 0);
    beta_min = torch::where(too_flat, beta, beta_min);
    beta_max = torch::where(too_sharp, beta, beta_max);
    const auto sharper = torch::where(torch::isinf(beta_max), beta * 2, (beta + beta_max) / 2);
    const auto flatter = torch::where(torch::isinf(beta_min), beta / 2, (beta + beta_min) / 2);
    beta = torch::where(too_flat, sharper, torch::where(too_sharp, flatter, beta));
  }
  unnormalised_conditionals(d, beta, conditional);
  conditional.div_(conditional.sum(1, /*keepdim=*/true));
  auto joint = conditional + conditional.t();
  joint.div_(joint.sum().clamp_min(kMachineEpsilon)).clamp_min_(kMachineEpsilon);
  return joint.fill_diagonal_(0.0);
}

torch::Tensor tsne_gradient(const torch::Tensor& p, const torch::Tensor& y, double exaggeration) {
  tsne_detail::GradientBuffers buffers{torch::empty_like(p), torch::empty_like(p)};
  return tsne_detail::kl_gradient(p * exaggeration, y, buffers);
}

TsneResult tsne(const torch::Tensor& features, const TsneOptions& options) {
  using namespace tsne_detail;
  const auto x = to_compute_dtype(as_finite_matrix(features));
  const auto n = x.size(0);
  auto p = tsne_joint_probabilities(x, options.perplexity).to(x.scalar_type());
  const auto learning_rate = options.learning_rate > 0
                                 ? options.learning_rate
                                 : std::max(static_cast<double>(n) / (4 * options.early_exaggeration), 50.0);

  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  auto y = (options.init_std * torch::randn({n, 2}, generator, torch::TensorOptions().dtype(torch::kDouble)))
               .to(x.options());
  GradientBuffers buffers{torch::empty_like(p), torch::empty_like(p)};
  torch::Tensor update, gains;
  double p_scale = 1.0;  // P carries the exaggeration during the first phase
  for (int it = 0; it < options.iterations; ++it) {
    const bool exploring = it < options.exaggeration_iterations;
    if (it == 0 || it == options.exaggeration_iterations) {  // sklearn restarts the optimiser per phase
      const double scale = exploring ? options.early_exaggeration : 1.0;
      p.mul_(scale / p_scale);
      p_scale = scale;
      update = torch::zeros_like(y);
      gains = torch::ones_like(y);
    }
    const auto grad = kl_gradient(p, y, buffers);
    // Delta-bar-delta gains: grow where the step direction flips, shrink where it persists.
    gains = torch::where(update * grad < 0, gains + 0.2, gains * 0.8).clamp_min_(options.min_gain);
    const auto momentum = exploring ? options.initial_momentum : options.final_momentum;
    update = momentum * update - learning_rate * gains * grad;
    y = y + update;
  }
  p.div_(p_scale);

  TsneResult result;
  result.embedding = y;
  result.kl_divergence = kl_divergence(p.to(torch::kDouble), y);
  result.metadata = {
      {"spec", "paper-analyses.md §3.4"},
      {"method", "exact t-SNE, dense gradient (sklearn's 'exact' method; the notebook used Barnes-Hut 0.5)"},
      {"perplexity", std::to_string(options.perplexity)},
      {"iterations", std::to_string(options.iterations) + ", of which " +
                         std::to_string(options.exaggeration_iterations) + " with early exaggeration " +
                         std::to_string(options.early_exaggeration)},
      {"learning rate", std::to_string(learning_rate)},
      {"init", "N(0, " + std::to_string(options.init_std) + "^2), seed " + std::to_string(options.seed)},
      {"features", "raw, squared Euclidean distances"}};
  return result;
}

torch::Tensor pca_2d(const torch::Tensor& features) {
  return principal_component_scores(to_compute_dtype(tsne_detail::as_finite_matrix(features)), 2);
}

}  // namespace vitscope::analysis
