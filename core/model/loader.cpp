#include "core/model/loader.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "core/io/tensor_convert.h"
#include "core/model/state_dict.h"

namespace vitscope::model {

namespace {

using io::TensorData;
using io::TensorMap;

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool has(const TensorMap& m, const std::string& k) { return m.contains(k); }
bool any_key_starts_with(const TensorMap& m, const std::string& p) {
  return std::any_of(m.names.begin(), m.names.end(), [&](const std::string& k) { return starts_with(k, p); });
}
// ---------------------------------------------------------------------------------------------
// Family detection (checkpoints.md §6.2): applied to the keys after unwrapping, first match wins.

bool is_vitscope_file(const io::RawCheckpoint& raw) {
  return raw.metadata.is_object() && raw.metadata.value("vitscope", std::string()) == "1" &&
         has(raw.tensors, "encoder.patch_embed.proj.weight");
}

}  // namespace

FamilyDetection detect_family(const io::RawCheckpoint& raw) {
  const auto& t = raw.tensors;
  if (is_vitscope_file(raw)) return {Family::ViTScope, "ViTScope safetensors with a model card"};
  if (any_key_starts_with(t, "module.base_encoder."))
    return {Family::MocoV3, "§6.2 rule 1: keys under module.base_encoder."};
  if (any_key_starts_with(t, "backbone.") || any_key_starts_with(t, "module.backbone.")) {
    const bool ibot = has(t, "backbone.masked_embed") || has(t, "module.backbone.masked_embed") ||
                      raw.metadata.dump().find("ibot") != std::string::npos;
    return {ibot ? Family::Ibot : Family::Dino, std::string("§6.2 rule 2: keys under backbone.") +
                                                    (ibot ? " with masked_embed (iBOT)" : " (DINO full checkpoint)")};
  }
  if (has(t, "encoder.rel_pos_bias.relative_position_bias_table") || has(t, "encoder.blocks.0.attn.q_bias"))
    return {Family::SimMim, "§6.2 rule 3: encoder.* with relative position bias / q_bias"};
  if (has(t, "decoder_pred.weight") && any_key_starts_with(t, "decoder_blocks.0."))
    return {Family::Mae, "§6.2 rule 4: decoder_pred + decoder_blocks (MAE with decoder)"};
  if (has(t, "vit.embeddings.patch_embeddings.projection.weight") && has(t, "decoder.decoder_pred.weight"))
    return {Family::HfVitMae, "§6.2 rule 5: HF ViTMAEForPreTraining"};
  const bool hf_patch = has(t, "embeddings.patch_embeddings.projection.weight") ||
                        has(t, "vit.embeddings.patch_embeddings.projection.weight") ||
                        has(t, "dinov2.embeddings.patch_embeddings.projection.weight");
  if (hf_patch && (has(t, "encoder.layer.0.layer_scale1.lambda1") || has(t, "dinov2.encoder.layer.0.layer_scale1.lambda1")))
    return {Family::HfDinov2, "§6.2 rule 6: HF Dinov2 (layer_scale1.lambda1)"};
  if (hf_patch && (has(t, "encoder.layer.0.layernorm_before.weight") || has(t, "vit.encoder.layer.0.layernorm_before.weight")))
    return {Family::HfVit, "§6.2 rule 7: HF ViT / ViTMAE encoder / ViTMSN"};
  if (any_key_starts_with(t, "beit.") || any_key_starts_with(t, "data2vec_vision.") ||
      (has(t, "blocks.0.attn.q_bias") && has(t, "blocks.0.gamma_1")))
    return {Family::Beit, "§6.2 rule 8: BEiT-style q_bias + gamma_1"};
  if (has(t, "mask_token") && has(t, "blocks.0.ls1.gamma"))
    return {Family::Dinov2, "§6.2 rule 9: top-level mask_token with layer scale (DINOv2)"};
  if (has(t, "conv_proj.weight") && has(t, "encoder.layers.encoder_layer_0.ln_1.weight"))
    return {Family::Torchvision, "torchvision VisionTransformer keys (conv_proj, encoder.layers)"};
  if (has(t, "blocks.0.attn.qkv.weight") && has(t, "patch_embed.proj.weight"))
    return {Family::Timm, "§6.2 rule 10: timm-style ViT keys"};
  throw LoadError(raw.path + ": unknown checkpoint layout — no ViT family matches its " +
                  std::to_string(t.size()) + " keys (first: " + (t.names.empty() ? "none" : t.names.front()) + ")");
}

namespace {

// ---------------------------------------------------------------------------------------------
// Key mapping to canonical names: "encoder.<timm name>", "mae_decoder.…", "simmim_head.…",
// "moco_projector.layers.N.…", "moco_predictor.layers.N.…" (checkpoints.md §6.3, §6.4).

struct Mapping {
  TensorMap out;
  std::map<std::string, int> extras;
  std::vector<std::string> unexpected;
  std::vector<std::string> adapted;
  std::set<std::string> adapted_once;

  void put(const std::string& name, const TensorData& t) { out.insert(name, t); }
  void extra(const std::string& group) { ++extras[group]; }
  void note(const std::string& what) {
    if (adapted_once.insert(what).second) adapted.push_back(what);
  }
};

// Encoder keys in timm naming -> canonical encoder name, or "" if not an encoder key.
// Renames BEiT / SimMIM layer-scale and relative-bias names on the way (§6.4).
std::string canonical_encoder_key(const std::string& k, Mapping& m) {
  static const std::regex block_re(R"(^blocks\.(\d+)\.(.+)$)");
  std::smatch mt;
  if (std::regex_match(k, mt, block_re)) {
    const std::string i = mt[1], rest = mt[2];
    if (rest == "gamma_1") { m.note("gamma_1/gamma_2 -> ls1.gamma/ls2.gamma"); return "blocks." + i + ".ls1.gamma"; }
    if (rest == "gamma_2") { m.note("gamma_1/gamma_2 -> ls1.gamma/ls2.gamma"); return "blocks." + i + ".ls2.gamma"; }
    if (rest == "attn.relative_position_bias_table") return "blocks." + i + ".attn.rel_pos_bias.relative_position_bias_table";
    if (rest == "attn.relative_position_index") return "blocks." + i + ".attn.rel_pos_bias.relative_position_index";
    static const std::set<std::string> known = {
        "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias", "attn.qkv.weight", "attn.qkv.bias",
        "attn.q_bias", "attn.v_bias", "attn.proj.weight", "attn.proj.bias", "mlp.fc1.weight", "mlp.fc1.bias",
        "mlp.fc2.weight", "mlp.fc2.bias", "ls1.gamma", "ls2.gamma"};
    return known.count(rest) ? k : "";
  }
  static const std::set<std::string> top = {"cls_token", "reg_token", "pos_embed", "mask_token",
                                            "patch_embed.proj.weight", "patch_embed.proj.bias",
                                            "norm.weight", "norm.bias", "fc_norm.weight", "fc_norm.bias",
                                            "head.weight", "head.bias",
                                            "rel_pos_bias.relative_position_bias_table",
                                            "rel_pos_bias.relative_position_index"};
  if (k == "register_tokens") { m.note("register_tokens -> reg_token"); return "reg_token"; }
  return top.count(k) ? k : "";
}

void map_encoder_key(const std::string& k, const TensorData& t, Mapping& m, const std::string& unknown_prefix = "") {
  const auto c = canonical_encoder_key(k, m);
  if (c.empty()) {
    m.unexpected.push_back(unknown_prefix + k);
    return;
  }
  m.put("encoder." + c, t);
}

// MAE decoder keys (official names) -> mae_decoder.<name>.
bool map_mae_decoder_key(const std::string& k, const TensorData& t, Mapping& m) {
  if (starts_with(k, "decoder_embed.") || starts_with(k, "decoder_blocks.") || starts_with(k, "decoder_norm.") ||
      starts_with(k, "decoder_pred.") || k == "decoder_pos_embed") {
    m.put("mae_decoder." + k, t);
    return true;
  }
  return false;
}

void map_timm_like(const TensorMap& src, Mapping& m, Family family) {
  for (const auto& k : src.names) {
    const auto& t = src.tensors.at(k);
    if (family == Family::Mae && (k == "mask_token" || map_mae_decoder_key(k, t, m))) {
      if (k == "mask_token") m.put("mae_decoder.mask_token", t);  // MAE's mask token belongs to the decoder
      continue;
    }
    if (family == Family::Dinov2 && k == "mask_token") { m.extra("DINOv2 mask token"); continue; }
    if (starts_with(k, "pre_logits.")) { m.extra("pre_logits"); continue; }
    map_encoder_key(k, t, m);
  }
}

void map_moco(const TensorMap& src, Mapping& m) {
  static const std::regex head_re(R"(^head\.(\d+)\.(.+)$)");
  for (const auto& k : src.names) {
    const auto& t = src.tensors.at(k);
    if (starts_with(k, "module.momentum_encoder.")) { m.extra("MoCo momentum encoder"); continue; }
    if (starts_with(k, "module.predictor.")) {
      m.put("moco_predictor.layers." + k.substr(std::string("module.predictor.").size()), t);
      continue;
    }
    if (!starts_with(k, "module.base_encoder.")) { m.unexpected.push_back(k); continue; }
    const std::string rest = k.substr(std::string("module.base_encoder.").size());
    std::smatch mt;
    if (std::regex_match(rest, mt, head_re)) {
      m.put("moco_projector.layers." + std::string(mt[1]) + "." + std::string(mt[2]), t);
      continue;
    }
    map_encoder_key(rest, t, m, "module.base_encoder.");
  }
}

void map_dino_ibot(const TensorMap& src, Mapping& m) {
  for (const auto& k : src.names) {
    const auto& t = src.tensors.at(k);
    std::string rest;
    if (starts_with(k, "module.backbone.")) rest = k.substr(16);
    else if (starts_with(k, "backbone.")) rest = k.substr(9);
    else if (starts_with(k, "head.") || starts_with(k, "module.head.")) { m.extra("DINO/iBOT projection head"); continue; }
    else { m.unexpected.push_back(k); continue; }
    if (rest == "masked_embed") { m.extra("iBOT masked embedding"); continue; }
    map_encoder_key(rest, t, m);
  }
}

void map_simmim(const TensorMap& src, Mapping& m) {
  for (const auto& k : src.names) {
    const auto& t = src.tensors.at(k);
    if (starts_with(k, "decoder.")) { m.put("simmim_head." + k, t); continue; }
    if (!starts_with(k, "encoder.")) { m.unexpected.push_back(k); continue; }
    map_encoder_key(k.substr(8), t, m, "encoder.");
  }
}

void map_beit(const TensorMap& src, Mapping& m) {
  for (const auto& k : src.names) {
    std::string rest = k;
    for (const char* p : {"beit.", "data2vec_vision."})
      if (starts_with(k, p)) rest = k.substr(std::string(p).size());
    map_encoder_key(rest, src.tensors.at(k), m);
  }
}

// Concatenates q, k, v along dim 0 (checkpoints.md §6.4 "Fuse q/k/v"); a missing bias is zero.
TensorData concat_rows(const std::vector<const TensorData*>& parts, const std::vector<int64_t>& zero_shape) {
  std::vector<torch::Tensor> ts;
  for (const auto* p : parts) ts.push_back(p ? io::to_torch(*p).to(torch::kFloat32) : torch::zeros(zero_shape));
  return io::from_torch(torch::cat(ts, 0));
}

void map_hf(const TensorMap& src, Mapping& m, Family family) {
  // HF ViT / ViTMAE / Dinov2 names (checkpoints.md §2.2), optionally under a base-model prefix.
  static const std::regex layer_re(R"(^encoder\.layer\.(\d+)\.(.+)$)");
  // ViTMAE decoder layers: `decoder.decoder_layers.N` (checkpoints.md §2.2) or, in transformers 5,
  // `decoder.decoder_encoder.layer.N` (seen in the peer fixture made with transformers 5.x).
  static const std::regex dec_layer_re(R"(^decoder\.decoder_(?:layers|encoder\.layer)\.(\d+)\.(.+)$)");
  const std::map<std::string, std::string> per_layer = {
      {"layernorm_before", "norm1"},          {"norm1", "norm1"},
      {"layernorm_after", "norm2"},           {"norm2", "norm2"},
      {"attention.output.dense", "attn.proj"}, {"intermediate.dense", "mlp.fc1"},
      {"output.dense", "mlp.fc2"},            {"mlp.fc1", "mlp.fc1"},
      {"mlp.fc2", "mlp.fc2"}};
  struct Qkv { const TensorData *q = nullptr, *k = nullptr, *v = nullptr, *qb = nullptr, *kb = nullptr, *vb = nullptr; };
  std::map<std::string, Qkv> qkv;  // by canonical block prefix
  for (const auto& key : src.names) {
    const auto& t = src.tensors.at(key);
    std::string k = key;
    for (const char* p : {"vit.", "dinov2."})
      if (starts_with(k, p)) k = k.substr(std::string(p).size());
    if (starts_with(k, "classifier.") || starts_with(k, "pooler.")) { m.extra("HF classifier / pooler"); continue; }
    std::smatch mt;
    std::string block_prefix, rest;
    if (std::regex_match(k, mt, layer_re)) {
      block_prefix = "encoder.blocks." + std::string(mt[1]) + ".";
      rest = mt[2];
    } else if (std::regex_match(k, mt, dec_layer_re)) {
      block_prefix = "mae_decoder.decoder_blocks." + std::string(mt[1]) + ".";
      rest = mt[2];
    }
    if (!block_prefix.empty()) {
      const std::string attn = "attention.attention.";
      if (starts_with(rest, attn)) {
        auto& e = qkv[block_prefix];
        const std::string part = rest.substr(attn.size());
        if (part == "query.weight") e.q = &t;
        else if (part == "key.weight") e.k = &t;
        else if (part == "value.weight") e.v = &t;
        else if (part == "query.bias") e.qb = &t;
        else if (part == "key.bias") e.kb = &t;
        else if (part == "value.bias") e.vb = &t;
        else m.unexpected.push_back(key);
        continue;
      }
      // "<module>.<param>": weights and biases keep their param name; layer scale's
      // lambda1 becomes our LayerScale's gamma.
      const auto dot = rest.find_last_of('.');
      const std::string module = rest.substr(0, dot), param = rest.substr(dot + 1);
      if (param == "lambda1" && (module == "layer_scale1" || module == "layer_scale2")) {
        m.put(block_prefix + (module == "layer_scale1" ? "ls1.gamma" : "ls2.gamma"), t);
      } else if (auto it = per_layer.find(module); it != per_layer.end() && dot != std::string::npos) {
        m.put(block_prefix + it->second + "." + param, t);
      } else {
        m.unexpected.push_back(key);
      }
      continue;
    }
    static const std::map<std::string, std::string> top = {
        {"embeddings.cls_token", "encoder.cls_token"},
        {"embeddings.position_embeddings", "encoder.pos_embed"},
        {"embeddings.register_tokens", "encoder.reg_token"},
        {"embeddings.patch_embeddings.projection.weight", "encoder.patch_embed.proj.weight"},
        {"embeddings.patch_embeddings.projection.bias", "encoder.patch_embed.proj.bias"},
        {"layernorm.weight", "encoder.norm.weight"},
        {"layernorm.bias", "encoder.norm.bias"},
        {"decoder.decoder_embed.weight", "mae_decoder.decoder_embed.weight"},
        {"decoder.decoder_embed.bias", "mae_decoder.decoder_embed.bias"},
        {"decoder.mask_token", "mae_decoder.mask_token"},
        {"decoder.decoder_pos_embed", "mae_decoder.decoder_pos_embed"},
        {"decoder.decoder_norm.weight", "mae_decoder.decoder_norm.weight"},
        {"decoder.decoder_norm.bias", "mae_decoder.decoder_norm.bias"},
        {"decoder.decoder_pred.weight", "mae_decoder.decoder_pred.weight"},
        {"decoder.decoder_pred.bias", "mae_decoder.decoder_pred.bias"}};
    if (auto it = top.find(k); it != top.end()) {
      if (k == "embeddings.register_tokens") m.note("register_tokens -> reg_token");
      m.put(it->second, t);
    } else if (k == "embeddings.mask_token") {
      m.extra(family == Family::HfDinov2 ? "HF Dinov2 mask token" : "HF mask token");
    } else {
      m.unexpected.push_back(key);
    }
  }
  int fused = 0;
  for (const auto& [prefix, e] : qkv) {
    if (!e.q || !e.k || !e.v) {
      m.unexpected.push_back(prefix + "attention (incomplete q/k/v)");
      continue;
    }
    m.put(prefix + "attn.qkv.weight", concat_rows({e.q, e.k, e.v}, {}));
    if (e.qb || e.kb || e.vb) {
      const std::vector<int64_t> bias_shape{e.q->shape.at(0)};
      m.put(prefix + "attn.qkv.bias", concat_rows({e.qb, e.kb, e.vb}, bias_shape));
    }
    ++fused;
  }
  if (fused) m.note("qkv fused from separate query/key/value (" + std::to_string(fused) + " blocks)");
}

void map_torchvision(const TensorMap& src, Mapping& m) {
  static const std::regex layer_re(R"(^encoder\.layers\.encoder_layer_(\d+)\.(.+)$)");
  const std::map<std::string, std::string> per_layer = {
      {"ln_1", "norm1"}, {"ln_2", "norm2"}, {"self_attention.in_proj", "attn.qkv"},
      {"self_attention.out_proj", "attn.proj"}, {"mlp.0", "mlp.fc1"}, {"mlp.linear_1", "mlp.fc1"},
      {"mlp.3", "mlp.fc2"}, {"mlp.linear_2", "mlp.fc2"}};
  const std::map<std::string, std::string> top = {
      {"class_token", "encoder.cls_token"},          {"encoder.pos_embedding", "encoder.pos_embed"},
      {"conv_proj.weight", "encoder.patch_embed.proj.weight"}, {"conv_proj.bias", "encoder.patch_embed.proj.bias"},
      {"encoder.ln.weight", "encoder.norm.weight"},   {"encoder.ln.bias", "encoder.norm.bias"},
      {"heads.head.weight", "encoder.head.weight"},   {"heads.head.bias", "encoder.head.bias"}};
  for (const auto& k : src.names) {
    const auto& t = src.tensors.at(k);
    if (auto it = top.find(k); it != top.end()) { m.put(it->second, t); continue; }
    std::smatch mt;
    if (!std::regex_match(k, mt, layer_re)) { m.unexpected.push_back(k); continue; }
    std::string rest = mt[2];
    // nn.MultiheadAttention stores the fused projection as in_proj_weight / in_proj_bias.
    if (rest == "self_attention.in_proj_weight") rest = "self_attention.in_proj.weight";
    if (rest == "self_attention.in_proj_bias") rest = "self_attention.in_proj.bias";
    const auto dot = rest.find_last_of('.');
    auto it = per_layer.find(rest.substr(0, dot));
    if (it == per_layer.end()) { m.unexpected.push_back(k); continue; }
    m.put("encoder.blocks." + std::string(mt[1]) + "." + it->second + rest.substr(dot), t);
  }
}

// ---------------------------------------------------------------------------------------------
// Geometry and defaults (checkpoints.md §6.5)

const TensorData* find(const TensorMap& m, const std::string& k) {
  auto it = m.tensors.find(k);
  return it == m.tensors.end() ? nullptr : &it->second;
}

int count_blocks(const TensorMap& m, const std::string& prefix) {
  int n = 0;
  while (any_key_starts_with(m, prefix + std::to_string(n) + ".")) ++n;
  return n;
}

int integer_sqrt(int64_t n) {
  const auto r = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(n))));
  return r * r == n ? static_cast<int>(r) : -1;
}

template <typename T>
std::optional<T> config_value(const nlohmann::json& c, std::initializer_list<const char*> keys) {
  if (!c.is_object()) return std::nullopt;
  for (const char* k : keys)
    if (c.contains(k) && !c[k].is_null()) {
      try {
        return c[k].get<T>();
      } catch (const std::exception&) {
      }
    }
  return std::nullopt;
}

struct FamilyDefaults {
  Objective objective = Objective::Unknown;
  PosEmbedResample resample = PosEmbedResample::BicubicAntialias;
  Preprocess preprocess;
  double eps = 1e-6;
};

FamilyDefaults defaults_for(Family f) {
  FamilyDefaults d;
  switch (f) {
    case Family::MocoV3: d.objective = Objective::Contrastive; break;
    case Family::Dino: d.objective = Objective::Contrastive; d.resample = PosEmbedResample::DinoScaleFactor; break;
    case Family::Ibot: d.objective = Objective::Hybrid; d.resample = PosEmbedResample::DinoScaleFactor; break;
    case Family::Mae:
      d.objective = Objective::MaskedImageModeling;
      d.resample = PosEmbedResample::Bicubic;
      d.preprocess.mode = Preprocess::Mode::Resize;  // the MAE demo resizes straight to 224
      break;
    case Family::SimMim: d.objective = Objective::MaskedImageModeling; break;
    case Family::Beit: d.objective = Objective::MaskedImageModeling; d.preprocess.mean = {0.5f, 0.5f, 0.5f}; d.preprocess.std = {0.5f, 0.5f, 0.5f}; break;
    case Family::HfVitMae:
      d.objective = Objective::MaskedImageModeling;
      d.resample = PosEmbedResample::Bicubic;
      d.preprocess.mode = Preprocess::Mode::Resize;
      d.eps = 1e-12;  // HF default layer_norm_eps (checkpoints.md §2.2)
      break;
    case Family::HfVit: d.resample = PosEmbedResample::Bicubic; d.eps = 1e-12; break;
    case Family::HfDinov2: d.objective = Objective::Hybrid; d.resample = PosEmbedResample::Bicubic; break;
    case Family::Dinov2: d.objective = Objective::Hybrid; d.resample = PosEmbedResample::DinoScaleFactor; break;
    case Family::Torchvision: d.objective = Objective::Supervised; d.resample = PosEmbedResample::Bicubic; break;
    case Family::Timm:
    case Family::ViTScope: break;
  }
  return d;
}

// Is the stored table a fixed 2-D sin-cos one, and in which channel layout? (§6.2 heuristics)
std::optional<PosEmbedKind> sincos_layout(const TensorData& pos, int prefix_rows, int grid) {
  auto table = io::to_torch(pos).to(torch::kFloat32).reshape({-1, pos.shape.back()});
  const int D = static_cast<int>(pos.shape.back());
  if (D % 4 != 0 || table.size(0) != prefix_rows + grid * grid) return std::nullopt;
  auto patches = table.narrow(0, prefix_rows, grid * grid);
  for (bool row_first : {false, true}) {
    auto ref = sincos_pos_embed_2d(D, grid, row_first);
    if ((patches - ref).abs().max().item<float>() < 1e-4f)
      return row_first ? PosEmbedKind::SinCosRowFirst : PosEmbedKind::SinCosColumnFirst;
  }
  return std::nullopt;
}

std::string shape_str(const TensorData& t) { return c10::str(c10::IntArrayRef(t.shape)); }

ModelCard infer_card(const Mapping& m, Family family, const io::RawCheckpoint& raw, const LoadOptions& opt,
                     LoadReport& report) {
  const auto& t = m.out;
  const auto fail = [&](const std::string& why) -> LoadError { return LoadError(raw.path + ": " + why); };
  const auto* patch = find(t, "encoder.patch_embed.proj.weight");
  if (!patch) throw fail("no patch embedding weight found (family " + std::string(family_name(family)) + ")");
  if (patch->shape.size() != 4 || patch->shape[2] != patch->shape[3])
    throw fail("patch embedding has shape " + shape_str(*patch) + ", expected [D, C, P, P]");
  const auto defaults = defaults_for(family);
  const auto& cfg = raw.config;

  ModelCard card;
  card.family = family;
  card.objective = defaults.objective;
  card.preprocess = defaults.preprocess;
  ViTConfig& v = card.vit;
  v.embed_dim = static_cast<int>(patch->shape[0]);
  v.in_channels = static_cast<int>(patch->shape[1]);
  v.patch_size = static_cast<int>(patch->shape[2]);
  v.patch_embed_bias = has(t, "encoder.patch_embed.proj.bias");
  v.depth = count_blocks(t, "encoder.blocks.");
  if (v.depth == 0) throw fail("no transformer blocks found");
  const auto* fc1 = find(t, "encoder.blocks.0.mlp.fc1.weight");
  if (!fc1) throw fail("block 0 has no MLP (mlp.fc1.weight)");
  v.mlp_hidden_dim = static_cast<int>(fc1->shape[0]);
  v.qkv_bias = has(t, "encoder.blocks.0.attn.qkv.bias")    ? QkvBiasKind::Fused
               : has(t, "encoder.blocks.0.attn.q_bias")     ? QkvBiasKind::QueryValue
                                                            : QkvBiasKind::None;
  v.layer_scale = has(t, "encoder.blocks.0.ls1.gamma");
  v.class_token = has(t, "encoder.cls_token");
  if (const auto* reg = find(t, "encoder.reg_token")) v.num_register_tokens = static_cast<int>(reg->shape.at(1));
  v.mask_token = has(t, "encoder.mask_token");
  v.final_norm = has(t, "encoder.norm.weight");
  if (has(t, "encoder.fc_norm.weight")) v.readout = Readout::MeanPatchTokens;
  if (const auto* head = find(t, "encoder.head.weight")) v.num_classes = static_cast<int>(head->shape.at(0));
  v.pos_resample = defaults.resample;

  // Grid: from the position table, else the relative-bias table, else config / 224.
  int grid = -1;
  std::optional<int> heads_from_table;
  if (const auto* pos = find(t, "encoder.pos_embed")) {
    const int64_t len = pos->shape.at(1);
    const int prefix = v.num_prefix_tokens();
    if (integer_sqrt(len - prefix) > 0) {
      grid = integer_sqrt(len - prefix);
      v.pos_embed_has_prefix = true;
    } else if (integer_sqrt(len) > 0) {
      grid = integer_sqrt(len);
      v.pos_embed_has_prefix = false;
    } else {
      throw fail("pos_embed has " + std::to_string(len) + " rows: neither it nor it minus the " +
                 std::to_string(prefix) + " prefix tokens is a square grid");
    }
    const auto layout = sincos_layout(*pos, v.pos_embed_has_prefix ? prefix : 0, grid);
    v.pos_embed = layout.value_or(PosEmbedKind::Learned);
    report.assumptions.push_back(std::string("position embedding: ") +
                                 (layout ? (*layout == PosEmbedKind::SinCosRowFirst ? "fixed sin-cos, row code first (MoCo v3 layout)"
                                                                                     : "fixed sin-cos, column code first (MAE layout)")
                                         : "learned"));
  } else {
    v.pos_embed = PosEmbedKind::None;
  }
  const TensorData* rel = find(t, "encoder.rel_pos_bias.relative_position_bias_table");
  if (rel) v.rel_pos_bias = RelPosBiasKind::Shared;
  if (!rel && (rel = find(t, "encoder.blocks.0.attn.rel_pos_bias.relative_position_bias_table")))
    v.rel_pos_bias = RelPosBiasKind::PerBlock;
  if (rel) {
    const int span = integer_sqrt(rel->shape.at(0) - 3);
    if (span <= 0 || span % 2 == 0) throw fail("relative position bias table has " + std::to_string(rel->shape.at(0)) + " rows, not (2g-1)^2+3");
    if (grid < 0) grid = (span + 1) / 2;
    heads_from_table = static_cast<int>(rel->shape.at(1));
  }
  if (grid < 0) {
    const int size = config_value<int>(cfg, {"image_size", "img_size"}).value_or(224);
    grid = size / v.patch_size;
    report.assumptions.push_back("image size " + std::to_string(size) + " (no position table; from config or default)");
  }
  v.image_size = grid * v.patch_size;

  // Heads: not in the weights (§0 item 3).
  std::string heads_src;
  if (opt.num_heads) { v.num_heads = *opt.num_heads; heads_src = "given by the user"; }
  else if (auto h = config_value<int>(cfg, {"num_attention_heads", "num_heads"})) { v.num_heads = *h; heads_src = "config.json"; }
  else if (heads_from_table) { v.num_heads = *heads_from_table; heads_src = "relative position bias table"; }
  else if (family == Family::MocoV3) { v.num_heads = 12; heads_src = "MoCo v3 default (ViT-S and ViT-B use 12 heads)"; }
  else if (v.embed_dim % 64 == 0) { v.num_heads = v.embed_dim / 64; heads_src = "family default D/64"; }
  else { v.num_heads = v.embed_dim % 32 == 0 ? v.embed_dim / 32 : 1; heads_src = "guess: head dim 32"; }
  report.assumptions.push_back("attention heads " + std::to_string(v.num_heads) + " (" + heads_src + ")");
  if (opt.layer_norm_eps) v.layer_norm_eps = *opt.layer_norm_eps;
  else v.layer_norm_eps = config_value<double>(cfg, {"layer_norm_eps"}).value_or(defaults.eps);
  {
    std::ostringstream s;
    s << "LayerNorm eps " << v.layer_norm_eps;
    report.assumptions.push_back(s.str());
  }
  if (auto mean = config_value<std::array<float, 3>>(cfg, {"image_mean", "mean"})) card.preprocess.mean = *mean;
  if (auto sd = config_value<std::array<float, 3>>(cfg, {"image_std", "std"})) card.preprocess.std = *sd;
  if (cfg.is_object() && cfg.contains("pretrained_cfg")) {
    const auto& pc = cfg["pretrained_cfg"];
    if (auto mean = config_value<std::array<float, 3>>(pc, {"mean"})) card.preprocess.mean = *mean;
    if (auto sd = config_value<std::array<float, 3>>(pc, {"std"})) card.preprocess.std = *sd;
    if (auto crop = config_value<double>(pc, {"crop_pct"})) card.preprocess.crop_fraction = *crop;
  }
  {
    std::ostringstream s;
    s << "normalisation mean (" << card.preprocess.mean[0] << ", " << card.preprocess.mean[1] << ", "
      << card.preprocess.mean[2] << "), std (" << card.preprocess.std[0] << ", " << card.preprocess.std[1] << ", "
      << card.preprocess.std[2] << ")";
    report.assumptions.push_back(s.str());
  }
  report.assumptions.push_back(v.readout == Readout::MeanPatchTokens ? "readout: mean of patch tokens + fc_norm"
                                                                     : "readout: CLS token after the final norm");

  // Heads on the encoder.
  if (const auto* embed = find(t, "mae_decoder.decoder_embed.weight")) {
    MaeDecoderConfig d;
    d.embed_dim = static_cast<int>(embed->shape.at(0));
    d.depth = count_blocks(t, "mae_decoder.decoder_blocks.");
    if (const auto* dfc1 = find(t, "mae_decoder.decoder_blocks.0.mlp.fc1.weight")) d.mlp_hidden_dim = static_cast<int>(dfc1->shape.at(0));
    d.num_heads = config_value<int>(cfg, {"decoder_num_attention_heads"}).value_or(16);
    if (d.embed_dim % d.num_heads != 0) d.num_heads = d.embed_dim % 32 == 0 ? d.embed_dim / 32 : 1;
    d.layer_norm_eps = v.layer_norm_eps;
    d.norm_pixel_target = opt.mae_norm_pixel_target.value_or(config_value<bool>(cfg, {"norm_pix_loss"}).value_or(false));
    report.assumptions.push_back("MAE decoder: " + std::to_string(d.depth) + " blocks, " + std::to_string(d.num_heads) +
                                 " heads, " + (d.norm_pixel_target ? "normalised-pixel" : "plain-pixel") + " targets" +
                                 (opt.mae_norm_pixel_target || cfg.contains("norm_pix_loss") ? "" : " (assumed)"));
    card.mae_decoder = d;
  }
  card.simmim_head = has(t, "simmim_head.decoder.0.weight");
  if (const auto* p0 = find(t, "moco_projector.layers.0.weight")) {
    const auto* p6 = find(t, "moco_projector.layers.6.weight");
    if (p6 && has(t, "moco_predictor.layers.0.weight"))
      card.moco_heads = ModelCard::MocoHeads{static_cast<int>(p0->shape.at(0)), static_cast<int>(p6->shape.at(0))};
  }
  card.name = std::filesystem::path(raw.path).filename().string();
  return card;
}

// Keys the mapping produced that the model intentionally does not take (regenerated buffers).
bool is_derived_buffer(const std::string& name) {
  return name.find("relative_position_index") != std::string::npos || name.find("num_batches_tracked") != std::string::npos;
}

// The model the checkpoint fills: no random numbers drawn for weights that load_state overwrites
// (it refuses a checkpoint that leaves a parameter out).
Model create_for_loading(const ModelCard& card) {
  SkipParameterInit filled_by_load_state;
  return Model::create(card);
}

}  // namespace

LoadedModel load_model(const std::string& path, const LoadOptions& options) {
  io::ReadOptions ro;
  ro.prefer_branch = options.branch;
  return load_model(io::read_checkpoint(path, ro), options);
}

LoadedModel load_model(const io::RawCheckpoint& raw, const LoadOptions& options) {
  LoadReport report;
  report.path = raw.path;
  report.container = io::container_format_name(raw.format);
  report.unwrapped_from = raw.unwrapped_from;
  report.metadata = raw.metadata;
  for (const auto& n : raw.notes) report.adapted.push_back(n);

  FamilyDetection det = options.family ? FamilyDetection{*options.family, "given by the user"} : detect_family(raw);
  report.family = family_name(det.family);
  report.detection_rule = det.rule;

  Model model;
  Mapping m;
  if (det.family == Family::ViTScope) {
    // Our own format: names are canonical already; the card lies beside the weights.
    auto card_path = std::filesystem::path(raw.path).replace_extension(".json");
    std::ifstream f(card_path);
    if (!f) throw LoadError(raw.path + ": model card " + card_path.string() + " is missing");
    nlohmann::json j;
    try {
      f >> j;
    } catch (const std::exception& e) {
      throw LoadError(card_path.string() + ": invalid JSON (" + e.what() + ")");
    }
    ModelCard card;
    try {
      card = model_card_from_json(j);
    } catch (const std::exception& e) {
      throw LoadError(card_path.string() + ": bad model card (" + e.what() + ")");
    }
    model = create_for_loading(card);
    m.out = raw.tensors;
  } else {
    switch (det.family) {
      case Family::MocoV3: map_moco(raw.tensors, m); break;
      case Family::Dino:
      case Family::Ibot: map_dino_ibot(raw.tensors, m); break;
      case Family::SimMim: map_simmim(raw.tensors, m); break;
      case Family::Beit: map_beit(raw.tensors, m); break;
      case Family::HfVit:
      case Family::HfVitMae:
      case Family::HfDinov2: map_hf(raw.tensors, m, det.family); break;
      case Family::Torchvision: map_torchvision(raw.tensors, m); break;
      default: map_timm_like(raw.tensors, m, det.family); break;
    }
    // A timm-style file whose table is MAE's sin-cos is an MAE encoder (§6.2 row 10 heuristic).
    ModelCard card = infer_card(m, det.family, raw, options, report);
    if (det.family == Family::Timm && card.vit.pos_embed == PosEmbedKind::SinCosColumnFirst) {
      card.objective = Objective::MaskedImageModeling;
      report.assumptions.push_back("objective MIM: MAE-layout sin-cos table suggests an MAE encoder");
    } else if (det.family == Family::Timm && card.vit.pos_embed == PosEmbedKind::SinCosRowFirst) {
      card.objective = Objective::Contrastive;
      report.assumptions.push_back("objective CL: MoCo-layout sin-cos table suggests a MoCo v3 encoder");
    }
    model = create_for_loading(card);
  }
  report.adapted.insert(report.adapted.end(), m.adapted.begin(), m.adapted.end());
  report.known_extras = m.extras;
  report.unexpected = m.unexpected;

  // Count dtype conversions for the report.
  std::map<std::string, int> dtypes;
  for (const auto& [name, t] : m.out.tensors)
    if (t.dtype != io::DType::Float32 && t.dtype != io::DType::Int64) ++dtypes[io::dtype_name(t.dtype)];
  for (const auto& [dt, n] : dtypes) report.dtype_conversions.push_back(std::to_string(n) + " " + dt + " tensors converted to F32");

  // Relative-position indices in the file must agree with the regenerated ones (§6.4).
  for (const auto& [name, t] : m.out.tensors) {
    if (name.find("relative_position_index") == std::string::npos) continue;
    const auto grid = model.config().grid();
    auto expected = relative_position_index(grid);
    auto stored = io::to_torch(t).to(torch::kInt64);
    if (!stored.sizes().equals(expected.sizes()) || !stored.equal(expected))
      throw LoadError(raw.path + ": stored " + name + " differs from the regenerated relative position index");
  }

  auto result = load_state(model, m.out);
  report.loaded = static_cast<int>(result.loaded.size());
  std::vector<std::string> missing;
  for (const auto& name : result.missing) {
    if (is_derived_buffer(name) || name == "mae_decoder.decoder_pos_embed") continue;  // regenerated
    missing.push_back(name);
  }
  for (const auto& name : result.unexpected)
    if (!is_derived_buffer(name)) report.unexpected.push_back(name);
  if (!result.mismatched.empty() || !missing.empty()) {
    std::string msg = raw.path + ": cannot load into the detected " + std::string(family_name(det.family)) + " ViT — ";
    if (!result.mismatched.empty()) {
      msg += std::to_string(result.mismatched.size()) + " shape mismatch(es): " + result.mismatched.front();
      if (result.mismatched.size() > 1) msg += ", …";
      msg += "; ";
    }
    if (!missing.empty()) {
      msg += std::to_string(missing.size()) + " missing tensor(s): " + missing.front();
      if (missing.size() > 1) msg += ", " + missing[1] + (missing.size() > 2 ? ", …" : "");
    }
    throw LoadError(msg);
  }
  if (!model.encoder->head) report.missing_optional.push_back("classifier head (none in the file)");
  model.card.source_path = raw.path;
  if (options.image_size && *options.image_size != model.config().image_size) {
    const int old = model.config().image_size;
    model.encoder->set_image_size(*options.image_size);
    if (model.mae_decoder) model.mae_decoder->set_grid(model.config().grid());
    model.card.vit = model.config();
    report.adapted.push_back("input size " + std::to_string(old) + " -> " + std::to_string(*options.image_size) +
                             " (position tables resampled / regenerated)");
  }
  model.eval();
  return {std::move(model), std::move(report)};
}

std::string LoadReport::text() const {
  std::ostringstream s;
  s << "file:        " << path << "\n"
    << "container:   " << container << (unwrapped_from.empty() ? "" : " (state dict under '" + unwrapped_from + "')") << "\n"
    << "family:      " << family << " — " << detection_rule << "\n"
    << "loaded:      " << loaded << " tensors\n";
  for (const auto& d : dtype_conversions) s << "converted:   " << d << "\n";
  for (const auto& a : adapted) s << "adapted:     " << a << "\n";
  for (const auto& a : assumptions) s << "assumed:     " << a << "\n";
  for (const auto& [group, n] : known_extras) s << "set aside:   " << group << " (" << n << " tensors)\n";
  for (const auto& u : unexpected) s << "UNKNOWN KEY: " << u << " (not used)\n";
  for (const auto& o : missing_optional) s << "absent:      " << o << "\n";
  if (metadata.is_object() && !metadata.empty()) s << "metadata:    " << metadata.dump() << "\n";
  return s.str();
}

nlohmann::json LoadReport::to_json() const {
  return {{"path", path},
          {"container", container},
          {"family", family},
          {"detection_rule", detection_rule},
          {"unwrapped_from", unwrapped_from},
          {"loaded", loaded},
          {"dtype_conversions", dtype_conversions},
          {"adapted", adapted},
          {"assumptions", assumptions},
          {"known_extras", known_extras},
          {"unexpected", unexpected},
          {"missing_optional", missing_optional},
          {"metadata", metadata}};
}

}  // namespace vitscope::model
