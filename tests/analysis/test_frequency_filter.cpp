#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <numbers>

#include "analysis/analysis_test_support.h"
#include "core/analysis/frequency_filter.h"

namespace vitscope::analysis {
namespace {

using Spectrum = std::vector<std::complex<double>>;
constexpr double kPi = std::numbers::pi;

Spectrum naive_dft(const Spectrum& x, int h, int w, bool inverse) {
  Spectrum out(h * w);
  const double sign = inverse ? 1.0 : -1.0;
  for (int u = 0; u < h; ++u)
    for (int v = 0; v < w; ++v)
      for (int r = 0; r < h; ++r)
        for (int c = 0; c < w; ++c)
          out[u * w + v] +=
              x[r * w + c] *
              std::polar(1.0, sign * 2 * kPi * (static_cast<double>(u * r) / h + static_cast<double>(v * c) / w));
  if (inverse)
    for (auto& value : out) value /= static_cast<double>(h * w);
  return out;
}

// Filters every (image, channel) plane with keep(u, v) on FFT-order bins; real part of the inverse.
std::vector<double> naive_filter(const torch::Tensor& images, const std::function<bool(int, int)>& keep) {
  const int h = static_cast<int>(images.size(2)), w = static_cast<int>(images.size(3));
  const auto flat = test::values(images);
  std::vector<double> out;
  for (size_t plane = 0; plane < flat.size() / (h * w); ++plane) {
    Spectrum x(flat.begin() + plane * h * w, flat.begin() + (plane + 1) * h * w);
    auto f = naive_dft(x, h, w, false);
    for (int u = 0; u < h; ++u)
      for (int v = 0; v < w; ++v)
        if (!keep(u, v)) f[u * w + v] = 0;
    for (const auto& value : naive_dft(f, h, w, true)) out.push_back(value.real());
  }
  return out;
}

// max(|omega_y|, |omega_x|) of FFT bin (u, v), numpy fftfreq convention.
double chebyshev_omega(int u, int v, int h, int w) {
  const auto omega = [](int k, int n) { return 2 * kPi * std::abs(k < (n + 1) / 2 ? k : k - n) / n; };
  return std::max(omega(u, h), omega(v, w));
}

TEST(FrequencyFilter, LowHighAndBandPassMatchNaiveDftOnANonSquareImage) {
  const int h = 8, w = 10;
  const auto images = test::random_normal({1, 2, h, w}, 101);
  const double cutoff = 2 * kPi * 2 / 8;  // exactly on the |k_y| = 2 bins: they are kept
  const auto below = [&](int u, int v) { return chebyshev_omega(u, v, h, w) <= cutoff + 1e-12; };
  const auto above = [&](int u, int v) { return chebyshev_omega(u, v, h, w) > cutoff + 1e-12; };
  const auto band = [&](int u, int v) {
    const double r = chebyshev_omega(u, v, h, w);
    return r > 0.5 && r <= 2.0;
  };
  EXPECT_LT(test::max_abs_difference(low_pass(images, cutoff), naive_filter(images, below)), 1e-12);
  EXPECT_LT(test::max_abs_difference(high_pass(images, cutoff), naive_filter(images, above)), 1e-12);
  EXPECT_LT(test::max_abs_difference(band_pass(images, 0.5, 2.0), naive_filter(images, band)), 1e-12);
  EXPECT_LT(test::max_abs_difference(low_pass(images, 1.1) + high_pass(images, 1.1), images), 1e-12);
}

TEST(FrequencyFilter, KeepsSizeAndDtype) {
  const auto images = test::random_normal({2, 3, 16, 12}, 102).to(torch::kFloat);
  for (const auto& out : {low_pass(images, 1.0), high_pass(images, 1.0), band_pass(images, 0.5, 1.5),
                          add_band_limited_noise(images, {0.01, 1.0, 0.2, 3})}) {
    EXPECT_EQ(out.sizes(), images.sizes());
    EXPECT_EQ(out.scalar_type(), torch::kFloat);
  }
  EXPECT_LT(test::max_abs_difference(low_pass(images, kPi), images), 1e-5);  // everything <= Nyquist
}

// how-do-vits-work's Random + FreqAttack._fourier_mask, literally, on a square image.
std::vector<double> naive_band_noise(const BandNoiseOptions& o, int b, int c, int n) {
  auto generator = test::seeded(o.seed);
  const auto delta = test::values(o.epsilon * torch::randn({b, c, n, n}, generator).sign());
  const auto center_mask = [n](int side) {
    side = std::clamp(side, 0, n);
    const int pad = (n - side) / 2;
    return [=](int i, int j) { return i >= pad && i < pad + side && j >= pad && j < pad + side ? 1.0 : 0.0; };
  };
  const auto outer = center_mask(static_cast<int>((o.centre + o.half_width) * n / (2 * kPi)) * 2);
  const auto inner = center_mask(static_cast<int>((o.centre - o.half_width) * n / (2 * kPi)) * 2);
  std::vector<double> out;
  for (int plane = 0; plane < b * c; ++plane) {
    const Spectrum x(delta.begin() + plane * n * n, delta.begin() + (plane + 1) * n * n);
    const auto f = naive_dft(x, n, n, false);
    Spectrum shifted(n * n), masked(n * n);
    for (int u = 0; u < n; ++u)
      for (int v = 0; v < n; ++v) shifted[((u + n / 2) % n) * n + (v + n / 2) % n] = f[u * n + v];
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        const double mask = outer(i, j) - inner(i, j);
        masked[((i + n / 2) % n) * n + (j + n / 2) % n] =
            std::polar(mask * std::abs(shifted[i * n + j]), std::arg(shifted[i * n + j]));
      }
    for (const auto& value : naive_dft(masked, n, n, true)) out.push_back(value.real());
  }
  return out;
}

TEST(FrequencyFilter, BandLimitedNoiseMatchesHowDoVitsWork) {
  const auto images = torch::zeros({2, 3, 16, 16}, torch::kDouble);
  for (const BandNoiseOptions& options : {BandNoiseOptions{0.007, 1.5, 0.4, 5}, BandNoiseOptions{0.05, 0.3, 0.4, 6},
                                          BandNoiseOptions{0.01, 3.0, 0.2, 7}}) {
    const auto noise = band_limited_noise(images, options);
    EXPECT_LT(test::max_abs_difference(noise, naive_band_noise(options, 2, 3, 16)), 1e-12);
    EXPECT_GT(noise.abs().max().item<double>(), 0.0);
  }
  const auto once = band_limited_noise(images, {0.01, 1.0, 0.3, 9});
  EXPECT_TRUE(torch::equal(once, band_limited_noise(images, {0.01, 1.0, 0.3, 9})));
  EXPECT_FALSE(torch::equal(once, band_limited_noise(images, {0.01, 1.0, 0.3, 10})));
  EXPECT_LT(test::max_abs_difference(add_band_limited_noise(images + 2.0, {0.01, 1.0, 0.3, 9}), once + 2.0), 1e-12);
}

}  // namespace
}  // namespace vitscope::analysis
