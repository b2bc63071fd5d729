#pragma once
// What every training objective (the self-supervised ones and supervised classification) gives
// the trainer: the loss of one step on a batch of raw images, and whatever state besides the
// model it keeps (MoCo's momentum encoder).
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "core/model/model.h"

namespace vitscope::train {

struct LossTerms {
  torch::Tensor total;                                       // what backward() is called on
  std::vector<std::pair<std::string, torch::Tensor>> parts;  // named components, for logging
};

struct StepContext {
  torch::Generator& random;  // this step's generator (core/train/random.h)
  double progress = 0.0;     // fraction of the planned training done before this step, in [0, 1)
  torch::Tensor labels;      // (B) int64 class indices of the batch, on its device (supervised objectives)
};

class Objective {
 public:
  virtual ~Objective() = default;
  // images: (B, 3, S, S) uint8 on the model's device; the objective makes its own views.
  virtual LossTerms loss(const torch::Tensor& images, StepContext& context) = 0;
  // Named tensors a checkpoint must hold besides the model's (MoCo's momentum encoder).
  virtual std::vector<std::pair<std::string, torch::Tensor>> state() const { return {}; }
  // Train / eval mode of those extra modules.
  virtual void train(bool on) {}
};

// Augmented [0, 1] views -> model input with the model card's mean / std, kept on the device.
class Normalizer {
 public:
  Normalizer(const model::Preprocess& preprocess, const torch::Device& device);
  torch::Tensor operator()(const torch::Tensor& views) const { return (views - mean_) / std_; }

 private:
  torch::Tensor mean_, std_;  // (1, 3, 1, 1)
};

}  // namespace vitscope::train
