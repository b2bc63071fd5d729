#pragma once
// Live diagnostics of a model in training: one no-grad forward of a fixed probe batch with its
// attentions and residual stream captured, then the paper's measurements (core/analysis):
// mean attention distance and NMI per block, ΔLog amplitude per depth, and the CLS attention
// map of the last block for the first image. Repeated every N steps on the same batch, these
// curves show the representation move (e.g. MoCo-like global attention turning local).
#include <torch/torch.h>

#include "core/model/model.h"
#include "core/runtime/finetune_job.h"

namespace vitscope::runtime {

// probe_input: (B, 3, S, S) normalised model input on the model's device; probe_pixels: the
// first image in [0, 1], (3, S, S), for the overlay. Leaves the encoder's train/eval mode as it
// found it and never changes the weights.
TrainingDiagnostics training_diagnostics(model::Model& model, const torch::Tensor& probe_input,
                                         const torch::Tensor& probe_pixels, int64_t step);

}  // namespace vitscope::runtime
