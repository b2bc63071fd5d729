#pragma once
// Token-representation views (paper-analyses.md §3.5, reconstructed there and marked
// UNVERIFIED; the definitions chosen are recorded in each result's metadata):
// PCA-RGB pictures of the patch tokens, singular-value spectra of the token matrix of each image
// (token level) and of image vectors across images (image level), effective rank, and the mean
// pairwise cosine similarity of the tokens. CL is expected to collapse an image's tokens onto a
// few directions; MIM to keep them spread.
#include <torch/torch.h>

#include <optional>
#include <vector>

#include "core/analysis/common.h"
#include "core/model/capture.h"

namespace vitscope::analysis {

struct PcaRgbOptions {
  // Off by default. When set, tokens whose first-component score (min-max scaled to [0, 1]) is
  // above the threshold are foreground; the PCA is redone on them alone and background pixels are
  // black. Which side is "foreground" follows principal_component_scores' sign rule.
  std::optional<double> foreground_threshold;
};

// Patch tokens (B, L, D) -> (B, grid_h, grid_w, 3): per image, the scores on the top-3
// principal components of the centred L x D token matrix, each component min-max scaled to
// [0, 1] over the image's (foreground) tokens. Sign-stable (see principal_component_scores).
torch::Tensor pca_rgb(const torch::Tensor& patch_tokens, int grid_h, int grid_w, const PcaRgbOptions& options = {});

// Singular values (..., min(n, d)), descending, of x (..., n, d); centre = subtract the mean row
// first.
torch::Tensor singular_values(const torch::Tensor& x, bool centre);

// exp(-sum p ln p) with p = sigma / sum sigma over the last axis (§3.5 item 4).
torch::Tensor effective_rank(const torch::Tensor& singular_values);

// Tokens (B, L, D) -> (B): mean cosine similarity over the L (L - 1) ordered pairs of distinct
// tokens of each image (§3.5 item 4). A zero token has similarity 0 to everything.
torch::Tensor mean_pairwise_cosine_similarity(const torch::Tensor& tokens);

struct TokenGeometryOptions {
  // Centre the token matrix before the SVD. The paper's choice is unknown (§3.5 item 2); the
  // default keeps the raw matrix, so a shared direction of all tokens (collapse) shows as a
  // dominant first singular value.
  bool centre = false;
};

// Token-level geometry of every captured tap (§3.5 items 3a and 4), patch tokens only.
struct TokenGeometry {
  std::vector<int> taps;
  torch::Tensor singular_values;         // (B, taps, K) per image, K = min(L, D)
  torch::Tensor mean_singular_values;    // (taps, K) mean over the valid images, index-wise
  torch::Tensor effective_rank;          // (B, taps)
  torch::Tensor mean_cosine_similarity;  // (B, taps)
  std::vector<int64_t> invalid_images;   // batch indices with NaN/Inf, left out of the mean
  Metadata metadata;
};
TokenGeometry token_geometry(const model::Capture& capture, const TokenGeometryOptions& options = {});

enum class ImageVector { Cls, MeanPatch };

// One vector per image of a tap (§3.5 item 3b): the CLS token (prefix token 0) or the mean of the
// patch tokens: (B, D). Collect these over batches for image_level_spectrum.
torch::Tensor image_vectors(const model::Capture& capture, int tap, ImageVector kind);

// Image-level spectrum: singular values of the (images x D) matrix of image vectors.
struct ImageSpectrum {
  torch::Tensor singular_values;        // (min(images, D))
  torch::Tensor effective_rank;         // scalar
  std::vector<int64_t> invalid_images;  // rows with NaN/Inf, left out
  Metadata metadata;
};
ImageSpectrum image_level_spectrum(const torch::Tensor& image_vectors, ImageVector kind, bool centre = false);

}  // namespace vitscope::analysis
