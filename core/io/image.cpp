#include "core/io/image.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/io/checkpoint_file.h"

namespace vitscope::io {

namespace {

// OpenCV applies EXIF orientation unless the flags are exactly IMREAD_UNCHANGED; we need
// UNCHANGED to see alpha and 16-bit data, so decode twice only when the image has alpha:
// once with ANYDEPTH|ANYCOLOR (oriented) and once UNCHANGED for the alpha channel.
cv::Mat decode_oriented(const std::vector<unsigned char>& bytes, const std::string& name) {
  if (bytes.empty()) throw FormatError(name, "empty file");
  cv::Mat raw;
  try {
    raw = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    throw FormatError(name, std::string("not a readable image (") + e.what() + ")");
  }
  if (raw.empty()) throw FormatError(name, "not a readable image (unknown or corrupt format)");
  cv::Mat oriented = cv::imdecode(bytes, cv::IMREAD_ANYDEPTH | cv::IMREAD_ANYCOLOR);
  if (oriented.empty()) oriented = raw;
  cv::Mat alpha;
  if (raw.channels() == 4) {
    cv::extractChannel(raw, alpha, 3);
    // Orientation changes the shape; alpha of a rotated image is only used when shapes agree.
    if (alpha.size() != oriented.size()) alpha.release();
  }
  cv::Mat rgb;
  switch (oriented.channels()) {
    case 1: cv::cvtColor(oriented, rgb, cv::COLOR_GRAY2RGB); break;
    case 3: cv::cvtColor(oriented, rgb, cv::COLOR_BGR2RGB); break;
    case 4: cv::cvtColor(oriented, rgb, cv::COLOR_BGRA2RGB); break;
    default: throw FormatError(name, "unsupported channel count " + std::to_string(oriented.channels()));
  }
  double scale = 1.0;
  switch (rgb.depth()) {
    case CV_8U: scale = 1.0 / 255.0; break;
    case CV_16U: scale = 1.0 / 65535.0; break;
    case CV_32F: scale = 1.0; break;
    default: throw FormatError(name, "unsupported pixel depth");
  }
  cv::Mat f;
  rgb.convertTo(f, CV_32F, scale);
  if (!alpha.empty()) {
    cv::Mat a;
    alpha.convertTo(a, CV_32F, alpha.depth() == CV_16U ? 1.0 / 65535.0 : 1.0 / 255.0);
    cv::Mat a3;
    cv::cvtColor(a, a3, cv::COLOR_GRAY2RGB);
    f = f.mul(a3) + (cv::Scalar::all(1.0) - a3);  // composite over white
  }
  return f;
}

}  // namespace

torch::Tensor decode_image(const std::vector<unsigned char>& bytes, const std::string& name) {
  cv::Mat f = decode_oriented(bytes, name);
  if (!f.isContinuous()) f = f.clone();
  auto t = torch::from_blob(f.data, {f.rows, f.cols, 3}, torch::kFloat32).permute({2, 0, 1}).clone();
  return t.clamp_(0.0, 1.0);
}

torch::Tensor load_image(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FormatError(path, "cannot open file");
  std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return decode_image(bytes, path);
}

torch::Tensor resize_for_model(const torch::Tensor& image, int size, const model::Preprocess& p) {
  namespace F = torch::nn::functional;
  auto x = image.unsqueeze(0);
  const auto h = image.size(1), w = image.size(2);
  auto opts = F::InterpolateFuncOptions().mode(torch::kBilinear).align_corners(false);
  if (p.mode == model::Preprocess::Mode::Resize) {
    if (h == size && w == size) return image;
    return F::interpolate(x, opts.size(std::vector<int64_t>{size, size}).antialias(true)).squeeze(0).clamp(0, 1);
  }
  const double shorter = std::floor(size / p.crop_fraction);
  const double s = shorter / static_cast<double>(std::min(h, w));
  const auto nh = std::max<int64_t>(size, std::llround(h * s)), nw = std::max<int64_t>(size, std::llround(w * s));
  if (nh != h || nw != w) x = F::interpolate(x, opts.size(std::vector<int64_t>{nh, nw}).antialias(true));
  const auto top = (nh - size) / 2, left = (nw - size) / 2;
  return x.squeeze(0).narrow(1, top, size).narrow(2, left, size).clamp(0, 1).contiguous();
}

static torch::Tensor channel_vec(const std::array<float, 3>& v, const torch::Tensor& like) {
  return torch::tensor({v[0], v[1], v[2]}, like.options()).reshape({3, 1, 1});
}

torch::Tensor normalize(const torch::Tensor& image, const model::Preprocess& p) {
  return (image - channel_vec(p.mean, image)) / channel_vec(p.std, image);
}

torch::Tensor denormalize(const torch::Tensor& image, const model::Preprocess& p) {
  return image * channel_vec(p.std, image) + channel_vec(p.mean, image);
}

torch::Tensor load_model_input(const std::string& path, int size, const model::Preprocess& p) {
  return normalize(resize_for_model(load_image(path), size, p), p).unsqueeze(0);
}

void save_image(const torch::Tensor& image, const std::string& path) {
  auto t = (image.detach().to(torch::kCPU, torch::kFloat32).clamp(0, 1) * 255.0).round().to(torch::kUInt8);
  t = t.permute({1, 2, 0}).contiguous();
  cv::Mat rgb(static_cast<int>(t.size(0)), static_cast<int>(t.size(1)), CV_8UC3, t.data_ptr<uint8_t>());
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  if (!cv::imwrite(path, bgr)) throw FormatError(path, "cannot write image");
}

const std::vector<std::string>& image_extensions() {
  static const std::vector<std::string> ext = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm"};
  return ext;
}

bool has_image_extension(const std::string& path) {
  auto dot = path.find_last_of('.');
  if (dot == std::string::npos) return false;
  std::string e = path.substr(dot);
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto& all = image_extensions();
  return std::find(all.begin(), all.end(), e) != all.end();
}

}  // namespace vitscope::io
