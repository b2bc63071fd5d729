// AdamW against LibTorch's own, the weight-decay exemptions and gradient clipping.
#include <gtest/gtest.h>

#include "core/train/optimizer.h"

namespace vt = vitscope::train;

TEST(AdamW, BitIdenticalToTorchAdamW) {
  torch::manual_seed(0);
  auto w_ref = torch::randn({4, 3}).requires_grad_(true);
  auto w = w_ref.detach().clone().requires_grad_(true);
  auto x = torch::randn({8, 4});
  torch::optim::AdamW reference({w_ref}, torch::optim::AdamWOptions(0.01).betas({0.9, 0.95}).weight_decay(0.1));
  vt::AdamW ours({{"encoder.blocks.0.fc.weight", w}}, vt::AdamWOptions{0.9, 0.95, 1e-8, 0.1});
  for (int step = 0; step < 5; ++step) {
    reference.zero_grad();
    (x.matmul(w_ref).pow(2).sum() * (step + 1)).backward();
    reference.step();
    ours.zero_grad();
    (x.matmul(w).pow(2).sum() * (step + 1)).backward();
    ours.step(0.01);
  }
  EXPECT_TRUE(w.equal(w_ref));
  EXPECT_EQ(ours.steps(), 5);
}

TEST(AdamW, NoDecayOnNormsBiasesTokensAndPositions) {
  auto matrix = torch::zeros({2, 2}), vector = torch::zeros({2}), token = torch::zeros({1, 1, 2});
  EXPECT_FALSE(vt::exempt_from_weight_decay("encoder.blocks.0.attn.qkv.weight", matrix));
  EXPECT_TRUE(vt::exempt_from_weight_decay("encoder.blocks.0.attn.qkv.bias", vector));
  EXPECT_TRUE(vt::exempt_from_weight_decay("encoder.norm.weight", vector));
  EXPECT_TRUE(vt::exempt_from_weight_decay("encoder.blocks.0.ls1.gamma", vector));
  EXPECT_TRUE(vt::exempt_from_weight_decay("encoder.cls_token", token));
  EXPECT_TRUE(vt::exempt_from_weight_decay("encoder.mask_token", token));
  EXPECT_TRUE(vt::exempt_from_weight_decay("encoder.pos_embed", token));
  EXPECT_TRUE(vt::exempt_from_weight_decay("mae_decoder.mask_token", token));
}

TEST(AdamW, ExemptParametersAreNotDecayed) {
  // Zero gradient → only the decay term could move a parameter.
  auto w = torch::ones({2, 2}).requires_grad_(true), b = torch::ones({2}).requires_grad_(true);
  vt::AdamW opt({{"fc.weight", w}, {"fc.bias", b}}, vt::AdamWOptions{0.9, 0.999, 1e-8, 0.5});
  (w.sum() * 0 + b.sum() * 0).backward();
  opt.step(0.1);
  EXPECT_TRUE(torch::allclose(w, torch::full({2, 2}, 0.95f)));
  EXPECT_TRUE(b.equal(torch::ones({2})));
}

TEST(ClipGradNorm, ScalesToMaxNorm) {
  auto a = torch::zeros({2}).requires_grad_(true), b = torch::zeros({1}).requires_grad_(true);
  a.mutable_grad() = torch::tensor({3.0f, 0.0f});
  b.mutable_grad() = torch::tensor({4.0f});
  auto norm = vt::clip_grad_norm({{"a", a}, {"b", b}}, 1.0);
  EXPECT_NEAR(norm.item<double>(), 5.0, 1e-6);
  EXPECT_NEAR(a.grad()[0].item<double>(), 0.6, 1e-5);
  EXPECT_NEAR(b.grad()[0].item<double>(), 0.8, 1e-5);
  // Below the limit nothing changes.
  vt::clip_grad_norm({{"a", a}, {"b", b}}, 10.0);
  EXPECT_NEAR(b.grad()[0].item<double>(), 0.8, 1e-5);
}
