#pragma once
// Heads that sit on the ViT encoder: MAE decoder, SimMIM head, MoCo v3 projector / predictor.
// The linear classifier is the encoder's own `head` (timm naming).
#include <torch/torch.h>

#include "core/model/capture.h"
#include "core/model/vision_transformer.h"

namespace vitscope::model {

// MAE patchify order (paper-analyses.md §3.13): patch vector index (p*P + q)*C + c.
torch::Tensor patchify(const torch::Tensor& images, int patch_size);                  // (B,C,H,W) -> (B,L,P*P*C)
torch::Tensor unpatchify(const torch::Tensor& patches, int patch_size, int channels);  // inverse

// Light ViT decoder of MAE (checkpoints.md §2.3 names: decoder_embed, mask_token,
// decoder_pos_embed, decoder_blocks.j, decoder_norm, decoder_pred).
struct MaeDecoderImpl : torch::nn::Module {
  MaeDecoderImpl(const MaeDecoderConfig& config, int encoder_dim, int grid, int patch_size, int channels);
  // encoded: (B, 1 + L_keep, D_enc) encoder output after its final norm, CLS first;
  // ids_restore: (B, L) position of each original patch in [kept..., masked...] order.
  // Returns per-patch predictions (B, L, P*P*C) in patchify order. Decoder taps are numbered
  // like the encoder's: tap 0 = decoder input (after embed, mask tokens and pos), 2k-1 / 2k.
  torch::Tensor forward(const torch::Tensor& encoded, const torch::Tensor& ids_restore,
                        const CaptureRequest& request = {}, Capture* capture = nullptr);
  void set_grid(int grid);  // regenerates the fixed sin-cos decoder table

  MaeDecoderConfig config;
  int grid;
  Linear decoder_embed{nullptr}, decoder_pred{nullptr};
  torch::Tensor mask_token, decoder_pos_embed;
  torch::nn::ModuleList decoder_blocks;
  torch::nn::LayerNorm decoder_norm{nullptr};
};
TORCH_MODULE(MaeDecoder);

// SimMIM head: 1x1 conv D -> P*P*C, then PixelShuffle(P) (paper-analyses.md §3.13).
// Named `0` inside like SimMIM's nn.Sequential (`decoder.0.weight`).
struct SimMimHeadImpl : torch::nn::Module {
  SimMimHeadImpl(int encoder_dim, int patch_size, int channels);
  // tokens: encoder output (B, prefix + g*g, D). Returns (B, C, g*P, g*P) in normalised space.
  torch::Tensor forward(const torch::Tensor& tokens, int num_prefix_tokens);
  int patch_size;
  torch::nn::Sequential decoder;
};
TORCH_MODULE(SimMimHead);

// MoCo v3 MLP head (§3.14): [Linear(no bias) -> BN -> ReLU] x (layers-1) -> Linear(no bias) -> BN
// (the last BN without affine). Projector: 3 layers; predictor: 2 layers. Keys 0.weight, 1.*…
struct MlpHeadImpl : torch::nn::Module {
  MlpHeadImpl(int in_dim, int hidden_dim, int out_dim, int num_layers);
  torch::Tensor forward(const torch::Tensor& x) { return layers->forward(x); }
  int in_dim, hidden_dim, out_dim, num_layers;
  torch::nn::Sequential layers;
};
TORCH_MODULE(MlpHead);

}  // namespace vitscope::model
