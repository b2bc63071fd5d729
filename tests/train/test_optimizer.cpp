// AdamW against LibTorch's own (one rate, and per-group rates for layer decay), the
// weight-decay exemptions, the layer-decay scales and gradient clipping.
#include <gtest/gtest.h>

#include <cmath>

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

TEST(LayerDecay, EarlyLayersLearnSlowerHeadsAtTheFullRate) {
  const int depth = 12;
  EXPECT_DOUBLE_EQ(vt::layer_decay_lr_scale("encoder.patch_embed.proj.weight", depth, 0.5), std::pow(0.5, 13));
  EXPECT_DOUBLE_EQ(vt::layer_decay_lr_scale("encoder.cls_token", depth, 0.5), std::pow(0.5, 13));
  EXPECT_DOUBLE_EQ(vt::layer_decay_lr_scale("encoder.pos_embed", depth, 0.5), std::pow(0.5, 13));
  EXPECT_DOUBLE_EQ(vt::layer_decay_lr_scale("encoder.blocks.0.attn.qkv.weight", depth, 0.5), std::pow(0.5, 12));
  EXPECT_DOUBLE_EQ(vt::layer_decay_lr_scale("encoder.blocks.10.mlp.fc1.bias", depth, 0.5), std::pow(0.5, 2));
  EXPECT_DOUBLE_EQ(vt::layer_decay_lr_scale("encoder.blocks.11.norm2.weight", depth, 0.5), 0.5);
  for (const char* top : {"encoder.norm.weight", "encoder.head.weight", "mae_decoder.decoder_blocks.0.mlp.fc1.weight",
                          "simmim_head.conv.weight", "moco_projector.layers.0.weight"})
    EXPECT_DOUBLE_EQ(vt::layer_decay_lr_scale(top, depth, 0.5), 1.0) << top;
  EXPECT_DOUBLE_EQ(vt::layer_decay_lr_scale("encoder.blocks.0.attn.qkv.weight", depth, 1.0), 1.0);
}

TEST(AdamW, LearningRateScalesMatchTorchParameterGroups) {
  torch::manual_seed(1);
  auto a_ref = torch::randn({4, 3}).requires_grad_(true), b_ref = torch::randn({3, 2}).requires_grad_(true);
  auto a = a_ref.detach().clone().requires_grad_(true), b = b_ref.detach().clone().requires_grad_(true);
  auto x = torch::randn({8, 4});
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{a_ref}, std::make_unique<torch::optim::AdamWOptions>(
                                                             torch::optim::AdamWOptions(0.0025).weight_decay(0.1)));
  groups.emplace_back(std::vector<torch::Tensor>{b_ref}, std::make_unique<torch::optim::AdamWOptions>(
                                                             torch::optim::AdamWOptions(0.01).weight_decay(0.1)));
  torch::optim::AdamW reference(std::move(groups), torch::optim::AdamWOptions(0.01).weight_decay(0.1));
  // 0.25 = a power of two, so 0.01 × 0.25 is the reference's 0.0025 exactly.
  vt::AdamW ours({{"encoder.blocks.0.fc.weight", a, 0.25}, {"encoder.head.weight", b, 1.0}},
                 vt::AdamWOptions{0.9, 0.999, 1e-8, 0.1});
  for (int step = 0; step < 4; ++step) {
    reference.zero_grad();
    x.matmul(a_ref).matmul(b_ref).pow(2).sum().backward();
    reference.step();
    ours.zero_grad();
    x.matmul(a).matmul(b).pow(2).sum().backward();
    ours.step(0.01);
  }
  EXPECT_TRUE(a.equal(a_ref));
  EXPECT_TRUE(b.equal(b_ref));
}
