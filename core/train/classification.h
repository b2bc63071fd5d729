#pragma once
// Supervised fine-tuning objective: cross-entropy of the encoder's linear classifier (`head`) on
// augmented views of labelled images. A linear probe freezes everything but the head; a full
// fine-tune trains the encoder too. The trainer hands each batch's labels in StepContext.
#include <torch/torch.h>

#include "core/model/model.h"
#include "core/train/augment.h"
#include "core/train/objective.h"

namespace vitscope::train {

struct ClassificationOptions {
  bool freeze_encoder = false;   // linear probe: only head.weight / head.bias learn
  double label_smoothing = 0.0;  // 0 = plain cross-entropy
  // RandomResizedCrop scale range and flip of the training views (a milder crop than
  // pre-training's: small images lose their object below about half the area).
  double crop_scale_min = 0.5;
  double flip_p = 0.5;
};

class ClassificationObjective : public Objective {
 public:
  // The model needs an encoder with a classifier head (config().num_classes > 0), on the
  // training device. With freeze_encoder, every other parameter stops requiring gradients.
  ClassificationObjective(model::Model& model, ClassificationOptions options);
  LossTerms loss(const torch::Tensor& images, StepContext& context) override;

 private:
  model::Model& model_;
  ClassificationOptions options_;
  ViewRecipe view_;
  Normalizer normalize_;
};

// Label-smoothed cross-entropy of logits (B, C) against class indices (B), in fp32.
torch::Tensor classification_loss(const torch::Tensor& logits, const torch::Tensor& labels, double label_smoothing);

}  // namespace vitscope::train
