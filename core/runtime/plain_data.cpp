#include "core/runtime/plain_data.h"

namespace vitscope::runtime {

FloatGrid explorer_grid(const torch::Tensor& t2d) {
  auto t = t2d.detach().to(torch::kCPU, torch::kFloat32).contiguous();
  FloatGrid g;
  g.rows = static_cast<int>(t.size(0));
  g.cols = static_cast<int>(t.size(1));
  g.values.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
  return g;
}

RgbImage explorer_rgb(const torch::Tensor& image, bool channels_last) {
  auto t = channels_last ? image : image.permute({1, 2, 0});
  t = (t.detach().to(torch::kCPU, torch::kFloat32).clamp(0, 1) * 255.0).round().to(torch::kUInt8).contiguous();
  RgbImage out;
  out.height = static_cast<int>(t.size(0));
  out.width = static_cast<int>(t.size(1));
  out.pixels.assign(t.data_ptr<uint8_t>(), t.data_ptr<uint8_t>() + t.numel());
  return out;
}

std::vector<double> explorer_doubles(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace vitscope::runtime
