#include "core/train/moco_v3.h"

#include <cmath>

#include "core/train/amp.h"

namespace vitscope::train {

namespace F = torch::nn::functional;

double moco_momentum(double progress, double m0) { return 1.0 - 0.5 * (1.0 + std::cos(M_PI * progress)) * (1.0 - m0); }

torch::Tensor moco_contrastive_loss(const torch::Tensor& queries, const torch::Tensor& keys, double tau) {
  FullPrecisionScope fp32;
  auto q = F::normalize(queries.to(torch::kFloat32), F::NormalizeFuncOptions().dim(1));
  auto k = F::normalize(keys.to(torch::kFloat32), F::NormalizeFuncOptions().dim(1));
  auto logits = torch::matmul(q, k.t()) / tau;
  auto labels = torch::arange(logits.size(0), torch::TensorOptions().dtype(torch::kInt64).device(logits.device()));
  return F::cross_entropy(logits, labels) * (2.0 * tau);
}

namespace {
// Backbone readout of several same-sized views in one forward pass, split back per view.
std::vector<torch::Tensor> backbone_features(model::VisionTransformer& encoder, const std::vector<torch::Tensor>& views) {
  auto features = encoder->readout(encoder->forward_features(torch::cat(views, 0)));
  return features.chunk(static_cast<int64_t>(views.size()), 0);
}

std::vector<std::pair<torch::Tensor, torch::Tensor>> paired_parameters(const torch::nn::Module& a,
                                                                  const torch::nn::Module& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  std::vector<std::pair<torch::Tensor, torch::Tensor>> out;
  for (const auto& item : pa) out.emplace_back(item.value(), pb[item.key()]);
  return out;
}
}  // namespace

MomentumEncoderImpl::MomentumEncoderImpl(const model::VisionTransformer& online_encoder,
                                         const model::MlpHead& online_projector) {
  model::SkipParameterInit every_parameter_is_copied_below;
  encoder = register_module("encoder", model::VisionTransformer(online_encoder->config()));
  projector = register_module("projector", model::MlpHead(online_projector->in_dim, online_projector->hidden_dim,
                                                          online_projector->out_dim, online_projector->num_layers));
  to(online_encoder->patch_embed->proj->weight.device());
  torch::NoGradGuard no_grad;
  // Start as an exact copy of the online branch (parameters and BN statistics), then freeze.
  for (auto& [mine, theirs] : paired_parameters(*encoder, *online_encoder)) mine.copy_(theirs);
  for (auto& [mine, theirs] : paired_parameters(*projector, *online_projector)) mine.copy_(theirs);
  auto my_buffers = projector->named_buffers();
  for (const auto& b : online_projector->named_buffers()) my_buffers[b.key()].copy_(b.value());
  for (auto& p : parameters()) p.set_requires_grad(false);
}

std::vector<torch::Tensor> MomentumEncoderImpl::forward(const std::vector<torch::Tensor>& views) {
  std::vector<torch::Tensor> keys;
  for (const auto& f : backbone_features(encoder, views)) keys.push_back(projector->forward(f));
  return keys;
}

void MomentumEncoderImpl::update(const model::VisionTransformer& online_encoder, const model::MlpHead& online_projector,
                                 double m) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> mine, theirs;
  for (auto& [a, b] : paired_parameters(*encoder, *online_encoder)) {
    mine.push_back(a);
    theirs.push_back(b);
  }
  for (auto& [a, b] : paired_parameters(*projector, *online_projector)) {
    mine.push_back(a);
    theirs.push_back(b);
  }
  at::_foreach_mul_(mine, m);
  at::_foreach_add_(mine, theirs, 1.0 - m);
}

std::vector<torch::Tensor> moco_queries(model::Model& model, const std::vector<torch::Tensor>& views) {
  std::vector<torch::Tensor> queries;
  for (const auto& f : backbone_features(model.encoder, views))
    queries.push_back(model.moco_predictor->forward(model.moco_projector->forward(f)));
  return queries;
}

MocoV3Objective::MocoV3Objective(model::Model& model, MocoV3Options options)
    : model_(model),
      options_(options),
      views_{ViewRecipe::moco_v3(0, model.config().image_size), ViewRecipe::moco_v3(1, model.config().image_size)},
      normalize_(model.card.preprocess, model.device()) {
  if (!model.moco_projector || !model.moco_predictor)
    throw std::invalid_argument("MoCo v3 training needs a model with MoCo projector and predictor heads");
  if (options_.freeze_patch_embed)
    for (auto& p : model.encoder->patch_embed->parameters()) p.set_requires_grad(false);
  momentum_ = MomentumEncoder(model.encoder, model.moco_projector);
}

LossTerms MocoV3Objective::loss(const torch::Tensor& images, StepContext& ctx) {
  std::vector<torch::Tensor> views;
  for (const auto& recipe : views_) views.push_back(normalize_(augment(images, recipe, ctx.random)));
  auto q = moco_queries(model_, views);
  std::vector<torch::Tensor> k;
  {
    // The reference updates the momentum branch inside the forward pass, before computing keys.
    torch::NoGradGuard no_grad;
    momentum_->update(model_.encoder, model_.moco_projector, moco_momentum(ctx.progress, options_.base_momentum));
    k = momentum_->forward(views);
  }
  auto l = moco_contrastive_loss(q[0], k[1], options_.temperature) + moco_contrastive_loss(q[1], k[0], options_.temperature);
  return {l, {{"moco", l.detach()}}};
}

std::vector<std::pair<std::string, torch::Tensor>> MocoV3Objective::state() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : momentum_->named_parameters()) out.emplace_back("momentum_encoder." + p.key(), p.value());
  for (const auto& b : momentum_->named_buffers()) out.emplace_back("momentum_encoder." + b.key(), b.value());
  return out;
}

}  // namespace vitscope::train
