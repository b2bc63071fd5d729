// Batched augmentations: geometry of crops and flips, colour transforms against their
// definitions, determinism.
#include <gtest/gtest.h>

#include "core/train/augment.h"
#include "core/train/random.h"

namespace vt = vitscope::train;

TEST(Augment, CropBoxesFollowTheRecipe) {
  auto gen = vt::make_generator(1, vt::RandomStream::Step, 0);
  vt::ViewRecipe r;
  r.crop_scale_min = 0.2;
  auto boxes = vt::sample_crop_boxes(500, 32, 48, r, gen);
  auto left = boxes.select(1, 0), top = boxes.select(1, 1), w = boxes.select(1, 2), h = boxes.select(1, 3);
  EXPECT_TRUE((left >= 0).all().item<bool>());
  EXPECT_TRUE((top >= 0).all().item<bool>());
  EXPECT_TRUE((left + w <= 48).all().item<bool>());
  EXPECT_TRUE((top + h <= 32).all().item<bool>());
  auto area = w * h / (32.0 * 48.0);
  // Rounding to whole pixels moves the area a little outside [0.2, 1].
  EXPECT_GT(area.min().item<double>(), 0.17);
  EXPECT_LE(area.max().item<double>(), 1.0);
  auto ratio = w / h;
  EXPECT_GT(ratio.min().item<double>(), 0.7);
  EXPECT_LT(ratio.max().item<double>(), 1.45);
}

TEST(Augment, FullBoxIsIdentityAndFlipMirrors) {
  auto x = torch::rand({2, 3, 8, 8});
  auto boxes = torch::tensor({{0.f, 0.f, 8.f, 8.f}, {0.f, 0.f, 8.f, 8.f}});
  auto same = vt::crop_resize_flip(x, boxes, torch::tensor({false, true}), 8);
  EXPECT_TRUE(torch::allclose(same[0], x[0], 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(same[1], x[1].flip({2}), 1e-5, 1e-6));
}

TEST(Augment, CropOfAQuadrantUpsamples) {
  // Box = top-left 4x4 of an 8x8 image resampled to 4x4 → exactly those pixels.
  auto x = torch::rand({1, 3, 8, 8});
  auto out = vt::crop_resize_flip(x, torch::tensor({{0.f, 0.f, 4.f, 4.f}}), torch::tensor({false}), 4);
  EXPECT_TRUE(torch::allclose(out[0], x[0].narrow(1, 0, 4).narrow(2, 0, 4), 1e-5, 1e-6));
}

TEST(Augment, ColourTransformsMatchTheirDefinitions) {
  auto x = torch::rand({3, 3, 5, 5});
  auto ones = torch::ones({3});
  EXPECT_TRUE(torch::allclose(vt::adjust_brightness(x, ones), x));
  EXPECT_TRUE(torch::allclose(vt::adjust_contrast(x, ones), x));
  EXPECT_TRUE(torch::allclose(vt::adjust_saturation(x, ones), x));
  // Saturation 0 = grayscale; contrast 0 = the image's mean gray everywhere.
  auto gray = vt::grayscale(x);
  EXPECT_TRUE(torch::allclose(vt::adjust_saturation(x, torch::zeros({3})), gray.expand_as(x), 1e-5, 1e-6));
  auto flat = vt::adjust_contrast(x, torch::zeros({3}));
  EXPECT_TRUE(torch::allclose(flat, gray.mean({1, 2, 3}, true).expand_as(x), 1e-5, 1e-6));
  // HSV round trip and a full hue turn.
  EXPECT_TRUE(torch::allclose(vt::hsv_to_rgb(vt::rgb_to_hsv(x)), x, 1e-4, 1e-5));
  EXPECT_TRUE(torch::allclose(vt::adjust_hue(x, torch::zeros({3})), x, 1e-4, 1e-5));
  // Pure red shifted by 1/3 of the hue circle is pure green.
  auto red = torch::zeros({1, 3, 1, 1});
  red[0][0] = 1.0;
  auto green = vt::adjust_hue(red, torch::tensor({1.0f / 3.0f}));
  EXPECT_NEAR(green[0][1][0][0].item<float>(), 1.0f, 1e-5);
  EXPECT_NEAR(green[0][0][0][0].item<float>(), 0.0f, 1e-5);
  // Solarize flips values at or above 0.5.
  auto s = vt::solarize(torch::tensor({0.2f, 0.5f, 0.9f}));
  EXPECT_TRUE(torch::allclose(s, torch::tensor({0.2f, 0.5f, 0.1f})));
}

TEST(Augment, BlurKeepsConstantImagesAndSmoothsEdges) {
  auto flat = torch::full({2, 3, 9, 9}, 0.3f);
  EXPECT_TRUE(torch::allclose(vt::gaussian_blur(flat, torch::tensor({0.5f, 2.0f}), 4), flat, 1e-5, 1e-6));
  auto edge = torch::zeros({2, 1, 9, 9});
  edge.narrow(3, 5, 4).fill_(1.0);
  auto blurred = vt::gaussian_blur(edge, torch::tensor({0.1f, 2.0f}), 4);
  // Tiny sigma: unchanged; large sigma: the step is smeared.
  EXPECT_TRUE(torch::allclose(blurred[0], edge[0], 1e-5, 1e-6));
  EXPECT_GT(blurred[1][0][4][4].item<float>(), 0.2f);
}

TEST(Augment, DeterministicPerGeneratorSeed) {
  auto images = (torch::rand({4, 3, 16, 16}) * 255).to(torch::kUInt8);
  const auto recipe = vt::ViewRecipe::moco_v3(1, 16);
  auto g1 = vt::make_generator(5, vt::RandomStream::Step, 9), g2 = vt::make_generator(5, vt::RandomStream::Step, 9);
  auto g3 = vt::make_generator(5, vt::RandomStream::Step, 10);
  auto a = vt::augment(images, recipe, g1), b = vt::augment(images, recipe, g2), c = vt::augment(images, recipe, g3);
  EXPECT_TRUE(a.equal(b));
  EXPECT_FALSE(a.equal(c));
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{4, 3, 16, 16}));
  EXPECT_GE(a.min().item<float>(), 0.0f);
  EXPECT_LE(a.max().item<float>(), 1.0f);
}
