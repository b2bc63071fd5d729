#include "core/analysis/cka.h"

#include <stdexcept>
#include <string>

namespace vitscope::analysis {

namespace cka_detail {

torch::Tensor as_matrix(const torch::Tensor& features) {
  if (features.dim() < 2) throw std::invalid_argument("CKA features must be (n, ...) with n examples");
  return features.reshape({features.size(0), -1}).to(torch::kDouble);
}

// Linear Gram matrices of every layer with a zero diagonal: (layers, n, n).
torch::Tensor hollow_grams(const std::vector<torch::Tensor>& layers, const torch::Tensor& keep) {
  std::vector<torch::Tensor> grams;
  for (const auto& features : layers) {
    const auto x = as_matrix(features).index({keep});
    grams.push_back(torch::matmul(x, x.t()).fill_diagonal_(0.0));
  }
  return torch::stack(grams);
}

// Unbiased HSIC between every gram of `k` (p, n, n) and every gram of `l` (q, n, n): (p, q).
torch::Tensor pairwise_unbiased_hsic(const torch::Tensor& k, const torch::Tensor& l) {
  const auto n = static_cast<double>(k.size(-1));
  const auto k_flat = k.flatten(1), l_flat = l.flatten(1);
  const auto trace = torch::matmul(k_flat, l_flat.t());  // tr(K~ L~), both symmetric
  const auto k_rows = k.sum(-1), l_rows = l.sum(-1);
  const auto totals = torch::outer(k_rows.sum(-1), l_rows.sum(-1));
  const auto cross = torch::matmul(k_rows, l_rows.t());  // 1' K~ L~ 1
  return (trace + totals / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * cross) / (n * (n - 3));
}

}  // namespace cka_detail

torch::Tensor linear_cka(const torch::Tensor& x, const torch::Tensor& y) {
  using namespace cka_detail;
  auto a = as_matrix(x), b = as_matrix(y);
  if (a.size(0) != b.size(0)) throw std::invalid_argument("linear CKA needs the same examples on both sides");
  a = a - a.mean(0, /*keepdim=*/true);
  b = b - b.mean(0, /*keepdim=*/true);
  const auto n = a.size(0), d1 = a.size(1), d2 = b.size(1);
  // Same value in feature space (d x d products) or example space (n x n Grams); take the cheaper.
  if (n * (d1 * d2 + d1 * d1 + d2 * d2) <= n * n * (d1 + d2)) {
    return torch::matmul(b.t(), a).pow(2).sum() / (torch::matmul(a.t(), a).norm() * torch::matmul(b.t(), b).norm());
  }
  const auto k = torch::matmul(a, a.t()), l = torch::matmul(b, b.t());
  return (k * l).sum() / (k.norm() * l.norm());
}

torch::Tensor unbiased_hsic(const torch::Tensor& k, const torch::Tensor& l) {
  if (k.dim() != 2 || k.size(0) != k.size(1) || k.sizes() != l.sizes() || k.size(0) < 4)
    throw std::invalid_argument("unbiased HSIC needs two (n, n) Gram matrices with n >= 4");
  const auto hollow = [](const torch::Tensor& g) { return g.to(torch::kDouble).clone().fill_diagonal_(0.0); };
  return cka_detail::pairwise_unbiased_hsic(hollow(k).unsqueeze(0), hollow(l).unsqueeze(0))[0][0];
}

MinibatchCka::MinibatchCka(int num_layers_a, int num_layers_b)
    : cross_(torch::zeros({num_layers_a, num_layers_b}, torch::kDouble)),
      self_a_(torch::zeros({num_layers_a}, torch::kDouble)),
      self_b_(torch::zeros({num_layers_b}, torch::kDouble)) {}

void MinibatchCka::update(const std::vector<torch::Tensor>& features_a, const std::vector<torch::Tensor>& features_b,
                          int64_t first_example_index) {
  using namespace cka_detail;
  if (static_cast<int64_t>(features_a.size()) != self_a_.size(0) ||
      static_cast<int64_t>(features_b.size()) != self_b_.size(0))
    throw std::invalid_argument("minibatch CKA: expected " + std::to_string(self_a_.size(0)) + " + " +
                                std::to_string(self_b_.size(0)) + " layers");
  const auto n = features_a.front().size(0);
  auto keep = torch::ones({n}, features_a.front().options().dtype(torch::kBool));
  for (const auto* side : {&features_a, &features_b}) {
    for (const auto& features : *side) {
      if (features.size(0) != n) throw std::invalid_argument("minibatch CKA: every layer needs the same examples");
      keep = keep.logical_and(finite_images(features));
    }
  }
  for (const auto row : false_indices(keep)) invalid_examples_.push_back(first_example_index + row);
  if (keep.sum().item<int64_t>() < 4) return;  // the unbiased estimator needs n >= 4
  const auto k = hollow_grams(features_a, keep), l = hollow_grams(features_b, keep);
  cross_ += pairwise_unbiased_hsic(k, l).cpu();
  self_a_ += pairwise_unbiased_hsic(k, k).diagonal().cpu();
  self_b_ += pairwise_unbiased_hsic(l, l).diagonal().cpu();
  ++minibatches_;
}

void MinibatchCka::merge(const MinibatchCka& other) {
  if (other.cross_.sizes() != cross_.sizes())
    throw std::invalid_argument("minibatch CKA: merging different layer counts");
  cross_ += other.cross_;
  self_a_ += other.self_a_;
  self_b_ += other.self_b_;
  minibatches_ += other.minibatches_;
  invalid_examples_.insert(invalid_examples_.end(), other.invalid_examples_.begin(), other.invalid_examples_.end());
}

torch::Tensor MinibatchCka::result() const {
  // The 1/k of the three means cancels.
  return cross_ / torch::outer(self_a_, self_b_).sqrt();
}

Metadata MinibatchCka::metadata() const {
  return {{"method", "minibatch CKA, Nguyen, Raghu & Kornblith 2021"},
          {"kernel", "linear, features flattened per example"},
          {"estimator", "unbiased HSIC (Song et al. 2012) per minibatch, averaged over minibatches"},
          {"minibatches", std::to_string(minibatches_)}};
}

nlohmann::json MinibatchCka::to_json() const {
  return {{"layers_a", self_a_.size(0)},          {"layers_b", self_b_.size(0)},
          {"cross", to_double_vector(cross_)},    {"self_a", to_double_vector(self_a_)},
          {"self_b", to_double_vector(self_b_)},  {"minibatches", minibatches_},
          {"invalid_examples", invalid_examples_}};
}

MinibatchCka MinibatchCka::from_json(const nlohmann::json& j) {
  const auto layers_a = j.at("layers_a").get<int>(), layers_b = j.at("layers_b").get<int>();
  MinibatchCka cka(layers_a, layers_b);
  cka.cross_ = from_double_vector(j.at("cross").get<std::vector<double>>(), {layers_a, layers_b});
  cka.self_a_ = from_double_vector(j.at("self_a").get<std::vector<double>>(), {layers_a});
  cka.self_b_ = from_double_vector(j.at("self_b").get<std::vector<double>>(), {layers_b});
  cka.minibatches_ = j.at("minibatches").get<int64_t>();
  cka.invalid_examples_ = j.at("invalid_examples").get<std::vector<int64_t>>();
  return cka;
}

}  // namespace vitscope::analysis
