#pragma once
// Label-free shape-vs-texture probe (docs/PROBES.md): how close a model's representation of each
// probe view (image_transforms.h) stays to its representation of the original image, per layer,
// and one summary number, the shape-reliance index. Works on any image and any model, no labels.
//
// Definitions (recorded in every result's metadata):
//   z_l(x)      the model's representation of image x at layer l (for a ViT: the mean of the
//               patch tokens of block l's output, runtime/probes.h), a D-vector;
//   g           a uniform mid-grey image (0.5 in every channel) of the same size: the input
//               with neither shape nor texture;
//   s_l(x, v)   = cos(z_l(v) − z_l(g), z_l(x) − z_l(g)), the similarity of view v to the
//               original x, measured from the grey image's representation so that what every
//               input shares (position embeddings, biases, a collapsed common direction) does
//               not count as similarity;
//   SRI         = (1/L) Σ_l [ mean_{v keeps shape} s_l(x, v) − mean_{v keeps texture} s_l(x, v) ],
//               averaged over the images: the shape-reliance index, in [−2, 2]. Positive: the
//               views that keep the shape stay closer to the original than those that keep the
//               texture — the model relies on shape; negative: on texture.
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "core/analysis/common.h"
#include "core/analysis/image_transforms.h"

namespace vitscope::analysis {

// A model seen as a feature extractor: images (B, 3, H, W) float RGB in [0, 1] -> one (B, D_l)
// tensor per layer. Preprocessing (resize, normalisation) is the function's business.
using LayerFeatures = std::function<std::vector<torch::Tensor>(const torch::Tensor& images)>;

// Row-wise cos(a − reference, b − reference) of (B, D) rows; `reference` (D) or (B, D). A zero
// vector has similarity 0 to everything. fp64 result (B).
torch::Tensor centred_cosine(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& reference);

// Similarity of every view to its original, per layer: originals L × (B, D), views L × (B·V, D)
// (image-major: the V views of image 0 first), reference L × (D) -> (B, V, L) fp64.
torch::Tensor view_similarity(const std::vector<torch::Tensor>& originals, const std::vector<torch::Tensor>& views,
                              const std::vector<torch::Tensor>& reference, int64_t num_views);

struct LabelFreeResult {
  std::vector<std::string> views;
  std::vector<Cue> keeps;
  torch::Tensor similarity;       // (B, V, L) per image, view and layer
  torch::Tensor mean_similarity;  // (V, L) mean over the images
  torch::Tensor index_per_layer;  // (L) shape-views mean minus texture-views mean, over the images
  double shape_reliance_index = 0;  // mean of index_per_layer
  Metadata metadata;              // the definitions above
};

// Summary of a (B, V, L) similarity table. Needs at least one view of each cue.
LabelFreeResult summarize_label_free(const torch::Tensor& similarity, const std::vector<std::string>& views,
                                     const std::vector<Cue>& keeps);

// The grey reference's features of a model, one (D) row per layer, for images of height × width.
std::vector<torch::Tensor> reference_features(const LayerFeatures& features, int64_t height, int64_t width,
                                              const torch::TensorOptions& options);
// One image (3, H, W) and its views through one model: (1, V, L) similarity.
torch::Tensor image_view_similarity(const LayerFeatures& features, const std::vector<torch::Tensor>& reference,
                                    const torch::Tensor& image, const ProbeViews& views);

// The whole probe for several models at once: the views of every image (B, 3, H, W) are made once
// and go, with the original, through every model's `features`; the grey reference; the summaries
// (one per model). Images are taken one at a time, so memory does not grow with B. after_image
// (optional) is called with the number of images done; it may throw to stop the probe.
std::vector<LabelFreeResult> label_free_probe(const std::vector<LayerFeatures>& models, const torch::Tensor& images,
                                              const std::vector<ProbeTransform>& transforms,
                                              const std::function<void(int64_t)>& after_image = {});

// `features` called on at most `chunk` images at a time (outputs concatenated): bounds the memory
// of a real model's forward passes.
LayerFeatures in_chunks(LayerFeatures features, int64_t chunk);

// The mid-grey reference image g of the definitions, (1, 3, H, W).
torch::Tensor grey_reference(int64_t height, int64_t width, const torch::TensorOptions& options);

}  // namespace vitscope::analysis
