#pragma once
// A fine-tuning job as the desktop app and vitscope-cli finetune run it, without torch or Qt in
// this header: the job's settings (FineTuneSpec, JSON-serialisable so that unfinished jobs
// survive a restart), what it reports while it runs (FineTuneUpdate: losses, learning rate,
// throughput, validation accuracy, live diagnostics of a fixed probe batch) and the model it
// leaves (FineTuneOutcome). The engine is core/train (Trainer + core/train/finetune.h).
//
// FineTuneJob::run works on the calling thread until the job ends; pause(), resume() and
// cancel() may be called from any other thread. A job whose checkpoint folder holds a
// checkpoint continues from it, so a job interrupted by a crash or by closing the app resumes
// from its last epoch (its recipe then comes from the checkpoint) and ends with the weights an
// uninterrupted run would have had (bit for bit on the CPU).
#include <condition_variable>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "core/runtime/explorer.h"

namespace vitscope::runtime {

struct FineTuneSpec {
  std::string name;              // of the new model ("" = "<base name> · <mode>")
  std::string base_model;        // checkpoint path (any format the shelf loads)
  std::string data;              // image folder (ImageFolder classes, or unlabeled for pre-training) or .tar.gz
  std::string val_data;          // labelled validation folder; "" = hold out val_split of data
  double val_split = 0.1;        // labelled modes without val_data
  std::string mode = "finetune";  // linear-probe | finetune | pretrain-moco | pretrain-simmim | pretrain-mae | pretrain-hybrid
  double lambda = 0.2;           // pretrain-hybrid: weight of the MoCo loss
  int epochs = 10;
  int batch_size = 64;
  double lr = 0.0;               // peak learning rate; 0 = the mode's default (core/train/finetune.h)
  double layer_decay = 0.0;      // layer-wise lr decay in (0, 1]; 0 = the mode's default; 1 = off
  // Augmentation of the labelled modes' training images (RandomResizedCrop, then a horizontal
  // flip); the pre-training modes crop, flip and jitter as their objective does.
  double crop_scale = 0.0;       // smallest crop as a fraction of the image area, in (0, 1]; 0 = the mode's default
  bool flip = true;              // random horizontal flip
  int image_size = 0;            // 0 = the base model's; else its position table is resampled
  int max_per_class = 0;         // 0 = every image
  std::string device = "auto";   // auto | cpu | cuda[:N]; no GPU falls back to the CPU with a warning
  uint64_t seed = 0;
  bool amp = true;               // bf16 autocast on CUDA (LibTorch 2.x builds)
  std::string checkpoint_dir;    // "" = no checkpoints (and no resume)
  std::string out;               // where the new model (.safetensors + .json card) goes
  int log_every = 10;            // steps between progress reports
  int diagnostics_every = 0;     // steps between live diagnostics; 0 = none
  int diagnostics_images = 8;    // size of the fixed probe batch
  int64_t max_steps = 0;         // stop after this global step (0 = no limit; tests, quick looks)

  std::string to_json() const;
  static FineTuneSpec from_json(const std::string& text);  // missing keys keep their defaults
};

// What a mode uses where FineTuneSpec leaves 0 (core/train/finetune.h's default_recipe), for
// forms to show. Throws std::invalid_argument for an unknown mode.
struct FineTuneDefaults {
  double lr = 0.0, layer_decay = 1.0, crop_scale = 0.0;
  bool needs_labels = false;  // linear-probe, finetune: class folders, and crop scale / flip apply
};
FineTuneDefaults finetune_defaults(const std::string& mode);

// The live diagnostics of the probe batch at one step (paper-analyses.md §3.2, §3.3, §3.6).
struct TrainingDiagnostics {
  int64_t step = 0;
  std::vector<double> attention_distance;   // per block, pixels, mean over heads and images
  std::vector<double> nmi;                  // per block
  std::vector<double> delta_log_amplitude;  // per tap (2·depth + 1), as ImageAnalysis::delta_log_amplitude
  FloatGrid cls_attention;                  // last block, CLS query, mean over heads, first probe image
  RgbImage probe_image;                     // that image as the model sees it
};

struct FineTuneUpdate {
  enum class Kind { Started, Step, Epoch, Diagnostics, Checkpoint, Paused, Resumed, Warning } kind = Kind::Step;
  int64_t step = 0, total_steps = 0;
  int epoch = 0, epochs = 0;  // Epoch: epochs done; else the current epoch (0-based)
  int batch_size = 0;
  double loss = 0.0, lr = 0.0, images_per_second = 0.0, elapsed_seconds = 0.0, eta_seconds = 0.0;
  std::vector<std::pair<std::string, double>> metrics;  // Epoch: val_top1, val_loss (labelled modes)
  TrainingDiagnostics diagnostics;                      // Diagnostics
  std::string message;  // Started: what was loaded and resumed; Checkpoint: the path; Warning: the warning
};
using FineTuneUpdateFn = std::function<void(const FineTuneUpdate&)>;

struct FineTuneOutcome {
  std::string stop_reason;  // finished | max_steps | cancelled
  std::string model_path;   // "" when cancelled
  std::string card_json;    // the new model's card (with "lineage")
  int64_t steps = 0;
  int batch_size = 0;       // the batch it ended with (lower than asked after an out-of-memory retry)
};

class FineTuneJob {
 public:
  explicit FineTuneJob(FineTuneSpec spec) : spec_(std::move(spec)) {}

  // Runs to the end. Throws std::exception with a message naming the file and the problem for
  // bad input (missing folder, no class folders for a labelled mode, a model that lacks what a
  // mode needs) and for failures (a checkpoint that cannot be written: the previous one stays).
  FineTuneOutcome run(const FineTuneUpdateFn& on_update = {});

  void pause();
  void resume();
  void cancel();
  const FineTuneSpec& spec() const { return spec_; }

 private:
  void wait_while_paused(int64_t step, const FineTuneUpdateFn& on_update);

  FineTuneSpec spec_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool paused_ = false;
  std::atomic<bool> cancelled_{false};
};

}  // namespace vitscope::runtime
