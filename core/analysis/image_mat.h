#pragma once
// Images between LibTorch and OpenCV for the probe transforms that OpenCV does best (Canny,
// Otsu, stylisation, seamless cloning): (3, H, W) float [0, 1] RGB <-> 8-bit cv::Mat.
#include <opencv2/core.hpp>
#include <torch/torch.h>

namespace vitscope::analysis {

// (3, H, W) float in [0, 1] (clamped) -> CV_8UC3, RGB order, rounded.
cv::Mat to_rgb8(const torch::Tensor& image);
// (3, H, W) float in [0, 1] -> CV_8UC1 luminance (ITU-R 601 weights, as cv::COLOR_RGB2GRAY).
cv::Mat to_gray8(const torch::Tensor& image);
// CV_8UC3 RGB -> (3, H, W) float32 in [0, 1]; CV_8UC1 -> the same grey in all three channels.
torch::Tensor from_mat8(const cv::Mat& mat);

}  // namespace vitscope::analysis
