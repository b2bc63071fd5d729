// vitscope-cli pretrain: self-supervised pre-training (MoCo v3, SimMIM, MAE or the hybrid) of a
// ViT on an image folder or a .tar.gz archive; writes the model + card, checkpoints every epoch.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "app/cli/common.h"
#include "core/io/dataset.h"
#include "core/train/amp.h"
#include "core/train/evaluation.h"
#include "core/train/trainer.h"

namespace vitscope::cli {
namespace {

namespace fs = std::filesystem;

// Prints progress lines; the format is relied on by tests (e.g. "checkpoint: PATH (step N)").
void print_progress(const train::TrainProgress& p) {
  using E = train::TrainProgress::Event;
  switch (p.event) {
    case E::Step: {
      std::printf("epoch %d/%d step %lld/%lld loss %.4f", p.epoch + 1, p.planned_epochs, static_cast<long long>(p.step),
                  static_cast<long long>(p.total_steps), p.loss);
      if (p.loss_terms.size() > 1)
        for (const auto& [name, v] : p.loss_terms) std::printf(" %s %.4f", name.c_str(), v);
      std::printf(" lr %.3g %.0f img/s eta %s\n", p.lr, p.images_per_second, clock_text(p.eta_seconds).c_str());
      break;
    }
    case E::EpochEnd:
      std::printf("epoch %d/%d done: loss %.4f, %.0f img/s, elapsed %s, eta %s\n", p.epoch, p.planned_epochs, p.loss,
                  p.images_per_second, clock_text(p.elapsed_seconds).c_str(), clock_text(p.eta_seconds).c_str());
      break;
    case E::Planned: std::printf("time budget: %s\n", p.message.c_str()); break;
    case E::CheckpointWritten:
      std::printf("checkpoint: %s (step %lld)\n", p.message.c_str(), static_cast<long long>(p.step));
      break;
  }
  std::fflush(stdout);
}

int run_pretrain(const Args& args) {
  runtime::tune_process();
  const auto objective = train::objective_kind_from_name(args.require("objective"));
  const std::string data_path = args.require("data");
  const std::string out = args.get("out", "");
  const int benchmark_steps = args.get_int("benchmark-steps", 0);
  if (out.empty() && benchmark_steps == 0) throw UsageError("missing required option --out");

  // Architecture (the bundled CIFAR-10 ViT by default).
  train::PretrainingArchitecture arch;
  arch.image_size = args.get_int("image-size", arch.image_size);
  arch.patch_size = args.get_int("patch-size", arch.patch_size);
  arch.embed_dim = args.get_int("embed-dim", arch.embed_dim);
  arch.depth = args.get_int("depth", arch.depth);
  arch.num_heads = args.get_int("heads", arch.num_heads);
  arch.mlp_hidden_dim = args.get_int("mlp-dim", 4 * arch.embed_dim);
  arch.decoder_dim = args.get_int("decoder-dim", arch.decoder_dim);
  arch.decoder_depth = args.get_int("decoder-depth", arch.decoder_depth);
  arch.decoder_heads = args.get_int("decoder-heads", arch.decoder_heads);
  arch.mae_norm_pixel_target = args.flag("mae-norm-pix");
  arch.moco_hidden_dim = args.get_int("moco-hidden-dim", arch.moco_hidden_dim);
  arch.moco_out_dim = args.get_int("moco-out-dim", arch.moco_out_dim);

  // Recipe.
  train::TrainConfig config;
  config.objective = objective;
  config.lambda = args.get_double("lambda", config.lambda);
  config.moco.temperature = args.get_double("temperature", config.moco.temperature);
  config.moco.base_momentum = args.get_double("momentum", config.moco.base_momentum);
  // MoCo v3 freezes its random patch embedding; the hybrid keeps SimMIM's trainable one.
  const std::string freeze = args.get("freeze-patch-embed", objective == train::ObjectiveKind::MocoV3 ? "yes" : "no");
  if (freeze != "yes" && freeze != "no") throw UsageError("--freeze-patch-embed expects yes or no");
  config.moco.freeze_patch_embed = freeze == "yes";
  config.simmim.mask_ratio = args.get_double("simmim-mask-ratio", config.simmim.mask_ratio);
  config.simmim.mask_unit = args.get_int("simmim-mask-unit", config.simmim.mask_unit);
  config.mae.mask_ratio = args.get_double("mae-mask-ratio", config.mae.mask_ratio);
  config.epochs = args.get_int("epochs", 100);
  config.batch_size = args.get_int("batch-size", 256);
  config.lr = args.get_double("lr", config.lr);
  config.min_lr = args.get_double("min-lr", config.min_lr);
  config.warmup_epochs = args.get_double("warmup-epochs", config.warmup_epochs);
  config.weight_decay = args.get_double("weight-decay", objective == train::ObjectiveKind::MocoV3 ? 0.1 : 0.05);
  config.beta2 = args.get_double("beta2", objective == train::ObjectiveKind::Mae ? 0.95 : 0.999);
  config.grad_clip = args.get_double("grad-clip", config.grad_clip);
  config.amp = args.flag("amp");
  config.seed = static_cast<uint64_t>(args.get_int("seed", 0));
  // Run control.
  config.max_steps = args.get_int("max-steps", 0);
  config.allow_tf32 = true;  // this process only trains
  config.time_budget_seconds = 60.0 * args.get_double("time-budget-minutes", 0.0);
  config.log_every = args.get_int("log-every", 50);
  const fs::path out_path(out);
  config.checkpoint_dir =
      args.get("checkpoint-dir", out.empty() ? "" : (out_path.parent_path() / (out_path.stem().string() + "-checkpoints")).string());
  // Input normalisation of the new model: CIFAR-10's channel statistics or ImageNet's.
  const std::string normalize =
      args.get("normalize", data_path.find("cifar10") != std::string::npos ? "cifar10" : "imagenet");
  if (normalize != "cifar10" && normalize != "imagenet") throw UsageError("--normalize expects cifar10 or imagenet");
  const bool resume = args.flag("resume");
  const bool half = args.flag("half");
  const bool keep_moco_heads = args.flag("keep-moco-heads");
  const int benchmark_warmup = args.get_int("benchmark-warmup", 5);

  io::DatasetOptions data_options;
  data_options.image_size = arch.image_size;
  data_options.split = args.get("split", "");
  data_options.max_per_class = args.get_int("max-per-class", 0);
  data_options.num_threads = args.get_int("threads", 0);
  const auto eval_data = args.find("eval-data");
  train::EvaluationOptions eval;
  eval.knn.k = args.get_int("knn-k", eval.knn.k);
  eval.probe.epochs = args.get_int("linear-probe-epochs", eval.probe.epochs);
  eval.seed = config.seed;
  const int eval_max_per_class = args.get_int("eval-max-per-class", 0);
  const auto device = device_from(args).device;
  args.reject_unknown();

  if (config.checkpoint_dir.empty() && resume) throw UsageError("--resume needs --checkpoint-dir (or --out)");
  const auto t_load = std::chrono::steady_clock::now();
  auto data = io::load_dataset(data_path, data_options);
  std::printf("data: %s, %lld images, %d classes, %dx%d px, decoded in %.1f s\n", data.source.c_str(),
              static_cast<long long>(data.size()), data.num_classes(), data.image_size(), data.image_size(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count());
  report_skipped(data.skipped);

  std::unique_ptr<train::Trainer> trainer;
  const auto checkpoint = config.checkpoint_dir.empty() ? "" : train::Trainer::checkpoint_path(config.checkpoint_dir);
  if (resume && fs::exists(checkpoint)) {
    trainer = train::Trainer::resume(checkpoint, data, config, device);
    std::printf("resumed from %s at step %lld (architecture and recipe from the checkpoint)\n", checkpoint.c_str(),
                static_cast<long long>(trainer->step()));
  } else {
    if (resume) std::printf("no checkpoint at %s: starting from scratch\n", checkpoint.c_str());
    const auto card = train::pretraining_card(objective, arch, config.lambda, normalize == "cifar10");
    trainer = std::make_unique<train::Trainer>(card, data, config, device);
  }
  std::printf("model: %s, %lld parameters, %lld steps per epoch of %d images, device %s%s\n",
              trainer->model().card.name.c_str(), static_cast<long long>(trainer->model().num_parameters()),
              static_cast<long long>(trainer->steps_per_epoch()), config.batch_size, runtime::describe(device).c_str(),
              config.amp && train::autocast_available(device) ? ", bf16 autocast" : "");
  std::fflush(stdout);

  if (benchmark_steps > 0) {
    const double ips = trainer->benchmark(benchmark_warmup, benchmark_steps);
    std::printf("benchmark: %s batch %d, %d steps after %d warm-up: %.1f img/s\n", train::objective_kind_name(objective),
                config.batch_size, benchmark_steps, benchmark_warmup, ips);
    return 0;
  }

  const auto result = trainer->run(print_progress);
  std::printf("training stopped (%s) after %lld steps, %d of %d epochs, %s\n", train::stop_reason_name(result.reason),
              static_cast<long long>(result.steps), result.epochs_completed, result.planned_epochs,
              clock_text(result.wall_seconds).c_str());

  auto& model = trainer->model();
  auto record = trainer->training_record();
  record["stop_reason"] = train::stop_reason_name(result.reason);
  record["bf16_autocast"] = config.amp && train::autocast_available(device);
  model.card.training = record;
  model.card.description = std::string("Pre-trained by vitscope-cli pretrain (") + train::objective_kind_name(objective) +
                           ") on " + data.source + ".";
  if (eval_data) {
    io::DatasetOptions eo = data_options;
    eo.max_per_class = eval_max_per_class;
    eo.split = "train";
    auto bank = io::load_dataset(*eval_data, eo).to(device);
    eo.split = "test";
    auto queries = io::load_dataset(*eval_data, eo).to(device);
    report_skipped(bank.skipped);
    report_skipped(queries.skipped);
    model.card.metrics = train::evaluate(model, bank, queries, eval, [](const std::string& s) {
      std::printf("evaluating: %s\n", s.c_str());
      std::fflush(stdout);
    });
    std::printf("metrics: %s\n", model.card.metrics.dump().c_str());
  }
  const auto exported = train::exported_model(model, keep_moco_heads);
  if (!out_path.parent_path().empty()) fs::create_directories(out_path.parent_path());
  model::save_model(exported, out, half);
  std::printf("model: %s (+ %s)\n", out.c_str(), fs::path(out).replace_extension(".json").string().c_str());
  return result.reason == train::StopReason::Cancelled ? 1 : 0;
}

const bool pretrain_registered = register_command(
    {"pretrain", "self-supervised pre-training: MoCo v3, SimMIM, MAE or the CL+MIM hybrid",
     "usage: vitscope-cli pretrain --objective moco|simmim|mae|hybrid --data PATH --out MODEL.safetensors [options]\n"
     "\n"
     "data:\n"
     "  --data PATH              image folder (PATH/<class>/*) or .tar.gz archive in that layout;\n"
     "                           CIFAR-10: ../shared/data/cifar10/cifar10-jpg.tar.gz\n"
     "  --split NAME             sub-folder holding the classes (default: train when present)\n"
     "  --max-per-class N        use the first N images of each class (quick runs)\n"
     "  --threads N              JPEG decoding threads (default: all cores)\n"
     "architecture (default: the bundled CIFAR-10 ViT):\n"
     "  --image-size 32 --patch-size 4 --embed-dim 128 --depth 12 --heads 4 --mlp-dim 4*embed\n"
     "  --decoder-dim 128 --decoder-depth 4 --decoder-heads 4 --mae-norm-pix   (MAE)\n"
     "  --moco-hidden-dim 1024 --moco-out-dim 256                             (MoCo, hybrid)\n"
     "  --normalize cifar10|imagenet   channel mean/std (default: cifar10 when the data path says so)\n"
     "recipe:\n"
     "  --epochs 100 --batch-size 256 --lr 1e-3 (peak, absolute) --min-lr 1e-6 --warmup-epochs 5\n"
     "  --weight-decay W         default 0.1 (moco), 0.05 (others); none on norms, biases, tokens, pos embeds\n"
     "  --beta2 B                AdamW beta2, default 0.95 (mae), 0.999 (others)\n"
     "  --grad-clip 3            global gradient-norm clip (0 = off)\n"
     "  --lambda 0.2             hybrid: L = (1-λ) L_SimMIM + λ L_MoCo\n"
     "  --temperature 0.2 --momentum 0.99 --freeze-patch-embed yes|no (default yes for moco, no for hybrid)\n"
     "  --simmim-mask-ratio 0.6 --simmim-mask-unit 2 (tokens) --mae-mask-ratio 0.75\n"
     "  --seed 0                 every random number is a function of (seed, step)\n"
     "  --amp                    bf16 autocast on CUDA (LibTorch 2.x builds); else fp32 (+TF32 on CUDA)\n"
     "run:\n"
     "  --device auto|cpu|cuda   --log-every 50\n"
     "  --checkpoint-dir DIR     default: <out stem>-checkpoints; written every epoch\n"
     "  --resume                 continue from DIR/checkpoint.safetensors when it exists (its\n"
     "                           architecture and recipe win over the options given)\n"
     "  --max-steps N            stop after global step N (a checkpoint keeps the place)\n"
     "  --time-budget-minutes M  plan the epochs that fit into M minutes (cosine schedule sized to them)\n"
     "  --benchmark-steps N      print training throughput (img/s) of N steps after --benchmark-warmup 5, then exit\n"
     "output:\n"
     "  --out MODEL.safetensors  model + MODEL.json card (objective, data, recipe, history, metrics)\n"
     "  --half                   store weights as fp16\n"
     "  --keep-moco-heads        also export MoCo's projector and predictor\n"
     "  --eval-data PATH         afterwards: kNN + linear probe (train split -> test split), reconstruction loss\n"
     "  --eval-max-per-class N --knn-k 20 --linear-probe-epochs 100\n",
     {"mae-norm-pix", "amp", "resume", "half", "keep-moco-heads"},
     run_pretrain});

}  // namespace
}  // namespace vitscope::cli
