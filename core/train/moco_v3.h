#pragma once
// MoCo v3 (paper-analyses.md §3.14): two augmented views through the backbone + projector +
// predictor (queries) and through a momentum copy of backbone + projector (keys); symmetrised
// InfoNCE with the other images of the batch as negatives.
#include <torch/torch.h>

#include "core/model/model.h"
#include "core/train/augment.h"
#include "core/train/objective.h"

namespace vitscope::train {

struct MocoV3Options {
  double temperature = 0.2;     // τ
  double base_momentum = 0.99;  // m0 of the momentum schedule
  // "Stop-grad conv1": the patch embedding keeps its random init (xavier-uniform, bias 0) and is
  // never trained, which stabilises ViT contrastive training (§1.3).
  bool freeze_patch_embed = true;
};

// m(p) = 1 − ½(1 + cos(π p))(1 − m0), p = fraction of training done (epoch / total, per step).
double moco_momentum(double progress, double base_momentum);

// ℓ(q, k) = CE(q̂ k̂ᵀ / τ, labels = diagonal) · 2τ with q̂, k̂ L2-normalised rows. Computed in fp32.
torch::Tensor moco_contrastive_loss(const torch::Tensor& queries, const torch::Tensor& keys, double temperature);

// The key branch: a copy of backbone + projector whose weights follow the online ones by EMA.
// Its BatchNorm layers run in train mode (batch statistics), as in the reference code.
struct MomentumEncoderImpl : torch::nn::Module {
  MomentumEncoderImpl(const model::VisionTransformer& encoder, const model::MlpHead& projector);
  // images -> projected keys, one projector pass per view so BatchNorm sees each view alone.
  std::vector<torch::Tensor> forward(const std::vector<torch::Tensor>& views);
  // θ_k ← m θ_k + (1 − m) θ_q for every parameter (buffers are the branch's own).
  void update(const model::VisionTransformer& encoder, const model::MlpHead& projector, double momentum);

  model::VisionTransformer encoder{nullptr};
  model::MlpHead projector{nullptr};
};
TORCH_MODULE(MomentumEncoder);

class MocoV3Objective : public Objective {
 public:
  // The model needs encoder, moco_projector and moco_predictor, on the training device.
  MocoV3Objective(model::Model& model, MocoV3Options options);
  LossTerms loss(const torch::Tensor& images, StepContext& context) override;
  std::vector<std::pair<std::string, torch::Tensor>> state() const override;  // "momentum_encoder.*"
  void train(bool on) override { momentum_->train(on); }

 private:
  model::Model& model_;
  MocoV3Options options_;
  MomentumEncoder momentum_{nullptr};
  ViewRecipe views_[2];
  Normalizer normalize_;
};

// Runs the online branch: backbone on all views at once (it has no batch-dependent layer),
// then projector and predictor per view. Returns one query batch per view.
std::vector<torch::Tensor> moco_queries(model::Model& model, const std::vector<torch::Tensor>& views);

}  // namespace vitscope::train
