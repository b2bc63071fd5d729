#include "core/train/optimizer.h"

#include <algorithm>
#include <cmath>

namespace vitscope::train {

bool exempt_from_weight_decay(const std::string& name, const torch::Tensor& p) {
  if (p.dim() <= 1) return true;
  for (const char* token : {"cls_token", "mask_token", "reg_token", "pos_embed"})
    if (name.find(token) != std::string::npos) return true;
  return false;
}

double layer_decay_lr_scale(const std::string& name, int depth, double decay) {
  if (decay == 1.0) return 1.0;
  int layer = depth + 1;
  for (const char* prefix : {"encoder.patch_embed.", "encoder.cls_token", "encoder.pos_embed", "encoder.reg_token",
                             "encoder.mask_token"})
    if (name.rfind(prefix, 0) == 0) layer = 0;
  const std::string blocks = "encoder.blocks.";
  if (name.rfind(blocks, 0) == 0) layer = std::stoi(name.substr(blocks.size())) + 1;
  return std::pow(decay, depth + 1 - layer);
}

AdamW::AdamW(std::vector<NamedParameter> parameters, AdamWOptions options)
    : params_(std::move(parameters)), options_(options) {
  for (const auto& p : params_) {
    exp_avg_.push_back(torch::zeros_like(p.tensor));
    exp_avg_sq_.push_back(torch::zeros_like(p.tensor));
    decays_.push_back(!exempt_from_weight_decay(p.name, p.tensor));
  }
  // One group per (weight decay or not, learning-rate scale); within a group every tensor gets
  // the same update. Without layer decay that is two groups.
  for (const bool decay_group : {true, false})
    for (size_t i = 0; i < params_.size(); ++i) {
      const Group key{decay_group, params_[i].lr_scale};
      if (decays_[i] == decay_group && std::find(groups_.begin(), groups_.end(), key) == groups_.end())
        groups_.push_back(key);
    }
}

void AdamW::zero_grad() {
  for (auto& p : params_) p.tensor.mutable_grad() = torch::Tensor();
}

void AdamW::step(double base_lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const auto& o = options_;
  const double bias_correction1 = 1.0 - std::pow(o.beta1, static_cast<double>(steps_));
  const double bias_correction2 = 1.0 - std::pow(o.beta2, static_cast<double>(steps_));
  for (const auto& [decay_group, lr_scale] : groups_) {
    const double lr = base_lr * lr_scale;
    std::vector<torch::Tensor> p, g, m, v;
    for (size_t i = 0; i < params_.size(); ++i) {
      const auto& grad = params_[i].tensor.grad();
      if (decays_[i] != decay_group || params_[i].lr_scale != lr_scale || !grad.defined()) continue;
      p.push_back(params_[i].tensor);
      g.push_back(grad);
      m.push_back(exp_avg_[i]);
      v.push_back(exp_avg_sq_[i]);
    }
    if (p.empty()) continue;
    if (decay_group && o.weight_decay != 0.0) at::_foreach_mul_(p, 1.0 - lr * o.weight_decay);
    at::_foreach_mul_(m, o.beta1);
    at::_foreach_add_(m, g, 1.0 - o.beta1);
    at::_foreach_mul_(v, o.beta2);
    at::_foreach_addcmul_(v, g, g, 1.0 - o.beta2);
    auto denom = at::_foreach_sqrt(v);
    at::_foreach_div_(denom, std::sqrt(bias_correction2));
    at::_foreach_add_(denom, o.eps);
    at::_foreach_addcdiv_(p, m, denom, -lr / bias_correction1);
  }
}

std::vector<std::pair<std::string, torch::Tensor>> AdamW::state() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out.emplace_back("exp_avg." + params_[i].name, exp_avg_[i]);
    out.emplace_back("exp_avg_sq." + params_[i].name, exp_avg_sq_[i]);
  }
  return out;
}

torch::Tensor clip_grad_norm(const std::vector<NamedParameter>& parameters, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> grads;
  for (const auto& p : parameters)
    if (p.tensor.grad().defined()) grads.push_back(p.tensor.grad());
  if (grads.empty()) return torch::zeros({});
  auto total = torch::stack(at::_foreach_norm(grads)).norm();
  // Same rule as torch.nn.utils.clip_grad_norm_: scale by min(1, max_norm / (norm + 1e-6)).
  auto scale = (max_norm / (total + 1e-6)).clamp_max(1.0);
  for (auto& g : grads) g.mul_(scale);
  return total;
}

}  // namespace vitscope::train
