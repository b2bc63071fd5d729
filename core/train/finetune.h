#pragma once
// Fine-tuning a loaded model: linear probe (frozen encoder + linear head), full fine-tune
// (encoder + head) or continued self-supervised pre-training (MoCo v3, SimMIM, MAE, hybrid λ)
// initialised from the base model. The loop, checkpoints and resume are the Trainer's; this file
// holds what differs: the starting model, the recipe defaults of each mode, the validation
// split and per-epoch validation, and the lineage the new model's card records.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

#include "core/io/dataset.h"
#include "core/model/model.h"
#include "core/train/trainer.h"

namespace vitscope::train {

enum class FineTuneMode { LinearProbe, FullFineTune, PretrainMoco, PretrainSimMim, PretrainMae, PretrainHybrid };
// "linear-probe", "finetune", "pretrain-moco", "pretrain-simmim", "pretrain-mae", "pretrain-hybrid"
const char* finetune_mode_name(FineTuneMode mode);
FineTuneMode finetune_mode_from_name(const std::string& name);  // throws std::invalid_argument listing the modes
bool needs_labels(FineTuneMode mode);                            // the two classification modes
ObjectiveKind objective_of(FineTuneMode mode);

// The recipe a mode starts from: classification at lr 1e-3 (probe) / 1e-4 (fine-tune), one
// warm-up epoch, weight decay 0.05 (0 for a probe); continued pre-training with the objective's
// own settings at lr 1e-4 (a tenth of pre-training's). Epochs 10, batch 64.
TrainConfig default_recipe(FineTuneMode mode, double lambda = 0.2);

struct StartingModel {
  model::Model model;                  // on the CPU
  std::vector<std::string> new_parts;  // what the base lacked and starts from `seed`: "classifier head (4 classes)", …
};
// The base model's card extended with what the mode needs (a classifier for `class_names`, a
// mask token and SimMIM head, an MAE decoder, MoCo heads: sizes from PretrainingArchitecture's
// defaults), fresh weights from `seed`, then every tensor the base has with the same shape copied
// from it. A classifier whose classes differ from `class_names` is replaced.
StartingModel starting_model(const model::Model& base, FineTuneMode mode, const std::vector<std::string>& class_names,
                             double lambda, uint64_t seed);

// Holds out round(fraction * N) images (at least one per class where a class has two or more),
// chosen by `seed`; returns {train, validation}. fraction 0 gives an empty validation set.
std::pair<io::ImageDataset, io::ImageDataset> split_validation(const io::ImageDataset& data, double fraction,
                                                               uint64_t seed);

// Top-1 accuracy and mean cross-entropy of the model's classifier on `validation` (no
// augmentation): the metrics "val_top1" and "val_loss" of every epoch record.
EpochEvaluator classification_evaluator(io::ImageDataset validation, int batch_size = 256);

}  // namespace vitscope::train
