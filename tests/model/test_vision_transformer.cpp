// The ViT module: position tables, relative-bias index, capture semantics, masking, resizing.
#include <ATen/record_function.h>
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "core/model/heads.h"
#include "core/model/vision_transformer.h"

using namespace vitscope::model;

namespace {

ViTConfig tiny_config() {
  ViTConfig c;
  c.image_size = 32;
  c.patch_size = 8;
  c.embed_dim = 32;
  c.depth = 2;
  c.num_heads = 4;
  c.mlp_hidden_dim = 64;
  return c;
}

void randomize(torch::nn::Module& m, uint64_t seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard g;
  for (auto& p : m.parameters()) p.uniform_(-0.5, 0.5);
}

TEST(SinCos, MatchesTheFormulaOfBothLayouts) {
  // paper-analyses.md §1.3: pe[m] = [sin(rω), cos(rω), sin(cω), cos(cω)] for MoCo (row first);
  // MAE swaps the halves. ω_d = 10000^(-d/P), P = D/4. Checked entry by entry in double.
  const int D = 16, g = 5, P = D / 4;
  for (bool row_first : {true, false}) {
    auto t = sincos_pos_embed_2d(D, g, row_first);
    ASSERT_EQ(t.sizes(), (std::vector<int64_t>{g * g, D}));
    auto acc = t.accessor<float, 2>();
    for (int m = 0; m < g * g; ++m) {
      const double r = m / g, c = m % g;
      for (int d = 0; d < P; ++d) {
        const double w = std::pow(10000.0, -static_cast<double>(d) / P);
        const double first = row_first ? r : c, second = row_first ? c : r;
        EXPECT_NEAR(acc[m][d], std::sin(first * w), 1e-6);
        EXPECT_NEAR(acc[m][P + d], std::cos(first * w), 1e-6);
        EXPECT_NEAR(acc[m][2 * P + d], std::sin(second * w), 1e-6);
        EXPECT_NEAR(acc[m][3 * P + d], std::cos(second * w), 1e-6);
      }
    }
  }
}

TEST(RelativePositionIndex, MatchesSimMimConvention) {
  // §1.4 item 2 for g = 14: (r_i-r_j+13)*27 + (c_i-c_j+13); CLS entries 729 / 730 / 731.
  auto idx = relative_position_index(14);
  ASSERT_EQ(idx.sizes(), (std::vector<int64_t>{197, 197}));
  EXPECT_EQ(idx[0][0].item<int64_t>(), 731);
  EXPECT_EQ(idx[0][5].item<int64_t>(), 729);
  EXPECT_EQ(idx[5][0].item<int64_t>(), 730);
  for (int i : {0, 13, 100, 195})
    for (int j : {0, 14, 57, 195}) {
      const int ri = i / 14, ci = i % 14, rj = j / 14, cj = j % 14;
      EXPECT_EQ(idx[1 + i][1 + j].item<int64_t>(), (ri - rj + 13) * 27 + (ci - cj + 13));
    }
}

TEST(Capture, TapsFollowTheNotebookLayout) {
  auto c = tiny_config();
  VisionTransformer vit(c);
  randomize(*vit, 1);
  vit->eval();
  torch::NoGradGuard g;
  auto x = torch::randn({2, 3, 32, 32});
  Capture cap;
  auto out = vit->forward_features(x, CaptureRequest::everything(c.depth), &cap);
  ASSERT_EQ(cap.taps.size(), 5u);
  ASSERT_EQ(cap.attentions.size(), 2u);
  // tap 2k-1 = tap 2k-2 + attention branch; tap 2k = tap 2k-1 + MLP branch (§1.5).
  for (int k = 0; k < c.depth; ++k) {
    auto& blk = *vit->blocks[k]->as<Block>();
    auto mid = cap.taps[2 * k] + blk.attn->forward(blk.norm1(cap.taps[2 * k]), {}, nullptr);
    EXPECT_TRUE(torch::allclose(mid, cap.taps[2 * k + 1], 1e-5, 1e-5));
    auto end = mid + blk.mlp(blk.norm2(mid));
    EXPECT_TRUE(torch::allclose(end, cap.taps[2 * k + 2], 1e-5, 1e-5));
  }
  // Final output is the last tap after the final norm; attention rows are distributions.
  EXPECT_TRUE(torch::allclose(out, vit->norm(cap.taps[4]), 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(cap.attentions[1].sum(-1), torch::ones({2, 4, 17}), 1e-5, 1e-5));
  // Without a request nothing is captured and the output is the same.
  auto plain = vit->forward_features(x);
  EXPECT_TRUE(torch::allclose(plain, out, 1e-5, 1e-5));
  EXPECT_EQ(cap.patch_tokens(0).size(1), 16);
  EXPECT_EQ(cap.patch_attention(0).size(-1), 16);
}

TEST(Capture, PartialRequestsLeaveOthersUndefined) {
  auto c = tiny_config();
  VisionTransformer vit(c);
  torch::NoGradGuard g;
  Capture cap;
  vit->forward_features(torch::randn({1, 3, 32, 32}), CaptureRequest::parse("attn:1;taps:0,3", c.depth), &cap);
  EXPECT_FALSE(cap.attentions[0].defined());
  EXPECT_TRUE(cap.attentions[1].defined());
  EXPECT_TRUE(cap.taps[0].defined());
  EXPECT_FALSE(cap.taps[1].defined());
  EXPECT_TRUE(cap.taps[3].defined());
  EXPECT_THROW(cap.patch_tokens(1), std::invalid_argument);
  EXPECT_THROW(CaptureRequest::parse("attn:7", c.depth), std::invalid_argument);
  EXPECT_THROW(CaptureRequest::parse("heads", c.depth), std::invalid_argument);
}

TEST(Attention, RelativeBiasAndQueryValueBiasEnterTheLogits) {
  // A hand-written attention with [q_bias, 0, v_bias] and a bias table gives the same map.
  auto c = tiny_config();
  c.pos_embed = PosEmbedKind::None;
  c.rel_pos_bias = RelPosBiasKind::Shared;
  c.qkv_bias = QkvBiasKind::QueryValue;
  c.layer_scale = true;
  VisionTransformer vit(c);
  randomize(*vit, 2);
  torch::NoGradGuard g;
  auto x = torch::randn({1, 3, 32, 32});
  Capture cap;
  vit->forward_features(x, CaptureRequest::everything(c.depth), &cap);
  auto& blk = *vit->blocks[0]->as<Block>();
  auto h = blk.norm1(cap.taps[0]);
  auto bias = torch::cat({blk.attn->q_bias, torch::zeros({32}), blk.attn->v_bias});
  auto qkv = torch::nn::functional::linear(h, blk.attn->qkv->weight, bias).reshape({1, 17, 3, 4, 8}).permute({2, 0, 3, 1, 4});
  auto table = vit->rel_pos_bias->relative_position_bias_table;
  auto index = relative_position_index(4);
  auto rel = table.index_select(0, index.reshape(-1)).reshape({17, 17, 4}).permute({2, 0, 1});
  auto logits = torch::matmul(qkv[0], qkv[1].transpose(-2, -1)) / std::sqrt(8.0) + rel;
  EXPECT_TRUE(torch::allclose(logits.softmax(-1), cap.attentions[0], 1e-5, 1e-6));
}

// Counts the ATen ops and autograd nodes this thread runs while it lives, by name.
class OpCounter {
 public:
  OpCounter() {
    handle_ = at::addThreadLocalCallback(at::RecordFunctionCallback(
        [](const at::RecordFunction& fn) -> std::unique_ptr<at::ObserverContext> {
          ++(*counts_)[fn.name()];
          return nullptr;
        }).scopes({at::RecordScope::FUNCTION, at::RecordScope::BACKWARD_FUNCTION}));
  }
  ~OpCounter() { at::removeCallback(handle_); }
  int operator[](const std::string& name) const { return counts_->count(name) ? counts_->at(name) : 0; }

 private:
  at::CallbackHandle handle_;
  static inline thread_local std::map<std::string, int>* counts_ = new std::map<std::string, int>;
};

TEST(Block, EachLinearLayerIsOneGemmWithItsBiasAndQkvSplitsByUnbind) {
  // The training step's cost on a GPU: the C++ frontend's F::linear runs matmul then `+= bias` on
  // (B, N, D) inputs, an extra pass over every output; ATen's linear fuses the bias into one
  // addmm, as PyTorch's F.linear does. Selecting q, k, v one by one would give three zero-filled
  // full-size gradients in backward; unbind gives one stack (docs/PERFORMANCE.md, op census).
  auto c = tiny_config();
  VisionTransformer vit(c);
  auto x = torch::randn({2, 3, 32, 32});
  std::map<std::string, int> counts;
  {
    OpCounter ops;
    vit->forward_features(x).sum().backward();
    for (const char* name : {"aten::addmm", "UnbindBackward0", "SelectBackward0"}) counts[name] = ops[name];
  }
  EXPECT_EQ(counts["aten::addmm"], 4 * c.depth);  // qkv, proj, fc1, fc2
  EXPECT_EQ(counts["UnbindBackward0"], c.depth);
  EXPECT_EQ(counts["SelectBackward0"], 0);
}

TEST(TokenMask, ReplaceUsesTheMaskTokenAndKeepDropsPatches) {
  auto c = tiny_config();
  c.mask_token = true;
  c.pos_embed = PosEmbedKind::SinCosColumnFirst;
  VisionTransformer vit(c);
  randomize(*vit, 3);
  torch::NoGradGuard g;
  auto x = torch::randn({2, 3, 32, 32});
  Capture cap;
  auto replace = torch::zeros({2, 16});
  replace.index_put_({0, 5}, 1);
  vit->forward_features(x, CaptureRequest::parse("taps:0", c.depth), &cap, {replace, {}});
  auto expected5 = vit->mask_token[0][0] + vit->pos_embed[0][1 + 5];
  EXPECT_TRUE(torch::allclose(cap.taps[0][0][1 + 5], expected5, 1e-6, 1e-6));
  // keep: only the listed patches follow CLS, each with its own position embedding (§3.13).
  auto keep = torch::tensor({{3, 7}, {0, 15}}, torch::kInt64);
  Capture kept;
  vit->forward_features(x, CaptureRequest::parse("taps:0", c.depth), &kept, {{}, keep});
  ASSERT_EQ(kept.taps[0].size(1), 3);
  Capture full;
  vit->forward_features(x, CaptureRequest::parse("taps:0", c.depth), &full);
  EXPECT_TRUE(torch::allclose(kept.taps[0][1][2], full.taps[0][1][1 + 15], 1e-6, 1e-6));
}

TEST(Registers, ComeAfterClsWithoutPositionWhenTheTableExcludesThem) {
  auto c = tiny_config();
  c.num_register_tokens = 3;
  c.pos_embed_has_prefix = false;
  VisionTransformer vit(c);
  randomize(*vit, 4);
  torch::NoGradGuard g;
  Capture cap;
  vit->forward_features(torch::randn({1, 3, 32, 32}), CaptureRequest::parse("taps:0", c.depth), &cap);
  ASSERT_EQ(cap.taps[0].size(1), 1 + 3 + 16);
  EXPECT_EQ(cap.num_prefix_tokens, 4);
  EXPECT_TRUE(torch::equal(cap.taps[0][0][0], vit->cls_token[0][0]));
  EXPECT_TRUE(torch::equal(cap.taps[0][0][2], vit->reg_token[0][1]));
}

TEST(ImageSize, RegeneratesSinCosAndResamplesLearnedTables) {
  auto c = tiny_config();
  c.pos_embed = PosEmbedKind::SinCosRowFirst;
  VisionTransformer vit(c);
  vit->set_image_size(48);
  EXPECT_EQ(vit->config().grid(), 6);
  auto expected = sincos_pos_embed_2d(32, 6, true);
  EXPECT_TRUE(torch::allclose(vit->pos_embed[0].narrow(0, 1, 36), expected));
  torch::NoGradGuard g;
  EXPECT_EQ(vit->forward_features(torch::randn({1, 3, 48, 48})).size(1), 37);
  EXPECT_THROW(vit->forward_features(torch::randn({1, 3, 32, 32})), std::invalid_argument);

  auto learned = tiny_config();
  VisionTransformer v2(learned);
  auto before = v2->pos_embed.clone();
  v2->set_image_size(32);  // same size: identity
  EXPECT_TRUE(torch::equal(before, v2->pos_embed));
  v2->set_image_size(64);
  EXPECT_EQ(v2->pos_embed.size(1), 1 + 64);
  EXPECT_TRUE(torch::equal(before[0][0], v2->pos_embed[0][0]));  // CLS row untouched
  EXPECT_THROW(v2->set_image_size(50), std::invalid_argument);
}

TEST(Heads, PatchifyRoundTripsAndFollowsMaeOrder) {
  auto img = torch::randn({2, 3, 16, 16});
  auto p = patchify(img, 4);
  ASSERT_EQ(p.sizes(), (std::vector<int64_t>{2, 16, 48}));
  // patch (h=1, w=2), pixel (p=3, q=1), channel 2 -> index (3*4+1)*3+2 (§3.13).
  EXPECT_EQ(p[1][1 * 4 + 2][(3 * 4 + 1) * 3 + 2].item<float>(), img[1][2][1 * 4 + 3][2 * 4 + 1].item<float>());
  EXPECT_TRUE(torch::equal(unpatchify(p, 4, 3), img));
}

TEST(Heads, SimMimPixelShuffleChannelOrder) {
  // Channel k = c*P*P + i*P + j lands at pixel (P*h + i, P*w + j) of colour c (§3.13).
  SimMimHead head(8, 2, 3);
  torch::NoGradGuard g;
  head->decoder->ptr(0)->as<torch::nn::Conv2d>()->weight.zero_();
  auto bias = head->decoder->ptr(0)->as<torch::nn::Conv2d>()->bias;
  bias.copy_(torch::arange(12, torch::kFloat32));
  auto out = head->forward(torch::zeros({1, 1 + 4, 8}), 1);
  ASSERT_EQ(out.sizes(), (std::vector<int64_t>{1, 3, 4, 4}));
  EXPECT_EQ(out[0][2][2 * 1 + 1][2 * 1 + 0].item<float>(), 2 * 4 + 1 * 2 + 0);
}

TEST(Config, ValidationNamesTheField) {
  auto c = tiny_config();
  c.num_heads = 5;
  try {
    c.validate();
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("num_heads"), std::string::npos);
  }
  c = tiny_config();
  EXPECT_EQ(vit_config_from_json(to_json(c)).embed_dim, c.embed_dim);
}

}  // namespace
