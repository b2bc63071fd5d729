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

struct DatasetAnalysisOptions {
  std::vector<std::string> metrics;   // from dataset_metric_names()
  int batch_size = 32;
  // Index of images[0] in the whole data set, so that runs over parts of it report invalid
  // images by their global index and merge without clashes.
  int64_t first_index = 0;
  // Called after each batch with (images done, total); may be empty.
  std::function<void(int64_t, int64_t)> progress;
  const CancelToken* cancel = nullptr;
  // Per-image pictures (rollout / PCA-RGB), called for the first `max_pictures` images.
  int max_pictures = 16;
  std::function<void(int model, const ImageItem& item, const std::string& kind, const torch::Tensor& rgb)> on_picture;
};

struct ModelStatistics {
  std::string name;
  nlohmann::json card;
  analysis::RunningStats stats;  // metric -> per-image values (see metric_shape in the .cpp)
  nlohmann::json definitions;    // metric -> what was measured (spec section, choices)
};

struct DatasetAnalysis {
  std::vector<ModelStatistics> models;
  std::vector<std::string> skipped;  // "file: reason"
  int64_t images = 0;
  // CKA between model 0 and every other model, block outputs (even taps), image-level vectors.
  std::vector<analysis::MinibatchCka> cka;
  nlohmann::json to_json() const;           // mergeable: stats + CKA sums + skipped
  static DatasetAnalysis from_json(const nlohmann::json& j);
  void merge(const DatasetAnalysis& other);  // same models and metrics, other images
};

DatasetAnalysis analyze_dataset(std::vector<model::Model*> models, const std::vector<ImageItem>& images,
                                const DatasetAnalysisOptions& options);

}  // namespace vitscope::runtime

namespace vitscope::io {
struct ImageDataset;
}

namespace vitscope::runtime {

// §3.9 linear probing across depth: for each block output (tap 2k, k = 1..depth) the mean of the
// patch tokens of every image is a feature; a linear classifier is trained on `train` and scored
// on `test` (train::linear_probe: standardised features, AdamW). The paper's exact protocol is
// unverified (paper-analyses.md §3.9): the choice is returned in `protocol`.
struct DepthProbe {
  std::vector<double> linear_top1;  // per depth 1..depth
  std::vector<double> knn_top1;     // per depth, k = 20 cosine kNN
  std::string protocol;
};
DepthProbe probe_per_depth(model::Model& model, const io::ImageDataset& train, const io::ImageDataset& test,
                           int probe_epochs, const CancelToken* cancel = nullptr);

}  // namespace vitscope::runtime
