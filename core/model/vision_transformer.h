#pragma once
// The ViT encoder, in the LibTorch module pattern and with timm's parameter names
// (checkpoints.md §1), so a state dict in canonical names loads with load_state_dict().
// Forward is split into forward_features (tokens, optionally with a Capture) and forward_head.
#include <torch/torch.h>

#include "core/model/capture.h"
#include "core/model/linear.h"
#include "core/model/vit_config.h"

namespace vitscope::model {

// Shared relative position bias table of BEiT / SimMIM (paper-analyses.md §1.4 item 2).
// Table [(2g-1)^2 + 3, H]; index [N, N] regenerated from the grid; CLS entries are the last 3.
struct RelativePositionBiasImpl : torch::nn::Module {
  RelativePositionBiasImpl(int grid, int num_heads);
  torch::Tensor forward() const;  // (H, 1+g*g, 1+g*g)
  torch::Tensor relative_position_bias_table;
  torch::Tensor relative_position_index;
};
TORCH_MODULE(RelativePositionBias);

// Regenerates the relative position index for a g x g grid with one CLS token in front.
torch::Tensor relative_position_index(int grid);

struct AttentionImpl : torch::nn::Module {
  AttentionImpl(int dim, int num_heads, QkvBiasKind qkv_bias, int per_block_rel_grid /*0 = none*/);
  // bias: (H, N, N) added to the logits, or undefined. attention_out: filled with the
  // post-softmax probabilities when non-null (explicit path); null allows the fused kernel.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias,
                        torch::Tensor* attention_out);

  int num_heads;
  double scale;
  Linear qkv{nullptr}, proj{nullptr};
  torch::Tensor q_bias, v_bias;                 // QkvBiasKind::QueryValue only
  RelativePositionBias rel_pos_bias{nullptr};   // RelPosBiasKind::PerBlock only
};
TORCH_MODULE(Attention);

struct MlpImpl : torch::nn::Module {
  MlpImpl(int dim, int hidden);
  torch::Tensor forward(const torch::Tensor& x);
  Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Mlp);

struct LayerScaleImpl : torch::nn::Module {
  explicit LayerScaleImpl(int dim, double init = 0.1);
  torch::Tensor forward(const torch::Tensor& x) { return x * gamma; }
  torch::Tensor gamma;
};
TORCH_MODULE(LayerScale);

struct BlockOptions {
  int dim = 768, num_heads = 12, mlp_hidden_dim = 3072;
  double layer_norm_eps = 1e-6;
  QkvBiasKind qkv_bias = QkvBiasKind::Fused;
  bool layer_scale = false;
  int per_block_rel_grid = 0;
};

// Pre-norm block: x += ls1(attn(norm1(x))); x += ls2(mlp(norm2(x))).
struct BlockImpl : torch::nn::Module {
  explicit BlockImpl(const BlockOptions& o);
  // after_attention: filled with the residual stream after the attention branch when non-null.
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& bias, torch::Tensor* attention_out,
                        torch::Tensor* after_attention);
  torch::nn::LayerNorm norm1{nullptr}, norm2{nullptr};
  Attention attn{nullptr};
  Mlp mlp{nullptr};
  LayerScale ls1{nullptr}, ls2{nullptr};
};
TORCH_MODULE(Block);

// Which patch tokens enter the blocks. Empty tensors = all patches, no masking.
struct TokenMask {
  torch::Tensor replace;  // (B, L) 0/1: replace patch embedding by mask_token (SimMIM)
  torch::Tensor keep;     // (B, L_keep) int64 patch indices kept, others dropped (MAE)
};

struct PatchEmbedImpl : torch::nn::Module {
  PatchEmbedImpl(int in_channels, int dim, int patch_size, bool bias);
  torch::Tensor forward(const torch::Tensor& images);  // (B, L, D), patches row-major
  torch::nn::Conv2d proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

struct VisionTransformerImpl : torch::nn::Module {
  explicit VisionTransformerImpl(const ViTConfig& config);

  // images (B, C, H, W), normalised. Returns the token sequence after the final norm
  // (B, prefix + L', D). Fills `capture` (if non-null) with what `request` asks for.
  torch::Tensor forward_features(const torch::Tensor& images, const CaptureRequest& request = {},
                                 Capture* capture = nullptr, const TokenMask& mask = {});
  // Readout (CLS or mean of patch tokens + fc_norm) of forward_features' output: (B, D).
  torch::Tensor readout(const torch::Tensor& tokens);
  // Classifier logits (B, num_classes); requires config.num_classes > 0.
  torch::Tensor forward_head(const torch::Tensor& tokens);
  torch::Tensor forward(const torch::Tensor& images) { return forward_head(forward_features(images)); }

  // Resize to another square input size: learned tables are resampled with the family's method
  // (checkpoints.md §6.6), sin-cos tables regenerated, relative-bias tables resized bicubically.
  void set_image_size(int image_size);

  const ViTConfig& config() const { return config_; }

  PatchEmbed patch_embed{nullptr};
  torch::Tensor cls_token, reg_token, pos_embed, mask_token;
  RelativePositionBias rel_pos_bias{nullptr};  // Shared only
  torch::nn::ModuleList blocks;
  torch::nn::LayerNorm norm{nullptr}, fc_norm{nullptr};
  Linear head{nullptr};

 private:
  torch::Tensor embed_patches(const torch::Tensor& images, const TokenMask& mask);
  ViTConfig config_;
};
TORCH_MODULE(VisionTransformer);

// Fixed 2-D sin-cos table [grid*grid, dim] (no prefix row) in either channel layout.
torch::Tensor sincos_pos_embed_2d(int dim, int grid, bool row_first);

}  // namespace vitscope::model
