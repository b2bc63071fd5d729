#pragma once
// A loaded model: the encoder, whichever heads its checkpoint had, and its model card.
#include <torch/torch.h>

#include <optional>
#include <string>
#include <vector>

#include "core/model/heads.h"
#include "core/model/model_card.h"
#include "core/model/vision_transformer.h"

namespace vitscope::model {

struct Model {
  ModelCard card;                       // family, objective, normalisation, provenance, metrics
  VisionTransformer encoder{nullptr};
  MaeDecoder mae_decoder{nullptr};      // MAE
  SimMimHead simmim_head{nullptr};      // SimMIM, hybrid
  MlpHead moco_projector{nullptr};      // MoCo v3, hybrid
  MlpHead moco_predictor{nullptr};

  // Builds the modules the card's architecture asks for, with fresh weights.
  static Model create(const ModelCard& card);

  const ViTConfig& config() const { return encoder->config(); }
  bool can_reconstruct() const { return static_cast<bool>(mae_decoder) || static_cast<bool>(simmim_head); }
  torch::Device device() const;
  void to(const torch::Device& device);
  void eval();
  void train(bool on = true);
  int64_t num_parameters(bool encoder_only = false) const;

  // Every parameter and buffer with its component prefix ("encoder.", "mae_decoder.", …): the
  // names of ViTScope's own safetensors format.
  std::vector<std::pair<std::string, torch::Tensor>> named_tensors() const;
  // All modules, for optimisers and mode switches.
  std::vector<std::shared_ptr<torch::nn::Module>> modules() const;
};

// ViTScope's own format: `<stem>.safetensors` + `<stem>.json` (the model card). fp16 storage
// is optional (bundled models); loading always gives fp32 parameters.
void save_model(const Model& model, const std::string& safetensors_path, bool half_precision = false);

}  // namespace vitscope::model
