#include "core/train/classification.h"

#include <stdexcept>

#include "core/train/amp.h"

namespace vitscope::train {

namespace F = torch::nn::functional;

torch::Tensor classification_loss(const torch::Tensor& logits, const torch::Tensor& labels, double label_smoothing) {
  FullPrecisionScope fp32;
  return F::cross_entropy(logits.to(torch::kFloat32), labels,
                          F::CrossEntropyFuncOptions().label_smoothing(label_smoothing));
}

ClassificationObjective::ClassificationObjective(model::Model& model, ClassificationOptions options)
    : model_(model), options_(options), normalize_(model.card.preprocess, model.device()) {
  if (model.config().num_classes <= 0 || !model.encoder->head)
    throw std::invalid_argument("classification training needs a model with a classifier head");
  view_.crop_scale_min = options_.crop_scale_min;
  view_.flip_p = options_.flip_p;
  if (options_.freeze_encoder) {
    for (const auto& [name, t] : model_.named_tensors())
      if (name.rfind("encoder.head.", 0) != 0) t.set_requires_grad(false);
  }
}

LossTerms ClassificationObjective::loss(const torch::Tensor& images, StepContext& ctx) {
  if (!ctx.labels.defined()) throw std::logic_error("classification training needs the batch's labels");
  auto logits = model_.encoder->forward(normalize_(augment(images, view_, ctx.random)));
  auto l = classification_loss(logits, ctx.labels, options_.label_smoothing);
  return {l, {{"cross_entropy", l.detach()}}};
}

}  // namespace vitscope::train
