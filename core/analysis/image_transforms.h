#pragma once
// The probe views of the label-free shape-vs-texture probe (docs/PROBES.md): transforms that keep
// an image's texture and destroy its shape (patch shuffle, phase scrambling) and transforms that
// keep its shape and destroy its texture (silhouette, edge map, strong blur, stylisation).
//
// Every transform takes a (3, H, W) float RGB image in [0, 1] and returns a new one of the same
// size, dtype and range, on the CPU; randomness comes from an explicit seed, so a view is a pure
// function of (image, seed). Sizes in pixels scale with the image, so a 224-px image and a 32-px
// one get the same view up to resolution.
#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace vitscope::analysis {

// Cuts the image into grid × grid equal tiles and puts them back in a random order (never the
// identity). H and W must be multiples of `grid` (>= 2): tiles of unequal size cannot trade places.
torch::Tensor patch_shuffle(const torch::Tensor& image, int grid, uint64_t seed);

// Keeps every channel's Fourier amplitude and adds one random phase field to all channels (the
// phase of white noise's spectrum, zero at DC), so the colour statistics and the power spectrum
// survive and the layout does not. Clamped to [0, 1].
torch::Tensor phase_scramble(const torch::Tensor& image, uint64_t seed);

// (H, W) bool, the main object: OpenCV's GrabCut started from a frame 4 % inside the border (the
// object is assumed to be roughly centred), opened, largest connected part, holes filled.
// Deterministic. All false for a uniform image.
torch::Tensor foreground_mask(const torch::Tensor& image);
// The object black on white, as Geirhos et al.'s filled silhouettes.
torch::Tensor silhouette(const torch::Tensor& image);
// Canny edges of the smoothed luminance (hysteresis thresholds: Otsu's threshold and half of it),
// black lines on white, as Geirhos et al.'s edge stimuli.
torch::Tensor edge_map(const torch::Tensor& image);
// Gaussian blur with sigma = sigma_fraction × the shorter side (4 % = 9 px at 224 px): the blobs of
// the shape stay, the texture goes.
torch::Tensor strong_blur(const torch::Tensor& image, double sigma_fraction = 0.04);
// OpenCV's edge-preserving stylisation (cv::stylization, sigma_s = 60 px at 224 px, sigma_r 0.45):
// flat regions with the object's contours kept, fine texture removed.
torch::Tensor stylize(const torch::Tensor& image);

// Which cue a probe view keeps.
enum class Cue { Shape, Texture };
const char* cue_name(Cue cue);  // "shape", "texture"

struct ProbeTransform {
  std::string name;  // "patch-shuffle-4", "silhouette", …
  Cue keeps;
  std::string description;
  std::function<torch::Tensor(const torch::Tensor&)> apply;
};

// The standard set: patch shuffle at each of `shuffle_grids`, phase scrambling (texture kept);
// silhouette, edges, strong blur, stylisation (shape kept). Seeds derive from `seed`.
std::vector<ProbeTransform> standard_probe_transforms(const std::vector<int>& shuffle_grids = {2, 4, 8},
                                                      uint64_t seed = 0);

// The views of one image: names, cues and (V, 3, H, W) pictures in the transforms' order.
struct ProbeViews {
  std::vector<std::string> names;
  std::vector<Cue> keeps;
  torch::Tensor images;
};
ProbeViews probe_views(const torch::Tensor& image, const std::vector<ProbeTransform>& transforms);

}  // namespace vitscope::analysis
