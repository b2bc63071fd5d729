#pragma once
// Initial weights for pre-training from scratch, as in MAE / MoCo v3: xavier-uniform for every
// linear and convolution weight (a conv as a (out, in·k·k) matrix, so the patch embedding gets
// bound sqrt(6 / (3·P·P + D)), §1.3), zero biases, unit / zero norms, N(0, 0.02) tokens and
// learned position tables. Fixed sin-cos tables stay as built. Draws from the ModelInit stream
// of `seed`, on the CPU: call before moving the model to its device.
#include <cstdint>

#include "core/model/model.h"

namespace vitscope::train {

void initialize_weights(model::Model& model, uint64_t seed);

}  // namespace vitscope::train
