#pragma once
// Cue-conflict images of one's own (docs/PROBES.md): the shape of one image (its silhouette or its
// outline) with the texture of another, in the spirit of Geirhos et al. 2019's stimuli, so users
// can probe models on pictures of their choice. Geirhos et al. used neural style transfer; here the
// texture is tiled or blended in with OpenCV, which needs no network and is deterministic.
#include <torch/torch.h>

namespace vitscope::analysis {

enum class ShapeCue {
  Silhouette,  // the shape image's object mask (foreground_mask)
  Outline,     // the shape image's edge map
};
enum class TextureFill {
  Tiling,    // a centre crop of the texture image, tiled with mirrored copies (no seams)
  Transfer,  // OpenCV seamless cloning (MIXED_CLONE): the shape image's strong gradients blended
             // into the tiled texture inside the silhouette (or the whole frame for an outline)
};

struct CueConflictOptions {
  ShapeCue shape = ShapeCue::Silhouette;
  TextureFill texture = TextureFill::Tiling;
  double tile_fraction = 0.5;  // side of the texture crop that is tiled, as a fraction of the shorter side
};

// shape_image and texture_image: (3, H, W) float RGB in [0, 1] (the texture image is resized to
// the shape image's size when they differ). Returns (3, H, W) in [0, 1], the shape image's size:
//   Silhouette + Tiling:  texture inside the object, white outside;
//   Outline + Tiling:     texture everywhere, the outline drawn black over it;
//   Transfer:             seamless clone as above (white outside the object for a silhouette).
torch::Tensor make_cue_conflict(const torch::Tensor& shape_image, const torch::Tensor& texture_image,
                                const CueConflictOptions& options = {});

// The tiled texture alone (3, H, W): a centre crop of side tile_fraction × the shorter side,
// repeated with every other copy mirrored.
torch::Tensor tiled_texture(const torch::Tensor& texture_image, int64_t height, int64_t width, double tile_fraction);

}  // namespace vitscope::analysis
