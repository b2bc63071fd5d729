// Frequency-noise robustness (paper-analyses.md §3.7): matching a data set's classes to a
// classifier head, and the accuracy bookkeeping.
#include <gtest/gtest.h>

#include <numbers>

#include "core/runtime/noise_robustness.h"
#include "core/train/pretraining_card.h"
#include "core/train/weight_init.h"

using namespace vitscope;

namespace {

model::Model classifier(const std::vector<std::string>& class_names, int num_classes) {
  auto card = train::pretraining_card(train::ObjectiveKind::MocoV3, {}, 0.2, true);
  card.vit.depth = 2;
  card.vit.num_classes = num_classes;
  card.class_names = class_names;
  auto m = model::Model::create(card);
  train::initialize_weights(m, 1);
  m.eval();
  return m;
}

io::ImageDataset random_images(int per_class, const std::vector<std::string>& classes) {
  io::ImageDataset d;
  const auto n = per_class * static_cast<int64_t>(classes.size());
  torch::manual_seed(0);
  d.images = torch::randint(0, 256, {n, 3, 32, 32}, torch::kUInt8);
  d.labels = torch::arange(n, torch::kLong).remainder(static_cast<int64_t>(classes.size()));
  d.class_names = classes;
  return d;
}

TEST(NoiseRobustness, DataClassesMapToTheHeadByNameOrPosition) {
  std::string how;
  EXPECT_EQ(runtime::head_outputs_for(classifier({"b", "a", "c"}, 3), {"a", "c"}, &how), (std::vector<int64_t>{1, 2}));
  EXPECT_NE(how.find("by class name"), std::string::npos);
  EXPECT_EQ(runtime::head_outputs_for(classifier({}, 2), {"x", "y"}, &how), (std::vector<int64_t>{0, 1}));
  EXPECT_NE(how.find("by position"), std::string::npos);

  auto message = [](const model::Model& m, const std::vector<std::string>& classes) {
    try {
      runtime::head_outputs_for(m, classes);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(classifier({"b", "a"}, 2), {"a", "d"}).find("'d' is not among"), std::string::npos);
  EXPECT_NE(message(classifier({}, 3), {"x", "y"}).find("cannot be matched"), std::string::npos);
  EXPECT_NE(message(classifier({}, 0), {"x", "y"}).find("has no classifier head"), std::string::npos);
}

TEST(NoiseRobustness, NoNoiseChangesNothingAndAccuraciesAreFractions) {
  auto m = classifier({"p", "q"}, 2);
  const auto data = random_images(6, {"p", "q"});
  runtime::NoiseRobustnessOptions o;
  o.epsilon = 0.0;
  o.batch_size = 5;  // batches that do not divide the data
  const auto r = runtime::noise_robustness(m, data, o);
  ASSERT_EQ(r.band_centres.size(), 11u);  // 0, π/10, …, π
  EXPECT_DOUBLE_EQ(r.band_centres.back(), std::numbers::pi);
  EXPECT_EQ(r.images, 12);
  EXPECT_GE(r.clean_top1, 0.0);
  EXPECT_LE(r.clean_top1, 1.0);
  for (size_t k = 0; k < r.band_centres.size(); ++k) {
    EXPECT_DOUBLE_EQ(r.noisy_top1[k], r.clean_top1) << k;
    EXPECT_DOUBLE_EQ(r.accuracy_drop[k], 0.0) << k;
  }

  o.epsilon = 50.0;
  o.band_centres = {0.5, 2.5};
  const auto noisy = runtime::noise_robustness(m, data, o);
  ASSERT_EQ(noisy.noisy_top1.size(), 2u);
  for (double a : noisy.noisy_top1) EXPECT_TRUE(a >= 0 && a <= 1);
  o.band_centres = {4.0};  // above π
  EXPECT_THROW(runtime::noise_robustness(m, data, o), std::invalid_argument);
}

}  // namespace
