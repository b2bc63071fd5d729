#pragma once
// The model card: everything about a model that its weights cannot say.
#include <nlohmann/json.hpp>

#include <array>
#include <optional>
#include <vector>
#include <string>

#include "core/model/vit_config.h"

namespace vitscope::model {

enum class Objective { Contrastive, MaskedImageModeling, Hybrid, Supervised, Unknown };
const char* objective_name(Objective o);  // "CL", "MIM", "hybrid", "supervised", "unknown"
Objective objective_from_name(const std::string& s);

enum class Family {
  ViTScope,      // our own format
  Timm,          // timm-style ViT, DINO / iBOT backbones, MAE encoder-only
  MocoV3,
  Dino,
  Ibot,
  Mae,
  SimMim,
  HfVit,
  HfVitMae,
  HfDinov2,
  Dinov2,
  Beit,
  Torchvision,   // torchvision.models.VisionTransformer (supervised peer)
};
const char* family_name(Family f);
Family family_from_name(const std::string& s);

// How an image becomes the model input (checkpoints.md §3).
struct Preprocess {
  enum class Mode { ResizeShorterCenterCrop, Resize } mode = Mode::ResizeShorterCenterCrop;
  double crop_fraction = 0.875;  // resize shorter side to size/crop_fraction, then centre crop
  std::array<float, 3> mean{0.485f, 0.456f, 0.406f};
  std::array<float, 3> std{0.229f, 0.224f, 0.225f};
};

struct ModelCard {
  std::string name;             // shown in the UI
  Family family = Family::ViTScope;
  Objective objective = Objective::Unknown;
  std::optional<double> lambda;  // hybrid: weight of the CL loss, L = (1-λ) L_MIM + λ L_CL
  ViTConfig vit;
  std::optional<MaeDecoderConfig> mae_decoder;
  bool simmim_head = false;
  struct MocoHeads { int hidden_dim = 4096, out_dim = 256; };
  std::optional<MocoHeads> moco_heads;
  Preprocess preprocess;
  std::vector<std::string> class_names;  // classifier head labels, if any
  nlohmann::json training = nlohmann::json::object();  // data, recipe, epochs, steps, wall time, device
  nlohmann::json metrics = nlohmann::json::object();   // kNN, linear probe, reconstruction loss…
  nlohmann::json lineage = nlohmann::json::object();   // base model for fine-tunes
  std::string source_path;       // file it was loaded from (not saved)
  std::string description;

  std::string objective_label() const;  // "CL", "MIM", "hybrid λ=0.2"
};

nlohmann::json to_json(const ModelCard& card);
ModelCard model_card_from_json(const nlohmann::json& j);

}  // namespace vitscope::model
