#include "core/analysis/cue_conflict_maker.h"

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <opencv2/photo.hpp>
#include <stdexcept>

#include "core/analysis/image_mat.h"
#include "core/analysis/image_transforms.h"

namespace vitscope::analysis {

torch::Tensor tiled_texture(const torch::Tensor& texture_image, int64_t height, int64_t width, double tile_fraction) {
  if (texture_image.dim() != 3 || texture_image.size(0) != 3) throw std::invalid_argument("expected a (3, H, W) texture image");
  if (!(tile_fraction > 0.0 && tile_fraction <= 1.0)) throw std::invalid_argument("tile_fraction must be in (0, 1]");
  const int64_t h = texture_image.size(1), w = texture_image.size(2);
  const int64_t side = std::max<int64_t>(1, std::llround(tile_fraction * static_cast<double>(std::min(h, w))));
  const auto tile = texture_image.narrow(1, (h - side) / 2, side).narrow(2, (w - side) / 2, side);
  // A 2×2 block of the tile and its mirror images repeats without seams.
  const auto row = torch::cat({tile, tile.flip({2})}, 2);
  const auto block = torch::cat({row, row.flip({1})}, 1);
  const int64_t reps_y = (height + 2 * side - 1) / (2 * side), reps_x = (width + 2 * side - 1) / (2 * side);
  return block.repeat({1, reps_y, reps_x}).narrow(1, 0, height).narrow(2, 0, width).contiguous();
}

torch::Tensor make_cue_conflict(const torch::Tensor& shape_image, const torch::Tensor& texture_image,
                                const CueConflictOptions& o) {
  if (shape_image.dim() != 3 || shape_image.size(0) != 3) throw std::invalid_argument("expected a (3, H, W) shape image");
  namespace F = torch::nn::functional;
  const int64_t h = shape_image.size(1), w = shape_image.size(2);
  auto texture = texture_image.to(shape_image.device(), shape_image.scalar_type());
  if (texture.size(1) != h || texture.size(2) != w)
    texture = F::interpolate(texture.unsqueeze(0), F::InterpolateFuncOptions()
                                                       .size(std::vector<int64_t>{h, w})
                                                       .mode(torch::kBilinear)
                                                       .align_corners(false))
                  .squeeze(0)
                  .clamp(0, 1);
  const auto filled = tiled_texture(texture, h, w, o.tile_fraction);
  const auto white = torch::ones_like(filled);
  const auto object = foreground_mask(shape_image).to(filled.device());

  if (o.texture == TextureFill::Tiling) {
    if (o.shape == ShapeCue::Silhouette) return torch::where(object.unsqueeze(0), filled, white);
    const auto outline = edge_map(shape_image).to(filled.device()).select(0, 0).lt(0.5);  // edge pixels are black
    // Lines 1 px wide vanish when a model downsizes the image: thicken them to ~2 px at 224 px.
    const auto thick = F::max_pool2d(outline.to(torch::kFloat32).unsqueeze(0),
                                     F::MaxPool2dFuncOptions(3).stride(1).padding(1))
                           .squeeze(0)
                           .gt(0.5);
    return torch::where(thick.unsqueeze(0), torch::zeros_like(filled), filled);
  }

  // Seamless cloning: the region must stay off the image border (OpenCV crops regions that touch it).
  cv::Mat region(static_cast<int>(h), static_cast<int>(w), CV_8U, cv::Scalar(0));
  if (o.shape == ShapeCue::Silhouette) {
    const auto m = object.to(torch::kCPU, torch::kUInt8).mul(255).contiguous();
    cv::Mat(static_cast<int>(h), static_cast<int>(w), CV_8U, m.data_ptr<uint8_t>()).copyTo(region);
  } else {
    region.setTo(255);
  }
  cv::rectangle(region, cv::Rect(0, 0, static_cast<int>(w), static_cast<int>(h)), cv::Scalar(0), 2);
  if (cv::countNonZero(region) == 0) return filled.clone();  // no object: nothing to transfer
  const cv::Rect box = cv::boundingRect(region);
  cv::Mat blended;
  cv::seamlessClone(to_rgb8(shape_image), to_rgb8(filled), region, cv::Point(box.x + box.width / 2, box.y + box.height / 2),
                    blended, cv::MIXED_CLONE);
  auto out = from_mat8(blended).to(filled.device(), filled.scalar_type());
  if (o.shape == ShapeCue::Silhouette) out = torch::where(object.unsqueeze(0), out, white);
  return out.contiguous();
}

}  // namespace vitscope::analysis
