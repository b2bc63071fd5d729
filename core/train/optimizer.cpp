#include "core/train/optimizer.h"

#include <cmath>

namespace vitscope::train {

bool exempt_from_weight_decay(const std::string& name, const torch::Tensor& p) {
  if (p.dim() <= 1) return true;
  for (const char* token : {"cls_token", "mask_token", "reg_token", "pos_embed"})
    if (name.find(token) != std::string::npos) return true;
  return false;
}

AdamW::AdamW(std::vector<NamedParameter> parameters, AdamWOptions options)
    : params_(std::move(parameters)), options_(options) {
  for (const auto& p : params_) {
    exp_avg_.push_back(torch::zeros_like(p.tensor));
    exp_avg_sq_.push_back(torch::zeros_like(p.tensor));
    decays_.push_back(!exempt_from_weight_decay(p.name, p.tensor));
  }
}

void AdamW::zero_grad() {
  for (auto& p : params_) p.tensor.mutable_grad() = torch::Tensor();
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const auto& o = options_;
  const double bias_correction1 = 1.0 - std::pow(o.beta1, static_cast<double>(steps_));
  const double bias_correction2 = 1.0 - std::pow(o.beta2, static_cast<double>(steps_));
  // Two groups: with and without weight decay; within a group every tensor gets the same update.
  for (const bool decay_group : {true, false}) {
    std::vector<torch::Tensor> p, g, m, v;
    for (size_t i = 0; i < params_.size(); ++i) {
      const auto& grad = params_[i].tensor.grad();
      if (decays_[i] != decay_group || !grad.defined()) continue;
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
