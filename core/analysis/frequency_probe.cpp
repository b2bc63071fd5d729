#include "core/analysis/frequency_probe.h"

#include <numbers>
#include <stdexcept>

#include "core/analysis/frequency_filter.h"

namespace vitscope::analysis {

const char* frequency_band_name(FrequencyBand band) { return band == FrequencyBand::LowPass ? "low-pass" : "high-pass"; }

torch::Tensor frequency_filtered(const torch::Tensor& images, FrequencyBand band, double cutoff_fraction) {
  const double cutoff = cutoff_fraction * std::numbers::pi;
  const auto filtered = band == FrequencyBand::LowPass
                            ? low_pass(images, cutoff)
                            : high_pass(images, cutoff) + images.mean(std::vector<int64_t>{2, 3}, /*keepdim=*/true);
  return filtered.clamp(0.0, 1.0);
}

const std::vector<double>& default_cutoff_fractions() {
  static const std::vector<double> cutoffs{0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9};
  return cutoffs;
}

FrequencyProbeResult frequency_probe(const LayerFeatures& features, const torch::Tensor& images,
                                     const std::vector<double>& cutoffs) {
  if (images.dim() != 4 || images.size(0) == 0) throw std::invalid_argument("frequency_probe needs (B, 3, H, W) images");
  if (cutoffs.empty()) throw std::invalid_argument("frequency_probe needs at least one cut-off");
  const auto reference_rows = reference_features(features, images.size(2), images.size(3), images.options());
  const auto originals = features(images);
  auto curve = [&](FrequencyBand band) {
    std::vector<torch::Tensor> rows;  // per cut-off: (L)
    for (double c : cutoffs) {
      const auto s = view_similarity(originals, features(frequency_filtered(images, band, c)), reference_rows, 1);
      rows.push_back(s.mean(std::vector<int64_t>{0, 1}));
    }
    return torch::stack(rows);
  };
  FrequencyProbeResult r;
  r.cutoffs = cutoffs;
  r.low_pass = curve(FrequencyBand::LowPass);
  r.high_pass = curve(FrequencyBand::HighPass);
  r.metadata = {
      {"spec", "paper-analyses.md §3.7 item 4 (low-pass / high-pass inputs); docs/PROBES.md"},
      {"filter", "square masks in max(|omega_y|, |omega_x|) (core/analysis/frequency_filter.h) at the model's input "
                 "size; cut-off K = fraction x pi; low-pass keeps <= K, high-pass keeps > K plus the mean colour; "
                 "clamped to [0, 1]"},
      {"similarity", "cos(z_l(filtered) - z_l(g), z_l(x) - z_l(g)), g = mid-grey image; mean over images"},
      {"images", std::to_string(images.size(0))},
  };
  return r;
}

}  // namespace vitscope::analysis
