#include "core/model/vision_transformer.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace vitscope::model {

namespace F = torch::nn::functional;

// ---------------------------------------------------------------------------------------------
// Position embeddings

torch::Tensor sincos_pos_embed_2d(int dim, int grid, bool row_first) {
  if (dim % 4 != 0) throw std::invalid_argument("sin-cos position embedding needs dim % 4 == 0");
  // omega_d = 10000^(-d/P), P = dim/4 (paper-analyses.md §1.3; MAE util/pos_embed.py). Computed
  // in double like the reference numpy code, then rounded to float once.
  const int quarter = dim / 4;
  auto omega = torch::arange(quarter, torch::kFloat64) / static_cast<double>(quarter);
  omega = 1.0 / torch::pow(10000.0, omega);
  auto idx = torch::arange(grid * grid, torch::kInt64);
  auto rows = (idx.div(grid, "floor")).to(torch::kFloat64).unsqueeze(1) * omega.unsqueeze(0);
  auto cols = (idx.remainder(grid)).to(torch::kFloat64).unsqueeze(1) * omega.unsqueeze(0);
  auto row_code = torch::cat({torch::sin(rows), torch::cos(rows)}, 1);
  auto col_code = torch::cat({torch::sin(cols), torch::cos(cols)}, 1);
  auto table = row_first ? torch::cat({row_code, col_code}, 1) : torch::cat({col_code, row_code}, 1);
  return table.to(torch::kFloat32);
}

torch::Tensor relative_position_index(int grid) {
  // paper-analyses.md §1.4 item 2: idx = (dr + g-1)(2g-1) + (dc + g-1); CLS rows/cols use the
  // three extra entries T-3 (CLS query), T-2 (CLS key), T-1 (CLS to CLS).
  const int64_t n = grid * grid, span = 2 * grid - 1, table = span * span + 3;
  auto idx = torch::arange(n, torch::kInt64);
  auto r = idx.div(grid, "floor"), c = idx.remainder(grid);
  auto dr = r.unsqueeze(1) - r.unsqueeze(0) + (grid - 1);
  auto dc = c.unsqueeze(1) - c.unsqueeze(0) + (grid - 1);
  auto out = torch::zeros({n + 1, n + 1}, torch::kInt64);
  out.index_put_({torch::indexing::Slice(1), torch::indexing::Slice(1)}, dr * span + dc);
  out.index_put_({0, torch::indexing::Slice()}, table - 3);
  out.index_put_({torch::indexing::Slice(), 0}, table - 2);
  out.index_put_({0, 0}, table - 1);
  return out;
}

RelativePositionBiasImpl::RelativePositionBiasImpl(int grid, int num_heads) {
  const int64_t span = 2 * grid - 1;
  relative_position_bias_table = register_parameter(
      "relative_position_bias_table", torch::zeros({span * span + 3, num_heads}));
  relative_position_index =
      register_buffer("relative_position_index", model::relative_position_index(grid));
}

torch::Tensor RelativePositionBiasImpl::forward() const {
  const auto n = relative_position_index.size(0);
  auto bias = relative_position_bias_table.index_select(0, relative_position_index.reshape(-1));
  return bias.reshape({n, n, -1}).permute({2, 0, 1}).contiguous();
}

// ---------------------------------------------------------------------------------------------
// Block parts

AttentionImpl::AttentionImpl(int dim, int heads, QkvBiasKind qkv_bias, int per_block_rel_grid)
    : num_heads(heads), scale(1.0 / std::sqrt(static_cast<double>(dim / heads))) {
  qkv = register_module(
      "qkv", Linear(dim, 3 * dim, /*with_bias=*/qkv_bias == QkvBiasKind::Fused));
  proj = register_module("proj", Linear(dim, dim));
  if (qkv_bias == QkvBiasKind::QueryValue) {
    q_bias = register_parameter("q_bias", torch::zeros({dim}));
    v_bias = register_parameter("v_bias", torch::zeros({dim}));
  }
  if (per_block_rel_grid > 0)
    rel_pos_bias = register_module("rel_pos_bias", RelativePositionBias(per_block_rel_grid, heads));
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& bias_in,
                                     torch::Tensor* attention_out) {
  const auto B = x.size(0), N = x.size(1), D = x.size(2);
  torch::Tensor qkv_bias = qkv->bias;
  if (q_bias.defined()) qkv_bias = torch::cat({q_bias, torch::zeros_like(q_bias), v_bias});
  // unbind, not three selects: its backward is one stack instead of three zero-filled full-size
  // gradients summed (docs/PERFORMANCE.md, "Pre-training").
  const auto qkv_out = torch::linear(x, qkv->weight, qkv_bias)
                           .reshape({B, N, 3, num_heads, D / num_heads})
                           .permute({2, 0, 3, 1, 4})
                           .unbind(0);
  const auto &q = qkv_out[0], &k = qkv_out[1], &v = qkv_out[2];  // (B, H, N, hd)
  torch::Tensor bias = bias_in;
  if (rel_pos_bias) bias = bias.defined() ? bias + rel_pos_bias->forward() : rel_pos_bias->forward();

  torch::Tensor out;
#if TORCH_VERSION_MAJOR >= 2 && defined(VITSCOPE_TORCH2_FEATURES)
  if (attention_out == nullptr) {
    // Fused kernel (flash / memory-efficient) when nobody needs the probabilities.
    c10::optional<at::Tensor> mask;
    if (bias.defined()) mask = bias.to(q.dtype()).unsqueeze(0).expand({B, -1, -1, -1});
    out = at::scaled_dot_product_attention(q, k, v, mask);
  }
#endif
  if (!out.defined()) {
    auto logits = torch::matmul(q * scale, k.transpose(-2, -1));
    if (bias.defined()) logits = logits + bias.to(logits.dtype());
    auto attn = logits.softmax(-1);
    if (attention_out != nullptr) *attention_out = attn;
    out = torch::matmul(attn, v);
  }
  return proj(out.transpose(1, 2).reshape({B, N, D}));
}

MlpImpl::MlpImpl(int dim, int hidden) {
  fc1 = register_module("fc1", Linear(dim, hidden));
  fc2 = register_module("fc2", Linear(hidden, dim));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  return fc2(F::gelu(fc1(x)));  // exact (erf) GELU, paper-analyses.md §1.2
}

LayerScaleImpl::LayerScaleImpl(int dim, double init) {
  gamma = register_parameter("gamma", torch::full({dim}, init));
}

BlockImpl::BlockImpl(const BlockOptions& o) {
  auto ln = [&] {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.dim}).eps(o.layer_norm_eps));
  };
  norm1 = register_module("norm1", ln());
  attn = register_module("attn", Attention(o.dim, o.num_heads, o.qkv_bias, o.per_block_rel_grid));
  if (o.layer_scale) ls1 = register_module("ls1", LayerScale(o.dim));
  norm2 = register_module("norm2", ln());
  mlp = register_module("mlp", Mlp(o.dim, o.mlp_hidden_dim));
  if (o.layer_scale) ls2 = register_module("ls2", LayerScale(o.dim));
}

torch::Tensor BlockImpl::forward(torch::Tensor x, const torch::Tensor& bias,
                                 torch::Tensor* attention_out, torch::Tensor* after_attention) {
  auto a = attn(norm1(x), bias, attention_out);
  x = x + (ls1 ? ls1(a) : a);
  if (after_attention != nullptr) *after_attention = x;
  auto m = mlp(norm2(x));
  return x + (ls2 ? ls2(m) : m);
}

// ---------------------------------------------------------------------------------------------
// Encoder

PatchEmbedImpl::PatchEmbedImpl(int in_channels, int dim, int patch_size, bool bias) {
  proj = register_module("proj", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, dim, patch_size)
                                                       .stride(patch_size)
                                                       .bias(bias)));
}

torch::Tensor PatchEmbedImpl::forward(const torch::Tensor& images) {
  return proj(images).flatten(2).transpose(1, 2);  // (B, D, gh, gw) -> (B, gh*gw, D), row-major
}

VisionTransformerImpl::VisionTransformerImpl(const ViTConfig& config) : config_(config) {
  config_.validate();
  const auto& c = config_;
  const int D = c.embed_dim;
  patch_embed = register_module("patch_embed", PatchEmbed(c.in_channels, D, c.patch_size, c.patch_embed_bias));
  if (c.class_token) cls_token = register_parameter("cls_token", torch::zeros({1, 1, D}));
  if (c.num_register_tokens > 0)
    reg_token = register_parameter("reg_token", torch::zeros({1, c.num_register_tokens, D}));
  if (c.mask_token) mask_token = register_parameter("mask_token", torch::zeros({1, 1, D}));
  if (c.pos_embed != PosEmbedKind::None) {
    const int prefix = c.pos_embed_has_prefix ? c.num_prefix_tokens() : 0;
    auto table = torch::zeros({1, prefix + c.num_patches(), D});
    const bool fixed = c.pos_embed != PosEmbedKind::Learned;
    if (fixed) {
      table.narrow(1, prefix, c.num_patches())
          .copy_(sincos_pos_embed_2d(D, c.grid(), c.pos_embed == PosEmbedKind::SinCosRowFirst).unsqueeze(0));
    } else {
      table.normal_(0.0, 0.02);
    }
    // Fixed tables stay parameters (frozen) because MoCo / MAE checkpoints store them as such.
    pos_embed = register_parameter("pos_embed", table, /*requires_grad=*/!fixed);
  }
  if (c.rel_pos_bias == RelPosBiasKind::Shared)
    rel_pos_bias = register_module("rel_pos_bias", RelativePositionBias(c.grid(), c.num_heads));

  BlockOptions bo{D, c.num_heads, c.mlp_hidden_dim, c.layer_norm_eps, c.qkv_bias, c.layer_scale,
                  c.rel_pos_bias == RelPosBiasKind::PerBlock ? c.grid() : 0};
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < c.depth; ++i) blocks->push_back(Block(bo));
  auto ln = [&] { return torch::nn::LayerNorm(torch::nn::LayerNormOptions({D}).eps(c.layer_norm_eps)); };
  if (c.final_norm) norm = register_module("norm", ln());
  if (c.readout == Readout::MeanPatchTokens) fc_norm = register_module("fc_norm", ln());
  if (c.num_classes > 0) head = register_module("head", Linear(D, c.num_classes));
}

torch::Tensor VisionTransformerImpl::embed_patches(const torch::Tensor& images, const TokenMask& mask) {
  const auto& c = config_;
  if (images.dim() != 4 || images.size(1) != c.in_channels)
    throw std::invalid_argument("expected images (B, " + std::to_string(c.in_channels) + ", H, W), got " +
                                c10::str(images.sizes()));
  if (images.size(2) != c.image_size || images.size(3) != c.image_size)
    throw std::invalid_argument("model expects " + std::to_string(c.image_size) + "x" +
                                std::to_string(c.image_size) + " inputs, got " + std::to_string(images.size(2)) +
                                "x" + std::to_string(images.size(3)));
  auto x = patch_embed(images);  // (B, L, D)
  const auto B = x.size(0);
  if (mask.replace.defined()) {
    if (!mask_token.defined()) throw std::invalid_argument("this model has no mask token to replace patches with");
    auto w = mask.replace.to(x.dtype()).unsqueeze(-1);
    x = x * (1 - w) + mask_token.to(x.dtype()) * w;
  }
  const int prefix_in_pos = (pos_embed.defined() && c.pos_embed_has_prefix) ? c.num_prefix_tokens() : 0;
  if (pos_embed.defined()) x = x + pos_embed.narrow(1, prefix_in_pos, c.num_patches());
  if (mask.keep.defined()) {
    // MAE: position embedding is added before the patches are dropped (§3.13).
    auto idx = mask.keep.unsqueeze(-1).expand({-1, -1, x.size(2)});
    x = x.gather(1, idx);
  }
  std::vector<torch::Tensor> prefix;
  int pos_row = 0;
  auto with_pos = [&](torch::Tensor tok) {
    const int64_t n = tok.size(1);
    if (prefix_in_pos > 0) tok = tok + pos_embed.narrow(1, pos_row, n);
    pos_row += static_cast<int>(n);
    return tok.expand({B, -1, -1});
  };
  if (cls_token.defined()) prefix.push_back(with_pos(cls_token));
  if (reg_token.defined()) prefix.push_back(with_pos(reg_token));
  prefix.push_back(x);
  return torch::cat(prefix, 1);
}

torch::Tensor VisionTransformerImpl::forward_features(const torch::Tensor& images, const CaptureRequest& request,
                                                      Capture* capture, const TokenMask& mask) {
  const auto& c = config_;
  if (capture != nullptr) {
    capture->attentions.assign(c.depth, torch::Tensor());
    capture->taps.assign(c.num_taps(), torch::Tensor());
    capture->num_prefix_tokens = c.num_prefix_tokens();
    capture->grid_h = capture->grid_w = c.grid();
    capture->patch_size = c.patch_size;
  }
  auto x = embed_patches(images, mask);
  torch::Tensor bias;
  if (rel_pos_bias) {
    if (mask.keep.defined()) throw std::invalid_argument("dropping tokens is not supported with relative position bias");
    bias = rel_pos_bias->forward();
  }
  const bool capturing = capture != nullptr;
  if (capturing && request.wants_tap(0)) capture->taps[0] = x;
  for (int k = 0; k < c.depth; ++k) {
    torch::Tensor* attn_out = capturing && request.wants_attention(k) ? &capture->attentions[k] : nullptr;
    torch::Tensor* mid_out = capturing && request.wants_tap(2 * k + 1) ? &capture->taps[2 * k + 1] : nullptr;
    x = blocks[k]->as<Block>()->forward(x, bias, attn_out, mid_out);
    if (capturing && request.wants_tap(2 * k + 2)) capture->taps[2 * k + 2] = x;
  }
  return norm ? norm(x) : x;
}

torch::Tensor VisionTransformerImpl::readout(const torch::Tensor& tokens) {
  if (config_.readout == Readout::MeanPatchTokens)
    return fc_norm(tokens.narrow(1, config_.num_prefix_tokens(), tokens.size(1) - config_.num_prefix_tokens()).mean(1));
  if (!config_.class_token) throw std::logic_error("CLS readout on a model without a CLS token");
  return tokens.select(1, 0);
}

torch::Tensor VisionTransformerImpl::forward_head(const torch::Tensor& tokens) {
  if (!head) throw std::logic_error("this model has no classifier head");
  return head(readout(tokens));
}

void VisionTransformerImpl::set_image_size(int image_size) {
  if (image_size == config_.image_size) return;
  if (image_size % config_.patch_size != 0)
    throw std::invalid_argument("image size " + std::to_string(image_size) + " is not a multiple of the patch size " +
                                std::to_string(config_.patch_size));
  const int old_grid = config_.grid(), new_grid = image_size / config_.patch_size;
  torch::NoGradGuard no_grad;
  if (pos_embed.defined()) {
    const int prefix = config_.pos_embed_has_prefix ? config_.num_prefix_tokens() : 0;
    const int D = config_.embed_dim;
    auto head_rows = pos_embed.narrow(1, 0, prefix);
    torch::Tensor grid_rows;
    if (config_.pos_embed == PosEmbedKind::Learned) {
      auto g = pos_embed.narrow(1, prefix, old_grid * old_grid)
                   .reshape({1, old_grid, old_grid, D})
                   .permute({0, 3, 1, 2})
                   .to(torch::kFloat32);
      auto opts = F::InterpolateFuncOptions().mode(torch::kBicubic).align_corners(false);
      if (config_.pos_resample == PosEmbedResample::DinoScaleFactor) {
        const double s = (new_grid + 0.1) / old_grid;
        opts = opts.scale_factor(std::vector<double>{s, s});
      } else {
        opts = opts.size(std::vector<int64_t>{new_grid, new_grid})
                   .antialias(config_.pos_resample == PosEmbedResample::BicubicAntialias);
      }
      grid_rows = F::interpolate(g, opts).permute({0, 2, 3, 1}).reshape({1, new_grid * new_grid, D});
    } else {
      grid_rows = sincos_pos_embed_2d(D, new_grid, config_.pos_embed == PosEmbedKind::SinCosRowFirst).unsqueeze(0);
    }
    auto table = torch::cat({head_rows, grid_rows.to(pos_embed.device(), pos_embed.scalar_type())}, 1);
    pos_embed.set_data(table);
  }
  auto resize_rel = [&](RelativePositionBias& rpb) {
    const int64_t old_span = 2 * old_grid - 1, new_span = 2 * new_grid - 1;
    auto t = rpb->relative_position_bias_table;
    const auto H = t.size(1);
    auto body = t.narrow(0, 0, old_span * old_span).t().reshape({1, H, old_span, old_span}).to(torch::kFloat32);
    body = F::interpolate(body, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{new_span, new_span})
                                    .mode(torch::kBicubic)
                                    .align_corners(false));
    auto table = torch::cat({body.reshape({H, new_span * new_span}).t(), t.narrow(0, old_span * old_span, 3)}, 0);
    rpb->relative_position_bias_table.set_data(table.to(t.device(), t.scalar_type()).contiguous());
    rpb->relative_position_index.set_data(model::relative_position_index(new_grid).to(t.device()));
  };
  if (rel_pos_bias) resize_rel(rel_pos_bias);
  for (auto& b : *blocks) {
    auto& rpb = b->as<Block>()->attn->rel_pos_bias;
    if (rpb) resize_rel(rpb);
  }
  config_.image_size = image_size;
}

}  // namespace vitscope::model
