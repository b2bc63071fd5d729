// ViTScope's forward against peer implementations on the same random weights
// (fixtures made by tests/scripts/make_peer_fixtures.py): every tap, every attention map and the
// final output must agree to 1e-4.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/io/checkpoint_file.h"
#include "core/io/tensor_convert.h"
#include "core/model/loader.h"
#include "support/test_env.h"

namespace fs = std::filesystem;
using namespace vitscope;

namespace {

struct PeerFixture {
  fs::path dir;
  nlohmann::json meta;
  std::map<std::string, torch::Tensor> expected;
};

PeerFixture read_fixture(const std::string& peer) {
  PeerFixture f;
  f.dir = test::fixtures_dir() / "peers" / peer;
  std::ifstream m(f.dir / "meta.json");
  m >> f.meta;
  auto map = io::read_safetensors((f.dir / "expected.safetensors").string());
  for (const auto& name : map.names) f.expected[name] = io::to_torch(map.tensors.at(name));
  return f;
}

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

void expect_close(const torch::Tensor& ours, const torch::Tensor& theirs, double tol, const std::string& what) {
  ASSERT_EQ(ours.sizes(), theirs.sizes()) << what;
  EXPECT_LE(max_abs_diff(ours, theirs), tol) << what;
}

class PeerEquivalence : public ::testing::TestWithParam<std::string> {};

TEST_P(PeerEquivalence, TapsAttentionsAndOutputMatch) {
  const std::string peer = GetParam();
  if (!fs::exists(test::fixtures_dir() / "peers" / peer / "meta.json"))
    GTEST_SKIP() << "no fixture for peer '" << peer << "' (generated on the GPU machine by make_peer_fixtures.py)";
  auto fx = read_fixture(peer);
  model::LoadOptions opt;
  opt.num_heads = fx.meta.at("num_heads").get<int>();
  auto loaded = model::load_model((fx.dir / fx.meta.at("checkpoint").get<std::string>()).string(), opt);
  auto& m = loaded.model;
  EXPECT_TRUE(loaded.report.unexpected.empty()) << loaded.report.text();
  const double tol = fx.meta.value("tolerance", 1e-4);
  const auto& x = fx.expected.at("input");
  torch::NoGradGuard no_grad;

  if (fx.meta.at("output") == "mae_reconstruction") {
    // HF ViTMAE: masking from the fixture's noise (§3.13: keep the ⌊L(1-r)⌋ smallest).
    const auto& noise = fx.expected.at("noise");
    const auto L = noise.size(1);
    const auto keep = static_cast<int64_t>(L * (1 - 0.75));
    auto shuffle = noise.argsort(1, false);
    auto restore = shuffle.argsort(1, false);
    expect_close(restore, fx.expected.at("ids_restore"), 0, "ids_restore");
    model::Capture cap;
    auto tokens = m.encoder->forward_features(x, model::CaptureRequest::attentions_only(m.config().depth), &cap,
                                              {torch::Tensor(), shuffle.narrow(1, 0, keep)});
    for (int k = 0; k < m.config().depth; ++k)
      expect_close(cap.attentions[k], fx.expected.at("attn_" + std::to_string(k)), tol, "attention " + std::to_string(k));
    ASSERT_TRUE(m.mae_decoder);
    expect_close(m.mae_decoder->forward(tokens, restore), fx.expected.at("output"), tol, "reconstruction");
    return;
  }

  model::Capture cap;
  auto tokens = m.encoder->forward_features(x, model::CaptureRequest::everything(m.config().depth), &cap);
  int checked = 0;
  for (int t = 0; t < m.config().num_taps(); ++t) {
    auto it = fx.expected.find("tap_" + std::to_string(t));
    if (it == fx.expected.end()) continue;
    expect_close(cap.taps[t], it->second, tol, "tap " + std::to_string(t));
    ++checked;
  }
  for (int k = 0; k < m.config().depth; ++k) {
    expect_close(cap.attentions[k], fx.expected.at("attn_" + std::to_string(k)), tol, "attention " + std::to_string(k));
    ++checked;
  }
  EXPECT_GE(checked, m.config().depth + m.config().depth + 1);
  if (fx.meta.at("output") == "logits") expect_close(m.encoder->forward_head(tokens), fx.expected.at("output"), tol, "logits");
  else expect_close(tokens, fx.expected.at("output"), tol, "final tokens");
}

INSTANTIATE_TEST_SUITE_P(Peers, PeerEquivalence,
                         ::testing::Values("torchvision", "timm", "timm-reg", "hf-vitmae", "hf-dinov2"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
