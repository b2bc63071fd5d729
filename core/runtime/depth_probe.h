#pragma once
// Linear probing across depth (paper-analyses.md §3.9, paper Fig. 10): how linearly separable
// the representation is after each block, on a labelled image set. The paper's exact protocol is
// unverified (§3.9); the choice made here is returned with the numbers.
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/io/dataset.h"
#include "core/model/model.h"
#include "core/runtime/dataset_analysis.h"

namespace vitscope::runtime {

struct DepthProbe {
  std::vector<double> linear_top1;  // per depth 1..depth, in [0, 1]
  std::vector<double> knn_top1;     // per depth, k = 20 cosine kNN
  std::string protocol;
};

// For each block output (tap 2k, k = 1..depth) the mean of the patch tokens of every image is a
// feature; a linear classifier is trained on `train` and scored on `test` (train::linear_probe:
// standardised features, AdamW), and a kNN classifier is scored likewise. `input_transform`
// (optional) is applied to every normalised input batch, as in analyze_dataset.
DepthProbe probe_per_depth(model::Model& model, const io::ImageDataset& train, const io::ImageDataset& test,
                           int probe_epochs, const InputTransform& input_transform = {},
                           const CancelToken* cancel = nullptr);

}  // namespace vitscope::runtime
