#pragma once
// Images in: decode with OpenCV (EXIF orientation, grayscale, alpha, 16-bit), then the model's
// preprocessing (resize + centre crop or plain resize, normalisation). checkpoints.md §3.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/model/model_card.h"

namespace vitscope::io {

// Decoded image: (3, H, W) float32 RGB in [0, 1], orientation applied, alpha composited over
// white. Throws FormatError naming the file when it is not a readable image.
torch::Tensor load_image(const std::string& path);
torch::Tensor decode_image(const std::vector<unsigned char>& bytes, const std::string& name_for_errors);

// (3, H, W) in [0,1] -> (3, size, size) in [0,1] per the preprocessing mode (bilinear resize of
// the shorter side to size / crop_fraction, centre crop; or a plain resize to size x size).
torch::Tensor resize_for_model(const torch::Tensor& image, int size, const model::Preprocess& p);
// (…, 3, H, W) in [0,1] -> normalised with the model's mean / std; and back.
torch::Tensor normalize(const torch::Tensor& image, const model::Preprocess& p);
torch::Tensor denormalize(const torch::Tensor& image, const model::Preprocess& p);
// Convenience: file -> (1, 3, size, size) normalised model input.
torch::Tensor load_model_input(const std::string& path, int size, const model::Preprocess& p);

// (3, H, W) [0,1] float -> 8-bit RGB PNG/JPEG file (type from the extension).
void save_image(const torch::Tensor& image, const std::string& path);

// File extensions load_image understands (lower case, with dot).
const std::vector<std::string>& image_extensions();
bool has_image_extension(const std::string& path);

}  // namespace vitscope::io
