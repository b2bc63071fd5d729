// Every loader family on synthetic state dicts that use the real key names
// (checkpoints.md §2): a reference model's weights are renamed into the family's layout *here*,
// independently of the loader's own tables, loaded back, and must give the same forward.
#include <gtest/gtest.h>

#include <regex>

#include "core/io/tensor_convert.h"
#include "core/model/loader.h"

using namespace vitscope;
using namespace vitscope::model;

namespace {

ModelCard base_card() {
  ModelCard card;
  card.vit.image_size = 32;
  card.vit.patch_size = 8;
  card.vit.embed_dim = 32;
  card.vit.depth = 2;
  card.vit.num_heads = 4;
  card.vit.mlp_hidden_dim = 64;
  return card;
}

Model reference(const ModelCard& card, uint64_t seed) {
  auto m = Model::create(card);
  torch::manual_seed(seed);
  torch::NoGradGuard g;
  for (auto& [name, t] : m.named_tensors()) {
    if (!t.is_floating_point()) continue;
    if (name.find("pos_embed") != std::string::npos && card.vit.pos_embed != PosEmbedKind::Learned) continue;
    t.uniform_(-0.3, 0.3);
  }
  m.eval();
  return m;
}

// Canonical name -> family name; "" drops the tensor. Tensors may also be split (HF q/k/v).
using Rename = std::function<void(const std::string& canonical, const torch::Tensor& t, io::TensorMap& out)>;

io::RawCheckpoint as_family(const Model& m, const Rename& rename, nlohmann::json config = {}) {
  io::RawCheckpoint raw;
  raw.path = "synthetic.pth";
  raw.format = io::ContainerFormat::TorchZip;
  raw.config = std::move(config);
  for (const auto& [name, t] : m.named_tensors()) rename(name, t, raw.tensors);
  return raw;
}

void put(io::TensorMap& out, const std::string& name, const torch::Tensor& t) { out.insert(name, io::from_torch(t)); }

std::string strip(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0 ? s.substr(prefix.size()) : s;
}

torch::Tensor forward_all(Model& m, const torch::Tensor& x) {
  torch::NoGradGuard g;
  return m.encoder->forward_features(x);
}

void expect_same_model(Model& ref, LoadedModel& loaded) {
  auto x = torch::randn({2, 3, 32, 32});
  EXPECT_TRUE(torch::allclose(forward_all(ref, x), forward_all(loaded.model, x), 1e-5, 1e-5)) << loaded.report.text();
  EXPECT_TRUE(loaded.report.unexpected.empty()) << loaded.report.text();
}

// timm names are our encoder names without the "encoder." prefix.
std::string timm_name(const std::string& canonical) { return strip(canonical, "encoder."); }

TEST(Loader, TimmStyleDinoBackbone) {
  auto ref = reference(base_card(), 1);
  auto raw = as_family(ref, [](auto& n, auto& t, auto& out) { put(out, timm_name(n), t); });
  EXPECT_EQ(detect_family(raw).family, Family::Timm);
  LoadOptions opt;
  opt.num_heads = 4;
  auto loaded = load_model(raw, opt);
  expect_same_model(ref, loaded);
  EXPECT_EQ(loaded.model.config().pos_embed, PosEmbedKind::Learned);
}

TEST(Loader, DinoFullCheckpointTeacherAndStudent) {
  auto ref = reference(base_card(), 2);
  for (std::string prefix : {"backbone.", "module.backbone."}) {
    auto raw = as_family(ref, [&](auto& n, auto& t, auto& out) {
      put(out, prefix + timm_name(n), t);
    });
    put(raw.tensors, (prefix == "backbone." ? "head." : "module.head.") + std::string("mlp.0.weight"), torch::zeros({8, 32}));
    put(raw.tensors, (prefix == "backbone." ? "head." : "module.head.") + std::string("last_layer.weight_v"), torch::zeros({16, 8}));
    EXPECT_EQ(detect_family(raw).family, Family::Dino);
    LoadOptions opt;
    opt.num_heads = 4;
    auto loaded = load_model(raw, opt);
    expect_same_model(ref, loaded);
    EXPECT_EQ(loaded.report.known_extras.at("DINO/iBOT projection head"), 2);
    EXPECT_EQ(loaded.model.card.objective, Objective::Contrastive);
  }
}

TEST(Loader, MocoV3WithProjectorPredictorAndMomentumEncoder) {
  auto card = base_card();
  card.vit.pos_embed = PosEmbedKind::SinCosRowFirst;
  card.moco_heads = ModelCard::MocoHeads{48, 16};
  auto ref = reference(card, 3);
  auto raw = as_family(ref, [](const std::string& n, const torch::Tensor& t, io::TensorMap& out) {
    if (n.rfind("encoder.", 0) == 0) {
      put(out, "module.base_encoder." + timm_name(n), t);
      put(out, "module.momentum_encoder." + timm_name(n), t);
    } else if (n.rfind("moco_projector.layers.", 0) == 0) {
      put(out, "module.base_encoder.head." + strip(n, "moco_projector.layers."), t);
    } else if (n.rfind("moco_predictor.layers.", 0) == 0) {
      put(out, "module.predictor." + strip(n, "moco_predictor.layers."), t);
    }
  });
  EXPECT_EQ(detect_family(raw).family, Family::MocoV3);
  LoadOptions opt;
  opt.num_heads = 4;
  auto loaded = load_model(raw, opt);
  expect_same_model(ref, loaded);
  EXPECT_EQ(loaded.model.config().pos_embed, PosEmbedKind::SinCosRowFirst);
  ASSERT_TRUE(loaded.model.moco_projector);
  EXPECT_TRUE(torch::equal(loaded.model.moco_predictor->named_parameters()["layers.0.weight"],
                           ref.moco_predictor->named_parameters()["layers.0.weight"]));
  EXPECT_GT(loaded.report.known_extras.at("MoCo momentum encoder"), 0);
}

TEST(Loader, MoCoHeadsDefaultTo12WhenNotGiven) {
  auto card = base_card();
  card.vit.embed_dim = 48;
  card.vit.num_heads = 12;
  auto ref = reference(card, 4);
  auto raw = as_family(ref, [](auto& n, auto& t, auto& out) { put(out, "module.base_encoder." + timm_name(n), t); });
  auto loaded = load_model(raw);
  EXPECT_EQ(loaded.model.config().num_heads, 12);
  expect_same_model(ref, loaded);
}

TEST(Loader, MaeWithDecoderReconstructsIdentically) {
  auto card = base_card();
  card.vit.pos_embed = PosEmbedKind::SinCosColumnFirst;
  card.mae_decoder = MaeDecoderConfig{16, 1, 16, 32, 1e-6, false};
  auto ref = reference(card, 5);
  auto raw = as_family(ref, [](const std::string& n, const torch::Tensor& t, io::TensorMap& out) {
    if (n.rfind("encoder.", 0) == 0) put(out, timm_name(n), t);
    else put(out, strip(n, "mae_decoder."), t);  // decoder_embed, mask_token, decoder_blocks.0…
  });
  EXPECT_EQ(detect_family(raw).family, Family::Mae);
  LoadOptions opt;
  opt.num_heads = 4;
  auto loaded = load_model(raw, opt);
  expect_same_model(ref, loaded);
  ASSERT_TRUE(loaded.model.mae_decoder);
  EXPECT_EQ(loaded.model.mae_decoder->config.num_heads, 16);
  torch::NoGradGuard g;
  auto x = torch::randn({1, 3, 32, 32});
  auto keep = torch::tensor({{1, 6, 9, 12}}, torch::kInt64);
  auto restore = torch::cat({keep, torch::tensor({{0, 2, 3, 4, 5, 7, 8, 10, 11, 13, 14, 15}}, torch::kInt64)}, 1).argsort(1, false);
  auto a = ref.mae_decoder->forward(ref.encoder->forward_features(x, {}, nullptr, {{}, keep}), restore);
  auto b = loaded.model.mae_decoder->forward(loaded.model.encoder->forward_features(x, {}, nullptr, {{}, keep}), restore);
  EXPECT_TRUE(torch::allclose(a, b, 1e-5, 1e-5));
}

TEST(Loader, SimMimSharedRelativeBiasQvBiasLayerScaleAndHead) {
  auto card = base_card();
  card.vit.pos_embed = PosEmbedKind::None;
  card.vit.rel_pos_bias = RelPosBiasKind::Shared;
  card.vit.qkv_bias = QkvBiasKind::QueryValue;
  card.vit.layer_scale = true;
  card.vit.mask_token = true;
  card.simmim_head = true;
  auto ref = reference(card, 6);
  static const std::regex ls(R"(blocks\.(\d+)\.ls([12])\.gamma)");
  auto raw = as_family(ref, [](const std::string& n, const torch::Tensor& t, io::TensorMap& out) {
    if (n.rfind("simmim_head.", 0) == 0) return put(out, strip(n, "simmim_head."), t);
    auto name = std::regex_replace(timm_name(n), ls, "blocks.$1.gamma_$2");
    put(out, "encoder." + name, t);
  });
  EXPECT_EQ(detect_family(raw).family, Family::SimMim);
  auto loaded = load_model(raw);  // heads from the relative-bias table (4)
  EXPECT_EQ(loaded.model.config().num_heads, 4);
  EXPECT_EQ(loaded.model.config().rel_pos_bias, RelPosBiasKind::Shared);
  EXPECT_TRUE(loaded.model.simmim_head);
  expect_same_model(ref, loaded);
}

TEST(Loader, BeitPerBlockRelativeBias) {
  auto card = base_card();
  card.vit.pos_embed = PosEmbedKind::None;
  card.vit.rel_pos_bias = RelPosBiasKind::PerBlock;
  card.vit.qkv_bias = QkvBiasKind::QueryValue;
  card.vit.layer_scale = true;
  auto ref = reference(card, 7);
  static const std::regex ls(R"(blocks\.(\d+)\.ls([12])\.gamma)");
  static const std::regex rel(R"(attn\.rel_pos_bias\.)");
  auto raw = as_family(ref, [](const std::string& n, const torch::Tensor& t, io::TensorMap& out) {
    auto name = std::regex_replace(std::regex_replace(timm_name(n), ls, "blocks.$1.gamma_$2"), rel, "attn.");
    put(out, name, t);
  });
  EXPECT_EQ(detect_family(raw).family, Family::Beit);
  auto loaded = load_model(raw);
  EXPECT_EQ(loaded.model.config().rel_pos_bias, RelPosBiasKind::PerBlock);
  expect_same_model(ref, loaded);
}

// HF per-layer names (checkpoints.md §2.2) with q/k/v split from the fused rows.
void put_hf_encoder(const std::string& n, const torch::Tensor& t, io::TensorMap& out, const std::string& prefix,
                    bool dinov2) {
  static const std::regex blk(R"(encoder\.blocks\.(\d+)\.(.+))");
  std::smatch m;
  const std::map<std::string, std::string> top = {
      {"encoder.cls_token", "embeddings.cls_token"}, {"encoder.pos_embed", "embeddings.position_embeddings"},
      {"encoder.reg_token", "embeddings.register_tokens"},
      {"encoder.patch_embed.proj.weight", "embeddings.patch_embeddings.projection.weight"},
      {"encoder.patch_embed.proj.bias", "embeddings.patch_embeddings.projection.bias"},
      {"encoder.norm.weight", "layernorm.weight"}, {"encoder.norm.bias", "layernorm.bias"}};
  if (auto it = top.find(n); it != top.end()) return put(out, prefix + it->second, t);
  if (!std::regex_match(n, m, blk)) return;
  const std::string layer = prefix + "encoder.layer." + std::string(m[1]) + ".";
  const std::string rest = m[2];
  if (rest == "attn.qkv.weight" || rest == "attn.qkv.bias") {
    const auto kind = rest.substr(rest.find_last_of('.') + 1);
    auto parts = t.chunk(3, 0);
    put(out, layer + "attention.attention.query." + kind, parts[0]);
    put(out, layer + "attention.attention.key." + kind, parts[1]);
    put(out, layer + "attention.attention.value." + kind, parts[2]);
    return;
  }
  const std::map<std::string, std::string> vit = {
      {"norm1", "layernorm_before"}, {"norm2", "layernorm_after"}, {"attn.proj", "attention.output.dense"},
      {"mlp.fc1", "intermediate.dense"}, {"mlp.fc2", "output.dense"}};
  const std::map<std::string, std::string> dino = {
      {"norm1", "norm1"}, {"norm2", "norm2"}, {"attn.proj", "attention.output.dense"},
      {"mlp.fc1", "mlp.fc1"}, {"mlp.fc2", "mlp.fc2"}};
  if (rest == "ls1.gamma") return put(out, layer + "layer_scale1.lambda1", t);
  if (rest == "ls2.gamma") return put(out, layer + "layer_scale2.lambda1", t);
  const auto dot = rest.find_last_of('.');
  put(out, layer + (dinov2 ? dino : vit).at(rest.substr(0, dot)) + rest.substr(dot), t);
}

TEST(Loader, HfVitSplitsQkvAndReadsConfig) {
  auto card = base_card();
  card.vit.layer_norm_eps = 1e-12;
  auto ref = reference(card, 8);
  auto raw = as_family(ref, [](auto& n, auto& t, auto& out) { put_hf_encoder(n, t, out, "vit.", false); },
                       {{"num_attention_heads", 4}, {"layer_norm_eps", 1e-12}, {"image_size", 32}});
  put(raw.tensors, "classifier.weight", torch::zeros({10, 32}));
  EXPECT_EQ(detect_family(raw).family, Family::HfVit);
  auto loaded = load_model(raw);
  expect_same_model(ref, loaded);
  EXPECT_DOUBLE_EQ(loaded.model.config().layer_norm_eps, 1e-12);
  bool fused_noted = false;
  for (const auto& a : loaded.report.adapted) fused_noted |= a.find("qkv fused") != std::string::npos;
  EXPECT_TRUE(fused_noted) << loaded.report.text();
}

TEST(Loader, HfVitMaeDecoder) {
  auto card = base_card();
  card.vit.pos_embed = PosEmbedKind::SinCosColumnFirst;
  card.mae_decoder = MaeDecoderConfig{16, 1, 4, 32, 1e-6, false};
  auto ref = reference(card, 9);
  auto raw = as_family(ref, [](const std::string& n, const torch::Tensor& t, io::TensorMap& out) {
    if (n.rfind("encoder.", 0) == 0) return put_hf_encoder(n, t, out, "vit.", false);
    static const std::regex dblk(R"(mae_decoder\.decoder_blocks\.(\d+)\.(.+))");
    std::smatch m;
    if (std::regex_match(n, m, dblk)) {
      io::TensorMap tmp;
      put_hf_encoder("encoder.blocks." + std::string(m[1]) + "." + std::string(m[2]), t, tmp, "", false);
      for (const auto& k : tmp.names)
        out.insert("decoder.decoder_layers." + strip(k, "encoder.layer."), tmp.tensors.at(k));
      return;
    }
    put(out, "decoder." + strip(n, "mae_decoder."), t);
  }, {{"num_attention_heads", 4}, {"layer_norm_eps", 1e-6}, {"decoder_num_attention_heads", 4}});
  EXPECT_EQ(detect_family(raw).family, Family::HfVitMae);
  auto loaded = load_model(raw);
  expect_same_model(ref, loaded);
  ASSERT_TRUE(loaded.model.mae_decoder);
  EXPECT_EQ(loaded.model.mae_decoder->config.num_heads, 4);
}

TEST(Loader, HfDinov2LayerScale) {
  auto card = base_card();
  card.vit.layer_scale = true;
  auto ref = reference(card, 10);
  auto raw = as_family(ref, [](auto& n, auto& t, auto& out) { put_hf_encoder(n, t, out, "", true); },
                       {{"num_attention_heads", 4}, {"layer_norm_eps", 1e-6}});
  put(raw.tensors, "embeddings.mask_token", torch::zeros({1, 32}));
  EXPECT_EQ(detect_family(raw).family, Family::HfDinov2);
  auto loaded = load_model(raw);
  expect_same_model(ref, loaded);
  EXPECT_EQ(loaded.report.known_extras.at("HF Dinov2 mask token"), 1);
}

TEST(Loader, OriginalDinov2WithRegisters) {
  auto card = base_card();
  card.vit.layer_scale = true;
  card.vit.num_register_tokens = 2;
  auto ref = reference(card, 11);
  auto raw = as_family(ref, [](const std::string& n, const torch::Tensor& t, io::TensorMap& out) {
    put(out, n == "encoder.reg_token" ? "register_tokens" : timm_name(n), t);
  });
  put(raw.tensors, "mask_token", torch::zeros({1, 32}));
  EXPECT_EQ(detect_family(raw).family, Family::Dinov2);
  LoadOptions opt;
  opt.num_heads = 4;
  auto loaded = load_model(raw, opt);
  EXPECT_EQ(loaded.model.config().num_register_tokens, 2);
  expect_same_model(ref, loaded);
}

TEST(Loader, ShapeMismatchMissingTensorsAndUnknownLayoutAreClearErrors) {
  auto ref = reference(base_card(), 12);
  auto raw = as_family(ref, [](auto& n, auto& t, auto& out) {
    if (n == "encoder.blocks.1.mlp.fc2.weight") return;  // missing
    put(out, timm_name(n), t);
  });
  try {
    load_model(raw);
    FAIL() << "expected a LoadError";
  } catch (const LoadError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("synthetic.pth"), std::string::npos) << msg;
    EXPECT_NE(msg.find("blocks.1.mlp.fc2.weight"), std::string::npos) << msg;
  }
  auto bad = as_family(ref, [](auto& n, auto& t, auto& out) {
    put(out, timm_name(n), n == "encoder.blocks.0.norm2.weight" ? torch::zeros({31}) : t);
  });
  try {
    load_model(bad);
    FAIL() << "expected a LoadError";
  } catch (const LoadError& e) {
    EXPECT_NE(std::string(e.what()).find("shape mismatch"), std::string::npos) << e.what();
  }
  io::RawCheckpoint foreign;
  foreign.path = "resnet.pth";
  foreign.tensors.insert("conv1.weight", io::from_torch(torch::zeros({64, 3, 7, 7})));
  EXPECT_THROW(load_model(foreign), LoadError);
}

TEST(Loader, UnknownKeysAreListedNotSilentlyDropped) {
  auto ref = reference(base_card(), 13);
  auto raw = as_family(ref, [](auto& n, auto& t, auto& out) { put(out, timm_name(n), t); });
  put(raw.tensors, "blocks.0.attn.mystery", torch::zeros({3}));
  LoadOptions opt;
  opt.num_heads = 4;
  auto loaded = load_model(raw, opt);
  ASSERT_EQ(loaded.report.unexpected.size(), 1u);
  EXPECT_EQ(loaded.report.unexpected[0], "blocks.0.attn.mystery");
  EXPECT_NE(loaded.report.text().find("UNKNOWN KEY: blocks.0.attn.mystery"), std::string::npos);
}

TEST(Loader, ImageSizeOptionResamplesTables) {
  auto ref = reference(base_card(), 14);
  auto raw = as_family(ref, [](auto& n, auto& t, auto& out) { put(out, timm_name(n), t); });
  LoadOptions opt;
  opt.num_heads = 4;
  opt.image_size = 48;
  auto loaded = load_model(raw, opt);
  EXPECT_EQ(loaded.model.config().image_size, 48);
  torch::NoGradGuard g;
  EXPECT_EQ(loaded.model.encoder->forward_features(torch::randn({1, 3, 48, 48})).size(1), 37);
}

}  // namespace
