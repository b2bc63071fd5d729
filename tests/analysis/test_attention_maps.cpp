#include <gtest/gtest.h>

#include "analysis/analysis_test_support.h"
#include "core/analysis/attention_maps.h"

namespace vitscope::analysis {
namespace {

using test::Geometry;

// Plain-loop §3.1: the query's row over the patch keys divided by its sum, row-major.
std::vector<double> naive_query_map(const std::vector<double>& a, int n, int prefix, int64_t image_head,
                                    int64_t query) {
  const int l = n - prefix;
  const double* row = a.data() + (image_head * n + query) * n + prefix;
  double total = 0;
  for (int k = 0; k < l; ++k) total += row[k];
  std::vector<double> map(l);
  for (int k = 0; k < l; ++k) map[k] = row[k] / total;
  return map;
}

TEST(AttentionMaps, MatchNaivePerHeadAndHeadMeanOnEveryGeometry) {
  for (const auto& g : test::test_geometries()) {
    SCOPED_TRACE(g.name());
    const int b = 2, h = 3, n = g.num_tokens();
    const auto attention = test::random_attention(b, h, n, 11);
    const auto a = test::values(attention);
    const auto capture = test::make_capture(g, {attention});
    for (const auto& query : {AttentionQuery::patch(g.grid_h - 2, 1), AttentionQuery::cls()}) {
      const auto q = query.token_index(g.prefix, g.grid_h, g.grid_w);
      std::vector<double> expected;
      for (int i = 0; i < b * h; ++i) {
        const auto m = naive_query_map(a, n, g.prefix, i, q);
        expected.insert(expected.end(), m.begin(), m.end());
      }
      const auto maps = query_attention_maps(attention, g.prefix, g.grid_h, g.grid_w, query);
      EXPECT_EQ(maps.sizes(), (std::vector<int64_t>{b, h, g.grid_h, g.grid_w}));
      EXPECT_LT(test::max_abs_difference(maps, expected), 1e-14);

      // Head mean = mean of the per-head renormalised maps of one image.
      std::vector<double> mean(g.num_patches(), 0.0);
      for (int head = 0; head < h; ++head) {
        const auto m = naive_query_map(a, n, g.prefix, 1 * h + head, q);
        for (int k = 0; k < g.num_patches(); ++k) mean[k] += m[k] / h;
      }
      EXPECT_LT(test::max_abs_difference(attention_map(capture, 0, 1, kMeanOverHeads, query), mean), 1e-14);
      EXPECT_LT(test::max_abs_difference(attention_map(capture, 0, 1, 2, query),
                                         naive_query_map(a, n, g.prefix, 1 * h + 2, q)),
                1e-14);
      EXPECT_EQ(head_attention_maps(capture, 0, 1, query).sizes(), (std::vector<int64_t>{h, g.grid_h, g.grid_w}));
    }
  }
}

TEST(AttentionMaps, RowMajorLayoutOnANonSquareGrid) {
  // Query (1, 4) attends only to key (2, 5) of a 3x6 grid: the map is one-hot there.
  const Geometry g{3, 6, 4, 1};
  auto rows = torch::full({g.num_patches(), g.num_patches()}, 1e-3, torch::kDouble);
  rows[1 * 6 + 4][2 * 6 + 5] = 1e6;
  const auto attention = test::with_prefix(rows, g.prefix);
  const auto map = query_attention_maps(attention, g.prefix, g.grid_h, g.grid_w, AttentionQuery::patch(1, 4))[0][0];
  EXPECT_EQ(map.argmax().item<int64_t>(), 2 * 6 + 5);
  EXPECT_NEAR(map[2][5].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(map.sum().item<double>(), 1.0, 1e-12);
}

TEST(AttentionMaps, RejectsQueriesOutsideTheGridAndWrongShapes) {
  const Geometry g{8, 8, 4, 1};
  const auto attention = test::random_attention(1, 2, g.num_tokens(), 3);
  EXPECT_THROW(query_attention_maps(attention, 1, 8, 8, AttentionQuery::patch(8, 0)), std::invalid_argument);
  EXPECT_THROW(query_attention_maps(attention, 1, 8, 8, AttentionQuery{AttentionQuery::Kind::Prefix, 0, 0, 1}),
               std::invalid_argument);
  EXPECT_THROW(query_attention_maps(attention, 1, 14, 14, AttentionQuery::cls()), std::invalid_argument);
}

}  // namespace
}  // namespace vitscope::analysis
