#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "analysis/analysis_test_support.h"
#include "core/analysis/tsne.h"

namespace vitscope::analysis {
namespace {

using test::DoubleMatrix;

// scikit-learn's _binary_search_perplexity + _joint_probabilities, one point at a time.
DoubleMatrix naive_joint_probabilities(const DoubleMatrix& x, double perplexity) {
  const size_t n = x.size();
  DoubleMatrix d(n, std::vector<double>(n, 0.0)), conditional(n, std::vector<double>(n, 0.0));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      for (size_t k = 0; k < x[i].size(); ++k) d[i][j] += (x[i][k] - x[j][k]) * (x[i][k] - x[j][k]);
  for (size_t i = 0; i < n; ++i) {
    double beta = 1, beta_min = -INFINITY, beta_max = INFINITY;
    for (int step = 0; step < 100; ++step) {
      double total = 0, weighted = 0;
      for (size_t j = 0; j < n; ++j) total += conditional[i][j] = j == i ? 0.0 : std::exp(-d[i][j] * beta);
      for (size_t j = 0; j < n; ++j) weighted += d[i][j] * (conditional[i][j] /= total);
      const double excess = std::log(total) + beta * weighted - std::log(perplexity);
      if (std::abs(excess) <= 1e-5) break;
      if (excess > 0) {
        beta_min = beta;
        beta = std::isinf(beta_max) ? beta * 2 : (beta + beta_max) / 2;
      } else {
        beta_max = beta;
        beta = std::isinf(beta_min) ? beta / 2 : (beta + beta_min) / 2;
      }
    }
  }
  DoubleMatrix p(n, std::vector<double>(n, 0.0));
  double total = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) total += p[i][j] = conditional[i][j] + conditional[j][i];
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) p[i][j] = i == j ? 0.0 : std::max(p[i][j] / total, 2.220446049250313e-16);
  return p;
}

DoubleMatrix naive_kl_gradient(const DoubleMatrix& p, const DoubleMatrix& y, double exaggeration) {
  const size_t n = y.size();
  DoubleMatrix kernel(n, std::vector<double>(n, 0.0)), grad(n, std::vector<double>(2, 0.0));
  double z = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      if (i != j) {
        const double dx = y[i][0] - y[j][0], dy = y[i][1] - y[j][1];
        z += kernel[i][j] = 1 / (1 + dx * dx + dy * dy);
      }
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      for (size_t c = 0; c < 2; ++c)
        grad[i][c] += 4 * (exaggeration * p[i][j] - kernel[i][j] / z) * kernel[i][j] * (y[i][c] - y[j][c]);
  return grad;
}

double naive_kl(const torch::Tensor& p, const torch::Tensor& y) {
  const auto pm = test::rows_of(p), ym = test::rows_of(y);
  const size_t n = ym.size();
  double z = 0, kl = 0;
  DoubleMatrix kernel(n, std::vector<double>(n, 0.0));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      if (i != j) z += kernel[i][j] = 1 / (1 + std::pow(ym[i][0] - ym[j][0], 2) + std::pow(ym[i][1] - ym[j][1], 2));
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      if (i != j) kl += pm[i][j] * std::log(pm[i][j] / (kernel[i][j] / z));
  return kl;
}

// Three well-separated Gaussian blobs in 20-D, `per_blob` points each, labels 0..2.
torch::Tensor blobs(int per_blob, uint64_t seed) {
  const auto centres = 10.0 * test::random_normal({3, 1, 20}, seed);
  return (centres + test::random_normal({3, per_blob, 20}, seed + 1)).reshape({3 * per_blob, 20});
}

TEST(Tsne, JointProbabilitiesMatchSklearnsBinarySearch) {
  const auto x = test::random_normal({60, 5}, 81);
  const auto p = tsne_joint_probabilities(x, 20.0);
  EXPECT_LT(test::max_abs_difference(p, test::flattened(naive_joint_probabilities(test::rows_of(x), 20.0))), 1e-12);
  EXPECT_NEAR(p.sum().item<double>(), 1.0, 1e-9);
  EXPECT_LT(test::max_abs_difference(p, p.t()), 1e-18);
}

TEST(Tsne, GradientMatchesNaiveLoopsAndFiniteDifferences) {
  const auto x = test::random_normal({40, 5}, 82);
  const auto p = tsne_joint_probabilities(x, 10.0);
  const auto y = test::random_normal({40, 2}, 83);
  for (const double exaggeration : {1.0, 12.0})
    EXPECT_LT(
        test::max_abs_difference(tsne_gradient(p, y, exaggeration),
                                 test::flattened(naive_kl_gradient(test::rows_of(p), test::rows_of(y), exaggeration))),
        1e-12);
  // d KL / d y by central differences (the gradient is of KL(P || Q), exaggeration 1).
  const auto grad = tsne_gradient(p, y);
  for (const auto& [i, c] : {std::pair{0, 0}, std::pair{7, 1}, std::pair{39, 0}}) {
    const double h = 1e-6;
    auto plus = y.clone(), minus = y.clone();
    plus[i][c] += h;
    minus[i][c] -= h;
    EXPECT_NEAR(grad[i][c].item<double>(), (naive_kl(p, plus) - naive_kl(p, minus)) / (2 * h), 1e-6);
  }
}

TEST(Tsne, SeparatesBlobsAndIsReproducible) {
  const int per_blob = 50;
  const auto x = blobs(per_blob, 84).to(torch::kFloat);
  TsneOptions options;
  options.iterations = 500;
  options.seed = 7;
  const auto result = tsne(x, options);
  EXPECT_EQ(result.embedding.sizes(), (std::vector<int64_t>{3 * per_blob, 2}));
  EXPECT_TRUE(std::isfinite(result.kl_divergence));
  EXPECT_EQ(result.metadata.at("perplexity").substr(0, 2), "20");
  // Every point's 5 nearest neighbours in the embedding come from its own blob.
  const auto d = torch::cdist(result.embedding, result.embedding).fill_diagonal_(INFINITY);
  const auto neighbours = std::get<1>(d.topk(5, 1, /*largest=*/false)).div(per_blob, "floor");
  const auto labels = torch::arange(3 * per_blob).div(per_blob, "floor").unsqueeze(1);
  EXPECT_GT(neighbours.eq(labels).to(torch::kDouble).mean().item<double>(), 0.99);
  EXPECT_TRUE(torch::equal(tsne(x, options).embedding, result.embedding));
  options.seed = 8;
  EXPECT_FALSE(torch::equal(tsne(x, options).embedding, result.embedding));
  EXPECT_NEAR(result.kl_divergence, naive_kl(tsne_joint_probabilities(x, 20.0), result.embedding), 1e-4);
}

TEST(Tsne, Pca2dMatchesNaivePcaAndRejectsNonFiniteFeatures) {
  const auto x = blobs(20, 85);
  EXPECT_LT(test::max_abs_difference(pca_2d(x), test::flattened(test::naive_pca_scores(test::rows_of(x), 2))), 1e-9);
  auto bad = x.clone();
  bad[3][4] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(pca_2d(bad), std::invalid_argument);
  EXPECT_THROW(tsne(bad), std::invalid_argument);
}

}  // namespace
}  // namespace vitscope::analysis
