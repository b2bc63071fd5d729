// Loss functions and schedules against hand-computed values and naive loops.
#include <gtest/gtest.h>

#include <cmath>

#include "core/model/heads.h"
#include "core/train/mae.h"
#include "core/train/moco_v3.h"
#include "core/train/schedule.h"
#include "core/train/simmim.h"

namespace vt = vitscope::train;

TEST(MocoLoss, TwoByTwoByHand) {
  // q = k = identity rows: logits = diag(1/τ) → CE = log(1 + e^{-1/τ}) per row, times 2τ.
  const double tau = 0.2;
  auto q = torch::tensor({{2.0f, 0.0f}, {0.0f, 3.0f}});  // normalisation removes the scale
  auto k = torch::tensor({{1.0f, 0.0f}, {0.0f, 1.0f}});
  const double expected = std::log(1.0 + std::exp(-1.0 / tau)) * 2.0 * tau;
  EXPECT_NEAR(vt::moco_contrastive_loss(q, k, tau).item<double>(), expected, 1e-6);
}

TEST(MocoLoss, MatchesNaiveLoop) {
  torch::manual_seed(3);
  const int N = 5, D = 7;
  const double tau = 0.2;
  auto q = torch::randn({N, D}, torch::kFloat64), k = torch::randn({N, D}, torch::kFloat64);
  double total = 0.0;
  for (int i = 0; i < N; ++i) {
    auto qi = q[i] / q[i].norm();
    std::vector<double> logits;
    for (int j = 0; j < N; ++j) logits.push_back((qi * (k[j] / k[j].norm())).sum().item<double>() / tau);
    double denom = 0.0;
    for (double l : logits) denom += std::exp(l);
    total += -(logits[i] - std::log(denom));
  }
  const double expected = total / N * 2.0 * tau;
  EXPECT_NEAR(vt::moco_contrastive_loss(q.to(torch::kFloat32), k.to(torch::kFloat32), tau).item<double>(), expected,
              1e-5);
}

TEST(MocoMomentum, HalfCosineFromBase) {
  EXPECT_DOUBLE_EQ(vt::moco_momentum(0.0, 0.99), 0.99);
  EXPECT_NEAR(vt::moco_momentum(0.5, 0.99), 0.995, 1e-12);
  EXPECT_NEAR(vt::moco_momentum(1.0, 0.99), 1.0, 1e-12);
}

TEST(SimMimLoss, MatchesNaiveLoopOverMaskedPixels) {
  torch::manual_seed(4);
  const int B = 2, C = 3, P = 2, g = 2, H = g * P;
  auto pred = torch::randn({B, C, H, H}), target = torch::randn({B, C, H, H});
  auto mask = torch::tensor({{1.f, 0.f, 0.f, 1.f}, {0.f, 0.f, 1.f, 0.f}});  // tokens row-major
  double sum = 0.0, masked_pixels = 0.0;
  for (int b = 0; b < B; ++b)
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < H; ++x) {
        if (mask[b][(y / P) * g + x / P].item<float>() == 0.f) continue;
        masked_pixels += 1;
        for (int c = 0; c < C; ++c) sum += std::abs((pred[b][c][y][x] - target[b][c][y][x]).item<double>());
      }
  const double expected = sum / (masked_pixels + 1e-5) / C;
  EXPECT_NEAR(vt::simmim_loss(pred, target, mask, P).item<double>(), expected, 1e-5);
}

TEST(MaeLoss, PlainPixelsOnlyMaskedPatches) {
  // Two patches of 2 values; patch 0 kept (ignored), patch 1 removed.
  auto pred = torch::tensor({{{0.f, 0.f}, {1.f, 3.f}}});
  auto target = torch::tensor({{{9.f, 9.f}, {0.f, 0.f}}});
  auto mask = torch::tensor({{0.f, 1.f}});
  EXPECT_NEAR(vt::mae_loss(pred, target, mask, false).item<double>(), (1.0 + 9.0) / 2.0, 1e-6);
}

TEST(MaeLoss, NormalisedPixelsUseUnbiasedVariance) {
  // Target patch [1, 3]: mean 2, unbiased var 2 → t̂ = ±1/sqrt(2 + 1e-6); prediction 0.
  auto pred = torch::zeros({1, 1, 2});
  auto target = torch::tensor({{{1.f, 3.f}}});
  auto mask = torch::ones({1, 1});
  const double t = 1.0 / std::sqrt(2.0 + 1e-6);
  EXPECT_NEAR(vt::mae_loss(pred, target, mask, true).item<double>(), t * t, 1e-6);
}

TEST(MaeLoss, PatchifyOrderOfTargets) {
  // patchify index (p*P + q)*C + c (paper-analyses.md §3.13) for a 4x4, P=2, C=3 image.
  auto img = torch::arange(48, torch::kFloat32).reshape({1, 3, 4, 4});
  auto patches = vitscope::model::patchify(img, 2);
  // Patch 1 (row 0, col 1), p=1, q=0, c=2 → pixel (y=1, x=2) of channel 2 = 2*16 + 1*4 + 2.
  EXPECT_EQ(patches[0][1][(1 * 2 + 0) * 3 + 2].item<float>(), 2 * 16 + 1 * 4 + 2);
}

TEST(Schedule, WarmupThenCosine) {
  vt::LrSchedule s{1.0, 0.1, 10, 110};
  EXPECT_DOUBLE_EQ(vt::learning_rate(s, 0), 0.0);
  EXPECT_DOUBLE_EQ(vt::learning_rate(s, 5), 0.5);
  EXPECT_DOUBLE_EQ(vt::learning_rate(s, 10), 1.0);
  EXPECT_NEAR(vt::learning_rate(s, 60), 0.1 + 0.9 * 0.5, 1e-12);
  EXPECT_NEAR(vt::learning_rate(s, 110), 0.1, 1e-12);
}
