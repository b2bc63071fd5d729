#include "core/runtime/noise_robustness.h"

#include <algorithm>
#include <numbers>
#include <stdexcept>

#include "core/analysis/frequency_filter.h"
#include "core/io/image.h"
#include "core/train/evaluation.h"

namespace vitscope::runtime {

std::vector<int64_t> head_outputs_for(const model::Model& m, const std::vector<std::string>& data_classes,
                                      std::string* how) {
  const auto& c = m.config();
  if (c.num_classes <= 0)
    throw std::invalid_argument(m.card.name + " has no classifier head: noise robustness measures a classifier's "
                                "accuracy (use a fine-tuned checkpoint, or give the model a linear head first)");
  std::vector<int64_t> outputs;
  const auto& names = m.card.class_names;
  if (!names.empty()) {
    for (const auto& cls : data_classes) {
      const auto it = std::find(names.begin(), names.end(), cls);
      if (it == names.end())
        throw std::invalid_argument("the data's class '" + cls + "' is not among the " + std::to_string(names.size()) +
                                    " classes of " + m.card.name + "'s classifier head");
      outputs.push_back(it - names.begin());
    }
    if (how) *how = "by class name (the model card names the head's classes)";
    return outputs;
  }
  if (static_cast<size_t>(c.num_classes) != data_classes.size())
    throw std::invalid_argument(m.card.name + "'s classifier head has " + std::to_string(c.num_classes) +
                                " outputs and names no classes; the data has " + std::to_string(data_classes.size()) +
                                " classes, so they cannot be matched");
  for (size_t i = 0; i < data_classes.size(); ++i) outputs.push_back(static_cast<int64_t>(i));
  if (how) *how = "by position: output i is the data's i-th class in sorted folder order (the card names no classes)";
  return outputs;
}

NoiseRobustness noise_robustness(model::Model& m, const io::ImageDataset& data, const NoiseRobustnessOptions& o,
                                 const CancelToken* cancel) {
  NoiseRobustness r;
  const auto outputs = head_outputs_for(m, data.class_names, &r.label_mapping);
  if (data.size() == 0) throw std::invalid_argument("noise robustness needs labelled images");
  r.band_centres = o.band_centres;
  if (r.band_centres.empty())
    for (int i = 0; i <= 10; ++i) r.band_centres.push_back(std::numbers::pi * i / 10.0);
  for (double f : r.band_centres)
    if (f < 0 || f > std::numbers::pi) throw std::invalid_argument("noise band centres must lie in [0, π] radians");

  torch::NoGradGuard no_grad;
  const auto device = m.device();
  const auto head_output = torch::tensor(outputs, torch::kLong).to(device);
  int64_t clean_correct = 0;
  std::vector<int64_t> noisy_correct(r.band_centres.size(), 0);
  auto correct = [&](const torch::Tensor& x, const torch::Tensor& targets) {
    return m.encoder->forward(x).argmax(1).eq(targets).sum().item<int64_t>();
  };
  for (int64_t i = 0; i < data.size(); i += o.batch_size) {
    if (cancel && cancel->is_cancelled()) throw Cancelled();
    const auto n = std::min<int64_t>(o.batch_size, data.size() - i);
    auto x = train::model_input(m, data, i, n);
    if (o.input_transform) x = o.input_transform(x);
    const auto targets = head_output.index_select(0, data.labels.narrow(0, i, n).to(device));
    clean_correct += correct(x, targets);
    for (size_t k = 0; k < r.band_centres.size(); ++k) {
      analysis::BandNoiseOptions noise;
      noise.epsilon = o.epsilon;
      noise.centre = r.band_centres[k];
      noise.half_width = o.half_width;
      noise.seed = o.seed + static_cast<uint64_t>(i);  // the same δ for every band: only the band differs
      noisy_correct[k] += correct(analysis::add_band_limited_noise(x, noise), targets);
    }
  }
  r.images = data.size();
  r.clean_top1 = static_cast<double>(clean_correct) / static_cast<double>(r.images);
  for (auto n : noisy_correct) {
    r.noisy_top1.push_back(static_cast<double>(n) / static_cast<double>(r.images));
    r.accuracy_drop.push_back(r.clean_top1 - r.noisy_top1.back());
  }
  r.protocol = "how-do-vits-work's random attack restricted to a band (paper-analyses.md §3.7): δ = ε·sign(N(0, 1)) "
               "per pixel and channel of the normalised input, ε = " + std::to_string(o.epsilon) +
               "; spectrum masked to the square annulus of centre f and half-width s = " + std::to_string(o.half_width) +
               " rad (phase kept); x + δ classified by the model's head. f in radians per input pixel (π = Nyquist). "
               "Which ε and s the paper used, if it measures this at all, is unverified";
  return r;
}

}  // namespace vitscope::runtime
