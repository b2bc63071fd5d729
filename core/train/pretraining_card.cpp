#include "core/train/pretraining_card.h"

#include <stdexcept>

namespace vitscope::train {

namespace {
struct KindName {
  ObjectiveKind kind;
  const char* name;
};
constexpr KindName kKinds[] = {{ObjectiveKind::MocoV3, "moco"},
                               {ObjectiveKind::SimMim, "simmim"},
                               {ObjectiveKind::Mae, "mae"},
                               {ObjectiveKind::Hybrid, "hybrid"},
                               {ObjectiveKind::Classification, "classify"}};
}  // namespace

const char* objective_kind_name(ObjectiveKind kind) {
  for (const auto& k : kKinds)
    if (k.kind == kind) return k.name;
  return "unknown";
}

ObjectiveKind objective_kind_from_name(const std::string& name) {
  for (const auto& k : kKinds)
    if (name == k.name) return k.kind;
  throw std::invalid_argument("unknown objective '" + name + "' (expected moco, simmim, mae, hybrid or classify)");
}

model::ModelCard pretraining_card(ObjectiveKind objective, const PretrainingArchitecture& a, double lambda,
                                  bool cifar10_statistics) {
  model::ModelCard card;
  card.family = model::Family::ViTScope;
  auto& v = card.vit;
  v.image_size = a.image_size;
  v.patch_size = a.patch_size;
  v.embed_dim = a.embed_dim;
  v.depth = a.depth;
  v.num_heads = a.num_heads;
  v.mlp_hidden_dim = a.mlp_hidden_dim;
  v.layer_norm_eps = 1e-6;
  v.class_token = true;
  v.pos_embed = a.pos_embed;
  v.qkv_bias = model::QkvBiasKind::Fused;
  v.readout = model::Readout::ClsToken;
  v.mask_token = objective == ObjectiveKind::SimMim || objective == ObjectiveKind::Hybrid;
  v.validate();
  switch (objective) {
    case ObjectiveKind::MocoV3: card.objective = model::Objective::Contrastive; break;
    case ObjectiveKind::SimMim:
    case ObjectiveKind::Mae: card.objective = model::Objective::MaskedImageModeling; break;
    case ObjectiveKind::Hybrid:
      card.objective = model::Objective::Hybrid;
      card.lambda = lambda;
      break;
    case ObjectiveKind::Classification: card.objective = model::Objective::Supervised; break;
  }
  if (objective == ObjectiveKind::Mae) {
    model::MaeDecoderConfig d;
    d.embed_dim = a.decoder_dim;
    d.depth = a.decoder_depth;
    d.num_heads = a.decoder_heads;
    d.mlp_hidden_dim = 4 * a.decoder_dim;
    d.norm_pixel_target = a.mae_norm_pixel_target;
    card.mae_decoder = d;
  }
  card.simmim_head = objective == ObjectiveKind::SimMim || objective == ObjectiveKind::Hybrid;
  if (objective == ObjectiveKind::MocoV3 || objective == ObjectiveKind::Hybrid)
    card.moco_heads = model::ModelCard::MocoHeads{a.moco_hidden_dim, a.moco_out_dim};
  card.preprocess.mode = model::Preprocess::Mode::Resize;
  card.preprocess.crop_fraction = 1.0;
  if (cifar10_statistics) {
    card.preprocess.mean = {0.4914f, 0.4822f, 0.4465f};
    card.preprocess.std = {0.2470f, 0.2435f, 0.2616f};
  }
  card.name = std::string(objective_kind_name(objective)) + "-vit-" + std::to_string(a.embed_dim) + "d" +
              std::to_string(a.depth) + "-p" + std::to_string(a.patch_size);
  return card;
}

}  // namespace vitscope::train
