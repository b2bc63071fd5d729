#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <numbers>

#include "analysis/analysis_test_support.h"
#include "core/analysis/fourier.h"

namespace vitscope::analysis {
namespace {

using test::Geometry;

// Plain-loop §3.6 steps 1-5 for one image: naive DFT per channel of the token grid, channel
// mean of ln(|F| + 1e-6), rolled by (h/2, w/2). Tokens (L, C), patches only.
std::vector<double> naive_log_amplitude(const test::DoubleMatrix& tokens, int h, int w) {
  const size_t channels = tokens[0].size();
  std::vector<double> spectrum(h * w, 0.0);
  for (size_t c = 0; c < channels; ++c) {
    for (int u = 0; u < h; ++u) {
      for (int v = 0; v < w; ++v) {
        std::complex<double> f = 0;
        for (int r = 0; r < h; ++r)
          for (int s = 0; s < w; ++s)
            f += tokens[r * w + s][c] *
                 std::polar(1.0,
                            -2 * std::numbers::pi * (static_cast<double>(u * r) / h + static_cast<double>(v * s) / w));
        const int ru = (u + h / 2) % h, rv = (v + w / 2) % w;
        spectrum[ru * w + rv] += std::log(std::abs(f) + 1e-6) / static_cast<double>(channels);
      }
    }
  }
  return spectrum;
}

// Patch tokens (B, g*g, 1) of the feature map value(r, c), fp64, with `prefix` garbage tokens in front.
torch::Tensor feature_map_tokens(int g, int prefix, const std::function<double(int, int)>& value) {
  auto tokens = torch::full({1, prefix + g * g, 1}, 1e6, torch::kDouble);
  for (int r = 0; r < g; ++r)
    for (int c = 0; c < g; ++c) tokens[0][prefix + r * g + c][0] = value(r, c);
  return tokens;
}

double delta_of(int g, const std::function<double(int, int)>& value) {
  const Geometry geometry{g, g, 16, 1};
  const auto capture = test::make_capture(geometry, {}, {feature_map_tokens(g, 1, value)});
  return fourier_analysis(capture).delta_log_amplitude[0].item<double>();
}

TEST(Fourier, ReproducesTheSyntheticChecksOfSection4InFp64) {
  EXPECT_NEAR(delta_of(14, [](int, int) { return 1.0; }), -19.0936, 5e-5);
  EXPECT_NEAR(delta_of(14, [](int r, int c) { return 1 + std::cos(2 * std::numbers::pi * 6 * (r + c) / 14); }), -0.6931,
              5e-5);
  // The same construction on the bundled models' 8x8 grid: last diagonal frequency (3, 3).
  EXPECT_NEAR(delta_of(8, [](int, int) { return 1.0; }), std::log(1e-6) - std::log(64 + 1e-6), 1e-9);
  EXPECT_NEAR(delta_of(8, [](int r, int c) { return 1 + std::cos(2 * std::numbers::pi * 3 * (r + c) / 8); }),
              std::log(32 + 1e-6) - std::log(64 + 1e-6), 1e-9);
}

TEST(Fourier, MatchesNaiveDftOnSquareAndNonSquareGrids) {
  for (const Geometry& g :
       {Geometry{8, 8, 4, 5}, Geometry{14, 14, 16, 1}, Geometry{4, 6, 4, 1}, Geometry{5, 7, 4, 1}}) {
    SCOPED_TRACE(g.name());
    const auto tokens = test::random_normal({2, g.num_patches(), 3}, 91);
    const auto spectrum = log_amplitude_spectrum(tokens, g.grid_h, g.grid_w);
    EXPECT_EQ(spectrum.sizes(), (std::vector<int64_t>{2, g.grid_h, g.grid_w}));
    for (int b = 0; b < 2; ++b) {
      const auto expected = naive_log_amplitude(test::rows_of(tokens[b]), g.grid_h, g.grid_w);
      EXPECT_LT(test::max_abs_difference(spectrum[b], expected), 1e-10);
      // Diagonal from DC: rolled index (h/2 + k, w/2 + k) minus DC.
      const int length = std::min(g.grid_h - g.grid_h / 2, g.grid_w - g.grid_w / 2);
      std::vector<double> diagonal;
      const double dc = expected[(g.grid_h / 2) * g.grid_w + g.grid_w / 2];
      for (int k = 0; k < length; ++k)
        diagonal.push_back(expected[(g.grid_h / 2 + k) * g.grid_w + g.grid_w / 2 + k] - dc);
      EXPECT_LT(test::max_abs_difference(relative_log_amplitude_diagonal(spectrum[b]), diagonal), 1e-10);
    }
  }
}

TEST(Fourier, AnalysisOfACaptureDropsPrefixAveragesValidImagesAndKeepsTapOrder) {
  const Geometry g{8, 8, 4, 5};
  auto tap0 = test::random_normal({3, g.num_tokens(), 4}, 92);
  auto tap1 = test::random_normal({3, g.num_tokens(), 4}, 93);
  tap1.narrow(1, 0, g.prefix).fill_(1e9);  // prefix tokens must not matter
  tap0[1][g.prefix + 2][0] = std::numeric_limits<double>::quiet_NaN();
  const auto capture = test::make_capture(g, {}, {tap0, tap1, torch::Tensor()});
  const auto result = fourier_analysis(capture);
  EXPECT_EQ(result.taps, (std::vector<int>{0, 1}));
  EXPECT_EQ(result.invalid_images, (std::vector<int64_t>{1}));
  const auto patches = tap1.narrow(1, g.prefix, g.num_patches());
  auto expected = naive_log_amplitude(test::rows_of(patches[0]), 8, 8);
  const auto other = naive_log_amplitude(test::rows_of(patches[2]), 8, 8);
  for (size_t i = 0; i < expected.size(); ++i) expected[i] = (expected[i] + other[i]) / 2;
  EXPECT_LT(test::max_abs_difference(result.spectrum[1], expected), 1e-10);
  const double delta = expected[7 * 8 + 7] - expected[4 * 8 + 4];
  EXPECT_NEAR(result.delta_log_amplitude[1].item<double>(), delta, 1e-10);
  const auto valid = torch::tensor({0, 2});
  EXPECT_NEAR(result.per_image_delta.index_select(0, valid).mean(0)[1].item<double>(), delta, 1e-10);
}

}  // namespace
}  // namespace vitscope::analysis
