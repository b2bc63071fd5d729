#pragma once
// Robustness to frequency-band noise (paper-analyses.md §3.7, the procedure of how-do-vits-work):
// top-1 accuracy of a classifier on clean images and on images with band-limited random noise
// added, as the band centre f moves from low (0) to high (π) frequencies. The paper ties CL to
// low frequencies (shape) and MIM to high frequencies (texture): a model that relies on high
// frequencies loses more accuracy under high-frequency noise. Needs a classifier head.
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/io/dataset.h"
#include "core/model/model.h"
#include "core/runtime/dataset_analysis.h"

namespace vitscope::runtime {

struct NoiseRobustnessOptions {
  std::vector<double> band_centres;  // f in radians per input pixel, in [0, π]; empty: 0, π/10, …, π
  double half_width = 0.2;           // s of §3.7 item 2, radians (how-do-vits-work's default)
  double epsilon = 0.007;            // δ = ε sign(N(0, 1)) in normalised input units (§3.7 item 1)
  uint64_t seed = 0;                 // the noise of a batch uses seed + the index of its first image
  int batch_size = 64;
  InputTransform input_transform;    // applied to the clean input, before the noise
};

struct NoiseRobustness {
  std::vector<double> band_centres;
  double clean_top1 = 0;              // in [0, 1]
  std::vector<double> noisy_top1;     // per band centre
  std::vector<double> accuracy_drop;  // clean_top1 - noisy_top1
  int64_t images = 0;
  std::string label_mapping;          // how the data's classes were matched to the head's outputs
  std::string protocol;
};

// The output of the model's classifier that stands for each of `data_classes`: by class name when
// the model card names the head's classes, else by position when the head has as many outputs as
// there are data classes. Throws std::invalid_argument, naming the model, when it has no
// classifier head or the classes cannot be matched. `how` receives the rule used.
std::vector<int64_t> head_outputs_for(const model::Model& model, const std::vector<std::string>& data_classes,
                                      std::string* how = nullptr);

// Accuracy drop of `model` under band-limited noise on the labelled `data` (§3.7 items 1-3).
NoiseRobustness noise_robustness(model::Model& model, const io::ImageDataset& data,
                                 const NoiseRobustnessOptions& options = {}, const CancelToken* cancel = nullptr);

}  // namespace vitscope::runtime
