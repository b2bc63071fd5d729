// vitscope-cli finetune: the desktop app's fine-tuning job from the command line (linear probe,
// full fine-tune, or continued MoCo / SimMIM / MAE / hybrid pre-training of a model), with the
// same options, checkpoints every epoch, resume, and the new model's card with its lineage.
#include <cstdio>
#include <filesystem>

#include "app/cli/common.h"
#include "core/runtime/finetune_job.h"

namespace vitscope::cli {
namespace {

namespace fs = std::filesystem;

std::string metrics_text(const std::vector<std::pair<std::string, double>>& metrics) {
  std::string text;
  for (const auto& [name, value] : metrics) {
    char buf[64];
    std::snprintf(buf, sizeof buf, ", %s %.4f", name.c_str(), value);
    text += buf;
  }
  return text;
}

std::string values_text(const std::vector<double>& values) {
  std::string text;
  for (double v : values) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.3f", text.empty() ? "" : " ", v);
    text += buf;
  }
  return text;
}

// The lines follow vitscope-cli pretrain's (tests rely on "epoch E/N step S/T" and "checkpoint: PATH").
void print_update(const runtime::FineTuneUpdate& u) {
  using K = runtime::FineTuneUpdate::Kind;
  switch (u.kind) {
    case K::Started:
      std::printf("%s; %lld steps in %d epoch%s of batch %d\n", u.message.c_str(), static_cast<long long>(u.total_steps),
                  u.epochs, u.epochs == 1 ? "" : "s", u.batch_size);
      break;
    case K::Step:
      std::printf("epoch %d/%d step %lld/%lld loss %.4f lr %.3g %.0f img/s eta %s\n", u.epoch + 1, u.epochs,
                  static_cast<long long>(u.step), static_cast<long long>(u.total_steps), u.loss, u.lr,
                  u.images_per_second, clock_text(u.eta_seconds).c_str());
      break;
    case K::Epoch:
      std::printf("epoch %d/%d done: loss %.4f%s, %.0f img/s, elapsed %s, eta %s\n", u.epoch, u.epochs, u.loss,
                  metrics_text(u.metrics).c_str(), u.images_per_second, clock_text(u.elapsed_seconds).c_str(),
                  clock_text(u.eta_seconds).c_str());
      break;
    case K::Diagnostics:
      std::printf("diagnostics at step %lld: attention distance [%s] nmi [%s] delta-log-amplitude [%s]\n",
                  static_cast<long long>(u.step), values_text(u.diagnostics.attention_distance).c_str(),
                  values_text(u.diagnostics.nmi).c_str(), values_text(u.diagnostics.delta_log_amplitude).c_str());
      break;
    case K::Checkpoint: std::printf("checkpoint: %s (step %lld)\n", u.message.c_str(), static_cast<long long>(u.step)); break;
    case K::Paused:
    case K::Resumed: break;
    case K::Warning: std::fprintf(stderr, "warning: %s\n", u.message.c_str()); break;
  }
  std::fflush(stdout);
}

int run_finetune(const Args& args) {
  runtime::tune_process();
  runtime::FineTuneSpec spec;
  spec.base_model = args.require("model");
  spec.data = args.require("data");
  spec.out = args.require("out");
  spec.mode = args.require("mode");
  spec.name = args.get("name", "");
  spec.lambda = args.get_double("lambda", spec.lambda);
  spec.val_data = args.get("val", "");
  spec.val_split = args.get_double("val-split", spec.val_split);
  spec.epochs = args.get_int("epochs", spec.epochs);
  spec.batch_size = args.get_int("batch-size", spec.batch_size);
  spec.lr = args.get_double("lr", spec.lr);
  spec.layer_decay = args.get_double("layer-decay", spec.layer_decay);
  spec.crop_scale = args.get_double("crop-scale", spec.crop_scale);
  spec.flip = !args.flag("no-flip");
  spec.image_size = args.get_int("image-size", spec.image_size);
  spec.max_per_class = args.get_int("max-per-class", spec.max_per_class);
  spec.device = args.get("device", spec.device);
  spec.seed = static_cast<uint64_t>(args.get_int("seed", 0));
  spec.amp = !args.flag("no-amp");
  spec.log_every = args.get_int("log-every", spec.log_every);
  spec.diagnostics_every = args.get_int("diagnostics-every", spec.diagnostics_every);
  spec.diagnostics_images = args.get_int("diagnostics-images", spec.diagnostics_images);
  spec.max_steps = args.get_int("max-steps", 0);
  const fs::path out_path(spec.out);
  spec.checkpoint_dir =
      args.get("checkpoint-dir", (out_path.parent_path() / (out_path.stem().string() + "-checkpoints")).string());
  const bool resume = args.flag("resume");
  args.reject_unknown();
  if (spec.epochs <= 0 || spec.batch_size <= 0) throw UsageError("--epochs and --batch-size must be positive");
  if (args.find("layer-decay") && !(spec.layer_decay > 0.0 && spec.layer_decay <= 1.0))
    throw UsageError("--layer-decay must lie in (0, 1]");
  if (args.find("crop-scale") && !(spec.crop_scale > 0.0 && spec.crop_scale <= 1.0))
    throw UsageError("--crop-scale must lie in (0, 1]");
  if ((args.find("crop-scale") || !spec.flip) && !runtime::finetune_defaults(spec.mode).needs_labels)
    throw UsageError("--crop-scale and --no-flip set the augmentation of linear-probe and finetune; " + spec.mode +
                     " augments as its objective does");
  if (args.find("val") && args.find("val-split")) throw UsageError("give either --val DIR or --val-split F, not both");

  const std::string checkpoint = (fs::path(spec.checkpoint_dir) / "checkpoint.safetensors").string();
  if (fs::exists(checkpoint) && !resume)
    throw UsageError(checkpoint + " exists: pass --resume to continue that job, or choose another --checkpoint-dir");
  if (resume && !fs::exists(checkpoint)) std::printf("no checkpoint at %s: starting from the base model\n", checkpoint.c_str());

  runtime::FineTuneJob job(spec);
  const auto outcome = job.run(print_update);
  std::printf("training stopped (%s) after %lld steps at batch size %d\n", outcome.stop_reason.c_str(),
              static_cast<long long>(outcome.steps), outcome.batch_size);
  if (outcome.model_path.empty()) return 1;
  std::printf("model: %s (+ %s)\n", outcome.model_path.c_str(), fs::path(outcome.model_path).replace_extension(".json").string().c_str());
  return 0;
}

const bool finetune_registered = register_command(
    {"finetune", "fine-tune a model (linear probe, full) or continue its pre-training (MoCo, SimMIM, MAE, hybrid)",
     "usage: vitscope-cli finetune --model MODEL --data DIR --mode MODE --out NEW.safetensors [options]\n"
     "\n"
     "  --model MODEL            base model: any checkpoint the app loads (its weights start the run)\n"
     "  --data DIR               labelled ImageFolder (DIR/<class>/<image>) or .tar.gz in that layout;\n"
     "                           for pretrain-* modes also a folder of images without class folders\n"
     "  --mode MODE              linear-probe   frozen encoder + linear classifier\n"
     "                           finetune       encoder + classifier\n"
     "                           pretrain-moco | pretrain-simmim | pretrain-mae | pretrain-hybrid\n"
     "                                          continued self-supervised pre-training (heads the base\n"
     "                                          lacks start fresh; the log names them)\n"
     "  --lambda 0.2             pretrain-hybrid: L = (1-λ) L_SimMIM + λ L_MoCo\n"
     "  --val DIR                validation folder with the same classes, or\n"
     "  --val-split 0.1          hold out this fraction of --data (per class) for validation\n"
     "  --epochs 10 --batch-size 64\n"
     "  --lr LR                  peak learning rate (default: 1e-3 linear-probe, 1e-4 otherwise); one\n"
     "                           warm-up epoch, then cosine; AdamW\n"
     "  --layer-decay D          layer-wise lr decay in (0, 1]: block i of d learns at D^(d+1-i) of the\n"
     "                           rate, patch embedding and tokens at D^(d+1), the classifier at 1\n"
     "                           (default 1 = off; MAE / BEiT fine-tune large models with 0.65-0.75)\n"
     "  --crop-scale 0.5         linear-probe, finetune: RandomResizedCrop's smallest area fraction\n"
     "                           (1 = whole image); --no-flip: no random horizontal flip\n"
     "  --image-size N           input size (default: the model's; its position table is resampled)\n"
     "  --max-per-class N        use the first N images of each class\n"
     "  --device auto|cpu|cuda   no GPU: the CPU, with a warning\n"
     "  --seed 0 --no-amp (bf16 autocast on CUDA is on by default in LibTorch 2.x builds)\n"
     "  --checkpoint-dir DIR     default: <out stem>-checkpoints; a checkpoint every epoch (atomic)\n"
     "  --resume                 continue the job whose checkpoint is in DIR (its recipe wins)\n"
     "  --max-steps N            stop after global step N (the checkpoint keeps the place)\n"
     "  --log-every 10           steps between progress lines\n"
     "  --diagnostics-every N    every N steps: attention distance, NMI per block and ΔLog amplitude\n"
     "                           per tap of a fixed probe batch (--diagnostics-images 8)\n"
     "  --name NAME              the new model's name (default: '<base> · <mode>')\n"
     "  --out NEW.safetensors    the new model + NEW.json card with 'lineage' (base model, data, mode,\n"
     "                           hyper-parameters, metrics)\n",
     {"resume", "no-amp", "no-flip"},
     run_finetune});

}  // namespace
}  // namespace vitscope::cli
