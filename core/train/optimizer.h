#pragma once
// AdamW (decoupled weight decay, Loshchilov & Hutter) over named parameters, on the _foreach
// kernels so that one update is a handful of kernel launches per parameter group rather than
// several per tensor. Same arithmetic, in the same order, as torch::optim::AdamW; its state is
// plain named tensors, so checkpoints can store it and resume bit-exactly.
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace vitscope::train {

struct NamedParameter {
  std::string name;
  torch::Tensor tensor;
  double lr_scale = 1.0;  // this tensor's learning rate is lr_scale × the schedule's
};

// Layer-wise learning-rate decay (BEiT, MAE fine-tuning): the patch embedding and the tokens are
// layer 0, encoder block i is layer i + 1, everything else (final norm, classifier, decoders,
// heads) is layer depth + 1; a tensor of layer l learns at decay^(depth + 1 − l) of the rate, so
// the early blocks, which hold the most general features, move least. decay 1 = one rate for all.
double layer_decay_lr_scale(const std::string& name, int depth, double decay);

// timm / MAE rule: no weight decay on 1-D tensors (norm weights, biases, layer-scale gammas) and
// on tokens and position tables (cls_token, mask_token, reg_token, pos_embed).
bool exempt_from_weight_decay(const std::string& name, const torch::Tensor& parameter);

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.05;
};

class AdamW {
 public:
  AdamW(std::vector<NamedParameter> parameters, AdamWOptions options);

  void zero_grad();      // drops the gradients (set to undefined, like set_to_none=True)
  void step(double lr);  // updates every parameter that has a gradient, each at lr × its lr_scale
  int64_t steps() const { return steps_; }

  // Checkpoint state: "exp_avg.<name>", "exp_avg_sq.<name>" and the step count.
  std::vector<std::pair<std::string, torch::Tensor>> state() const;
  void set_steps(int64_t steps) { steps_ = steps; }
  const std::vector<NamedParameter>& parameters() const { return params_; }

 private:
  std::vector<NamedParameter> params_;
  std::vector<torch::Tensor> exp_avg_, exp_avg_sq_;
  std::vector<bool> decays_;
  using Group = std::pair<bool, double>;  // (weight decay, lr scale)
  std::vector<Group> groups_;
  AdamWOptions options_;
  int64_t steps_ = 0;
};

// Scales the gradients so that their global L2 norm is at most max_norm (no host sync).
// Returns the norm before clipping.
torch::Tensor clip_grad_norm(const std::vector<NamedParameter>& parameters, double max_norm);

}  // namespace vitscope::train
