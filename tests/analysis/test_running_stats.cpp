#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "analysis/analysis_test_support.h"
#include "core/analysis/running_stats.h"

namespace vitscope::analysis {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Per-image values (B, 2, 3) of a "layer x head" metric; images 2 and 7 hold NaN / Inf.
torch::Tensor dataset_values() {
  auto values = test::random_normal({10, 2, 3}, 161) * 10 + 100;
  values[2][1][0] = kNaN;
  values[7][0][2] = std::numeric_limits<double>::infinity();
  return values;
}

TEST(RunningStats, MeanAndStdMatchNaiveOverValidImagesOnly) {
  const auto values = dataset_values();
  RunningStats stats;
  stats.add("distance", values, 0);
  EXPECT_EQ(stats.count("distance"), 8);
  EXPECT_EQ(stats.invalid_images("distance"), (std::vector<int64_t>{2, 7}));
  const auto flat = test::values(values);
  std::vector<double> mean(6, 0.0), variance(6, 0.0);
  for (int image = 0; image < 10; ++image)
    if (image != 2 && image != 7)
      for (int k = 0; k < 6; ++k) mean[k] += flat[image * 6 + k] / 8;
  for (int image = 0; image < 10; ++image)
    if (image != 2 && image != 7)
      for (int k = 0; k < 6; ++k) variance[k] += std::pow(flat[image * 6 + k] - mean[k], 2) / 7;
  for (auto& v : variance) v = std::sqrt(v);
  EXPECT_EQ(stats.mean("distance").sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_LT(test::max_abs_difference(stats.mean("distance"), mean), 1e-12);
  EXPECT_LT(test::max_abs_difference(stats.standard_deviation("distance"), variance), 1e-9);
}

TEST(RunningStats, TwoRunsMergedThroughJsonEqualOneRun) {
  const auto values = dataset_values();
  const auto fourier = test::random_normal({10, 4}, 162);
  RunningStats single, first, second;
  single.add("distance", values, 0);
  single.add("fourier", fourier, 0);
  // Run 1 sees images 0-5 in two batches, run 2 images 6-9 on "another machine".
  first.add("distance", values.narrow(0, 0, 3), 0);
  first.add("distance", values.narrow(0, 3, 3), 3);
  first.add("fourier", fourier.narrow(0, 0, 6), 0);
  second.add("distance", values.narrow(0, 6, 4), 6);
  second.add("fourier", fourier.narrow(0, 6, 4), 6);
  auto merged = RunningStats::from_json(nlohmann::json::parse(first.to_json().dump()));
  merged.merge(RunningStats::from_json(nlohmann::json::parse(second.to_json().dump())));
  EXPECT_EQ(merged.metrics(), (std::vector<std::string>{"distance", "fourier"}));
  for (const std::string metric : {"distance", "fourier"}) {
    SCOPED_TRACE(metric);
    EXPECT_EQ(merged.count(metric), single.count(metric));
    EXPECT_EQ(merged.invalid_images(metric), single.invalid_images(metric));
    EXPECT_LT(test::max_abs_difference(merged.mean(metric), single.mean(metric)), 1e-12);
    EXPECT_LT(test::max_abs_difference(merged.standard_deviation(metric), single.standard_deviation(metric)), 1e-9);
  }
  EXPECT_EQ(merged.invalid_images("distance"), (std::vector<int64_t>{2, 7}));
}

TEST(RunningStats, RejectsShapeChangesAndUnknownMetrics) {
  RunningStats stats;
  stats.add("nmi", torch::zeros({4, 12}), 0);
  EXPECT_THROW(stats.add("nmi", torch::zeros({4, 6}), 4), std::invalid_argument);
  EXPECT_THROW(stats.mean("entropy"), std::out_of_range);
  EXPECT_THROW(RunningStats::from_json(nlohmann::json{{"metrics", nlohmann::json::object()}}), std::invalid_argument);
  RunningStats all_invalid;
  all_invalid.add("nmi", torch::full({2, 3}, kNaN), 0);
  EXPECT_EQ(all_invalid.count("nmi"), 0);
  EXPECT_TRUE(std::isnan(all_invalid.mean("nmi")[0].item<double>()));
}

}  // namespace
}  // namespace vitscope::analysis
