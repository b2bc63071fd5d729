#pragma once
// Centred kernel alignment between representations (not an analysis of the paper, §3.15):
// linear CKA (Kornblith et al. 2019) on full feature matrices, and the minibatch CKA of Nguyen,
// Raghu & Kornblith 2021 ("Do Wide and Deep Networks Learn the Same Things?"), which averages
// an unbiased HSIC estimator over minibatches, for layer x layer matrices between two models.
#include <torch/torch.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/analysis/common.h"

namespace vitscope::analysis {

// Linear CKA of x (n, ...) and y (n, ...): rows are the same n examples, everything after the
// first axis is flattened into features. Columns centred; ||Yc^T Xc||_F^2 / (||Xc^T Xc||_F
// ||Yc^T Yc||_F), computed in fp64. Returns a 0-dim fp64 tensor on the inputs' device.
torch::Tensor linear_cka(const torch::Tensor& x, const torch::Tensor& y);

// Unbiased HSIC estimator (Song et al. 2012) of Gram matrices k, l (n, n), n >= 4:
// [tr(K~ L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3)), K~ = K with a zero diagonal.
torch::Tensor unbiased_hsic(const torch::Tensor& k, const torch::Tensor& l);

// Layer x layer minibatch CKA with linear kernels. Sums of per-minibatch HSIC values, so runs
// over separate parts of a dataset merge exactly (also through JSON).
class MinibatchCka {
 public:
  MinibatchCka(int num_layers_a, int num_layers_b);

  // One minibatch: features of every layer of model A and of model B for the same n >= 4
  // examples, each (n, ...). Examples with NaN/Inf in any layer are dropped and recorded under
  // first_example_index + their row (NaN policy of dataset runs).
  void update(const std::vector<torch::Tensor>& features_a, const std::vector<torch::Tensor>& features_b,
              int64_t first_example_index);
  void merge(const MinibatchCka& other);

  // (layers_a, layers_b) fp64 on the CPU: mean HSIC(K_a, L_b) / sqrt(mean HSIC(K_a, K_a) mean HSIC(L_b, L_b)).
  torch::Tensor result() const;
  int64_t num_minibatches() const { return minibatches_; }
  const std::vector<int64_t>& invalid_examples() const { return invalid_examples_; }
  Metadata metadata() const;

  nlohmann::json to_json() const;
  static MinibatchCka from_json(const nlohmann::json& j);

 private:
  torch::Tensor cross_;   // (layers_a, layers_b) sum over minibatches of HSIC(K_a, L_b)
  torch::Tensor self_a_;  // (layers_a) sum of HSIC(K_a, K_a)
  torch::Tensor self_b_;  // (layers_b) sum of HSIC(L_b, L_b)
  int64_t minibatches_ = 0;
  std::vector<int64_t> invalid_examples_;
};

}  // namespace vitscope::analysis
