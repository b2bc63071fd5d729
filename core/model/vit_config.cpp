#include "core/model/vit_config.h"

#include <stdexcept>

namespace vitscope::model {

NLOHMANN_JSON_SERIALIZE_ENUM(PosEmbedKind, {{PosEmbedKind::None, "none"},
                                            {PosEmbedKind::Learned, "learned"},
                                            {PosEmbedKind::SinCosRowFirst, "sincos_row_first"},
                                            {PosEmbedKind::SinCosColumnFirst, "sincos_column_first"}})
NLOHMANN_JSON_SERIALIZE_ENUM(QkvBiasKind, {{QkvBiasKind::None, "none"},
                                           {QkvBiasKind::Fused, "fused"},
                                           {QkvBiasKind::QueryValue, "query_value"}})
NLOHMANN_JSON_SERIALIZE_ENUM(RelPosBiasKind, {{RelPosBiasKind::None, "none"},
                                              {RelPosBiasKind::Shared, "shared"},
                                              {RelPosBiasKind::PerBlock, "per_block"}})
NLOHMANN_JSON_SERIALIZE_ENUM(Readout, {{Readout::ClsToken, "cls"}, {Readout::MeanPatchTokens, "mean_patch"}})
NLOHMANN_JSON_SERIALIZE_ENUM(PosEmbedResample, {{PosEmbedResample::BicubicAntialias, "bicubic_antialias"},
                                                {PosEmbedResample::Bicubic, "bicubic"},
                                                {PosEmbedResample::DinoScaleFactor, "dino_scale_factor"}})

void ViTConfig::validate() const {
  auto fail = [](const std::string& what) { throw std::invalid_argument("ViT config: " + what); };
  if (patch_size <= 0 || image_size <= 0 || image_size % patch_size != 0)
    fail("image_size " + std::to_string(image_size) + " must be a positive multiple of patch_size " +
         std::to_string(patch_size));
  if (embed_dim <= 0 || num_heads <= 0 || embed_dim % num_heads != 0)
    fail("embed_dim " + std::to_string(embed_dim) + " must be divisible by num_heads " + std::to_string(num_heads));
  if (depth <= 0) fail("depth must be positive");
  if (mlp_hidden_dim <= 0) fail("mlp_hidden_dim must be positive");
  if (in_channels <= 0) fail("in_channels must be positive");
  if (num_register_tokens < 0) fail("num_register_tokens must be >= 0");
  if (pos_embed == PosEmbedKind::SinCosRowFirst || pos_embed == PosEmbedKind::SinCosColumnFirst) {
    if (embed_dim % 4 != 0) fail("sin-cos position embedding needs embed_dim % 4 == 0");
  }
  if (readout == Readout::ClsToken && !class_token && num_classes > 0) fail("CLS readout without a CLS token");
  if (rel_pos_bias != RelPosBiasKind::None && num_register_tokens > 0)
    fail("relative position bias with register tokens is not supported");
  if (rel_pos_bias != RelPosBiasKind::None && !class_token)
    fail("relative position bias assumes a CLS token");
}

nlohmann::json to_json(const ViTConfig& c) {
  return {{"image_size", c.image_size},
          {"patch_size", c.patch_size},
          {"in_channels", c.in_channels},
          {"embed_dim", c.embed_dim},
          {"depth", c.depth},
          {"num_heads", c.num_heads},
          {"mlp_hidden_dim", c.mlp_hidden_dim},
          {"layer_norm_eps", c.layer_norm_eps},
          {"class_token", c.class_token},
          {"num_register_tokens", c.num_register_tokens},
          {"pos_embed", c.pos_embed},
          {"pos_embed_has_prefix", c.pos_embed_has_prefix},
          {"pos_resample", c.pos_resample},
          {"qkv_bias", c.qkv_bias},
          {"rel_pos_bias", c.rel_pos_bias},
          {"layer_scale", c.layer_scale},
          {"patch_embed_bias", c.patch_embed_bias},
          {"final_norm", c.final_norm},
          {"readout", c.readout},
          {"mask_token", c.mask_token},
          {"num_classes", c.num_classes}};
}

ViTConfig vit_config_from_json(const nlohmann::json& j) {
  ViTConfig c;
  auto get = [&](const char* key, auto& field) {
    if (j.contains(key)) field = j.at(key).get<std::decay_t<decltype(field)>>();
  };
  get("image_size", c.image_size);
  get("patch_size", c.patch_size);
  get("in_channels", c.in_channels);
  get("embed_dim", c.embed_dim);
  get("depth", c.depth);
  get("num_heads", c.num_heads);
  get("mlp_hidden_dim", c.mlp_hidden_dim);
  get("layer_norm_eps", c.layer_norm_eps);
  get("class_token", c.class_token);
  get("num_register_tokens", c.num_register_tokens);
  get("pos_embed", c.pos_embed);
  get("pos_embed_has_prefix", c.pos_embed_has_prefix);
  get("pos_resample", c.pos_resample);
  get("qkv_bias", c.qkv_bias);
  get("rel_pos_bias", c.rel_pos_bias);
  get("layer_scale", c.layer_scale);
  get("patch_embed_bias", c.patch_embed_bias);
  get("final_norm", c.final_norm);
  get("readout", c.readout);
  get("mask_token", c.mask_token);
  get("num_classes", c.num_classes);
  c.validate();
  return c;
}

nlohmann::json to_json(const MaeDecoderConfig& c) {
  return {{"embed_dim", c.embed_dim},           {"depth", c.depth},
          {"num_heads", c.num_heads},           {"mlp_hidden_dim", c.mlp_hidden_dim},
          {"layer_norm_eps", c.layer_norm_eps}, {"norm_pixel_target", c.norm_pixel_target}};
}

MaeDecoderConfig mae_decoder_config_from_json(const nlohmann::json& j) {
  MaeDecoderConfig c;
  c.embed_dim = j.value("embed_dim", c.embed_dim);
  c.depth = j.value("depth", c.depth);
  c.num_heads = j.value("num_heads", c.num_heads);
  c.mlp_hidden_dim = j.value("mlp_hidden_dim", c.mlp_hidden_dim);
  c.layer_norm_eps = j.value("layer_norm_eps", c.layer_norm_eps);
  c.norm_pixel_target = j.value("norm_pixel_target", c.norm_pixel_target);
  if (c.embed_dim <= 0 || c.num_heads <= 0 || c.embed_dim % c.num_heads != 0 || c.depth <= 0)
    throw std::invalid_argument("MAE decoder config: embed_dim must be divisible by num_heads, depth > 0");
  return c;
}

}  // namespace vitscope::model
