#include "core/train/weight_init.h"

#include <cmath>
#include <stdexcept>

#include "core/train/random.h"

namespace vitscope::train {

namespace {
void xavier_uniform(torch::Tensor& w, torch::Generator& gen) {
  const auto fan_out = w.size(0), fan_in = w.numel() / w.size(0);
  const double bound = std::sqrt(6.0 / static_cast<double>(fan_in + fan_out));
  w.uniform_(-bound, bound, gen);
}
}  // namespace

void initialize_weights(model::Model& model, uint64_t seed) {
  if (!model.device().is_cpu()) throw std::logic_error("initialize_weights: initialise on the CPU, then move");
  torch::NoGradGuard no_grad;
  auto gen = make_generator(seed, RandomStream::ModelInit, 0);
  for (const auto& component : model.modules()) {
    for (const auto& m : component->modules(/*include_self=*/true)) {
      if (auto* linear = m->as<model::Linear>()) {
        xavier_uniform(linear->weight, gen);
        if (linear->bias.defined()) linear->bias.zero_();
      } else if (auto* conv = m->as<torch::nn::Conv2d>()) {
        xavier_uniform(conv->weight, gen);
        if (conv->bias.defined()) conv->bias.zero_();
      } else if (auto* ln = m->as<torch::nn::LayerNorm>()) {
        ln->weight.fill_(1.0);
        ln->bias.zero_();
      }
    }
  }
  auto& enc = model.encoder;
  for (auto* token : {&enc->cls_token, &enc->reg_token, &enc->mask_token})
    if (token->defined()) token->normal_(0.0, 0.02, gen);
  if (enc->pos_embed.defined() && enc->config().pos_embed == model::PosEmbedKind::Learned)
    enc->pos_embed.normal_(0.0, 0.02, gen);
  if (model.mae_decoder) model.mae_decoder->mask_token.normal_(0.0, 0.02, gen);
}

}  // namespace vitscope::train
