#include <gtest/gtest.h>

#include <cmath>

#include "analysis/analysis_test_support.h"
#include "core/analysis/nmi.h"

namespace vitscope::analysis {
namespace {

using test::Geometry;

// Plain-loop §3.3 steps 1-6 for every (image, head), with MI in its defining form.
std::vector<double> naive_nmi(const torch::Tensor& attention, int prefix) {
  const auto a = test::values(attention);
  const int n = static_cast<int>(attention.size(-1)), l = n - prefix;
  const int64_t image_heads = attention.size(0) * attention.size(1);
  std::vector<double> result;
  for (int64_t ih = 0; ih < image_heads; ++ih) {
    std::vector<std::vector<double>> rows(l, std::vector<double>(l));
    for (int q = 0; q < l; ++q) {
      double total = 0;
      for (int k = 0; k < l; ++k) total += a[(ih * n + prefix + q) * n + prefix + k] + 1e-8;
      for (int k = 0; k < l; ++k) rows[q][k] = (a[(ih * n + prefix + q) * n + prefix + k] + 1e-8) / total;
    }
    std::vector<double> key_marginal(l, 0.0);
    for (int q = 0; q < l; ++q)
      for (int k = 0; k < l; ++k) key_marginal[k] += rows[q][k] / l;
    double mutual_information = 0, key_entropy = 0;
    for (int q = 0; q < l; ++q)
      for (int k = 0; k < l; ++k) mutual_information += rows[q][k] / l * std::log(rows[q][k] / key_marginal[k]);
    for (int k = 0; k < l; ++k) key_entropy -= key_marginal[k] * std::log(key_marginal[k]);
    result.push_back(mutual_information / std::sqrt(std::log(static_cast<double>(l)) * key_entropy));
  }
  return result;
}

// The ε of §3.3 is relative to the patch rows' mass, so the §4 patterns give the CLS key none.
double paper_nmi(const torch::Tensor& patch_rows) {
  return attention_nmi(test::with_prefix(patch_rows, 1, /*prefix_share=*/0.0), 1).item<double>();
}

TEST(Nmi, ReproducesTheSyntheticTableOfSection4) {
  const int g = 14, l = g * g;
  // Identical rows: any distribution, repeated for every query.
  const auto row = torch::softmax(test::random_normal({l}, 31), 0);
  EXPECT_NEAR(paper_nmi(row.unsqueeze(0).expand({l, l}).clone()), 0.0, 1e-7);
  EXPECT_NEAR(paper_nmi(torch::eye(l, torch::kDouble)), 0.999993, 5e-7);
  auto neighbourhood = torch::zeros({l, l}, torch::kDouble);
  for (int q = 0; q < l; ++q)
    for (int k = 0; k < l; ++k)
      if (std::abs(q / g - k / g) <= 1 && std::abs(q % g - k % g) <= 1) neighbourhood[q][k] = 1.0;
  EXPECT_NEAR(paper_nmi(neighbourhood), 0.6046, 5e-5);
}

TEST(Nmi, MatchesNaiveLoopsOnEveryGeometry) {
  for (const auto& g : test::test_geometries()) {
    SCOPED_TRACE(g.name());
    const auto attention = test::random_attention(2, 3, g.num_tokens(), 32, /*sharpness=*/4.0);
    const auto fast = attention_nmi(attention, g.prefix);
    EXPECT_EQ(fast.sizes(), (std::vector<int64_t>{2, 3}));
    EXPECT_LT(test::max_abs_difference(fast, naive_nmi(attention, g.prefix)), 1e-10);
  }
}

TEST(Nmi, InvariantToPermutingTokens) {
  const Geometry g{8, 8, 4, 5};
  const auto attention = test::random_attention(2, 2, g.num_tokens(), 33, 4.0);
  // The same permutation on queries and keys, prefix tokens left in front.
  auto order = torch::randperm(g.num_patches(), test::seeded(34), torch::TensorOptions().dtype(torch::kLong));
  const auto index = torch::cat({torch::arange(g.prefix), order + g.prefix});
  const auto permuted = attention.index_select(2, index).index_select(3, index);
  EXPECT_GT(test::max_abs_difference(permuted, attention), 1e-3);
  EXPECT_LT(test::max_abs_difference(attention_nmi(permuted, g.prefix), attention_nmi(attention, g.prefix)), 1e-12);
}

TEST(Nmi, TableAveragesPerHeadNmiNotNmiOfTheMeanAttention) {
  const Geometry g{14, 14, 16, 1};
  const auto attention = test::random_attention(2, 3, g.num_tokens(), 35, 4.0);
  const auto table = nmi_table(test::make_capture(g, {attention}));
  const auto per_image = naive_nmi(attention, g.prefix);
  double layer = 0;
  for (double v : per_image) layer += v / per_image.size();
  EXPECT_NEAR(table.per_layer[0].item<double>(), layer, 1e-10);
  const auto of_mean = attention_nmi(attention.mean(1, true), g.prefix).mean().item<double>();
  EXPECT_GT(std::abs(of_mean - layer), 1e-3);
  EXPECT_EQ(table.metadata.at("epsilon").rfind("1e-8", 0), 0u);
}

}  // namespace
}  // namespace vitscope::analysis
