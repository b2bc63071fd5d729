#include "core/analysis/image_mat.h"

#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace vitscope::analysis {

cv::Mat to_rgb8(const torch::Tensor& image) {
  if (image.dim() != 3 || image.size(0) != 3) throw std::invalid_argument("expected a (3, H, W) image");
  auto t = (image.detach().to(torch::kCPU, torch::kFloat32).clamp(0, 1) * 255.0).round().to(torch::kUInt8);
  t = t.permute({1, 2, 0}).contiguous();
  return cv::Mat(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8UC3, t.data_ptr<uint8_t>()).clone();
}

cv::Mat to_gray8(const torch::Tensor& image) {
  cv::Mat gray;
  cv::cvtColor(to_rgb8(image), gray, cv::COLOR_RGB2GRAY);
  return gray;
}

torch::Tensor from_mat8(const cv::Mat& mat) {
  if (mat.depth() != CV_8U || (mat.channels() != 1 && mat.channels() != 3))
    throw std::invalid_argument("expected an 8-bit grey or RGB image");
  cv::Mat rgb = mat.channels() == 3 ? mat : cv::Mat();
  if (mat.channels() == 1) cv::cvtColor(mat, rgb, cv::COLOR_GRAY2RGB);
  if (!rgb.isContinuous()) rgb = rgb.clone();
  return torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8)
      .permute({2, 0, 1})
      .to(torch::kFloat32)
      .div(255.0)
      .contiguous();
}

}  // namespace vitscope::analysis
