// The probe views and the cue-conflict maker: every transform keeps the image size and the
// [0, 1] range, and each does what it claims on images whose answer is known.
#include <gtest/gtest.h>
#include <ATen/CPUGeneratorImpl.h>

#include <numbers>

#include "core/analysis/cue_conflict_maker.h"
#include "core/analysis/frequency_filter.h"
#include "core/analysis/image_transforms.h"
#include "core/io/image.h"
#include "support/test_env.h"

namespace vitscope::analysis {
namespace {

namespace F = torch::nn::functional;

// A disc of `disc` colour on a striped background: shape = the disc, texture = the stripes.
torch::Tensor disc_on_stripes(int64_t h, int64_t w, float disc, float background = 0.85f) {
  auto image = torch::full({3, h, w}, background);
  for (int64_t x = 0; x < w; x += 6) image.narrow(2, x, std::min<int64_t>(2, w - x)).mul_(0.8);
  const auto ys = torch::arange(h, torch::kFloat32).unsqueeze(1), xs = torch::arange(w, torch::kFloat32).unsqueeze(0);
  const auto inside = ((ys - h / 2.0).pow(2) + (xs - w / 2.0).pow(2)).lt(std::pow(0.3 * std::min(h, w), 2));
  image.masked_fill_(inside.unsqueeze(0).expand({3, -1, -1}), disc);
  return image;
}

torch::Tensor disc_mask(int64_t h, int64_t w) {
  const auto ys = torch::arange(h, torch::kFloat32).unsqueeze(1), xs = torch::arange(w, torch::kFloat32).unsqueeze(0);
  return ((ys - h / 2.0).pow(2) + (xs - w / 2.0).pow(2)).lt(std::pow(0.3 * std::min(h, w), 2));
}

double iou(const torch::Tensor& a, const torch::Tensor& b) {
  return a.logical_and(b).sum().item<double>() / std::max(1.0, a.logical_or(b).sum().item<double>());
}

std::vector<torch::Tensor> test_images() {
  std::vector<torch::Tensor> images = {disc_on_stripes(64, 96, 0.1f), disc_on_stripes(32, 32, 0.95f, 0.2f)};
  for (const char* name : {"skimage/chelsea.png", "generated/star_with_stripes.png"}) {
    const auto path = test::resources_dir() / "samples" / name;
    if (!std::filesystem::exists(path)) continue;
    auto image = io::load_image(path.string());
    images.push_back(F::interpolate(image.unsqueeze(0), F::InterpolateFuncOptions()
                                                            .size(std::vector<int64_t>{224, 224})
                                                            .mode(torch::kBilinear)
                                                            .align_corners(false))
                         .squeeze(0)
                         .clamp(0, 1));
  }
  return images;
}

TEST(ImageTransforms, EveryTransformKeepsSizeDtypeAndRange) {
  const auto images = test_images();
  auto check = [](const torch::Tensor& in, const torch::Tensor& out, const std::string& what) {
    EXPECT_EQ(out.sizes(), in.sizes()) << what;
    EXPECT_EQ(out.scalar_type(), in.scalar_type()) << what;
    EXPECT_GE(out.min().item<double>(), 0.0) << what;
    EXPECT_LE(out.max().item<double>(), 1.0) << what;
    EXPECT_FALSE(out.equal(in)) << what << " changed nothing";
  };
  for (const auto& image : images) {
    const std::string size = std::to_string(image.size(1)) + "x" + std::to_string(image.size(2));
    for (const auto& t : standard_probe_transforms()) check(image, t.apply(image), t.name + " at " + size);
    const auto other = images.front();
    for (auto shape : {ShapeCue::Silhouette, ShapeCue::Outline})
      for (auto fill : {TextureFill::Tiling, TextureFill::Transfer})
        check(image, make_cue_conflict(image, other, {shape, fill}),
              "cue conflict " + std::to_string(int(shape)) + "/" + std::to_string(int(fill)) + " at " + size);
  }
  const auto views = probe_views(images.front(), standard_probe_transforms());
  EXPECT_EQ(views.images.size(0), 8);  // 3 shuffles, phase scramble, silhouette, edges, blur, stylised
  EXPECT_EQ(views.names.front(), "patch-shuffle-2");
  EXPECT_EQ(views.keeps.front(), Cue::Texture);
  EXPECT_EQ(views.keeps.back(), Cue::Shape);
}

TEST(ImageTransforms, PatchShufflePermutesWholeTilesDeterministically) {
  const auto image = torch::rand({3, 32, 48}, at::make_generator<at::CPUGeneratorImpl>(7));
  for (int grid : {2, 4, 8}) {
    const auto a = patch_shuffle(image, grid, 1), b = patch_shuffle(image, grid, 1), c = patch_shuffle(image, grid, 2);
    EXPECT_TRUE(a.equal(b)) << "same seed, same view";
    EXPECT_FALSE(a.equal(image)) << "never the identity";
    if (grid > 2) {
      EXPECT_FALSE(a.equal(c)) << "another seed, another order";
    }
    // Every output tile is one of the input tiles.
    const int64_t th = 32 / grid, tw = 48 / grid;
    auto tiles = [&](const torch::Tensor& x) {
      return x.reshape({3, grid, th, grid, tw}).permute({1, 3, 0, 2, 4}).reshape({grid * grid, -1});
    };
    const auto in = tiles(image), out = tiles(a);
    for (int64_t i = 0; i < out.size(0); ++i)
      EXPECT_TRUE((in - out[i]).abs().sum(1).eq(0).any().item<bool>()) << "tile " << i << " of grid " << grid;
  }
  EXPECT_THROW(patch_shuffle(image, 5, 0), std::invalid_argument);  // 32 is no multiple of 5
}

TEST(ImageTransforms, PhaseScrambleKeepsAmplitudeAndMeanColourButNotTheLayout) {
  // Low contrast, so no value is clamped and the amplitude is kept exactly.
  const auto image = 0.5 + 0.1 * (disc_on_stripes(64, 64, 0.0f) - 0.5);
  const auto out = phase_scramble(image, 3);
  ASSERT_GT(out.min().item<double>(), 0.0);
  ASSERT_LT(out.max().item<double>(), 1.0);
  const auto amplitude = [](const torch::Tensor& x) { return torch::fft::fft2(x.to(torch::kFloat64)).abs(); };
  EXPECT_TRUE(torch::allclose(amplitude(out), amplitude(image), 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(out.mean(std::vector<int64_t>{1, 2}), image.mean(std::vector<int64_t>{1, 2}), 1e-5, 1e-5));
  EXPECT_GT((out - image).abs().mean().item<double>(), 0.01);
  EXPECT_TRUE(phase_scramble(image, 3).equal(out));
}

TEST(ImageTransforms, SilhouetteFindsTheObjectWhetherDarkOrBright) {
  for (float disc : {0.1f, 0.95f}) {
    const float background = disc < 0.5f ? 0.85f : 0.2f;
    const auto image = disc_on_stripes(96, 96, disc, background);
    const auto mask = foreground_mask(image);
    EXPECT_GT(iou(mask, disc_mask(96, 96)), 0.9) << "disc " << disc;
    const auto s = silhouette(image);
    EXPECT_EQ(s[0][48][48].item<float>(), 0.0f) << "object black";
    EXPECT_EQ(s[1][2][2].item<float>(), 1.0f) << "background white";
  }
  EXPECT_FALSE(foreground_mask(torch::full({3, 32, 32}, 0.4f)).any().item<bool>()) << "a uniform image has no object";
}

TEST(ImageTransforms, EdgesTraceTheOutlineAndBlurRemovesFineDetail) {
  const auto image = disc_on_stripes(96, 96, 0.1f);
  const auto edges = edge_map(image);
  // The disc's border is drawn: almost every pixel on the circle of radius 0.3 · 96 has a dark
  // pixel within 2 px.
  const auto dark = F::max_pool2d(edges[0].lt(0.5).to(torch::kFloat32).unsqueeze(0), F::MaxPool2dFuncOptions(5).stride(1).padding(2))[0];
  const auto ys = torch::arange(96, torch::kFloat32).unsqueeze(1), xs = torch::arange(96, torch::kFloat32).unsqueeze(0);
  const auto circle = (((ys - 48).pow(2) + (xs - 48).pow(2)).sqrt() - 0.3 * 96).abs().lt(0.5);
  EXPECT_GT(dark.masked_select(circle).mean().item<double>(), 0.8);
  EXPECT_TRUE(edge_map(torch::full({3, 32, 32}, 0.4f)).eq(1.0f).all().item<bool>()) << "no edges: all white";

  const auto high_energy = [](const torch::Tensor& x) { return high_pass(x.unsqueeze(0), 0.5 * std::numbers::pi).pow(2).mean().item<double>(); };
  EXPECT_LT(high_energy(strong_blur(image)), 0.01 * high_energy(image));
}

TEST(CueConflictMaker, SilhouetteFilledWithTiledTexture) {
  const auto shape = disc_on_stripes(96, 96, 0.1f);
  const auto texture = torch::rand({3, 64, 64}, at::make_generator<at::CPUGeneratorImpl>(5));
  const auto out = make_cue_conflict(shape, texture, {ShapeCue::Silhouette, TextureFill::Tiling, 0.5});
  const auto object = foreground_mask(shape);
  const auto resized = F::interpolate(texture.unsqueeze(0), F::InterpolateFuncOptions()
                                                                .size(std::vector<int64_t>{96, 96})
                                                                .mode(torch::kBilinear)
                                                                .align_corners(false))
                           .squeeze(0)
                           .clamp(0, 1);
  const auto tiled = tiled_texture(resized, 96, 96, 0.5);
  EXPECT_TRUE(out.masked_select(object.logical_not().unsqueeze(0).expand({3, -1, -1})).eq(1.0f).all().item<bool>())
      << "white outside the object";
  const auto inside = object.unsqueeze(0).expand({3, -1, -1});
  EXPECT_TRUE(torch::allclose(out.masked_select(inside), tiled.masked_select(inside)));
  // The tile (centre crop of 48 px) repeats mirrored: column 47 and 48 meet as mirror images.
  EXPECT_TRUE(tiled.select(2, 47).equal(tiled.select(2, 48)));
  // The outline variant keeps the texture everywhere and draws the disc's edge black.
  const auto outlined = make_cue_conflict(shape, texture, {ShapeCue::Outline, TextureFill::Tiling, 0.5});
  EXPECT_GT(outlined.eq(0.0f).all(0).sum().item<int64_t>(), 100);
}

}  // namespace
}  // namespace vitscope::analysis
