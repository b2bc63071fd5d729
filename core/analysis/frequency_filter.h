#pragma once
// Frequency-band manipulation of input images (paper-analyses.md §3.7): low-, high- and
// band-pass filtering, and the band-limited random perturbation of how-do-vits-work used to
// measure robustness to frequency-band noise. Images (B, C, H, W); outputs keep size and dtype.
//
// Frequencies are angular, in radians per pixel: a bin with signed FFT index k on an axis of
// n pixels has omega = 2 pi k / n, so 0 is DC and pi is Nyquist (a fraction f of Nyquist is
// f * pi). The masks are squares in max(|omega_y|, |omega_x|) (§3.7 item 4).
#include <torch/torch.h>

#include <cstdint>

namespace vitscope::analysis {

// Keeps the bins with max(|omega_y|, |omega_x|) <= cutoff.
torch::Tensor low_pass(const torch::Tensor& images, double cutoff);
// Keeps the bins with max(|omega_y|, |omega_x|) > cutoff.
torch::Tensor high_pass(const torch::Tensor& images, double cutoff);
// Keeps the bins with low < max(|omega_y|, |omega_x|) <= high.
torch::Tensor band_pass(const torch::Tensor& images, double low, double high);

// how-do-vits-work's "Random" attack restricted to a frequency band (§3.7 items 1-2).
struct BandNoiseOptions {
  double epsilon = 0.007;   // delta = epsilon * sign(N(0, 1)) per pixel and channel
  double centre = 0.0;      // band centre f, radians in [0, pi]
  double half_width = 0.2;  // band half-width s, radians
  uint64_t seed = 0;        // the noise is drawn on the CPU, so every device gets the same delta
};

// The band-limited perturbation (same shape as `images`, their dtype and device): the spectrum
// of delta rolled so that DC sits at (H/2, W/2) and multiplied by the square annulus
// square(s1) - square(s2), sides s1 = 2 floor((f + s) n / (2 pi)), s2 = 2 floor((f - s) n / (2 pi))
// per axis of n pixels, clipped to [0, n], each square covering rolled indices
// [(n - side) / 2, (n - side) / 2 + side); magnitude masked, phase kept, real part of the inverse.
torch::Tensor band_limited_noise(const torch::Tensor& images, const BandNoiseOptions& options);

// images + band_limited_noise(images, options) (§3.7 item 3).
torch::Tensor add_band_limited_noise(const torch::Tensor& images, const BandNoiseOptions& options);

}  // namespace vitscope::analysis
