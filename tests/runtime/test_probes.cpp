// The probe engine on real models: reading cue-conflict stimuli, the linear head (standardisation
// folded into the layer, installed, saved and loaded), shape bias end to end with a classifier of
// known decisions, the class-mapping lookup, and the label-free probe through a bundled ViT.
#include <gtest/gtest.h>

#include <fstream>

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>

#include "core/io/image.h"
#include "core/model/loader.h"
#include "core/runtime/probes.h"
#include "support/test_env.h"

using namespace vitscope;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kCifar10 = {"airplane", "automobile", "bird", "cat", "deer",
                                           "dog", "frog", "horse", "ship", "truck"};

// A small ViT with fresh weights (16 px, 4×4 patches, 2 blocks).
model::Model small_model() {
  model::ModelCard card;
  card.name = "small";
  card.vit.image_size = 16;
  card.vit.patch_size = 4;
  card.vit.embed_dim = 32;
  card.vit.depth = 2;
  card.vit.num_heads = 2;
  card.vit.mlp_hidden_dim = 64;
  card.vit.pos_embed = model::PosEmbedKind::SinCosColumnFirst;
  card.preprocess.mode = model::Preprocess::Mode::Resize;
  torch::manual_seed(0);
  auto m = model::Model::create(card);
  m.eval();
  return m;
}

void write_png(const fs::path& path, const torch::Tensor& image) {
  fs::create_directories(path.parent_path());
  io::save_image(image, path.string());
}

// A flat colour with a little noise, so features differ between images.
torch::Tensor colour_image(float r, float g, float b, uint64_t seed, int size = 24) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto image = torch::tensor({r, g, b}).reshape({3, 1, 1}).expand({3, size, size}).clone();
  return (image + 0.05 * torch::randn({3, size, size}, gen)).clamp(0, 1);
}

// cat/cat1-dog1 (shape hit for "always cat"), cat/cat2-cat1 (same class), dog/dog1-cat2 (texture
// hit), dog/dog2-truck1 and car/car1-dog3 (neither), deer/deer1-cat1 (deer is no category).
fs::path synthetic_stimuli(const std::string& name) {
  const auto root = test::temp_dir(name);
  uint64_t seed = 1;
  for (const char* f : {"cat/cat1-dog1.png", "cat/cat2-cat1.png", "dog/dog1-cat2.png", "dog/dog2-truck1.png",
                        "car/car1-dog3.png", "deer/deer1-cat1.png"})
    write_png(root / f, colour_image(0.5f, 0.4f, 0.3f, seed++));
  return root;
}

TEST(Probes, CueConflictFileNamesGiveTheTextureClass) {
  EXPECT_EQ(runtime::texture_class_of("cat1-dog2.png"), "dog");
  EXPECT_EQ(runtime::texture_class_of("airplane10-bird3.png"), "bird");
  EXPECT_THROW(runtime::texture_class_of("cat1.png"), std::invalid_argument);
  EXPECT_THROW(runtime::texture_class_of("cat1-7.png"), std::invalid_argument);
}

TEST(Probes, ReadsTheSharedCueConflictSet) {
  const auto root = test::shared_dir() / "data" / "cue-conflict";
  if (!fs::exists(root)) GTEST_SKIP() << "needs " << root << " (../shared, the reference data)";
  for (const auto& dir : {root, root / "stimuli" / "cue-conflict"}) {
    const auto s = runtime::read_cue_conflict_stimuli(dir.string());
    EXPECT_EQ(s.images.size(), 245u);
    EXPECT_EQ(std::count_if(s.images.begin(), s.images.end(), [](const auto& i) { return i.shape == i.texture; }), 35);
    EXPECT_EQ(s.silhouettes.size(), 70u);
    EXPECT_EQ(s.edges.size(), 70u);
    EXPECT_TRUE(s.imagenet16_mapping.ends_with("imagenet16_categories.json")) << s.imagenet16_mapping;
  }
  EXPECT_THROW(runtime::read_cue_conflict_stimuli((root / "stimuli" / "edges" / "cat").string()), std::runtime_error);
}

TEST(Probes, LinearHeadFoldsTheStandardisationAndIsInstalledSavedAndLoaded) {
  auto m = small_model();
  // Two classes told apart by colour; no test split: every 10th image is held out.
  const auto data = test::temp_dir("probe-head-data");
  for (int i = 0; i < 20; ++i) {
    write_png(data / "cat" / (std::to_string(i) + ".png"), colour_image(0.8f, 0.2f, 0.2f, 100 + i));
    write_png(data / "dog" / (std::to_string(i) + ".png"), colour_image(0.2f, 0.2f, 0.8f, 200 + i));
  }
  std::ofstream(data / "dog" / "broken.png") << "not a png";  // left out, and said so
  runtime::HeadTrainingOptions o;
  o.probe.epochs = 30;
  std::vector<std::string> stages;
  const auto r = runtime::train_linear_head(m, data.string(), o, [&](const std::string& s, int64_t, int64_t) { stages.push_back(s); });
  EXPECT_EQ(r.train_images, 36);
  EXPECT_EQ(r.test_images, 4);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_NE(r.skipped[0].find("broken.png"), std::string::npos) << r.skipped[0];
  EXPECT_EQ(r.record().at("skipped_images"), 1);
  EXPECT_DOUBLE_EQ(r.train_top1, 1.0);
  EXPECT_DOUBLE_EQ(r.test_top1, 1.0);
  EXPECT_FALSE(stages.empty());
  ASSERT_EQ(m.config().num_classes, 2);
  EXPECT_EQ(m.card.class_names, (std::vector<std::string>{"cat", "dog"}));
  EXPECT_TRUE(m.card.metrics.contains("classifier_head"));

  // The installed head gives the linear probe's logits on raw features: standardisation folded in.
  io::DatasetOptions d;
  d.image_size = 16;
  const auto set = io::load_dataset(data.string(), d);
  const auto features = train::extract_features(m, set, train::FeatureReadout::HeadInput, 16);
  const auto probe = train::linear_probe(features, set.labels, features, set.labels, 2, o.probe);
  EXPECT_DOUBLE_EQ(torch::linear(features, probe.weight, probe.bias).argmax(1).eq(set.labels).to(torch::kFloat64).mean().item<double>(),
                   probe.train_top1);
  runtime::install_classifier(m, probe.weight, probe.bias, {"cat", "dog"});
  const auto x = io::normalize(set.images.to(torch::kFloat32).div(255.0), m.card.preprocess);
  torch::NoGradGuard no_grad;
  const auto logits = m.encoder->forward(x);
  EXPECT_TRUE(torch::allclose(logits, torch::linear(features, probe.weight, probe.bias), 1e-4, 1e-4));

  // Saved as a ViTScope model, it loads as a classifier with its class names.
  const auto file = test::temp_dir("probe-head-model") / "small-head.safetensors";
  model::save_model(m, file.string());
  auto loaded = model::load_model(file.string()).model;
  EXPECT_EQ(loaded.config().num_classes, 2);
  EXPECT_EQ(loaded.card.class_names, (std::vector<std::string>{"cat", "dog"}));
  loaded.eval();
  EXPECT_TRUE(torch::allclose(loaded.encoder->forward(x), logits, 1e-5, 1e-5));
}

TEST(Probes, ShapeBiasEndToEndWithAClassifierThatAlwaysSaysCat) {
  auto m = small_model();
  auto bias = torch::zeros({10});
  bias[3] = 5.0;  // "cat"
  runtime::install_classifier(m, torch::zeros({10, 32}), bias, kCifar10);
  const auto stimuli = runtime::read_cue_conflict_stimuli(synthetic_stimuli("probe-stimuli").string());
  ASSERT_EQ(stimuli.images.size(), 6u);
  EXPECT_TRUE(stimuli.silhouettes.empty());
  const auto mapping = runtime::class_mapping_for(m, "", &stimuli);  // the bundled CIFAR-10 mapping
  EXPECT_EQ(mapping.categories.size(), 7u);
  runtime::ShapeBiasOptions o;
  o.frequency_cutoffs = {0.1, 0.5};
  const auto r = runtime::measure_shape_bias(m, stimuli, mapping, o);
  for (const auto& t : r.trials) EXPECT_EQ(t.decision, "cat");
  EXPECT_EQ(r.result.excluded_same_class, 1);
  EXPECT_EQ(r.result.excluded_unmapped, 1);
  EXPECT_EQ(r.result.overall.trials, 4);
  EXPECT_EQ(r.result.overall.shape_hits, 1);
  EXPECT_EQ(r.result.overall.texture_hits, 1);
  EXPECT_DOUBLE_EQ(*r.result.overall.shape_bias(), 0.5);
  ASSERT_EQ(r.low_pass.size(), 2u);
  EXPECT_EQ(r.low_pass[0].shape_hits, 1) << "a constant classifier decides the same on filtered images";
  EXPECT_FALSE(r.silhouette_accuracy);
  const auto j = r.to_json();
  EXPECT_EQ(j["overall"]["trials"], 4);
  EXPECT_EQ(j["per_category"].size(), 3u);  // car, cat, dog
  EXPECT_TRUE(j.contains("frequency"));
}

TEST(Probes, ClassMappingsSayWhatIsMissing) {
  auto m = small_model();
  const auto stimuli = runtime::read_cue_conflict_stimuli(synthetic_stimuli("probe-mapping").string());
  EXPECT_THROW(runtime::class_mapping_for(m, "", &stimuli), std::runtime_error);  // no head
  runtime::install_classifier(m, torch::zeros({1000, 32}), torch::zeros({1000}), std::vector<std::string>(1000, ""));
  try {
    runtime::class_mapping_for(m, "", &stimuli);  // a 1000-way head, no imagenet16_categories.json
    ADD_FAILURE() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("imagenet16_categories.json"), std::string::npos) << e.what();
  }
  runtime::install_classifier(m, torch::zeros({2, 32}), torch::zeros({2}), {"left", "right"});
  try {
    runtime::class_mapping_for(m, "", &stimuli);
    ADD_FAILURE() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("mapping"), std::string::npos) << e.what();
  }
}

TEST(Probes, LabelFreeProbeThroughABundledViT) {
  const auto path = test::resources_dir() / "models" / "moco.safetensors";
  if (!fs::exists(path)) GTEST_SKIP() << "needs the bundled models";
  auto m = model::load_model(path.string()).model;
  const auto features = runtime::block_features(m, 3);
  const auto image = runtime::probe_image(io::load_image((test::resources_dir() / "samples" / "generated" / "star_with_stripes.png").string()));
  ASSERT_EQ(image.sizes(), (std::vector<int64_t>{3, runtime::kProbeImageSize, runtime::kProbeImageSize}));
  const auto layers = features(torch::stack({image, image}));
  ASSERT_EQ(layers.size(), 12u);
  EXPECT_EQ(layers[0].sizes(), (std::vector<int64_t>{2, 128}));
  // An identity view is similarity 1 at every block; the index is shape minus texture.
  std::vector<analysis::ProbeTransform> transforms = {
      {"identity", analysis::Cue::Shape, "", [](const torch::Tensor& x) { return x.clone(); }},
      {"patch-shuffle-8", analysis::Cue::Texture, "", [](const torch::Tensor& x) { return analysis::patch_shuffle(x, 8, 0); }}};
  const auto r = analysis::label_free_probe({features}, image.unsqueeze(0), transforms)[0];
  EXPECT_TRUE(torch::allclose(r.mean_similarity[0], torch::ones({12}, torch::kFloat64), 1e-5, 1e-5));
  EXPECT_TRUE(torch::allclose(r.index_per_layer, 1.0 - r.mean_similarity[1], 1e-9, 1e-9));
  const auto standard = analysis::label_free_probe({features}, image.unsqueeze(0), analysis::standard_probe_transforms())[0];
  EXPECT_TRUE(std::isfinite(standard.shape_reliance_index));
  EXPECT_LE(std::abs(standard.shape_reliance_index), 2.0);
}

}  // namespace
