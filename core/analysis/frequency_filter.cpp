#include "core/analysis/frequency_filter.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>

#include "core/analysis/common.h"

namespace vitscope::analysis {

namespace frequency_filter_detail {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

void check_images(const torch::Tensor& images) {
  if (images.dim() != 4 || !images.is_floating_point())
    throw std::invalid_argument("images must be floating-point (B, C, H, W), got " + c10::str(images.sizes()));
}

// max(|omega_y|, |omega_x|) of every bin, in FFT order: (H, W).
torch::Tensor chebyshev_frequency(int64_t h, int64_t w, const torch::TensorOptions& options) {
  const auto wy = (2 * std::numbers::pi * torch::fft::fftfreq(h, options.dtype(torch::kDouble))).abs();
  const auto wx = (2 * std::numbers::pi * torch::fft::fftfreq(w, options.dtype(torch::kDouble))).abs();
  return torch::maximum(wy.unsqueeze(1), wx.unsqueeze(0));
}

// Multiplies every channel's spectrum by `mask` (H, W, in FFT order) and transforms back.
torch::Tensor apply_mask(const torch::Tensor& images, const torch::Tensor& mask) {
  const auto x = to_compute_dtype(images);
  const auto filtered = torch::real(torch::fft::ifft2(torch::fft::fft2(x) * mask.to(x.scalar_type())));
  return filtered.to(images.scalar_type());
}

// Bins with low < max(|omega_y|, |omega_x|) <= high; the slack absorbs round-off when a cut-off
// is given as exactly 2 pi k / n.
torch::Tensor band_mask(const torch::Tensor& images, double low, double high) {
  check_images(images);
  constexpr double slack = 1e-9;
  const auto radius = chebyshev_frequency(images.size(2), images.size(3), images.options());
  return torch::logical_and(radius > low + slack, radius <= high + slack);
}

// 1 on rolled indices [(n - side) / 2, (n - side) / 2 + side) of an axis of n bins.
torch::Tensor centred_interval(int64_t n, double band_edge, const torch::TensorOptions& options) {
  const auto half_side = static_cast<int64_t>(std::floor(band_edge * static_cast<double>(n) / (2 * std::numbers::pi)));
  const auto side = std::clamp<int64_t>(2 * half_side, 0, n);
  const auto index = torch::arange(n, options.dtype(torch::kLong));
  const auto start = (n - side) / 2;
  return torch::logical_and(index >= start, index < start + side);
}

// The square annulus of §3.7 item 2, in FFT order (rolled back so that DC is at index 0).
torch::Tensor annulus_mask(int64_t h, int64_t w, double outer, double inner, const torch::TensorOptions& options) {
  const auto square = [&](double edge) {
    return torch::logical_and(centred_interval(h, edge, options).unsqueeze(1),
                              centred_interval(w, edge, options).unsqueeze(0));
  };
  const auto rolled = torch::logical_and(square(outer), square(inner).logical_not());
  return torch::roll(rolled, {-(h / 2), -(w / 2)}, {0, 1});
}

}  // namespace frequency_filter_detail

torch::Tensor low_pass(const torch::Tensor& images, double cutoff) {
  using namespace frequency_filter_detail;
  return apply_mask(images, band_mask(images, -kInfinity, cutoff));
}

torch::Tensor high_pass(const torch::Tensor& images, double cutoff) {
  using namespace frequency_filter_detail;
  return apply_mask(images, band_mask(images, cutoff, kInfinity));
}

torch::Tensor band_pass(const torch::Tensor& images, double low, double high) {
  using namespace frequency_filter_detail;
  return apply_mask(images, band_mask(images, low, high));
}

torch::Tensor band_limited_noise(const torch::Tensor& images, const BandNoiseOptions& options) {
  using namespace frequency_filter_detail;
  check_images(images);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(options.seed);
  const auto gaussian = torch::randn(images.sizes(), generator, torch::TensorOptions().dtype(torch::kFloat));
  const auto delta = (options.epsilon * gaussian.sign()).to(images.options());
  // Masking the magnitude and keeping the phase is multiplying the complex spectrum by the mask.
  const auto mask = annulus_mask(images.size(2), images.size(3), options.centre + options.half_width,
                                 options.centre - options.half_width, images.options());
  return apply_mask(delta, mask);
}

torch::Tensor add_band_limited_noise(const torch::Tensor& images, const BandNoiseOptions& options) {
  return images + band_limited_noise(images, options);
}

}  // namespace vitscope::analysis
