#pragma once
// The one ViT architecture description that covers every family ViTScope loads
// (checkpoints.md §1, §6.5): what the weights cannot tell (heads, eps, readout) comes from the
// detected family or config.json.
#include <nlohmann/json.hpp>

#include <array>
#include <string>

namespace vitscope::model {

enum class PosEmbedKind {
  None,               // SimMIM ViT-B: relative position bias only
  Learned,            // DINO, iBOT, timm, DINOv2, HF
  SinCosRowFirst,     // MoCo v3: first D/2 channels encode the row (paper-analyses.md §1.3)
  SinCosColumnFirst,  // MAE: first D/2 channels encode the column (checkpoints.md §2.3)
};
enum class QkvBiasKind { None, Fused, QueryValue };  // QueryValue: [q_bias, 0, v_bias] (BEiT, SimMIM)
enum class RelPosBiasKind { None, Shared, PerBlock };
enum class Readout { ClsToken, MeanPatchTokens };     // MeanPatchTokens goes through fc_norm
// How a learned position table is resampled to another grid (checkpoints.md §6.6).
enum class PosEmbedResample { BicubicAntialias /*timm*/, Bicubic /*HF, MAE*/, DinoScaleFactor };

struct ViTConfig {
  int image_size = 224;
  int patch_size = 16;
  int in_channels = 3;
  int embed_dim = 768;
  int depth = 12;
  int num_heads = 12;
  int mlp_hidden_dim = 3072;
  double layer_norm_eps = 1e-6;
  bool class_token = true;
  int num_register_tokens = 0;
  PosEmbedKind pos_embed = PosEmbedKind::Learned;
  bool pos_embed_has_prefix = true;  // table [1, 1+N, D]; false = [1, N, D] (timm no_embed_class)
  PosEmbedResample pos_resample = PosEmbedResample::BicubicAntialias;
  QkvBiasKind qkv_bias = QkvBiasKind::Fused;
  RelPosBiasKind rel_pos_bias = RelPosBiasKind::None;
  bool layer_scale = false;
  bool patch_embed_bias = true;
  bool final_norm = true;
  Readout readout = Readout::ClsToken;
  bool mask_token = false;  // learned token that replaces masked patch embeddings (SimMIM, BEiT)
  int num_classes = 0;      // linear classifier on the readout; 0 = none

  int grid() const { return image_size / patch_size; }
  int num_patches() const { return grid() * grid(); }
  int num_prefix_tokens() const { return (class_token ? 1 : 0) + num_register_tokens; }
  int num_tokens() const { return num_prefix_tokens() + num_patches(); }
  int head_dim() const { return embed_dim / num_heads; }
  int num_taps() const { return 2 * depth + 1; }
  void validate() const;  // throws std::invalid_argument naming the bad field
};

// MAE decoder (paper-analyses.md §3.13; checkpoints.md §2.3).
struct MaeDecoderConfig {
  int embed_dim = 512;
  int depth = 8;
  int num_heads = 16;
  int mlp_hidden_dim = 2048;
  double layer_norm_eps = 1e-6;
  bool norm_pixel_target = false;  // predictions are per-patch standardised pixels
};

nlohmann::json to_json(const ViTConfig& c);
ViTConfig vit_config_from_json(const nlohmann::json& j);
nlohmann::json to_json(const MaeDecoderConfig& c);
MaeDecoderConfig mae_decoder_config_from_json(const nlohmann::json& j);

}  // namespace vitscope::model
