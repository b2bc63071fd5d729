#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "analysis/analysis_test_support.h"
#include "core/analysis/cka.h"

namespace vitscope::analysis {
namespace {

using test::DoubleMatrix;

DoubleMatrix linear_gram(const torch::Tensor& features) {
  const auto x = test::rows_of(features.reshape({features.size(0), -1}));
  DoubleMatrix k(x.size(), std::vector<double>(x.size(), 0.0));
  for (size_t i = 0; i < x.size(); ++i)
    for (size_t j = 0; j < x.size(); ++j)
      for (size_t c = 0; c < x[i].size(); ++c) k[i][j] += x[i][c] * x[j][c];
  return k;
}

// Linear CKA from doubly-centred Gram matrices.
double naive_linear_cka(const torch::Tensor& x, const torch::Tensor& y) {
  const auto centre = [](DoubleMatrix k) {
    const size_t n = k.size();
    std::vector<double> row(n, 0.0);
    double all = 0;
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) row[i] += k[i][j] / n, all += k[i][j] / (n * n);
    for (size_t i = 0; i < n; ++i)
      for (size_t j = 0; j < n; ++j) k[i][j] += all - row[i] - row[j];
    return k;
  };
  const auto k = centre(linear_gram(x)), l = centre(linear_gram(y));
  double kl = 0, kk = 0, ll = 0;
  for (size_t i = 0; i < k.size(); ++i)
    for (size_t j = 0; j < k.size(); ++j) kl += k[i][j] * l[i][j], kk += k[i][j] * k[i][j], ll += l[i][j] * l[i][j];
  return kl / std::sqrt(kk * ll);
}

// HSIC as the U-statistic over distinct index quadruples (Song et al. 2012, eq. 5 before its
// closed form): mean of K_ij L_ij + K_ij L_qr - 2 K_ij L_iq.
double naive_unbiased_hsic(const DoubleMatrix& k, const DoubleMatrix& l) {
  const size_t n = k.size();
  double total = 0, count = 0;
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j)
      for (size_t q = 0; q < n; ++q)
        for (size_t r = 0; r < n; ++r) {
          if (i == j || i == q || i == r || j == q || j == r || q == r) continue;
          total += k[i][j] * l[i][j] + k[i][j] * l[q][r] - 2 * k[i][j] * l[i][q];
          ++count;
        }
  return total / count;
}

TEST(Cka, LinearCkaMatchesNaiveInBothComputationOrders) {
  const auto x = test::random_normal({12, 5}, 111);
  const auto y = x.narrow(1, 0, 3) + 0.5 * test::random_normal({12, 3}, 112);
  EXPECT_NEAR(linear_cka(x, y).item<double>(), naive_linear_cka(x, y), 1e-12);  // n > d: feature space
  const auto wide_x = test::random_normal({6, 4, 5}, 113);                      // n < d: Gram space
  const auto wide_y = wide_x.flatten(1).narrow(1, 0, 15) + test::random_normal({6, 15}, 114);
  EXPECT_NEAR(linear_cka(wide_x, wide_y).item<double>(), naive_linear_cka(wide_x, wide_y), 1e-12);
  EXPECT_NEAR(linear_cka(x, x).item<double>(), 1.0, 1e-12);
}

TEST(Cka, LinearCkaIsInvariantToIsotropicScalingAndOrthogonalTransforms) {
  const auto x = test::random_normal({30, 6}, 115);
  const auto y = torch::tanh(x.narrow(1, 0, 4)) + 0.3 * test::random_normal({30, 4}, 116);
  const auto q = std::get<0>(torch::linalg_qr(test::random_normal({6, 6}, 117)));
  const double reference = linear_cka(x, y).item<double>();
  EXPECT_NEAR(linear_cka(3.7 * torch::matmul(x, q), y).item<double>(), reference, 1e-12);
  EXPECT_NEAR(linear_cka(x, -0.2 * y).item<double>(), reference, 1e-12);
  // Not invariant to anisotropic scaling, so the check above can fail.
  const auto stretch = torch::tensor({10.0, 1.0, 1.0, 1.0, 1.0, 1.0}, torch::kDouble);
  EXPECT_GT(std::abs(linear_cka(x * stretch, y).item<double>() - reference), 1e-3);
}

TEST(Cka, UnbiasedHsicMatchesTheUStatistic) {
  const auto x = test::random_normal({9, 3}, 118), y = x.pow(2) + test::random_normal({9, 3}, 119);
  const auto k = linear_gram(x), l = linear_gram(y);
  const auto to_tensor = [](const DoubleMatrix& m) {
    return torch::tensor(test::flattened(m), torch::kDouble).reshape({static_cast<int64_t>(m.size()), -1});
  };
  EXPECT_NEAR(unbiased_hsic(to_tensor(k), to_tensor(l)).item<double>(), naive_unbiased_hsic(k, l), 1e-10);
}

TEST(Cka, MinibatchCkaMatchesNaiveAndMergesThroughJson) {
  // Two layers per model, three minibatches of 8 examples.
  std::vector<std::vector<torch::Tensor>> a, b;
  for (int batch = 0; batch < 3; ++batch) {
    const auto x = test::random_normal({8, 4}, 120 + batch);
    a.push_back({x, torch::relu(x)});
    b.push_back(
        {x.narrow(1, 0, 2) + test::random_normal({8, 2}, 130 + batch), test::random_normal({8, 2, 3}, 140 + batch)});
  }
  MinibatchCka single(2, 2), first(2, 2), second(2, 2);
  double cross[2][2] = {}, self_a[2] = {}, self_b[2] = {};
  for (int batch = 0; batch < 3; ++batch) {
    single.update(a[batch], b[batch], batch * 8);
    (batch < 2 ? first : second).update(a[batch], b[batch], batch * 8);
    for (int i = 0; i < 2; ++i) {
      const auto ki = linear_gram(a[batch][i]), li = linear_gram(b[batch][i]);
      self_a[i] += naive_unbiased_hsic(ki, ki);
      self_b[i] += naive_unbiased_hsic(li, li);
      for (int j = 0; j < 2; ++j) cross[i][j] += naive_unbiased_hsic(ki, linear_gram(b[batch][j]));
    }
  }
  const auto result = single.result();
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      EXPECT_NEAR(result[i][j].item<double>(), cross[i][j] / std::sqrt(self_a[i] * self_b[j]), 1e-10);
  auto merged = MinibatchCka::from_json(nlohmann::json::parse(first.to_json().dump()));
  merged.merge(MinibatchCka::from_json(nlohmann::json::parse(second.to_json().dump())));
  EXPECT_EQ(merged.num_minibatches(), 3);
  EXPECT_LT(test::max_abs_difference(merged.result(), result), 1e-14);
}

TEST(Cka, MinibatchCkaOfAModelWithItselfHasUnitDiagonalAndDropsInvalidExamples) {
  MinibatchCka cka(2, 2);
  for (int batch = 0; batch < 2; ++batch) {
    auto x = test::random_normal({10, 5}, 150 + batch);
    if (batch == 1) x[3][2] = std::numeric_limits<double>::quiet_NaN();
    const std::vector<torch::Tensor> layers = {x, x.pow(3)};
    cka.update(layers, layers, batch * 10);
  }
  EXPECT_EQ(cka.invalid_examples(), (std::vector<int64_t>{13}));
  EXPECT_LT(test::max_abs_difference(cka.result().diagonal(), torch::ones({2}, torch::kDouble)), 1e-12);
  EXPECT_TRUE(std::isfinite(cka.result()[0][1].item<double>()));
}

}  // namespace
}  // namespace vitscope::analysis
