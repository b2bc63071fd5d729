#include "core/analysis/fourier.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace vitscope::analysis {

namespace {

// |F(u, v)| of every channel for v = 0..w/2, (B, h, w/2 + 1, C), as two real matrix products
// over the channels-last maps (B, h, w, C): along w, X·[cos; -sin] gives the real and imaginary
// parts of the half spectrum; along h, [[cos, sin], [-sin, cos]] applies e^{-2πi u y / h} to them.
// For the small grids of ViTs this is faster on the CPU than pocketfft's rfft2, which spends its
// time on per-transform overhead: ViT-B/16 (14 x 14), 25 taps, 13.6 → 7.9 ms per image on one
// core (docs/PERFORMANCE.md). On CUDA, cuFFT's rfft2 (tests/model/test_cuda_equivalence.cpp).
torch::Tensor half_spectrum_amplitude_by_matmul(const torch::Tensor& maps) {
  const int64_t B = maps.size(0), h = maps.size(1), w = maps.size(2), C = maps.size(3), k = w / 2 + 1;
  const auto f64 = maps.options().dtype(torch::kDouble);
  const auto along_w = torch::outer(torch::arange(k, f64), torch::arange(w, f64)) * (2.0 * M_PI / static_cast<double>(w));
  const auto dft_w = torch::cat({along_w.cos(), -along_w.sin()}).to(maps.scalar_type());  // (2k, w)
  const auto along_h = torch::outer(torch::arange(h, f64), torch::arange(h, f64)) * (2.0 * M_PI / static_cast<double>(h));
  const auto c = along_h.cos(), s = along_h.sin();
  const auto dft_h = torch::cat({torch::cat({c, s}, 1), torch::cat({-s, c}, 1)}).to(maps.scalar_type());  // (2h, 2h)
  const auto by_column = maps.permute({2, 0, 1, 3}).reshape({w, B * h * C});                     // (x, (b, y, c))
  const auto rows = torch::mm(dft_w, by_column).view({2, k, B, h, C});                           // (part, v, b, y, c)
  const auto parts = rows.permute({0, 3, 1, 2, 4}).reshape({2 * h, k * B * C});                  // ((part, y), (v, b, c))
  const auto spectrum = torch::mm(dft_h, parts).view({2, h, k, B, C});                           // (part, u, v, b, c)
  const auto re = spectrum.select(0, 0), im = spectrum.select(0, 1);
  return (re * re).add_(im * im).sqrt_().permute({2, 0, 1, 3});                                   // (b, u, v, c)
}

}  // namespace

torch::Tensor log_amplitude_spectrum(const torch::Tensor& patch_tokens, int grid_h, int grid_w) {
  const auto maps = tokens_to_feature_maps(to_compute_dtype(patch_tokens), grid_h, grid_w);
  // Real input: |F(u, v)| = |F(-u, -v)|, so the half spectrum (columns 0..w/2) holds every
  // amplitude; the channel mean is taken on it and the other columns are mirrored back. Same
  // numbers as §3.6's full fft2, at about half the cost. On the CPU by matrix products (above);
  // elsewhere (cuFFT) by rfft2.
  auto amplitude = maps.is_cpu() ? half_spectrum_amplitude_by_matmul(maps)
                                 : torch::fft::rfft2(maps, c10::nullopt, {1, 2}).abs();
  const auto half = amplitude.add_(1e-6).log_().mean(-1);
  const auto options = half.options().dtype(torch::kLong);
  const auto mirrored_rows = torch::remainder(grid_h - torch::arange(grid_h, options), grid_h);
  const auto mirrored_cols = grid_w - torch::arange(grid_w / 2 + 1, grid_w, options);
  const auto full = torch::cat({half, half.index_select(-2, mirrored_rows).index_select(-1, mirrored_cols)}, -1);
  const int64_t shift_h = grid_h / 2, shift_w = grid_w / 2;
  return torch::roll(full, {shift_h, shift_w}, {-2, -1});
}

torch::Tensor relative_log_amplitude_diagonal(const torch::Tensor& spectrum) {
  const auto h = spectrum.size(-2), w = spectrum.size(-1);
  const auto length = std::min(h - h / 2, w - w / 2);
  const auto diagonal = spectrum.narrow(-2, h / 2, length).narrow(-1, w / 2, length).diagonal(0, -2, -1);
  return diagonal - diagonal.narrow(-1, 0, 1);
}

FourierAnalysis fourier_analysis(const model::Capture& capture) {
  FourierAnalysis result;
  std::vector<torch::Tensor> spectra;
  for (int tap = 0; tap < static_cast<int>(capture.taps.size()); ++tap) {
    if (!capture.taps[tap].defined()) continue;
    result.taps.push_back(tap);
    spectra.push_back(log_amplitude_spectrum(capture.patch_tokens(tap), capture.grid_h, capture.grid_w));
  }
  if (spectra.empty()) throw std::invalid_argument("the capture holds no residual-stream tap");
  result.per_image_spectrum = torch::stack(spectra, 1);
  const auto valid = finite_images(result.per_image_spectrum);
  result.invalid_images = false_indices(valid);
  result.spectrum = result.per_image_spectrum.index({valid}).mean(0);
  result.diagonal = relative_log_amplitude_diagonal(result.spectrum);
  result.delta_log_amplitude = result.diagonal.select(-1, -1);
  result.per_image_diagonal = relative_log_amplitude_diagonal(result.per_image_spectrum);
  result.per_image_delta = result.per_image_diagonal.select(-1, -1);
  result.metadata = {
      {"spec", "paper-analyses.md §3.6"},
      {"feature map", "patch tokens (prefix dropped) on the grid_h x grid_w grid, pre-final-LayerNorm"},
      {"spectrum", "mean over images and channels of ln(|FFT2| + 1e-6), DC rolled to (grid_h/2, grid_w/2)"},
      {"delta log amplitude", "diagonal frequency (K-1, K-1) minus DC, K = min(grid_h - grid_h/2, grid_w - grid_w/2)"}};
  return result;
}

}  // namespace vitscope::analysis
