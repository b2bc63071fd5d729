#pragma once
// The paper's measurements over many images and several models: images are decoded batch by
// batch (bounded memory), each model sees them at its own input size, and every per-image value
// goes into mergeable statistics (analysis::RunningStats) so runs over parts of a data set can be
// combined later. Used by `vitscope-cli analyze`.
#include <torch/torch.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/analysis/cka.h"
#include "core/analysis/running_stats.h"
#include "core/model/model.h"
#include "core/runtime/explorer.h"

namespace vitscope::runtime {

// Metric names accepted on the command line.
const std::vector<std::string>& dataset_metric_names();

struct ImageItem {
  std::string path;
  int label = -1;  // ImageFolder class index, -1 = none
};

// Files under `root` with an image extension, sorted; labels from the first folder level when
// every image sits in a class folder (ImageFolder layout). Throws when none is found.
struct ImageList {
  std::vector<ImageItem> items;
  std::vector<std::string> class_names;
};
ImageList list_images(const std::string& root);

// A function applied to every model input batch (B, 3, S, S), normalised, at the model's input
// size, before the forward pass (e.g. the frequency filters of §3.7).
using InputTransform = std::function<torch::Tensor(const torch::Tensor&)>;

struct DatasetAnalysisOptions {
  std::vector<std::string> metrics;   // from dataset_metric_names()
  int batch_size = 32;
  // Index of images[0] in the whole data set, so that runs over parts of it report invalid
  // images by their global index and merge without clashes.
  int64_t first_index = 0;
  // Called after each batch with (images done, total); may be empty.
  std::function<void(int64_t, int64_t)> progress;
  const CancelToken* cancel = nullptr;
  InputTransform input_transform;     // empty: the inputs as decoded
  // Per-image pictures (rollout, PCA-RGB, attention maps), for the first `max_pictures` images.
  // Images whose activations are not finite get none (their index is reported in `skipped`).
  int max_pictures = 16;
  std::function<void(int model, const ImageItem& item, const std::string& kind, const torch::Tensor& picture)> on_picture;
  // "attention-maps" (§3.1): the block (0-based, -1 = the last) and the patch query (row, col)
  // shown besides CLS; nullopt: the notebook's query (row 8, column 3 of a 14 x 14 grid) scaled
  // to each model's grid.
  int attention_block = -1;
  std::optional<std::pair<int, int>> attention_query;
  // "tsne" (§3.4): the patch tokens of the first `tsne_images` images at residual-stream tap
  // `tsne_tap` (the notebook's default 10 = block 5 after its MLP, §5 pitfall 4).
  int tsne_images = 16;
  int tsne_tap = 10;
  uint64_t tsne_seed = 0;
  // CPU only: how many forward passes run at once on parts of a batch, each on its own thread
  // with single-threaded kernels (runtime::SingleThreadedKernels); 0: one per core while their
  // captures fit in 2 GB together. This data parallelism beats splitting every kernel over the
  // cores (docs/PERFORMANCE.md), and every count gives the same numbers. It sets process-wide
  // thread counts while it runs: for a process that does nothing else meanwhile (vitscope-cli),
  // not the app.
  int cpu_workers = 0;
};

struct ModelStatistics {
  std::string name;
  nlohmann::json card;
  analysis::RunningStats stats;  // metric -> per-image values (see metric_definitions in the .cpp)
  nlohmann::json definitions;    // metric -> what was measured (spec section, choices)
};

// Token-level t-SNE of one model (§3.4): one point per patch token of the first images.
struct TokenTsne {
  int tap = 0;
  torch::Tensor embedding;             // (tokens, 2) fp32 CPU; undefined when < 2 images had finite tokens
  std::vector<int64_t> image_index;    // per token: global index of its image
  std::vector<int> label;              // per token: its image's class, -1 = none
  std::vector<int64_t> left_out;       // images with NaN/Inf tokens (global index)
  double kl_divergence = 0.0;
  analysis::Metadata metadata;
};

struct DatasetAnalysis {
  std::vector<ModelStatistics> models;
  std::vector<std::string> skipped;  // "file: reason"
  int64_t images = 0;
  // CKA between model 0 and every other model, block outputs (even taps), image-level vectors.
  std::vector<analysis::MinibatchCka> cka;
  // Per model when "tsne" was asked for. Computed on the first images of this run: not part of
  // the mergeable statistics (to_json / merge leave it out).
  std::vector<TokenTsne> tsne;
  // Wall-clock seconds of this run (not merged): waiting for the next batch's images to be
  // decoded and prepared (which otherwise overlaps the models), and the models' forward passes
  // with the metrics (each batch ends with its statistics on the CPU, so device work is included).
  double seconds_waiting_for_images = 0.0, seconds_in_models = 0.0;
  nlohmann::json to_json() const;           // mergeable: stats + CKA sums + skipped
  static DatasetAnalysis from_json(const nlohmann::json& j);
  void merge(const DatasetAnalysis& other);  // same models and metrics, other images
};

// The patch query (row, col) of "attention-maps" on a model's grid x grid patches: the option's,
// or the notebook's query (row 8, column 3 of 14) scaled to the grid. Throws
// std::invalid_argument when it lies outside the grid.
std::pair<int, int> attention_maps_query(const DatasetAnalysisOptions& options, int grid);

DatasetAnalysis analyze_dataset(std::vector<model::Model*> models, const std::vector<ImageItem>& images,
                                const DatasetAnalysisOptions& options);

}  // namespace vitscope::runtime
