#pragma once
// Token-level t-SNE and a PCA scatter (paper-analyses.md §3.4, paper Fig. E.2): do tokens
// cluster by image (CL) or intermingle across images (MIM)? Exact t-SNE (van der Maaten &
// Hinton 2008) with scikit-learn's optimiser settings; dense N x N matrices, fine for the
// ~3.5k tokens of the paper's figure. Only qualitatively comparable with sklearn's (Barnes-Hut,
// unseeded) picture (§3.4).
#include <torch/torch.h>

#include <cstdint>

#include "core/analysis/common.h"

namespace vitscope::analysis {

struct TsneOptions {
  double perplexity = 20.0;  // the notebook's value (§3.4)
  int iterations = 1000;     // in total, exaggeration phase included
  double early_exaggeration = 12.0;
  int exaggeration_iterations = 250;
  double learning_rate = 0.0;     // <= 0: sklearn's 'auto', max(N / (4 early_exaggeration), 50)
  double initial_momentum = 0.5;  // during the exaggeration phase
  double final_momentum = 0.8;
  double min_gain = 0.01;
  double init_std = 1e-4;  // initial embedding ~ N(0, init_std^2), drawn on the CPU
  uint64_t seed = 0;
};

struct TsneResult {
  torch::Tensor embedding;  // (N, 2), dtype of the computation (fp32, or fp64 for fp64 input)
  double kl_divergence = 0.0;
  Metadata metadata;
};

// features (N, ...) flattened to (N, D), raw (no normalisation or PCA, §3.4 step 1); they must
// be finite (drop invalid images first).
TsneResult tsne(const torch::Tensor& features, const TsneOptions& options = {});

// The symmetric joint probabilities P (N, N) fp64: conditional Gaussians on squared Euclidean
// distances, each row's precision found by binary search on the entropy (target ln perplexity,
// tolerance 1e-5, at most 100 steps), P = (P_cond + P_cond^T) / sum, zero diagonal.
torch::Tensor tsne_joint_probabilities(const torch::Tensor& features, double perplexity);

// Exact gradient of KL(P || Q) w.r.t. the embedding y (N, 2), Student-t Q, with P scaled by
// `exaggeration`: 4 sum_j (a P_ij - Q_ij) (y_i - y_j) / (1 + |y_i - y_j|^2).
torch::Tensor tsne_gradient(const torch::Tensor& p, const torch::Tensor& y, double exaggeration = 1.0);

// The 2-D PCA scatter of features (N, ...): scores on the top two principal components
// (centred, sign rule of principal_component_scores).
torch::Tensor pca_2d(const torch::Tensor& features);

}  // namespace vitscope::analysis
