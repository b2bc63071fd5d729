#pragma once
// How good a pre-trained representation is, without fine-tuning: k-nearest-neighbour and
// linear-probe top-1 on frozen features, and the masked-reconstruction loss of MIM models on
// held-out images.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <functional>
#include <string>

#include "core/io/dataset.h"
#include "core/model/model.h"

namespace vitscope::train {

enum class FeatureReadout {
  ClsToken,         // CLS token after the final norm (MoCo v3's linear-eval feature)
  MeanPatchTokens,  // mean of the patch tokens after the final norm
  HeadInput,        // the encoder's own readout (CLS, or mean patch + fc_norm): what its classifier sees
};
const char* feature_readout_name(FeatureReadout r);  // "cls", "mean_patch", "head_input"
FeatureReadout feature_readout_from_name(const std::string& name);

// Images [start, start + n) of the dataset as the model's input on its device: uint8 -> [0, 1],
// resized (bilinear) when the model takes another size, normalised with the card's mean / std.
torch::Tensor model_input(const model::Model& model, const io::ImageDataset& data, int64_t start, int64_t n);

// Features (N, D) float32 of every image, on the model's device. Images are normalised with the
// card's mean / std and resized (bilinear) when the model takes another size. No augmentation.
torch::Tensor extract_features(model::Model& model, const io::ImageDataset& data, FeatureReadout readout,
                               int batch_size = 256);

struct KnnOptions {
  int k = 20;
  double temperature = 0.07;  // votes weighted by exp(cos / T), as DINO's eval_knn
};
// Top-1 accuracy (0–1) of cosine-similarity, temperature-weighted kNN voting.
double knn_top1(const torch::Tensor& train_features, const torch::Tensor& train_labels,
                const torch::Tensor& test_features, const torch::Tensor& test_labels, int num_classes,
                const KnnOptions& options = {});

struct LinearProbeOptions {
  // Defaults: features standardised with the training set's mean / std, then a linear layer
  // trained with AdamW (lr 1e-3, cosine to 0, weight decay 1e-4, batch 256) for 100 epochs.
  int epochs = 100;
  int batch_size = 256;
  double lr = 1e-3;
  double weight_decay = 1e-4;
  uint64_t seed = 0;  // weight init and shuffling
};
struct LinearProbeResult {
  double train_top1 = 0.0;
  double test_top1 = 0.0;
  // The trained classifier on the raw features (the standardisation folded in):
  // logits = features · weightᵀ + bias; weight (classes, D), bias (classes).
  torch::Tensor weight, bias;
};
LinearProbeResult linear_probe(const torch::Tensor& train_features, const torch::Tensor& train_labels,
                               const torch::Tensor& test_features, const torch::Tensor& test_labels, int num_classes,
                               const LinearProbeOptions& options = {});

// Mean MIM loss (the model's own objective: MAE or SimMIM; the hybrid's SimMIM part) over the
// images, with masks drawn from `seed`; throws std::invalid_argument for models without a
// reconstruction head.
double reconstruction_loss(model::Model& model, const io::ImageDataset& data, uint64_t seed, int batch_size = 256);

struct EvaluationOptions {
  FeatureReadout readout = FeatureReadout::ClsToken;
  KnnOptions knn;
  LinearProbeOptions probe;
  bool run_knn = true, run_linear_probe = true, run_reconstruction = true;
  int batch_size = 256;
  uint64_t seed = 0;
};
// kNN and linear probe (bank / training set = `train`, queries = `test`) and, for models that
// can reconstruct, the reconstruction loss on `test`. Returns the metrics as JSON, with the
// protocol alongside each number. `on_stage` (optional) names each stage as it starts.
nlohmann::json evaluate(model::Model& model, const io::ImageDataset& train, const io::ImageDataset& test,
                        const EvaluationOptions& options, const std::function<void(const std::string&)>& on_stage = {});

}  // namespace vitscope::train
