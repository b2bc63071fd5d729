#pragma once
// The training loop: one objective (self-supervised pre-training or supervised classification)
// on one backbone, AdamW with warm-up + cosine schedule,
// gradient clipping, bf16 autocast on CUDA (LibTorch 2.x), checkpoints every epoch, resume,
// progress reports and cancellation. Runs on the calling thread and never prints: the CLI
// prints from the progress callback and the GUI can run it on a worker thread.
//
// Determinism: every random number is a pure function of (seed, global step) or
// (seed, epoch) (core/train/random.h) and a checkpoint holds all other state (model, momentum
// encoder, optimiser moments, step), so a resumed run repeats an uninterrupted one exactly
// (bit for bit on the CPU).
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/io/dataset.h"
#include "core/model/model.h"
#include "core/train/classification.h"
#include "core/train/hybrid.h"
#include "core/train/mae.h"
#include "core/train/optimizer.h"
#include "core/train/pretraining_card.h"
#include "core/train/schedule.h"

namespace vitscope::train {

struct TrainConfig {
  // The recipe (stored in checkpoints and model cards; a resumed run keeps it).
  ObjectiveKind objective = ObjectiveKind::MocoV3;
  double lambda = 0.2;  // hybrid: weight of the MoCo loss
  MocoV3Options moco;
  SimMimOptions simmim;
  MaeOptions mae;
  ClassificationOptions classify;
  int epochs = 100;  // with a time budget: the most epochs it may plan
  int batch_size = 256;
  double lr = 1e-3;  // peak learning rate (absolute, not per 256 images)
  double min_lr = 1e-6;
  double warmup_epochs = 5;
  double weight_decay = 0.05;
  double layer_decay = 1.0;  // layer-wise learning-rate decay (layer_decay_lr_scale); 1 = off
  double beta1 = 0.9, beta2 = 0.999;
  double grad_clip = 3.0;  // max global gradient norm; 0 = off
  bool amp = true;         // bf16 autocast where available (CUDA + LibTorch 2.x)
  uint64_t seed = 0;

  // Run control (may change between a run and its resume).
  int64_t max_steps = 0;             // stop after this global step (0 = no limit)
  double time_budget_seconds = 0.0;  // 0 = none; else plan the epochs that fit (see Trainer::run)
  std::string checkpoint_dir;        // "" = no checkpoints
  int log_every = 50;                // steps between progress reports (each syncs the device)
  // TF32 matmuls and convolutions on CUDA. Process-wide, so only for a process that does nothing
  // but train (vitscope-cli pretrain): in the app a job trains beside the analyses, whose numbers
  // must not change because a job is running.
  bool allow_tf32 = false;
};

nlohmann::json recipe_to_json(const TrainConfig& config);
// Reads the recipe fields into `config`, leaving its run-control fields untouched.
void recipe_from_json(const nlohmann::json& j, TrainConfig& config);

struct TrainProgress {
  enum class Event { Step, EpochEnd, Planned, CheckpointWritten } event = Event::Step;
  int64_t step = 0;         // global steps done
  int64_t total_steps = 0;  // planned
  int epoch = 0;            // epochs done (EpochEnd) or the current epoch, 0-based
  int planned_epochs = 0;
  double loss = 0.0;  // mean since the previous report (Step) or over the epoch (EpochEnd)
  std::vector<std::pair<std::string, double>> loss_terms;
  std::vector<std::pair<std::string, double>> metrics;  // EpochEnd: the epoch evaluator's (e.g. val_top1)
  double lr = 0.0;
  double images_per_second = 0.0;
  double elapsed_seconds = 0.0;  // of this run and every run it resumes
  double eta_seconds = 0.0;
  std::string message;  // Planned: how the epochs were chosen; CheckpointWritten: the path
};
using ProgressCallback = std::function<void(const TrainProgress&)>;

struct EpochRecord {
  int epoch = 0;  // 1-based
  double loss = 0.0;
  double lr = 0.0;  // at the end of the epoch
  double images_per_second = 0.0;
  double seconds = 0.0;
  std::vector<std::pair<std::string, double>> metrics;  // from the epoch evaluator, if one is set
};

// Measures the model at an epoch end (validation accuracy, …); runs on the training thread
// between steps and must not change the weights. Its numbers join the epoch's record.
using EpochEvaluator = std::function<std::vector<std::pair<std::string, double>>(model::Model&)>;
// Called on the training thread before every step (and once before the loop ends): it may
// block (a paused job waits here) or read the model (live diagnostics), never change it.
using BetweenSteps = std::function<void(int64_t step)>;

enum class StopReason { Finished, MaxSteps, TimeBudget, Cancelled };
const char* stop_reason_name(StopReason reason);

struct TrainResult {
  StopReason reason = StopReason::Finished;
  int64_t steps = 0;
  int epochs_completed = 0;
  int planned_epochs = 0;
  double wall_seconds = 0.0;
};

// What a trained model's file holds: the encoder (with its classifier) and the reconstruction
// heads the viewer needs; MoCo's projector and predictor only when asked; never the momentum
// branch (it lives in the checkpoint). On the CPU.
model::Model exported_model(const model::Model& trained, bool keep_moco_heads);

class Trainer {
 public:
  // Builds the model of `card`, initialises it from config.seed and moves it and the data to
  // `device`. The card's architecture must fit the objective (see pretraining_card()).
  Trainer(const model::ModelCard& card, const io::ImageDataset& data, TrainConfig config, const torch::Device& device);
  // Starts from the weights of `initial` (a base model to fine-tune or to pre-train further),
  // on the CPU, whose card says the architecture.
  Trainer(model::Model initial, const io::ImageDataset& data, TrainConfig config, const torch::Device& device);
  // Continues from a checkpoint: recipe and model card come from the file, run control from
  // `run_control`.
  static std::unique_ptr<Trainer> resume(const std::string& checkpoint_path, const io::ImageDataset& data,
                                         const TrainConfig& run_control, const torch::Device& device);

  // Trains until the planned epochs are done, max_steps is reached, the time budget is used up
  // or *cancel becomes true (checked between steps, after `between_steps`). Writes a checkpoint at every epoch end and
  // when it stops early (if checkpoint_dir is set).
  //
  // Time budget: the first epoch runs with the schedule sized for config.epochs; at its end the
  // number of epochs that fit into the budget is planned from its measured speed, and the cosine
  // schedule is sized to that (exact when warm-up lasts at least one epoch). Later, a run stops at
  // an epoch boundary when the next epoch would not finish in time.
  TrainResult run(const ProgressCallback& on_progress = {}, const std::atomic<bool>* cancel = nullptr,
                  const BetweenSteps& between_steps = {});
  void set_epoch_evaluator(EpochEvaluator evaluator) { epoch_evaluator_ = std::move(evaluator); }

  // Images per second of `steps` training steps after `warmup_steps` untimed ones (it trains:
  // use a throw-away trainer).
  double benchmark(int warmup_steps, int steps);

  void save_checkpoint(const std::string& path) const;
  static std::string checkpoint_path(const std::string& dir);  // <dir>/checkpoint.safetensors

  model::Model& model() { return model_; }
  const TrainConfig& config() const { return config_; }
  int64_t step() const { return step_; }
  int64_t steps_per_epoch() const { return steps_per_epoch_; }
  int planned_epochs() const { return planned_epochs_; }
  const std::vector<EpochRecord>& history() const { return history_; }
  // What the model card's "training" field records: recipe, data, steps, epochs, time, device, history.
  nlohmann::json training_record() const;

 private:
  void load_checkpoint(const std::string& path);
  LrSchedule schedule() const;
  // One optimisation step on the next batch; returns the detached loss terms.
  LossTerms train_step();

  model::Model model_;
  io::ImageDataset data_;
  TrainConfig config_;
  torch::Device device_;
  std::unique_ptr<Objective> objective_;
  std::unique_ptr<AdamW> optimizer_;
  int64_t steps_per_epoch_ = 0;
  int64_t step_ = 0;
  int planned_epochs_ = 0;
  bool epochs_planned_ = false;  // the time budget has fixed planned_epochs_
  double elapsed_before_ = 0.0;  // seconds spent by the runs this one resumes
  std::vector<EpochRecord> history_;
  torch::Tensor epoch_order_;  // data order of the current epoch (CPU, int64)
  int64_t epoch_order_of_ = -1;
  EpochEvaluator epoch_evaluator_;
};

}  // namespace vitscope::train
