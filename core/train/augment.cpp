#include "core/train/augment.h"

#include <array>
#include <cmath>

#include "core/train/amp.h"
#include "core/train/random.h"

namespace vitscope::train {

namespace F = torch::nn::functional;

ViewRecipe ViewRecipe::moco_v3(int view, int image_size) {
  ViewRecipe r;
  r.crop_scale_min = image_size < 64 ? 0.2 : 0.08;
  r.jitter_p = 0.8;
  r.brightness = 0.4;
  r.contrast = 0.4;
  r.saturation = 0.2;
  r.hue = 0.1;
  r.grayscale_p = 0.2;
  const double sigma_scale = image_size / 224.0;
  r.blur_sigma_min = 0.1 * sigma_scale;
  r.blur_sigma_max = 2.0 * sigma_scale;
  r.blur_p = view == 0 ? 1.0 : 0.1;
  r.solarize_p = view == 0 ? 0.0 : 0.2;
  return r;
}

ViewRecipe ViewRecipe::simmim() {
  ViewRecipe r;
  r.crop_scale_min = 0.67;
  return r;
}

ViewRecipe ViewRecipe::mae() {
  ViewRecipe r;
  r.crop_scale_min = 0.2;
  return r;
}

torch::Tensor sample_crop_boxes(int64_t B, int64_t H, int64_t W, const ViewRecipe& r, torch::Generator& gen) {
  // torchvision RandomResizedCrop.get_params, vectorised over the batch: 10 tries of
  // (area fraction, log-uniform aspect ratio); the first box that fits wins; otherwise a centre
  // crop with the ratio clamped to the allowed range.
  constexpr int kTries = 10;
  const auto f64 = torch::TensorOptions().dtype(torch::kFloat64);
  const double area = static_cast<double>(H * W);
  auto scale = r.crop_scale_min + (r.crop_scale_max - r.crop_scale_min) * torch::rand({B, kTries}, gen, f64);
  const double log_lo = std::log(r.crop_ratio_min), log_hi = std::log(r.crop_ratio_max);
  auto ratio = torch::exp(log_lo + (log_hi - log_lo) * torch::rand({B, kTries}, gen, f64));
  auto w = torch::round(torch::sqrt(area * scale * ratio));
  auto h = torch::round(torch::sqrt(area * scale / ratio));
  auto fits = (w > 0) & (h > 0) & (w <= W) & (h <= H);
  auto first = fits.to(torch::kInt64).argmax(1, /*keepdim=*/true);  // index of the first fitting try
  auto any_fits = fits.any(1);
  auto bw = w.gather(1, first).squeeze(1), bh = h.gather(1, first).squeeze(1);

  const double in_ratio = static_cast<double>(W) / static_cast<double>(H);
  double fw = static_cast<double>(W), fh = static_cast<double>(H);
  if (in_ratio < r.crop_ratio_min) {
    fh = std::round(fw / r.crop_ratio_min);
  } else if (in_ratio > r.crop_ratio_max) {
    fw = std::round(fh * r.crop_ratio_max);
  }
  bw = torch::where(any_fits, bw, torch::full_like(bw, fw));
  bh = torch::where(any_fits, bh, torch::full_like(bh, fh));
  // Offsets: randint(0, H - h + 1), as floor(u * (H - h + 1)); the fallback is centred.
  auto u = torch::rand({B, 2}, gen, f64);
  auto top = torch::floor(u.select(1, 0) * (H - bh + 1));
  auto left = torch::floor(u.select(1, 1) * (W - bw + 1));
  top = torch::where(any_fits, top, torch::floor((H - bh) / 2));
  left = torch::where(any_fits, left, torch::floor((W - bw) / 2));
  return torch::stack({left, top, bw, bh}, 1).to(torch::kFloat32);
}

torch::Tensor crop_resize_flip(const torch::Tensor& images, const torch::Tensor& boxes, const torch::Tensor& flip,
                               int out_size) {
  // With align_corners=false, normalised coordinate -1/+1 is the outer edge of the first/last
  // pixel, so the box [left, left + w) maps output x in [-1, 1] to input
  // x_in = (w / W) * x + (2 * left + w) / W - 1; mirroring negates the slope.
  const auto B = images.size(0);
  const double H = static_cast<double>(images.size(2)), W = static_cast<double>(images.size(3));
  auto b = upload(boxes, images.device()).to(torch::kFloat32);
  auto left = b.select(1, 0), top = b.select(1, 1), bw = b.select(1, 2), bh = b.select(1, 3);
  auto sign = 1.0 - 2.0 * upload(flip, images.device()).to(torch::kFloat32);
  auto zeros = torch::zeros_like(left);
  auto theta = torch::stack({torch::stack({sign * bw / W, zeros, (2 * left + bw) / W - 1}, 1),
                             torch::stack({zeros, bh / H, (2 * top + bh) / H - 1}, 1)},
                            1);  // (B, 2, 3)
  auto grid = F::affine_grid(theta.to(images.scalar_type()), {B, images.size(1), out_size, out_size},
                             /*align_corners=*/false);
  return F::grid_sample(images, grid,
                        F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kBorder).align_corners(false));
}

torch::Tensor grayscale(const torch::Tensor& x) {
  return (0.299 * x.select(1, 0) + 0.587 * x.select(1, 1) + 0.114 * x.select(1, 2)).unsqueeze(1);
}

namespace {
torch::Tensor per_image(const torch::Tensor& v) { return v.reshape({-1, 1, 1, 1}); }
torch::Tensor blend(const torch::Tensor& x, const torch::Tensor& other, const torch::Tensor& factor) {
  auto f = per_image(factor);
  return (f * x + (1 - f) * other).clamp(0, 1);
}
}  // namespace

torch::Tensor adjust_brightness(const torch::Tensor& x, const torch::Tensor& factor) {
  return (x * per_image(factor)).clamp(0, 1);
}

torch::Tensor adjust_contrast(const torch::Tensor& x, const torch::Tensor& factor) {
  return blend(x, grayscale(x).mean({1, 2, 3}, /*keepdim=*/true), factor);
}

torch::Tensor adjust_saturation(const torch::Tensor& x, const torch::Tensor& factor) {
  return blend(x, grayscale(x), factor);
}

torch::Tensor rgb_to_hsv(const torch::Tensor& x) {
  auto r = x.select(1, 0), g = x.select(1, 1), b = x.select(1, 2);
  auto maxc = std::get<0>(x.max(1)), minc = std::get<0>(x.min(1));
  auto gray = maxc == minc;
  auto range = maxc - minc;
  auto ones = torch::ones_like(maxc);
  auto s = range / torch::where(gray, ones, maxc);
  auto divisor = torch::where(gray, ones, range);
  auto rc = (maxc - r) / divisor, gc = (maxc - g) / divisor, bc = (maxc - b) / divisor;
  auto max_is_r = maxc == r, max_is_g = (maxc == g) & ~max_is_r;
  auto h = torch::where(max_is_r, bc - gc, torch::where(max_is_g, 2.0 + rc - bc, 4.0 + gc - rc));
  h = torch::fmod(h / 6.0 + 1.0, 1.0);
  return torch::stack({h, s, maxc}, 1);
}

torch::Tensor hsv_to_rgb(const torch::Tensor& x) {
  auto h = x.select(1, 0), s = x.select(1, 1), v = x.select(1, 2);
  auto h6 = h * 6.0;
  auto sector_f = torch::floor(h6);
  auto f = h6 - sector_f;
  auto sector = sector_f.to(torch::kInt64).remainder(6);
  auto p = (v * (1 - s)).clamp(0, 1), q = (v * (1 - s * f)).clamp(0, 1), t = (v * (1 - s * (1 - f))).clamp(0, 1);
  // Sector k of the hue circle takes (r, g, b) from this table.
  const std::vector<std::array<torch::Tensor, 3>> table = {{v, t, p}, {q, v, p}, {p, v, t},
                                                           {p, q, v}, {t, p, v}, {v, p, q}};
  std::array<torch::Tensor, 3> rgb = table[5];
  for (int k = 4; k >= 0; --k) {
    auto in_k = sector == k;
    for (int c = 0; c < 3; ++c) rgb[c] = torch::where(in_k, table[k][c], rgb[c]);
  }
  return torch::stack({rgb[0], rgb[1], rgb[2]}, 1);
}

torch::Tensor adjust_hue(const torch::Tensor& x, const torch::Tensor& shift) {
  auto hsv = rgb_to_hsv(x);
  auto h = torch::fmod(hsv.select(1, 0) + shift.reshape({-1, 1, 1}) + 1.0, 1.0);
  return hsv_to_rgb(torch::stack({h, hsv.select(1, 1), hsv.select(1, 2)}, 1));
}

torch::Tensor gaussian_blur(const torch::Tensor& x, const torch::Tensor& sigma, int radius) {
  // Separable blur with a different sigma per image: a (B*C)-group depthwise convolution, with
  // reflect padding like torchvision's gaussian_blur.
  const auto B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  radius = std::max(0, std::min<int>(radius, static_cast<int>(std::min(H, W)) - 1));
  auto offsets = torch::arange(-radius, radius + 1, x.options()).unsqueeze(0);  // (1, K)
  auto s = sigma.to(x.options()).reshape({-1, 1});
  auto kernel = torch::exp(-0.5 * (offsets / s).pow(2));
  kernel = kernel / kernel.sum(1, /*keepdim=*/true);                                  // (B, K)
  auto k = kernel.repeat_interleave(C, 0);                                            // (B*C, K)
  auto y = x.reshape({1, B * C, H, W});
  y = F::pad(y, F::PadFuncOptions({radius, radius, radius, radius}).mode(torch::kReflect));
  y = F::conv2d(y, k.reshape({B * C, 1, 1, -1}), F::Conv2dFuncOptions().groups(B * C));
  y = F::conv2d(y, k.reshape({B * C, 1, -1, 1}), F::Conv2dFuncOptions().groups(B * C));
  return y.reshape({B, C, H, W});
}

torch::Tensor solarize(const torch::Tensor& x, double threshold) { return torch::where(x >= threshold, 1.0 - x, x); }

torch::Tensor augment(const torch::Tensor& images, const ViewRecipe& r, torch::Generator& gen, int out_size) {
  FullPrecisionScope fp32;  // pixel arithmetic stays fp32 under autocast (the blur is a convolution)
  const auto B = images.size(0), H = images.size(2), W = images.size(3);
  const auto device = images.device();
  auto x = images.scalar_type() == torch::kUInt8 ? images.to(torch::kFloat32).div_(255.0) : images.to(torch::kFloat32);
  auto chance = [&](double p) { return upload(torch::rand({B}, gen) < p, device); };
  auto uniform = [&](double lo, double hi) { return upload(lo + (hi - lo) * torch::rand({B}, gen), device); };
  auto where_images = [](const torch::Tensor& apply, const torch::Tensor& yes, const torch::Tensor& no) {
    return torch::where(apply.reshape({-1, 1, 1, 1}), yes, no);
  };
  // Parameters are always drawn, even with probability 0, so that the sequence of draws (and
  // therefore every later parameter) does not depend on the recipe's probabilities.
  auto boxes = sample_crop_boxes(B, H, W, r, gen);
  auto flip = chance(r.flip_p);
  x = crop_resize_flip(x, boxes, flip, out_size > 0 ? out_size : static_cast<int>(H));

  auto jitter = chance(r.jitter_p);
  auto brightness = uniform(std::max(0.0, 1 - r.brightness), 1 + r.brightness);
  auto contrast = uniform(std::max(0.0, 1 - r.contrast), 1 + r.contrast);
  auto saturation = uniform(std::max(0.0, 1 - r.saturation), 1 + r.saturation);
  auto hue = uniform(-r.hue, r.hue);
  if (r.jitter_p > 0) {
    auto j = x;
    if (r.brightness > 0) j = adjust_brightness(j, brightness);
    if (r.contrast > 0) j = adjust_contrast(j, contrast);
    if (r.saturation > 0) j = adjust_saturation(j, saturation);
    if (r.hue > 0) j = adjust_hue(j, hue);
    x = where_images(jitter, j, x);
  }
  auto gray = chance(r.grayscale_p);
  if (r.grayscale_p > 0) x = where_images(gray, grayscale(x).expand_as(x), x);
  auto blur = chance(r.blur_p);
  auto sigma = uniform(r.blur_sigma_min, r.blur_sigma_max);
  if (r.blur_p > 0) {
    // Kernel radius covers 3 sigma of the widest sigma in the recipe.
    const int radius = std::max(1, static_cast<int>(std::ceil(3.0 * r.blur_sigma_max)));
    x = where_images(blur, gaussian_blur(x, sigma, radius), x);
  }
  auto sol = chance(r.solarize_p);
  if (r.solarize_p > 0) x = where_images(sol, solarize(x), x);
  return x;
}

}  // namespace vitscope::train
