// Dataset analysis (core/runtime/dataset_analysis): running the models' chunks on several CPU
// workers gives exactly what one worker gives, for every output (t-SNE included, which magnifies
// any rounding difference); an error while workers run reaches the caller; either way the thread
// settings are left as found.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>

#include "core/runtime/dataset_analysis.h"
#include "core/train/pretraining_card.h"
#include "core/train/weight_init.h"
#include "support/test_env.h"
#include "train/toy_data.h"

using namespace vitscope;

namespace {

// The training tests' tiny architecture at 48 px in 4-px patches: 145 tokens, so chunks of
// 512 / 145 = 3 images.
model::Model small_model(train::ObjectiveKind objective, uint64_t seed) {
  auto arch = test::tiny_architecture();
  arch.image_size = 48;
  auto card = train::pretraining_card(objective, arch, 0.2, true);
  card.name = train::objective_kind_name(objective);
  auto m = model::Model::create(card);
  train::initialize_weights(m, seed);
  m.eval();
  return m;
}

std::vector<runtime::ImageItem> images(int count) {
  const auto dir = test::temp_dir("dataset-analysis-images");
  std::vector<runtime::ImageItem> items;
  cv::RNG rng(7);
  for (int i = 0; i < count; ++i) {
    cv::Mat m(36, 40, CV_8UC3);
    rng.fill(m, cv::RNG::UNIFORM, 0, 256);
    const auto path = (dir / ("img" + std::to_string(i) + ".png")).string();
    cv::imwrite(path, m);
    items.push_back({path, i % 3});
  }
  return items;
}

struct Picture {
  int model;
  std::string path, kind;
  torch::Tensor values;
};

struct Run {
  runtime::DatasetAnalysis result;
  std::vector<Picture> pictures;
};

Run analyse(std::vector<model::Model*> models, const std::vector<runtime::ImageItem>& items, int cpu_workers) {
  Run run;
  runtime::DatasetAnalysisOptions o;
  o.metrics = runtime::dataset_metric_names();
  o.batch_size = 7;  // 11 images: batches of 7 and 4, in chunks of 3, 3, 1 and 3, 1
  o.max_pictures = 7;
  o.tsne_images = 6;
  o.tsne_tap = 2;
  o.cpu_workers = cpu_workers;
  o.on_picture = [&](int model, const runtime::ImageItem& item, const std::string& kind, const torch::Tensor& p) {
    run.pictures.push_back({model, item.path, kind, p.clone()});
  };
  run.result = runtime::analyze_dataset(std::move(models), items, o);
  return run;
}

void expect_identical(const torch::Tensor& a, const torch::Tensor& b, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  EXPECT_TRUE(torch::equal(a, b)) << what;
}

}  // namespace

TEST(DatasetAnalysis, SeveralCpuWorkersGiveWhatOneGives) {
  auto mae = small_model(train::ObjectiveKind::Mae, 1);  // with a decoder: its Fourier taps too
  auto moco = small_model(train::ObjectiveKind::MocoV3, 2);
  const auto items = images(11);
  const int threads_before = at::get_num_threads();
  const auto one = analyse({&mae, &moco}, items, 1);
  const auto three = analyse({&mae, &moco}, items, 3);
  EXPECT_EQ(at::get_num_threads(), threads_before);

  const auto& a = one.result;
  const auto& b = three.result;
  EXPECT_EQ(a.images, 11);
  EXPECT_EQ(b.images, a.images);
  EXPECT_EQ(b.skipped, a.skipped);
  ASSERT_EQ(b.models.size(), a.models.size());
  for (size_t m = 0; m < a.models.size(); ++m) {
    const auto& sa = a.models[m].stats;
    const auto& sb = b.models[m].stats;
    ASSERT_EQ(sb.metrics(), sa.metrics());
    for (const auto& metric : sa.metrics()) {
      EXPECT_EQ(sb.count(metric), sa.count(metric)) << metric;
      EXPECT_EQ(sb.invalid_images(metric), sa.invalid_images(metric)) << metric;
      expect_identical(sb.mean(metric), sa.mean(metric), metric + " mean");
      expect_identical(sb.standard_deviation(metric), sa.standard_deviation(metric), metric + " std");
    }
  }
  EXPECT_TRUE(a.models[0].stats.count("decoder-delta-log-amplitude") == 11);
  ASSERT_EQ(b.cka.size(), 1u);
  expect_identical(b.cka[0].result(), a.cka[0].result(), "cka");
  ASSERT_EQ(b.tsne.size(), 2u);
  for (size_t m = 0; m < 2; ++m) {
    EXPECT_EQ(b.tsne[m].image_index, a.tsne[m].image_index);
    EXPECT_EQ(b.tsne[m].label, a.tsne[m].label);
    expect_identical(b.tsne[m].embedding, a.tsne[m].embedding, "t-SNE");
  }
  EXPECT_EQ(a.tsne[0].image_index.front(), 0);
  EXPECT_EQ(a.tsne[0].image_index.back(), 5);  // the first 6 images, across two batches

  // Rollout, PCA and two attention maps per image, for the first 7 images of both models.
  ASSERT_EQ(one.pictures.size(), 2u * 7u * 4u);
  ASSERT_EQ(three.pictures.size(), one.pictures.size());
  for (size_t i = 0; i < one.pictures.size(); ++i) {
    const auto& p = one.pictures[i];
    const auto& q = three.pictures[i];
    EXPECT_EQ(q.model, p.model);
    EXPECT_EQ(q.path, p.path);
    EXPECT_EQ(q.kind, p.kind);
    expect_identical(q.values, p.values, p.kind);
  }
}

TEST(DatasetAnalysis, AnErrorWhileWorkersRunStopsThemAndReachesTheCaller) {
  auto moco = small_model(train::ObjectiveKind::MocoV3, 3);
  const auto items = images(9);
  runtime::DatasetAnalysisOptions o;
  o.metrics = {"nmi", "pca"};
  o.batch_size = 9;
  o.cpu_workers = 3;
  int pictures = 0;
  o.on_picture = [&](int, const runtime::ImageItem&, const std::string&, const torch::Tensor&) {
    if (++pictures == 2) throw std::runtime_error("cannot write picture: disk full");
  };
  const int threads_before = at::get_num_threads();
  try {
    runtime::analyze_dataset({&moco}, items, o);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "cannot write picture: disk full");
  }
  EXPECT_EQ(pictures, 2);  // the pictures stop at the first error
  EXPECT_EQ(at::get_num_threads(), threads_before);
}
