#pragma once
// Tensors -> the plain, torch-free types of the runtime facades (explorer.h, finetune_job.h).
#include <torch/torch.h>

#include <vector>

#include "core/runtime/explorer.h"

namespace vitscope::runtime {

FloatGrid explorer_grid(const torch::Tensor& t2d);  // (rows, cols)
// (3, H, W) or, with channels_last, (H, W, 3) in [0, 1] -> 8-bit RGB.
RgbImage explorer_rgb(const torch::Tensor& image, bool channels_last = false);
std::vector<double> explorer_doubles(const torch::Tensor& t);  // row-major

}  // namespace vitscope::runtime
