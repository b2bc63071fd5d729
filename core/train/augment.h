#pragma once
// Batched image augmentations that run on the images' device: one kernel sequence per batch,
// no per-image loop over pixels. Only the per-image random parameters (crop boxes, flips,
// jitter factors, …) are drawn on the CPU, from the step's generator (core/train/random.h), and
// copied to the device; so a given (seed, step) produces the same views on every device.
//
// The recipes follow the reference implementations (paper-analyses.md §3.13, §3.14) with the
// torchvision semantics of each transform, adapted to small images where stated.
#include <torch/torch.h>

namespace vitscope::train {

struct ViewRecipe {
  // RandomResizedCrop: area fraction and aspect ratio ranges (torchvision sampling, 10 tries,
  // centre-crop fallback), then bilinear resampling to the output size.
  double crop_scale_min = 0.2, crop_scale_max = 1.0;
  double crop_ratio_min = 3.0 / 4.0, crop_ratio_max = 4.0 / 3.0;
  double flip_p = 0.5;
  // ColorJitter (brightness, contrast, saturation, hue) applied with probability jitter_p, in
  // that fixed order (torchvision draws a random order per image; a fixed one keeps the batch
  // a single code path).
  double jitter_p = 0.0;
  double brightness = 0.0, contrast = 0.0, saturation = 0.0, hue = 0.0;
  double grayscale_p = 0.0;
  // Gaussian blur with a per-image sigma drawn uniformly from [blur_sigma_min, blur_sigma_max].
  double blur_p = 0.0, blur_sigma_min = 0.1, blur_sigma_max = 2.0;
  double solarize_p = 0.0;  // x -> 1 - x where x >= 0.5

  // MoCo v3's asymmetric BYOL views (§3.14): view 0 always blurred, view 1 rarely blurred but
  // sometimes solarised. For small inputs the crop scale starts at 0.2 instead of 0.08 (a 32 px
  // crop of 8 % area is 9 px wide), and sigma is scaled with the image: [0.1, 2] * size / 224.
  static ViewRecipe moco_v3(int view, int image_size);
  // SimMIM (§3.13): RandomResizedCrop(scale 0.67–1, ratio 3/4–4/3) and flip.
  static ViewRecipe simmim();
  // MAE: RandomResizedCrop(scale 0.2–1) and flip.
  static ViewRecipe mae();
};

// images: (B, 3, H, W) uint8 or float in [0, 1], on any device. Returns float (B, 3, S, S) in
// [0, 1] on the same device, S = out_size (0 keeps H).
torch::Tensor augment(const torch::Tensor& images, const ViewRecipe& recipe, torch::Generator& gen, int out_size = 0);

// The building blocks, exposed for tests. Per-image parameters are (B) or (B, k) tensors on the
// images' device; "apply" masks are bool (B).
// Crop boxes (B, 4) = [left, top, width, height] in pixels, torchvision's RandomResizedCrop rule.
torch::Tensor sample_crop_boxes(int64_t batch, int64_t height, int64_t width, const ViewRecipe& recipe,
                                torch::Generator& gen);
// Resamples each box to out_size x out_size (bilinear, align_corners=false), mirrored where flip.
torch::Tensor crop_resize_flip(const torch::Tensor& images, const torch::Tensor& boxes, const torch::Tensor& flip,
                               int out_size);
torch::Tensor grayscale(const torch::Tensor& images);  // (B, 1, H, W), ITU-R 601 luma
torch::Tensor adjust_brightness(const torch::Tensor& images, const torch::Tensor& factor);
torch::Tensor adjust_contrast(const torch::Tensor& images, const torch::Tensor& factor);
torch::Tensor adjust_saturation(const torch::Tensor& images, const torch::Tensor& factor);
torch::Tensor adjust_hue(const torch::Tensor& images, const torch::Tensor& shift);  // shift in [-0.5, 0.5]
torch::Tensor rgb_to_hsv(const torch::Tensor& images);
torch::Tensor hsv_to_rgb(const torch::Tensor& images);
torch::Tensor gaussian_blur(const torch::Tensor& images, const torch::Tensor& sigma, int radius);
torch::Tensor solarize(const torch::Tensor& images, double threshold = 0.5);

}  // namespace vitscope::train
