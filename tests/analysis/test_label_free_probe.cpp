// The label-free shape-reliance index and the frequency probe: the arithmetic on hand-made
// tables, and the expected order on two hand-built "models" whose reliance is known by
// construction (no training involved):
//   layout model   — sees only where the image's contrast is: the gradient magnitude of the
//                    luminance, averaged over a 4×4 and an 8×8 grid of cells (two "layers"),
//                    mean removed. It cannot see texture (the cell averages wash it out), so it is
//                    shape-reliant by construction.
//   texture model  — sees only position-free local statistics: per colour channel, the mean
//                    absolute value of the image's fine (> π/2) and middle (π/4…π/2) frequency
//                    bands. It cannot see where anything is, so it is texture-reliant.
#include <gtest/gtest.h>
#include <ATen/CPUGeneratorImpl.h>

#include <numbers>

#include "core/analysis/frequency_filter.h"
#include "core/analysis/frequency_probe.h"
#include "core/analysis/label_free_probe.h"
#include "core/io/image.h"
#include "support/test_env.h"

namespace vitscope::analysis {
namespace {

namespace F = torch::nn::functional;

std::vector<torch::Tensor> layout_model(const torch::Tensor& images) {
  const auto lum = images.mean(1, /*keepdim=*/true);
  const auto gy = F::pad(lum.narrow(2, 1, lum.size(2) - 1) - lum.narrow(2, 0, lum.size(2) - 1), F::PadFuncOptions({0, 0, 0, 1}));
  const auto gx = F::pad(lum.narrow(3, 1, lum.size(3) - 1) - lum.narrow(3, 0, lum.size(3) - 1), F::PadFuncOptions({0, 1, 0, 0}));
  const auto magnitude = (gx.pow(2) + gy.pow(2)).sqrt();
  std::vector<torch::Tensor> layers;
  for (int cells : {4, 8}) {
    const auto pooled = F::adaptive_avg_pool2d(magnitude, F::AdaptiveAvgPool2dFuncOptions(cells)).flatten(1);
    layers.push_back(pooled - pooled.mean(1, true));
  }
  return layers;
}

std::vector<torch::Tensor> texture_model(const torch::Tensor& images) {
  const auto fine = high_pass(images, std::numbers::pi / 2).abs().mean(std::vector<int64_t>{2, 3});
  const auto middle = band_pass(images, std::numbers::pi / 4, std::numbers::pi / 2).abs().mean(std::vector<int64_t>{2, 3});
  return {torch::cat({fine, middle}, 1), fine};
}

// Low frequencies only: the colour layout on a 4×4 grid.
std::vector<torch::Tensor> low_frequency_model(const torch::Tensor& images) {
  return {F::adaptive_avg_pool2d(images, F::AdaptiveAvgPool2dFuncOptions(4)).flatten(1)};
}

// Photos from the sample folder, 128×128 (so every patch-shuffle grid divides them).
torch::Tensor sample_photos() {
  std::vector<torch::Tensor> images;
  for (const char* name : {"chelsea.png", "astronaut.png", "coffee.png", "horse.png", "motorcycle_left.png"}) {
    const auto path = test::resources_dir() / "samples" / "skimage" / name;
    if (!std::filesystem::exists(path)) continue;
    const auto image = io::load_image(path.string()).unsqueeze(0);
    images.push_back(F::interpolate(image, F::InterpolateFuncOptions()
                                               .size(std::vector<int64_t>{128, 128})
                                               .mode(torch::kBilinear)
                                               .align_corners(false))
                         .clamp(0, 1));
  }
  return images.empty() ? torch::Tensor() : torch::cat(images);
}

TEST(LabelFreeProbe, CentredCosine) {
  const auto ref = torch::tensor({1.0, 1.0});
  const auto a = torch::tensor({{2.0, 1.0}, {2.0, 1.0}, {1.0, 1.0}, {3.0, 3.0}});
  const auto b = torch::tensor({{3.0, 1.0}, {0.0, 1.0}, {5.0, 2.0}, {2.0, 2.0}});
  const auto c = centred_cosine(a, b, ref);
  EXPECT_DOUBLE_EQ(c[0].item<double>(), 1.0);   // same direction from the reference
  EXPECT_DOUBLE_EQ(c[1].item<double>(), -1.0);  // opposite
  EXPECT_DOUBLE_EQ(c[2].item<double>(), 0.0);   // a equals the reference: similarity 0
  EXPECT_DOUBLE_EQ(c[3].item<double>(), 1.0);
}

TEST(LabelFreeProbe, IndexIsShapeViewsMinusTextureViewsAveragedOverLayersAndImages) {
  // 2 images, 3 views (texture, shape, shape), 2 layers.
  const auto s = torch::tensor({{{0.2, 0.4}, {0.8, 0.6}, {0.6, 0.6}},
                                {{0.0, 0.0}, {0.5, 0.5}, {0.3, 0.1}}}, torch::kFloat64);
  const auto r = summarize_label_free(s, {"shuffle", "blur", "edges"}, {Cue::Texture, Cue::Shape, Cue::Shape});
  // Image 0: layer 0: 0.7 - 0.2 = 0.5, layer 1: 0.6 - 0.4 = 0.2; image 1: 0.4, 0.3.
  EXPECT_NEAR(r.index_per_layer[0].item<double>(), 0.45, 1e-12);
  EXPECT_NEAR(r.index_per_layer[1].item<double>(), 0.25, 1e-12);
  EXPECT_NEAR(r.shape_reliance_index, 0.35, 1e-12);
  EXPECT_NEAR(r.mean_similarity[1][0].item<double>(), 0.65, 1e-12);
  EXPECT_TRUE(r.metadata.count("shape_reliance_index"));
  EXPECT_THROW(summarize_label_free(s, {"a", "b", "c"}, {Cue::Shape, Cue::Shape, Cue::Shape}), std::invalid_argument);
}

TEST(LabelFreeProbe, ShapeReliantModelScoresAboveTextureReliantModel) {
  const auto images = sample_photos();
  if (!images.defined()) GTEST_SKIP() << "needs the sample photos in resources/samples/skimage";
  int64_t calls = 0;
  const auto results = label_free_probe({layout_model, texture_model}, images, standard_probe_transforms(),
                                        [&](int64_t done) { calls = done; });
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(calls, images.size(0));
  const auto& shape = results[0];
  const auto& texture = results[1];
  std::string table;
  for (size_t v = 0; v < shape.views.size(); ++v)
    table += shape.views[v] + ": layout " + std::to_string(shape.mean_similarity[v].mean().item<double>()) + ", texture " +
             std::to_string(texture.mean_similarity[v].mean().item<double>()) + "\n";
  EXPECT_GT(shape.shape_reliance_index, 0.0) << table;
  EXPECT_LT(texture.shape_reliance_index, 0.0) << table;
  for (int64_t l = 0; l < 2; ++l) EXPECT_GT(shape.index_per_layer[l].item<double>(), texture.index_per_layer[l].item<double>());
  EXPECT_EQ(shape.similarity.sizes(), (std::vector<int64_t>{images.size(0), 8, 2}));
  // The index does not depend on how the features are batched.
  const auto chunked = label_free_probe({in_chunks(layout_model, 2)}, images.narrow(0, 0, 2), standard_probe_transforms());
  const auto whole = label_free_probe({layout_model}, images.narrow(0, 0, 2), standard_probe_transforms());
  EXPECT_NEAR(chunked[0].shape_reliance_index, whole[0].shape_reliance_index, 1e-9);
}

TEST(FrequencyProbe, FilteredImagesStayImagesAndTheExtremesAreKnown) {
  const auto images = torch::rand({2, 3, 32, 32}, at::make_generator<at::CPUGeneratorImpl>(1));
  for (auto band : {FrequencyBand::LowPass, FrequencyBand::HighPass})
    for (double c : default_cutoff_fractions()) {
      const auto f = frequency_filtered(images, band, c);
      EXPECT_EQ(f.sizes(), images.sizes());
      EXPECT_GE(f.min().item<double>(), 0.0);
      EXPECT_LE(f.max().item<double>(), 1.0);
    }
  EXPECT_TRUE(torch::allclose(frequency_filtered(images, FrequencyBand::LowPass, 1.0), images, 1e-5, 1e-5));
  // High-pass above everything leaves the mean colour.
  const auto flat = frequency_filtered(images, FrequencyBand::HighPass, 1.0);
  EXPECT_TRUE(torch::allclose(flat, images.mean(std::vector<int64_t>{2, 3}, true).expand_as(images), 1e-5, 1e-5));
}

TEST(FrequencyProbe, LowFrequencyModelKeepsLowPassAndTextureModelKeepsHighPass) {
  const auto images = sample_photos();
  if (!images.defined()) GTEST_SKIP() << "needs the sample photos in resources/samples/skimage";
  const std::vector<double> cutoffs = {0.2, 0.4};
  const auto low = frequency_probe(low_frequency_model, images, cutoffs);
  const auto tex = frequency_probe(texture_model, images, cutoffs);
  ASSERT_EQ(low.low_pass.sizes(), (std::vector<int64_t>{2, 1}));
  for (int64_t i = 0; i < 2; ++i) {
    EXPECT_GT(low.low_pass[i][0].item<double>(), low.high_pass[i][0].item<double>()) << "cut-off " << cutoffs[i];
    EXPECT_GT(tex.high_pass[i][0].item<double>(), tex.low_pass[i][0].item<double>()) << "cut-off " << cutoffs[i];
  }
  EXPECT_GT(low.low_pass[1][0].item<double>(), 0.95);  // a 4×4 layout lives below 0.4 π
}

}  // namespace
}  // namespace vitscope::analysis
