#pragma once
// Hybrid "CL + MIM" (paper-analyses.md §3.11): L = (1 − λ)·L_SimMIM + λ·L_MoCo on one shared
// backbone, three views per step (one masked view for SimMIM, two augmented views for MoCo v3),
// with SimMIM's head and MoCo's projector, predictor and momentum branch.
#include "core/train/moco_v3.h"
#include "core/train/simmim.h"

namespace vitscope::train {

class HybridObjective : public Objective {
 public:
  // λ = weight of the contrastive loss. The model needs the heads of both objectives.
  HybridObjective(model::Model& model, double lambda, MocoV3Options moco, SimMimOptions simmim);
  LossTerms loss(const torch::Tensor& images, StepContext& context) override;
  std::vector<std::pair<std::string, torch::Tensor>> state() const override { return moco_.state(); }
  void train(bool on) override { moco_.train(on); }

 private:
  double lambda_;
  MocoV3Objective moco_;
  SimMimObjective simmim_;
};

}  // namespace vitscope::train
