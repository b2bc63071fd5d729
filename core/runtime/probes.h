#pragma once
// Shape-vs-texture probes on real models (docs/PROBES.md), used by `vitscope-cli probe` and the
// desktop app's Probes panel:
//   * cue-conflict shape bias (paper-analyses.md §3.8): the stimuli in the layout of Geirhos et
//     al.'s texture-vs-shape repository, a classifier's decisions through a category mapping, the
//     decision-table arithmetic of analysis/shape_bias.h, silhouette and edge accuracy, and
//     decisions under low-pass / high-pass filtering (§3.7);
//   * a linear classifier head trained on frozen features (train::linear_probe) for models that
//     have none, installed into the model so it becomes a real classifier;
//   * the label-free and frequency probes (analysis/label_free_probe.h, frequency_probe.h) with a
//     ViT's block outputs as the layers.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/frequency_probe.h"
#include "core/analysis/label_free_probe.h"
#include "core/analysis/shape_bias.h"
#include "core/model/model.h"
#include "core/runtime/explorer.h"
#include "core/train/evaluation.h"

namespace vitscope::runtime {

// (stage, done, total): ("train features", 3072, 50000), … Stages are short (a GUI column shows
// them). May be empty.
using ProbeProgress = std::function<void(const std::string& stage, int64_t done, int64_t total)>;

// ---------------------------------------------------------------------------------------------
// Stimuli

struct CueConflictImage {
  std::string path;
  std::string shape, texture;  // folder / first name; second name of "<shape><i>-<texture><j>.png"
};
struct LabelledImage {
  std::string path, label;
};
struct CueConflictStimuli {
  std::string folder;                       // the cue-conflict folder read
  std::vector<CueConflictImage> images;     // every image, same-class ones included (the arithmetic excludes them)
  std::vector<LabelledImage> silhouettes;   // ../filled-silhouettes/<class>/*.png, when present
  std::vector<LabelledImage> edges;         // ../edges/<class>/*.png, when present
  std::string imagenet16_mapping;           // imagenet16_categories.json beside the stimuli, "" if none
};

// `dir` is either the data set's root (with stimuli/cue-conflict/) or the cue-conflict folder
// itself (<shape>/<shape><i>-<texture><j>.png). Throws std::runtime_error naming the folder when it
// holds no cue-conflict image.
CueConflictStimuli read_cue_conflict_stimuli(const std::string& dir);
// "cat1-dog2.png" -> "dog"; throws std::invalid_argument for a name not in that form.
std::string texture_class_of(const std::string& file_name);

// ---------------------------------------------------------------------------------------------
// From a classifier to categories

// The mapping for `model`'s head: `mapping_file` when given; else ImageNet's 16 categories for a
// 1000-way head (stimuli.imagenet16_mapping), or the bundled mapping whose "head_classes" equal
// the head's class names (resources/probes/*.json: CIFAR-10). Throws std::runtime_error saying what
// is missing (no head; no mapping for these classes).
analysis::CategoryMapping class_mapping_for(const model::Model& model, const std::string& mapping_file,
                                            const CueConflictStimuli* stimuli);
// Folder of the bundled class mappings: $VITSCOPE_RESOURCES/probes, else the source tree's.
std::string bundled_mapping_dir();

// ---------------------------------------------------------------------------------------------
// A linear head for models without one

struct HeadTrainingOptions {
  int max_per_class = 0;       // training images per class (0 = all)
  int max_test_per_class = 0;  // test images per class (0 = all)
  int batch_size = 256;   // feature extraction
  train::LinearProbeOptions probe;  // AdamW on standardised features (evaluation.h defaults)
};
struct HeadTrainingResult {
  double train_top1 = 0, test_top1 = 0;
  int64_t train_images = 0, test_images = 0;
  std::string test_source;  // "<data>:test", or "held out: every 10th image" without a test split
  std::vector<std::string> class_names;
  std::vector<std::string> skipped;  // "file: why" of every image that could not be read (left out)
  nlohmann::json record() const;  // what the model card stores under metrics.classifier_head
};
// Loads the labelled images of `data` (ImageFolder folder or .tar.gz; its "train" split when it has
// one, and "test" for the accuracy, else every 10th image held out), extracts the encoder's frozen
// readout (train::FeatureReadout::HeadInput), trains train::linear_probe and installs the result as
// the encoder's classifier head: afterwards `model` is a classifier with the data's class names.
// Throws Cancelled when `cancel` is set.
HeadTrainingResult train_linear_head(model::Model& model, const std::string& data, const HeadTrainingOptions& options,
                                     const ProbeProgress& progress = {}, const CancelToken* cancel = nullptr);
// Replaces the model's classifier with weight (classes, D) / bias (classes) and these class names.
void install_classifier(model::Model& model, const torch::Tensor& weight, const torch::Tensor& bias,
                        const std::vector<std::string>& class_names);
// A copy with its own weights on the same device: a head can be trained on it while the original
// keeps serving other work, then installed into the original.
model::Model clone_model(const model::Model& model);

// ---------------------------------------------------------------------------------------------
// Shape bias

struct ShapeBiasOptions {
  int batch_size = 64;
  // Decisions on low-pass and high-pass filtered stimuli at these cut-offs (fractions of Nyquist,
  // at the model's input size); empty: none.
  std::vector<double> frequency_cutoffs;
};

struct ShapeBiasMeasurement {
  std::string classifier;               // "10-way head: airplane, automobile, …"
  analysis::CategoryMapping mapping;
  std::vector<analysis::CueConflictTrial> trials;  // every stimulus, in stimuli order
  std::vector<std::string> paths;                  // the stimuli, same order
  analysis::ShapeBiasResult result;
  // Accuracy on silhouettes / edges whose class the mapping covers (nullopt: none).
  std::optional<double> silhouette_accuracy, edge_accuracy;
  int64_t silhouettes = 0, edges = 0;   // images counted
  std::vector<double> cutoffs;          // frequency decisions, if asked for
  std::vector<analysis::ShapeBiasCounts> low_pass, high_pass;  // per cut-off
  nlohmann::json to_json() const;       // everything above but the per-image tables
};

ShapeBiasMeasurement measure_shape_bias(model::Model& model, const CueConflictStimuli& stimuli,
                                        const analysis::CategoryMapping& mapping, const ShapeBiasOptions& options = {},
                                        const ProbeProgress& progress = {}, const CancelToken* cancel = nullptr);

// ---------------------------------------------------------------------------------------------
// Label-free and frequency probes

// Probe views are made at this size: any image is resized (shorter side) and centre-cropped to a
// square of it, and each model then resizes the views to its own input (no crop).
inline constexpr int kProbeImageSize = 224;
// (3, H, W) [0, 1] -> (3, kProbeImageSize, kProbeImageSize).
torch::Tensor probe_image(const torch::Tensor& image);

// The model as a feature extractor for the probes: images (B, 3, H, W) in [0, 1], resized to its
// input without cropping (§5 pitfall 14) and normalised -> per block k = 1..depth the mean of the
// patch tokens of block k's output (tap 2k, before the final norm), (B, D) float32 on the CPU.
// Forward passes take at most `chunk` images. The model must outlive the function.
analysis::LayerFeatures block_features(model::Model& model, int64_t chunk = 32);

// (B, 3, S, S) in [0, 1] at the model's input size without cropping: what frequency probes filter.
torch::Tensor model_sized(const torch::Tensor& images, const model::Model& model);

}  // namespace vitscope::runtime
