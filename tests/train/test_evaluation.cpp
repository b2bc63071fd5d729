// kNN, linear probe, features and reconstruction loss.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/train/evaluation.h"
#include "core/train/weight_init.h"
#include "toy_data.h"

namespace vt = vitscope::train;
namespace F = torch::nn::functional;

TEST(Knn, MatchesNaiveWeightedVote) {
  torch::manual_seed(5);
  const int N = 60, M = 25, D = 6, C = 3, k = 7;
  const double T = 0.07;
  auto bank = torch::randn({N, D}), queries = torch::randn({M, D});
  auto bank_labels = torch::randint(0, C, {N}, torch::kInt64), query_labels = torch::randint(0, C, {M}, torch::kInt64);
  auto nb = F::normalize(bank, F::NormalizeFuncOptions().dim(1)), nq = F::normalize(queries, F::NormalizeFuncOptions().dim(1));
  int correct = 0;
  for (int i = 0; i < M; ++i) {
    auto sim = nb.matmul(nq[i]);
    auto idx = sim.argsort(0, /*descending=*/true).narrow(0, 0, k);
    std::vector<double> votes(C, 0.0);
    for (int j = 0; j < k; ++j) {
      const auto n = idx[j].item<int64_t>();
      votes[bank_labels[n].item<int64_t>()] += std::exp(sim[n].item<double>() / T);
    }
    const int predicted = static_cast<int>(std::max_element(votes.begin(), votes.end()) - votes.begin());
    correct += predicted == query_labels[i].item<int64_t>();
  }
  vt::KnnOptions o;
  o.k = k;
  o.temperature = T;
  EXPECT_NEAR(vt::knn_top1(bank, bank_labels, queries, query_labels, C, o), correct / static_cast<double>(M), 1e-12);
}

TEST(Knn, SeparatedClustersArePerfect) {
  auto centres = torch::eye(4) * 10;
  auto labels = torch::arange(40, torch::kInt64).remainder(4);
  auto features = centres.index_select(0, labels) + torch::randn({40, 4}) * 0.1;
  EXPECT_DOUBLE_EQ(vt::knn_top1(features, labels, features, labels, 4), 1.0);
}

TEST(LinearProbe, SeparableBlobs) {
  torch::manual_seed(6);
  auto labels = torch::arange(400, torch::kInt64).remainder(3);
  auto centres = torch::randn({3, 16}) * 3;
  auto features = centres.index_select(0, labels) + torch::randn({400, 16});
  vt::LinearProbeOptions o;
  o.epochs = 20;
  o.batch_size = 64;
  o.lr = 0.05;  // few steps: a larger rate than the default protocol's
  auto r = vt::linear_probe(features.narrow(0, 0, 300), labels.narrow(0, 0, 300), features.narrow(0, 300, 100),
                            labels.narrow(0, 300, 100), 3, o);
  EXPECT_GT(r.train_top1, 0.95);
  EXPECT_GT(r.test_top1, 0.9);
  // Same seed, same result.
  auto again = vt::linear_probe(features.narrow(0, 0, 300), labels.narrow(0, 0, 300), features.narrow(0, 300, 100),
                                labels.narrow(0, 300, 100), 3, o);
  EXPECT_EQ(r.test_top1, again.test_top1);
}

TEST(Evaluation, FeaturesMetricsAndReconstruction) {
  auto data = vitscope::test::toy_dataset(32, 16);
  auto card = vt::pretraining_card(vt::ObjectiveKind::Mae, vitscope::test::tiny_architecture(), 0.0, false);
  auto model = vitscope::model::Model::create(card);
  vt::initialize_weights(model, 1);
  auto cls = vt::extract_features(model, data, vt::FeatureReadout::ClsToken, 10);
  auto mean = vt::extract_features(model, data, vt::FeatureReadout::MeanPatchTokens, 10);
  EXPECT_EQ(cls.sizes(), (std::vector<int64_t>{32, 32}));
  EXPECT_FALSE(cls.equal(mean));
  // Features of a batch do not depend on how the data is batched.
  EXPECT_TRUE(torch::allclose(cls, vt::extract_features(model, data, vt::FeatureReadout::ClsToken, 32), 1e-5, 1e-6));

  const double recon = vt::reconstruction_loss(model, data, 3, 8);
  EXPECT_TRUE(std::isfinite(recon));
  EXPECT_GT(recon, 0.0);
  EXPECT_EQ(recon, vt::reconstruction_loss(model, data, 3, 8));  // masks from the seed

  vt::EvaluationOptions o;
  o.probe.epochs = 2;
  auto metrics = vt::evaluate(model, data, data, o);
  EXPECT_TRUE(metrics.contains("knn_top1"));
  EXPECT_TRUE(metrics.contains("linear_probe_top1"));
  EXPECT_TRUE(metrics.contains("reconstruction_loss"));
  EXPECT_EQ(metrics["knn_top1"]["k"], 20);

  auto moco = vitscope::model::Model::create(
      vt::pretraining_card(vt::ObjectiveKind::MocoV3, vitscope::test::tiny_architecture(), 0.0, false));
  EXPECT_THROW(vt::reconstruction_loss(moco, data, 0, 8), std::invalid_argument);
}
