#include "core/model/heads.h"

namespace vitscope::model {

torch::Tensor patchify(const torch::Tensor& images, int P) {
  const auto B = images.size(0), C = images.size(1), gh = images.size(2) / P, gw = images.size(3) / P;
  return images.reshape({B, C, gh, P, gw, P})
      .permute({0, 2, 4, 3, 5, 1})  // (B, gh, gw, p, q, c)
      .reshape({B, gh * gw, P * P * C});
}

torch::Tensor unpatchify(const torch::Tensor& patches, int P, int C) {
  const auto B = patches.size(0), L = patches.size(1);
  const auto g = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(L))));
  return patches.reshape({B, g, g, P, P, C}).permute({0, 5, 1, 3, 2, 4}).reshape({B, C, g * P, g * P});
}

MaeDecoderImpl::MaeDecoderImpl(const MaeDecoderConfig& c, int encoder_dim, int grid_, int patch_size, int channels)
    : config(c), grid(grid_) {
  decoder_embed = register_module("decoder_embed", Linear(encoder_dim, c.embed_dim));
  mask_token = register_parameter("mask_token", torch::zeros({1, 1, c.embed_dim}));
  auto table = torch::zeros({1, 1 + grid * grid, c.embed_dim});
  table.narrow(1, 1, grid * grid).copy_(sincos_pos_embed_2d(c.embed_dim, grid, /*row_first=*/false).unsqueeze(0));
  decoder_pos_embed = register_parameter("decoder_pos_embed", table, /*requires_grad=*/false);
  decoder_blocks = register_module("decoder_blocks", torch::nn::ModuleList());
  BlockOptions bo{c.embed_dim, c.num_heads, c.mlp_hidden_dim, c.layer_norm_eps, QkvBiasKind::Fused, false, 0};
  for (int i = 0; i < c.depth; ++i) decoder_blocks->push_back(Block(bo));
  decoder_norm = register_module(
      "decoder_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.embed_dim}).eps(c.layer_norm_eps)));
  decoder_pred = register_module("decoder_pred", Linear(c.embed_dim, patch_size * patch_size * channels));
}

torch::Tensor MaeDecoderImpl::forward(const torch::Tensor& encoded, const torch::Tensor& ids_restore,
                                      const CaptureRequest& request, Capture* capture) {
  auto x = decoder_embed(encoded);
  const auto B = x.size(0), L = ids_restore.size(1), D = x.size(2);
  const auto kept = x.size(1) - 1;
  // Append mask tokens after the kept patches, then undo the shuffle (§3.13 decoder).
  auto patches = torch::cat({x.narrow(1, 1, kept), mask_token.to(x.dtype()).expand({B, L - kept, D})}, 1);
  patches = patches.gather(1, ids_restore.unsqueeze(-1).expand({-1, -1, D}));
  x = torch::cat({x.narrow(1, 0, 1), patches}, 1) + decoder_pos_embed.to(x.dtype());
  if (capture != nullptr) {
    capture->attentions.assign(config.depth, torch::Tensor());
    capture->taps.assign(2 * config.depth + 1, torch::Tensor());
    capture->num_prefix_tokens = 1;
    capture->grid_h = capture->grid_w = grid;
    if (request.wants_tap(0)) capture->taps[0] = x;
  }
  for (int k = 0; k < config.depth; ++k) {
    const bool c = capture != nullptr;
    x = decoder_blocks[k]->as<Block>()->forward(x, {}, c && request.wants_attention(k) ? &capture->attentions[k] : nullptr,
                                                c && request.wants_tap(2 * k + 1) ? &capture->taps[2 * k + 1] : nullptr);
    if (c && request.wants_tap(2 * k + 2)) capture->taps[2 * k + 2] = x;
  }
  x = decoder_pred(decoder_norm(x));
  return x.narrow(1, 1, L);
}

void MaeDecoderImpl::set_grid(int new_grid) {
  if (new_grid == grid) return;
  torch::NoGradGuard no_grad;
  auto table = torch::zeros({1, 1 + new_grid * new_grid, config.embed_dim});
  table.narrow(1, 1, new_grid * new_grid)
      .copy_(sincos_pos_embed_2d(config.embed_dim, new_grid, /*row_first=*/false).unsqueeze(0));
  table.narrow(1, 0, 1).copy_(decoder_pos_embed.narrow(1, 0, 1).to(torch::kCPU, torch::kFloat32));
  decoder_pos_embed.set_data(table.to(decoder_pos_embed.device(), decoder_pos_embed.scalar_type()));
  grid = new_grid;
}

SimMimHeadImpl::SimMimHeadImpl(int encoder_dim, int patch_size_, int channels) : patch_size(patch_size_) {
  decoder = register_module(
      "decoder", torch::nn::Sequential(torch::nn::Conv2d(
                     torch::nn::Conv2dOptions(encoder_dim, patch_size * patch_size * channels, 1))));
}

torch::Tensor SimMimHeadImpl::forward(const torch::Tensor& tokens, int num_prefix_tokens) {
  const auto B = tokens.size(0), L = tokens.size(1) - num_prefix_tokens, D = tokens.size(2);
  const auto g = static_cast<int64_t>(std::llround(std::sqrt(static_cast<double>(L))));
  auto fmap = tokens.narrow(1, num_prefix_tokens, L).transpose(1, 2).reshape({B, D, g, g});
  return torch::pixel_shuffle(decoder->forward(fmap), patch_size);
}

MlpHeadImpl::MlpHeadImpl(int in, int hidden, int out, int n) : in_dim(in), hidden_dim(hidden), out_dim(out), num_layers(n) {
  layers = register_module("layers", torch::nn::Sequential());
  for (int i = 0; i < n; ++i) {
    const bool last = i == n - 1;
    const int a = i == 0 ? in : hidden, b = last ? out : hidden;
    layers->push_back(Linear(a, b, /*with_bias=*/false));
    layers->push_back(torch::nn::BatchNorm1d(torch::nn::BatchNorm1dOptions(b).affine(!last)));
    if (!last) layers->push_back(torch::nn::ReLU());
  }
}

}  // namespace vitscope::model
