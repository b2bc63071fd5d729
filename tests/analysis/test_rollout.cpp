#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "analysis/analysis_test_support.h"
#include "core/analysis/rollout.h"

namespace vitscope::analysis {
namespace {

using test::DoubleMatrix;
using test::Geometry;

// Plain-loop rollout of one image over the given blocks.
DoubleMatrix naive_rollout(const std::vector<torch::Tensor>& blocks, int image, HeadFusion fusion,
                           double discard_ratio) {
  DoubleMatrix rollout;
  for (const auto& attention : blocks) {
    const auto a = test::values(attention[image]);
    const int h = static_cast<int>(attention.size(1)), n = static_cast<int>(attention.size(2));
    std::vector<double> fused(n * n);
    for (int ij = 0; ij < n * n; ++ij) {
      double v = a[ij];
      for (int head = 1; head < h; ++head) {
        const double x = a[head * n * n + ij];
        v = fusion == HeadFusion::Mean ? v + x : fusion == HeadFusion::Min ? std::min(v, x) : std::max(v, x);
      }
      fused[ij] = fusion == HeadFusion::Mean ? v / h : v;
    }
    const auto discard = static_cast<size_t>(n * n * discard_ratio);
    std::vector<int> order(n * n);
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int x, int y) { return fused[x] < fused[y]; });
    for (size_t i = 0; i < discard; ++i)
      if (order[i] != 0) fused[order[i]] = 0.0;  // CLS -> CLS is kept
    DoubleMatrix layer(n, std::vector<double>(n));
    for (int i = 0; i < n; ++i) {
      double total = 0;
      for (int j = 0; j < n; ++j) total += layer[i][j] = 0.5 * fused[i * n + j] + (i == j ? 0.5 : 0.0);
      for (int j = 0; j < n; ++j) layer[i][j] /= total;
    }
    if (rollout.empty()) {
      rollout = layer;
      continue;
    }
    DoubleMatrix product(n, std::vector<double>(n, 0.0));
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < n; ++k)
        for (int j = 0; j < n; ++j) product[i][j] += layer[i][k] * rollout[k][j];
    rollout = product;
  }
  return rollout;
}

TEST(Rollout, MatchesNaiveLoopsForEveryFusionAndDiscardRatio) {
  for (const auto& g : test::test_geometries()) {
    SCOPED_TRACE(g.name());
    const std::vector<torch::Tensor> blocks = {test::random_attention(2, 3, g.num_tokens(), 51, 3.0),
                                               test::random_attention(2, 3, g.num_tokens(), 52, 3.0),
                                               test::random_attention(2, 3, g.num_tokens(), 53, 3.0)};
    for (const auto fusion : {HeadFusion::Mean, HeadFusion::Min, HeadFusion::Max}) {
      for (const double discard : {0.0, 0.9}) {
        const auto rollout = attention_rollout(blocks, {fusion, discard});
        EXPECT_EQ(rollout.sizes(), (std::vector<int64_t>{2, g.num_tokens(), g.num_tokens()}));
        EXPECT_LT(test::max_abs_difference(rollout[1], test::flattened(naive_rollout(blocks, 1, fusion, discard))),
                  1e-12);
        EXPECT_LT(test::max_abs_difference(rollout.sum(-1), torch::ones({2, g.num_tokens()}, torch::kDouble)), 1e-12);
      }
    }
  }
}

TEST(Rollout, MapsAreTheQueryRowOverThePatches) {
  const Geometry g{8, 8, 4, 5};
  const auto attention = test::random_attention(2, 2, g.num_tokens(), 54);
  const auto capture = test::make_capture(g, {attention, attention, attention});
  const auto result = attention_rollout(capture, {}, 1);
  EXPECT_EQ(result.first_block, 1);
  EXPECT_EQ(result.last_block, 2);
  EXPECT_EQ(result.metadata.at("head fusion"), "mean");
  const auto expected = test::flattened(naive_rollout({attention, attention}, 1, HeadFusion::Mean, 0.0));
  const auto cls = rollout_map(result.matrix, g.prefix, 8, 8, AttentionQuery::cls());
  const auto patch = rollout_map(result.matrix, g.prefix, 8, 8, AttentionQuery::patch(3, 6));
  EXPECT_EQ(cls.sizes(), (std::vector<int64_t>{2, 8, 8}));
  const int n = g.num_tokens(), query = g.prefix + 3 * 8 + 6;
  EXPECT_LT(test::max_abs_difference(cls[1], std::vector<double>(expected.begin() + g.prefix, expected.begin() + n)),
            1e-12);
  EXPECT_LT(test::max_abs_difference(patch[1], std::vector<double>(expected.begin() + query * n + g.prefix,
                                                                   expected.begin() + (query + 1) * n)),
            1e-12);
}

TEST(Rollout, RejectsMissingBlocksAndBadRatios) {
  const Geometry g{8, 8, 4, 1};
  const auto attention = test::random_attention(1, 2, g.num_tokens(), 55);
  const auto capture = test::make_capture(g, {attention, torch::Tensor(), attention});
  EXPECT_THROW(attention_rollout(capture), std::invalid_argument);
  EXPECT_NO_THROW(attention_rollout(capture, {}, 2, 2));
  EXPECT_THROW(attention_rollout(std::vector<torch::Tensor>{attention}, {HeadFusion::Mean, 1.0}),
               std::invalid_argument);
}

}  // namespace
}  // namespace vitscope::analysis
