#include <gtest/gtest.h>

#include <cmath>

#include "analysis/analysis_test_support.h"
#include "core/analysis/attention_distance.h"

namespace vitscope::analysis {
namespace {

using test::Geometry;

// Plain-loop §3.2 steps 1-4 for every (image, head): (B*H) values.
std::vector<double> naive_attention_distance(const torch::Tensor& attention, const Geometry& g) {
  const auto a = test::values(attention);
  const int n = g.num_tokens(), l = g.num_patches();
  const int64_t image_heads = attention.size(0) * attention.size(1);
  std::vector<double> result;
  for (int64_t ih = 0; ih < image_heads; ++ih) {
    double over_queries = 0;
    for (int q = 0; q < l; ++q) {
      const double* row = a.data() + (ih * n + g.prefix + q) * n + g.prefix;
      double total = 0;
      for (int k = 0; k < l; ++k) total += row[k] + 1e-32;
      double weighted = 0;
      for (int k = 0; k < l; ++k) {
        const double dr = q / g.grid_w - k / g.grid_w, dc = q % g.grid_w - k % g.grid_w;
        weighted += (row[k] + 1e-32) / total * g.patch_size * std::sqrt(dr * dr + dc * dc);
      }
      over_queries += weighted / l;
    }
    result.push_back(over_queries);
  }
  return result;
}

// Patch-to-patch rows (L, L) of the §4 synthetic patterns on a 14x14 grid.
torch::Tensor synthetic_rows(const std::string& pattern) {
  const int g = 14, l = g * g;
  auto rows = torch::zeros({l, l}, torch::kDouble);
  for (int q = 0; q < l; ++q) {
    for (int k = 0; k < l; ++k) {
      const bool neighbour = std::abs(q / g - k / g) <= 1 && std::abs(q % g - k % g) <= 1;
      const bool on = pattern == "uniform"  ? true
                      : pattern == "others" ? q != k
                      : pattern == "3x3"    ? neighbour
                                            : q == k;
      rows[q][k] = on ? 1.0 : 0.0;
    }
  }
  return rows;
}

double paper_distance(const std::string& pattern) {
  return mean_attention_distance(test::with_prefix(synthetic_rows(pattern), 1), 1, 14, 14, 16).item<double>();
}

TEST(AttentionDistance, ReproducesTheSyntheticTableOfSection4) {
  EXPECT_NEAR(paper_distance("uniform"), 116.492, 5e-4);
  EXPECT_NEAR(paper_distance("others"), 117.090, 5e-4);
  EXPECT_NEAR(paper_distance("3x3"), 16.698, 5e-4);
  EXPECT_NEAR(paper_distance("identity"), 0.0, 1e-12);
}

TEST(AttentionDistance, MatchesNaiveLoopsOnEveryGeometry) {
  for (const auto& g : test::test_geometries()) {
    SCOPED_TRACE(g.name());
    const auto attention = test::random_attention(2, 3, g.num_tokens(), 21);
    const auto fast = mean_attention_distance(attention, g.prefix, g.grid_h, g.grid_w, g.patch_size);
    EXPECT_EQ(fast.sizes(), (std::vector<int64_t>{2, 3}));
    EXPECT_LT(test::max_abs_difference(fast, naive_attention_distance(attention, g)), 1e-10);
    // fp32 input is computed in fp32 and stays close.
    const auto single =
        mean_attention_distance(attention.to(torch::kFloat), g.prefix, g.grid_h, g.grid_w, g.patch_size);
    EXPECT_EQ(single.scalar_type(), torch::kFloat);
    EXPECT_LT(test::max_abs_difference(single, fast), 1e-3);
  }
}

TEST(AttentionDistance, InvariantToTransposingTheGrid) {
  const Geometry g{14, 14, 16, 5};
  const auto attention = test::random_attention(1, 2, g.num_tokens(), 22);
  // Token (r, c) -> (c, r) on queries and keys alike; prefix tokens stay in front.
  std::vector<int64_t> order(g.num_tokens());
  for (int p = 0; p < g.prefix; ++p) order[p] = p;
  for (int r = 0; r < 14; ++r)
    for (int c = 0; c < 14; ++c) order[g.prefix + r * 14 + c] = g.prefix + c * 14 + r;
  const auto index = torch::tensor(order);
  const auto transposed = attention.index_select(2, index).index_select(3, index);
  EXPECT_GT(test::max_abs_difference(transposed, attention), 1e-3);
  EXPECT_LT(test::max_abs_difference(mean_attention_distance(transposed, g.prefix, 14, 14, 16),
                                     mean_attention_distance(attention, g.prefix, 14, 14, 16)),
            1e-10);
}

TEST(AttentionDistance, TableAveragesImagesThenHeadsAndSkipsInvalidImages) {
  const Geometry g{8, 8, 4, 5};
  const auto block0 = test::random_attention(3, 4, g.num_tokens(), 23);
  auto block2 = test::random_attention(3, 4, g.num_tokens(), 24);
  block2[1][2][7][9] = std::numeric_limits<double>::quiet_NaN();  // image 1 is invalid
  const auto capture = test::make_capture(g, {block0, torch::Tensor(), block2});
  const auto table = attention_distance_table(capture);
  EXPECT_EQ(table.blocks, (std::vector<int>{0, 2}));
  EXPECT_EQ(table.invalid_images, (std::vector<int64_t>{1}));
  EXPECT_EQ(table.per_image.sizes(), (std::vector<int64_t>{3, 2, 4}));
  EXPECT_EQ(table.metadata.at("spec"), "paper-analyses.md §3.2");
  for (int row = 0; row < 2; ++row) {
    const auto per_image = naive_attention_distance(row == 0 ? block0 : block2, g);  // (image, head)
    double layer = 0;
    for (int head = 0; head < 4; ++head) {
      const double head_mean = (per_image[0 * 4 + head] + per_image[2 * 4 + head]) / 2;
      EXPECT_NEAR(table.per_head[row][head].item<double>(), head_mean, 1e-10);
      layer += head_mean / 4;
    }
    EXPECT_NEAR(table.per_layer[row].item<double>(), layer, 1e-10);
  }
}

}  // namespace
}  // namespace vitscope::analysis
