#pragma once
// The model card of a model ViTScope pre-trains itself: architecture (the bundled CIFAR-10 ViT by
// default), the heads its objective needs, and the input normalisation.
#include <string>

#include "core/model/model_card.h"

namespace vitscope::train {

// Classification: supervised cross-entropy on the encoder's classifier head (fine-tuning,
// core/train/classification.h); the others are the self-supervised pre-training objectives.
enum class ObjectiveKind { MocoV3, SimMim, Mae, Hybrid, Classification };
const char* objective_kind_name(ObjectiveKind kind);  // "moco", "simmim", "mae", "hybrid", "classify"
ObjectiveKind objective_kind_from_name(const std::string& name);  // throws std::invalid_argument

struct PretrainingArchitecture {
  int image_size = 32, patch_size = 4;
  int embed_dim = 128, depth = 12, num_heads = 4, mlp_hidden_dim = 512;
  // One fixed sin-cos layout for every bundled model: MAE's (first half column, second half row),
  // the same layout as the MAE decoder's table (§1.3, §3.13).
  model::PosEmbedKind pos_embed = model::PosEmbedKind::SinCosColumnFirst;
  int decoder_dim = 128, decoder_depth = 4, decoder_heads = 4;  // MAE decoder, MLP 4x
  bool mae_norm_pixel_target = false;
  int moco_hidden_dim = 1024, moco_out_dim = 256;
};

// CIFAR-10 channel statistics when `cifar10_statistics`, else ImageNet's; plain resize to the
// input size.
model::ModelCard pretraining_card(ObjectiveKind objective, const PretrainingArchitecture& arch, double lambda,
                                  bool cifar10_statistics);

}  // namespace vitscope::train
