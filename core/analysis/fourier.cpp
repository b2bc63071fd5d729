#include "core/analysis/fourier.h"

#include <algorithm>
#include <stdexcept>

namespace vitscope::analysis {

torch::Tensor log_amplitude_spectrum(const torch::Tensor& patch_tokens, int grid_h, int grid_w) {
  const auto maps = tokens_to_feature_maps(to_compute_dtype(patch_tokens), grid_h, grid_w);
  // Real input: |F(u, v)| = |F(-u, -v)|, so the half spectrum of rfft2 (columns 0..w/2) holds
  // every amplitude; the channel mean is taken on it and the other columns are mirrored back.
  // Same numbers as §3.6's full fft2, at about half the cost. The transform runs on the
  // channels-last view of the tokens (no transposed copy) and ln(|F| + 1e-6) is taken in place:
  // together about a quarter less time per tap than on (B, D, h, w) maps.
  auto amplitude = torch::fft::rfft2(maps, c10::nullopt, {1, 2}).abs();
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
  result.per_image_delta = relative_log_amplitude_diagonal(result.per_image_spectrum).select(-1, -1);
  result.metadata = {
      {"spec", "paper-analyses.md §3.6"},
      {"feature map", "patch tokens (prefix dropped) on the grid_h x grid_w grid, pre-final-LayerNorm"},
      {"spectrum", "mean over images and channels of ln(|FFT2| + 1e-6), DC rolled to (grid_h/2, grid_w/2)"},
      {"delta log amplitude", "diagonal frequency (K-1, K-1) minus DC, K = min(grid_h - grid_h/2, grid_w - grid_w/2)"}};
  return result;
}

}  // namespace vitscope::analysis
