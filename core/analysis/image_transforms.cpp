#include "core/analysis/image_transforms.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>
#include <stdexcept>

#include "core/analysis/image_mat.h"

namespace vitscope::analysis {

namespace image_transforms_detail {

void check_image(const torch::Tensor& image) {
  if (image.dim() != 3 || image.size(0) != 3 || !image.is_floating_point())
    throw std::invalid_argument("probe transforms take a floating-point (3, H, W) image, got " +
                                c10::str(image.sizes()));
}

// A length in pixels that scales with the image: `at_224` px on a 224-px shorter side.
double scaled_pixels(const torch::Tensor& image, double at_224) {
  return at_224 * static_cast<double>(std::min(image.size(1), image.size(2))) / 224.0;
}

// Back to the input's dtype and device (OpenCV and FFT paths work in their own types).
torch::Tensor like_input(const torch::Tensor& result, const torch::Tensor& image) {
  return result.to(image.device(), image.scalar_type()).contiguous();
}

cv::Mat largest_component(const cv::Mat& binary) {
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(binary, labels, stats, centroids, 8, CV_32S);
  int best = 0, best_area = 0;
  for (int i = 1; i < n; ++i) {
    const int area = stats.at<int>(i, cv::CC_STAT_AREA);
    if (area > best_area) best = i, best_area = area;
  }
  cv::Mat out = cv::Mat::zeros(binary.size(), CV_8U);
  if (best > 0) out.setTo(255, labels == best);
  return out;
}

// Sets the holes of a 0/255 mask: pixels not reachable from outside through background.
cv::Mat fill_holes(const cv::Mat& mask) {
  cv::Mat padded;
  cv::copyMakeBorder(mask, padded, 1, 1, 1, 1, cv::BORDER_CONSTANT, 0);
  cv::floodFill(padded, cv::Point(0, 0), 255);
  cv::Mat outside = padded(cv::Rect(1, 1, mask.cols, mask.rows));
  cv::Mat holes;
  cv::bitwise_not(outside, holes);
  cv::Mat filled;
  cv::bitwise_or(mask, holes, filled);
  return filled;
}

int odd_at_least_3(double pixels) { return std::max(3, 2 * static_cast<int>(std::lround(pixels / 2.0)) + 1); }

}  // namespace image_transforms_detail

torch::Tensor patch_shuffle(const torch::Tensor& image, int grid, uint64_t seed) {
  using namespace image_transforms_detail;
  check_image(image);
  const int64_t h = image.size(1), w = image.size(2);
  if (grid < 2 || h % grid != 0 || w % grid != 0)
    throw std::invalid_argument("patch shuffle needs a grid >= 2 that divides the image size (" + std::to_string(h) +
                                "×" + std::to_string(w) + "), got " + std::to_string(grid));
  const int64_t th = h / grid, tw = w / grid, n = int64_t(grid) * grid;
  const auto tiles = image.reshape({3, grid, th, grid, tw}).permute({1, 3, 0, 2, 4}).reshape({n, 3, th, tw});
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto identity = torch::arange(n, torch::kInt64);
  auto order = identity;
  while (order.equal(identity)) order = torch::randperm(n, generator, torch::TensorOptions().dtype(torch::kInt64));
  return tiles.index_select(0, order.to(image.device()))
      .reshape({grid, grid, 3, th, tw})
      .permute({2, 0, 3, 1, 4})
      .reshape({3, h, w})
      .contiguous();
}

torch::Tensor phase_scramble(const torch::Tensor& image, uint64_t seed) {
  using namespace image_transforms_detail;
  check_image(image);
  const auto x = image.to(torch::kCPU, torch::kFloat64);
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  const auto noise = torch::randn({x.size(1), x.size(2)}, generator, torch::TensorOptions().dtype(torch::kFloat64));
  // The phase of a real field's spectrum is odd-symmetric, so adding it keeps every channel's
  // spectrum Hermitian and the result real; zero at DC keeps the mean colour.
  auto phase = torch::angle(torch::fft::fft2(noise));
  phase[0][0] = 0.0;
  const auto rotation = torch::polar(torch::ones_like(phase), phase);
  const auto scrambled = torch::real(torch::fft::ifft2(torch::fft::fft2(x) * rotation));
  return like_input(scrambled.clamp(0.0, 1.0), image);
}

torch::Tensor foreground_mask(const torch::Tensor& image) {
  using namespace image_transforms_detail;
  check_image(image);
  const int h = static_cast<int>(image.size(1)), w = static_cast<int>(image.size(2));
  cv::Mat gray = to_gray8(image);
  cv::Scalar mean, deviation;
  cv::meanStdDev(gray, mean, deviation);
  if (deviation[0] < 1.0 || h < 8 || w < 8) return torch::zeros({h, w}, torch::TensorOptions().dtype(torch::kBool).device(image.device()));
  // GrabCut from a frame 4 % inside the border: photos centre their object. Its colour models are
  // seeded by k-means with OpenCV's thread-local generator, which is reset so the mask is a pure
  // function of the image.
  cv::Mat labels(h, w, CV_8U, cv::Scalar(cv::GC_BGD));
  const int my = std::max(1, h / 25), mx = std::max(1, w / 25);
  const cv::Rect frame(mx, my, w - 2 * mx, h - 2 * my);
  cv::Mat background_model, foreground_model;
  cv::theRNG().state = 0x5eed;
  cv::grabCut(to_rgb8(image), labels, frame, background_model, foreground_model, 4, cv::GC_INIT_WITH_RECT);
  cv::Mat binary = (labels == cv::GC_FGD) | (labels == cv::GC_PR_FGD);
  const int k = odd_at_least_3(scaled_pixels(image, 5.0));
  cv::morphologyEx(binary, binary, cv::MORPH_OPEN, cv::getStructuringElement(cv::MORPH_ELLIPSE, {k, k}));
  const cv::Mat mask = fill_holes(largest_component(binary));
  auto t = torch::from_blob(mask.data, {mask.rows, mask.cols}, torch::kUInt8).gt(0).clone();
  return t.to(image.device());
}

torch::Tensor silhouette(const torch::Tensor& image) {
  using namespace image_transforms_detail;
  const auto mask = foreground_mask(image);
  return like_input(mask.logical_not().to(torch::kFloat32).unsqueeze(0).expand({3, -1, -1}), image);
}

torch::Tensor edge_map(const torch::Tensor& image) {
  using namespace image_transforms_detail;
  check_image(image);
  cv::Mat gray = to_gray8(image);
  cv::GaussianBlur(gray, gray, cv::Size(0, 0), std::max(0.5, scaled_pixels(image, 1.5)));
  cv::Mat unused;
  const double high = std::max(1.0, cv::threshold(gray, unused, 0, 255, cv::THRESH_BINARY | cv::THRESH_OTSU));
  cv::Mat edges;
  cv::Canny(gray, edges, high / 2, high);
  cv::Mat drawn;
  cv::bitwise_not(edges, drawn);  // black lines on white
  return like_input(from_mat8(drawn), image);
}

torch::Tensor strong_blur(const torch::Tensor& image, double sigma_fraction) {
  using namespace image_transforms_detail;
  check_image(image);
  const double sigma = sigma_fraction * static_cast<double>(std::min(image.size(1), image.size(2)));
  const auto chw = image.to(torch::kCPU, torch::kFloat32).contiguous();
  const auto hwc = chw.permute({1, 2, 0}).contiguous();
  cv::Mat src(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_32FC3, hwc.data_ptr<float>());
  cv::Mat blurred;
  cv::GaussianBlur(src, blurred, cv::Size(0, 0), std::max(0.3, sigma), 0, cv::BORDER_REFLECT101);
  auto out = torch::from_blob(blurred.data, {blurred.rows, blurred.cols, 3}, torch::kFloat32).permute({2, 0, 1}).clone();
  return like_input(out.clamp(0.0, 1.0), image);
}

torch::Tensor stylize(const torch::Tensor& image) {
  using namespace image_transforms_detail;
  check_image(image);
  const float sigma_s = static_cast<float>(std::clamp(scaled_pixels(image, 60.0), 1.0, 200.0));
  cv::Mat styled;
  cv::stylization(to_rgb8(image), styled, sigma_s, 0.45f);
  return like_input(from_mat8(styled), image);
}

const char* cue_name(Cue cue) { return cue == Cue::Shape ? "shape" : "texture"; }

std::vector<ProbeTransform> standard_probe_transforms(const std::vector<int>& shuffle_grids, uint64_t seed) {
  std::vector<ProbeTransform> out;
  for (int g : shuffle_grids)
    out.push_back({"patch-shuffle-" + std::to_string(g), Cue::Texture,
                   "tiles of a " + std::to_string(g) + "×" + std::to_string(g) + " grid in random order",
                   [g, seed](const torch::Tensor& x) { return patch_shuffle(x, g, seed + static_cast<uint64_t>(g)); }});
  out.push_back({"phase-scramble", Cue::Texture, "Fourier amplitude kept, phase randomised",
                 [seed](const torch::Tensor& x) { return phase_scramble(x, seed); }});
  out.push_back({"silhouette", Cue::Shape, "the object's filled outline, black on white", silhouette});
  out.push_back({"edges", Cue::Shape, "Canny edges, black on white", edge_map});
  out.push_back({"blur", Cue::Shape, "Gaussian blur, sigma 4 % of the image side",
                 [](const torch::Tensor& x) { return strong_blur(x); }});
  out.push_back({"stylized", Cue::Shape, "OpenCV edge-preserving stylisation", stylize});
  return out;
}

ProbeViews probe_views(const torch::Tensor& image, const std::vector<ProbeTransform>& transforms) {
  ProbeViews v;
  std::vector<torch::Tensor> pictures;
  for (const auto& t : transforms) {
    v.names.push_back(t.name);
    v.keeps.push_back(t.keeps);
    pictures.push_back(t.apply(image));
  }
  v.images = torch::stack(pictures);
  return v;
}

}  // namespace vitscope::analysis
