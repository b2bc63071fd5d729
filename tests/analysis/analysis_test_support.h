#pragma once
// Inputs and plain-loop helpers shared by the analysis tests. The naive references of each
// analysis live in its own test file; this header only builds inputs and converts tensors.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "core/model/capture.h"

namespace vitscope::test {

// Grid, patch size and prefix-token count of a capture. The bundled models are 8x8 grids of
// 4-px patches; the paper's are 14x14 grids of 16-px patches; 5 prefix tokens = CLS + 4 registers.
struct Geometry {
  int grid_h, grid_w, patch_size, prefix;
  int num_patches() const { return grid_h * grid_w; }
  int num_tokens() const { return prefix + num_patches(); }
  std::string name() const {
    return std::to_string(grid_h) + "x" + std::to_string(grid_w) + "/p" + std::to_string(patch_size) + "/prefix" +
           std::to_string(prefix);
  }
};

inline const std::vector<Geometry>& test_geometries() {
  static const std::vector<Geometry> geometries = {{8, 8, 4, 1}, {8, 8, 4, 5}, {14, 14, 16, 1}, {14, 14, 16, 5}};
  return geometries;
}

inline at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

inline torch::Tensor random_normal(std::vector<int64_t> shape, uint64_t seed) {
  auto generator = seeded(seed);
  return torch::randn(shape, generator, torch::TensorOptions().dtype(torch::kDouble));
}

// Post-softmax attention (B, H, N, N), fp64; `sharpness` scales the logits (larger = peakier).
inline torch::Tensor random_attention(int64_t b, int64_t h, int64_t n, uint64_t seed, double sharpness = 2.0) {
  return torch::softmax(sharpness * random_normal({b, h, n, n}, seed), -1);
}

// Embeds patch-to-patch rows (L, L) into a (1, 1, N, N) attention whose prefix rows are
// uniform and whose patch rows give `prefix_share` of their mass to the prefix keys: analyses
// must drop and renormalise it away.
inline torch::Tensor with_prefix(const torch::Tensor& patch_rows, int prefix, double prefix_share = 0.3) {
  const auto l = patch_rows.size(0), n = l + prefix;
  auto a = torch::full({n, n}, 1.0 / static_cast<double>(n), torch::kDouble);
  auto patch_part = a.narrow(0, prefix, l);
  patch_part.narrow(1, 0, prefix).fill_(prefix_share / prefix);
  patch_part.narrow(1, prefix, l).copy_(patch_rows / patch_rows.sum(1, true) * (1.0 - prefix_share));
  return a.view({1, 1, n, n});
}

inline model::Capture make_capture(const Geometry& g, std::vector<torch::Tensor> attentions,
                                   std::vector<torch::Tensor> taps = {}) {
  model::Capture c;
  c.attentions = std::move(attentions);
  c.taps = std::move(taps);
  c.num_prefix_tokens = g.prefix;
  c.grid_h = g.grid_h;
  c.grid_w = g.grid_w;
  c.patch_size = g.patch_size;
  return c;
}

// Flat fp64 copy, row-major.
inline std::vector<double> values(const torch::Tensor& t) {
  const auto c = t.detach().to(torch::kCPU, torch::kDouble).contiguous();
  return {c.data_ptr<double>(), c.data_ptr<double>() + c.numel()};
}

inline double max_abs_difference(const torch::Tensor& a, const std::vector<double>& b) {
  const auto va = values(a);
  if (va.size() != b.size()) return INFINITY;
  double worst = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    if (std::isnan(va[i]) || std::isnan(b[i])) {
      if (std::isnan(va[i]) != std::isnan(b[i])) return INFINITY;
      continue;
    }
    worst = std::max(worst, std::abs(va[i] - b[i]));
  }
  return worst;
}

inline double max_abs_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return max_abs_difference(a, values(b));
}

using DoubleMatrix = std::vector<std::vector<double>>;

// Eigen-decomposition of a symmetric matrix by cyclic Jacobi rotations (the naive reference
// for PCA and SVD): eigenvalues descending, eigenvectors as the columns of `vectors`.
inline void jacobi_eigen(DoubleMatrix a, std::vector<double>& eigenvalues, DoubleMatrix& vectors) {
  const size_t n = a.size();
  DoubleMatrix v(n, std::vector<double>(n, 0.0));
  for (size_t i = 0; i < n; ++i) v[i][i] = 1.0;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0, scale = 0;
    for (size_t p = 0; p < n; ++p)
      for (size_t q = 0; q < n; ++q) (p == q ? scale : off) += a[p][q] * a[p][q];
    if (off <= 1e-30 * scale) break;
    for (size_t p = 0; p < n; ++p) {
      for (size_t q = p + 1; q < n; ++q) {
        if (a[p][q] == 0.0) continue;
        const double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (size_t k = 0; k < n; ++k) {
          const double kp = a[k][p], kq = a[k][q];
          a[k][p] = c * kp - s * kq;
          a[k][q] = s * kp + c * kq;
        }
        for (size_t k = 0; k < n; ++k) {
          const double pk = a[p][k], qk = a[q][k];
          a[p][k] = c * pk - s * qk;
          a[q][k] = s * pk + c * qk;
        }
        for (size_t k = 0; k < n; ++k) {
          const double kp = v[k][p], kq = v[k][q];
          v[k][p] = c * kp - s * kq;
          v[k][q] = s * kp + c * kq;
        }
      }
    }
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return a[x][x] > a[y][y]; });
  eigenvalues.assign(n, 0.0);
  vectors.assign(n, std::vector<double>(n, 0.0));
  for (size_t j = 0; j < n; ++j) {
    eigenvalues[j] = a[order[j]][order[j]];
    for (size_t k = 0; k < n; ++k) vectors[k][j] = v[k][order[j]];
  }
}

// Row-major concatenation of the rows.
inline std::vector<double> flattened(const DoubleMatrix& m) {
  std::vector<double> flat;
  for (const auto& row : m) flat.insert(flat.end(), row.begin(), row.end());
  return flat;
}

// Rows of a 2-D tensor as a DoubleMatrix.
inline DoubleMatrix rows_of(const torch::Tensor& t) {
  const auto flat = values(t);
  const auto n = t.size(0), d = t.size(1);
  DoubleMatrix m(n, std::vector<double>(d));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < d; ++j) m[i][j] = flat[i * d + j];
  return m;
}

// Naive PCA scores (n, k) of the rows of x with the sign rule "largest |score| positive".
inline DoubleMatrix naive_pca_scores(const DoubleMatrix& x, size_t k) {
  const size_t n = x.size(), d = x[0].size();
  std::vector<double> mean(d, 0.0);
  for (const auto& row : x)
    for (size_t j = 0; j < d; ++j) mean[j] += row[j] / n;
  DoubleMatrix covariance(d, std::vector<double>(d, 0.0));
  for (const auto& row : x)
    for (size_t i = 0; i < d; ++i)
      for (size_t j = 0; j < d; ++j) covariance[i][j] += (row[i] - mean[i]) * (row[j] - mean[j]);
  std::vector<double> eigenvalues;
  DoubleMatrix vectors;
  jacobi_eigen(covariance, eigenvalues, vectors);
  DoubleMatrix scores(n, std::vector<double>(k, 0.0));
  for (size_t c = 0; c < k; ++c) {
    size_t largest = 0;
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = 0; j < d; ++j) scores[i][c] += (x[i][j] - mean[j]) * vectors[j][c];
      if (std::abs(scores[i][c]) > std::abs(scores[largest][c])) largest = i;
    }
    if (scores[largest][c] < 0)
      for (size_t i = 0; i < n; ++i) scores[i][c] = -scores[i][c];
  }
  return scores;
}

}  // namespace vitscope::test
