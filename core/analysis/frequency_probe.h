#pragma once
// Frequency probes (paper-analyses.md §3.7 item 4; docs/PROBES.md): how close a model's
// representation of a low-pass or high-pass filtered image stays to that of the image, as the
// cut-off moves. The paper ties CL to low frequencies (shape) and MIM to high frequencies
// (texture): a shape-reliant model should keep low-passed inputs close and high-passed ones far.
// With a classifier, runtime/probes.h measures decisions on the same filtered inputs.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/analysis/common.h"
#include "core/analysis/label_free_probe.h"

namespace vitscope::analysis {

enum class FrequencyBand { LowPass, HighPass };
const char* frequency_band_name(FrequencyBand band);  // "low-pass", "high-pass"

// images (B, 3, H, W) in [0, 1] filtered at cut-off K = cutoff_fraction · π (a fraction of the
// Nyquist frequency; frequency_filter.h's square masks): low_pass(x, K), or high_pass(x, K) plus
// each image's per-channel mean (the mean colour stays, else the input would be a zero-mean signal
// outside the image range). Clamped to [0, 1]. Filter at the model's input size: the cut-off is a
// fraction of the frequencies that model sees.
torch::Tensor frequency_filtered(const torch::Tensor& images, FrequencyBand band, double cutoff_fraction);

// Cut-offs as fractions of Nyquist, from almost nothing kept (low-pass) to almost everything.
const std::vector<double>& default_cutoff_fractions();

struct FrequencyProbeResult {
  std::vector<double> cutoffs;  // fractions of Nyquist
  // (cutoffs, L): mean over the images of s_l(x, filtered x), the centred cosine of
  // label_free_probe.h (measured from the grey image's representation).
  torch::Tensor low_pass, high_pass;
  Metadata metadata;
};
FrequencyProbeResult frequency_probe(const LayerFeatures& features, const torch::Tensor& images,
                                     const std::vector<double>& cutoffs = default_cutoff_fractions());

}  // namespace vitscope::analysis
