#pragma once
// What a forward pass hands to the analyses (paper-analyses.md §1.5).
//
// Residual-stream taps are numbered like the cl-vs-mim notebooks' `zs`:
//   tap 0        = embedding output (patch embedding + position embedding, prefix tokens prepended)
//   tap 2k - 1   = block k after its attention residual   (k = 1..depth)
//   tap 2k       = block k after its MLP residual
// so there are 2*depth + 1 taps, all *before* the final LayerNorm. Attention probabilities of
// block k (0-based index k-1) are post-softmax, relative position bias included, (B, H, N, N),
// with the prefix tokens (CLS, registers) first in token order and patches row-major after them.
#include <torch/torch.h>

#include <vector>

namespace vitscope::model {

struct CaptureRequest {
  std::vector<int> attention_blocks;  // 0-based block indices
  std::vector<int> taps;              // tap indices as above

  bool empty() const { return attention_blocks.empty() && taps.empty(); }
  bool wants_attention(int block) const;
  bool wants_tap(int tap) const;

  static CaptureRequest none() { return {}; }
  static CaptureRequest everything(int depth);
  static CaptureRequest attentions_only(int depth);
  static CaptureRequest taps_only(int depth);
  // Parses "all", "attn", "taps", "attn:0,5,11", "taps:0,2,4" joined by ';'. Throws on bad text.
  static CaptureRequest parse(const std::string& text, int depth);
};

struct Capture {
  std::vector<torch::Tensor> attentions;  // size depth; undefined where not requested
  std::vector<torch::Tensor> taps;        // size 2*depth+1; undefined where not requested
  int num_prefix_tokens = 1;              // CLS (+ registers) at the front of every sequence
  int grid_h = 0, grid_w = 0;             // patch grid of the image
  int patch_size = 16;                    // pixels per patch side (attention distance in px)

  int depth() const { return static_cast<int>(attentions.size()); }
  int num_patches() const { return grid_h * grid_w; }
  // Patch tokens only: (B, L, D) of a tap / (B, H, L, L) of an attention, prefix dropped.
  torch::Tensor patch_tokens(int tap) const;
  torch::Tensor patch_attention(int block) const;
};

}  // namespace vitscope::model
