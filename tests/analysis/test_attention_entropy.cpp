#include <gtest/gtest.h>

#include <cmath>

#include "analysis/analysis_test_support.h"
#include "core/analysis/attention_entropy.h"

namespace vitscope::analysis {
namespace {

// Plain-loop mean row entropy of the patch-to-patch rows + 1e-8, renormalised, per (image, head).
std::vector<double> naive_attention_entropy(const torch::Tensor& attention, int prefix) {
  const auto a = test::values(attention);
  const int n = static_cast<int>(attention.size(-1)), l = n - prefix;
  std::vector<double> result;
  for (int64_t ih = 0; ih < attention.size(0) * attention.size(1); ++ih) {
    double mean_entropy = 0;
    for (int q = 0; q < l; ++q) {
      const double* row = a.data() + (ih * n + prefix + q) * n + prefix;
      double total = 0, entropy = 0;
      for (int k = 0; k < l; ++k) total += row[k] + 1e-8;
      for (int k = 0; k < l; ++k) {
        const double p = (row[k] + 1e-8) / total;
        entropy -= p * std::log(p);
      }
      mean_entropy += entropy / l;
    }
    result.push_back(mean_entropy);
  }
  return result;
}

TEST(AttentionEntropy, UniformIsLnLAndOneHotIsNearZero) {
  const int l = 196;
  const auto uniform = test::with_prefix(torch::ones({l, l}, torch::kDouble), 1);
  EXPECT_NEAR(attention_entropy(uniform, 1).item<double>(), 5.278115, 5e-7);  // §4: ln 196
  const auto one_hot = test::with_prefix(torch::eye(l, torch::kDouble), 1);
  EXPECT_LT(attention_entropy(one_hot, 1).item<double>(), 1e-4);
}

TEST(AttentionEntropy, MatchesNaiveLoopsOnEveryGeometry) {
  for (const auto& g : test::test_geometries()) {
    SCOPED_TRACE(g.name());
    const auto attention = test::random_attention(2, 3, g.num_tokens(), 41, 3.0);
    EXPECT_LT(
        test::max_abs_difference(attention_entropy(attention, g.prefix), naive_attention_entropy(attention, g.prefix)),
        1e-10);
    const auto table = attention_entropy_table(test::make_capture(g, {attention, attention}));
    EXPECT_EQ(table.per_head.sizes(), (std::vector<int64_t>{2, 3}));
    EXPECT_TRUE(table.metadata.count("definition"));
  }
}

}  // namespace
}  // namespace vitscope::analysis
