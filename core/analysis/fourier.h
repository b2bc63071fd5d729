#pragma once
// Fourier analysis of token feature maps (paper-analyses.md §3.6, paper Fig. 9 / Fig. 11):
// the relative log amplitude of high spatial frequencies at each depth. Lower = more low-pass
// (shape-like); CL is more low-pass than MIM. Works on any grid and on decoder captures (same
// tap layout).
#include <torch/torch.h>

#include <vector>

#include "core/analysis/common.h"
#include "core/model/capture.h"

namespace vitscope::analysis {

// §3.6 steps 1-5 without the batch mean: patch tokens (B, L, C) -> (B, grid_h, grid_w), the
// channel mean of ln(|FFT2| + 1e-6) over the token grid (unnormalised transform), rolled by
// (grid_h/2, grid_w/2) so that DC sits at (grid_h/2, grid_w/2). Computed in the tokens' dtype
// (fp32, or fp64 for exact checks, §4).
torch::Tensor log_amplitude_spectrum(const torch::Tensor& patch_tokens, int grid_h, int grid_w);

// §3.6 step 6: the diagonal of a rolled spectrum (..., grid_h, grid_w) from DC outwards, minus
// DC: (..., K) with K = min(grid_h - grid_h/2, grid_w - grid_w/2); entry k is frequency (k, k)
// in units of 2 pi / grid. For g = 14: frequencies (0,0)..(6,6); Nyquist is not on it.
torch::Tensor relative_log_amplitude_diagonal(const torch::Tensor& spectrum);

struct FourierAnalysis {
  std::vector<int> taps;                // captured taps, in order (depth = tap / 2 for even taps)
  torch::Tensor per_image_spectrum;     // (B, taps, grid_h, grid_w)
  torch::Tensor spectrum;               // (taps, grid_h, grid_w): mean over the valid images
  torch::Tensor diagonal;               // (taps, K) relative log amplitude along the diagonal
  torch::Tensor delta_log_amplitude;    // (taps): last diagonal entry, the plotted value (step 7)
  torch::Tensor per_image_diagonal;     // (B, taps, K): the diagonal of every image's spectrum
  torch::Tensor per_image_delta;        // (B, taps): its last entry (the mean over valid images is the above)
  std::vector<int64_t> invalid_images;  // batch indices with NaN/Inf, left out of the means
  Metadata metadata;
};

// Every captured tap of an encoder or decoder capture. The paper plots the even taps (after
// each block's MLP, §5 pitfall 4); all are computed.
FourierAnalysis fourier_analysis(const model::Capture& capture);

}  // namespace vitscope::analysis
