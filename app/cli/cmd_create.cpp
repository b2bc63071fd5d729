// vitscope-cli create: a model with random weights, initialised exactly as `pretrain` starts
// (train::initialize_weights), saved in ViTScope's format with a model card. It is the
// "untrained" baseline to compare trained checkpoints against, and a reference model of the real
// ViT-S/16 or ViT-B/16 geometry for benchmarks.
#include <iostream>

#include "app/cli/common.h"
#include "core/train/pretraining_card.h"
#include "core/train/weight_init.h"

namespace vitscope::cli {
namespace {

// Architectures of the presets. The bundled one is the trainer's default (the bundled models);
// the ViT-S/16 and ViT-B/16 ones follow paper-analyses.md §1.2-§1.3 (224 px, patch 16, 12 blocks,
// MLP 4x) with timm's head counts, MAE's decoder (512-d, 8 blocks, 16 heads, §3.13) and MoCo v3's
// projector / predictor widths (4096 hidden, 256 out, §3.14).
train::PretrainingArchitecture preset_architecture(const std::string& preset) {
  train::PretrainingArchitecture a;
  if (preset == "bundled") return a;
  if (preset != "vit-s16" && preset != "vit-b16")
    throw UsageError("--preset expects vit-s16, vit-b16 or bundled, got '" + preset + "'");
  a.image_size = 224;
  a.patch_size = 16;
  a.embed_dim = preset == "vit-s16" ? 384 : 768;
  a.num_heads = preset == "vit-s16" ? 6 : 12;
  a.mlp_hidden_dim = 4 * a.embed_dim;
  a.decoder_dim = 512;
  a.decoder_depth = 8;
  a.decoder_heads = 16;
  a.moco_hidden_dim = 4096;
  a.moco_out_dim = 256;
  return a;
}

int run_create(const Args& args) {
  const std::string preset = args.require("preset");
  const auto objective = train::objective_kind_from_name(args.require("objective"));
  const std::string out = args.require("out");
  auto arch = preset_architecture(preset);
  arch.num_heads = args.get_int("heads", arch.num_heads);
  arch.mae_norm_pixel_target = args.flag("mae-norm-pix");
  const double lambda = args.get_double("lambda", 0.2);
  const auto seed = static_cast<uint64_t>(args.get_int("seed", 0));
  const std::string normalize = args.get("normalize", preset == "bundled" ? "cifar10" : "imagenet");
  if (normalize != "cifar10" && normalize != "imagenet") throw UsageError("--normalize expects cifar10 or imagenet");
  const auto classes = split_list(args.get("classes", ""));
  const auto name = args.find("name");
  const bool half = args.flag("half");
  args.reject_unknown();
  if (out.size() < 12 || out.substr(out.size() - 12) != ".safetensors")
    throw UsageError("--out must name a .safetensors file (the model card goes beside it as .json)");

  auto card = train::pretraining_card(objective, arch, lambda, normalize == "cifar10");
  if (preset != "bundled") {
    // ImageNet-style checkpoints are evaluated with resize 256 + centre crop 224 (§2); a random
    // reference model should see images the way the checkpoints it is compared with do.
    card.preprocess.mode = model::Preprocess::Mode::ResizeShorterCenterCrop;
    card.preprocess.crop_fraction = 0.875;
  }
  if (!classes.empty()) {
    card.vit.num_classes = static_cast<int>(classes.size());
    card.class_names = classes;
  }
  card.name = name ? *name : "random-" + std::string(train::objective_kind_name(objective)) + "-" + preset + "-seed" +
                                 std::to_string(seed);
  card.description = "Untrained reference model: random weights, no pre-training.";
  card.training = {{"steps", 0},
                   {"initialisation", "train::initialize_weights: xavier-uniform linear / conv weights, zero biases, "
                                      "unit LayerNorms, N(0, 0.02) tokens and learned tables, fixed sin-cos tables"},
                   {"seed", seed},
                   {"preset", preset},
                   {"created_by", "vitscope-cli create"}};
  auto model = model::Model::create(card);
  train::initialize_weights(model, seed);
  model.eval();
  const auto parent = std::filesystem::path(out).parent_path();
  if (!parent.empty()) make_output_dir(parent.string());
  model::save_model(model, out, half);
  std::cout << "created " << card.name << " (" << model.num_parameters() << " parameters, " << card.vit.image_size
            << " px, patch " << card.vit.patch_size << ", " << card.vit.embed_dim << "-d, " << card.vit.num_heads
            << " heads" << (classes.empty() ? "" : ", " + std::to_string(classes.size()) + "-way classifier")
            << ") in " << out << "\n";
  return 0;
}

const bool create_registered = register_command(
    {"create", "a model with random weights (untrained baseline, benchmark reference)",
     "usage: vitscope-cli create --preset vit-s16|vit-b16|bundled --objective moco|simmim|mae|hybrid\n"
     "                           --out M.safetensors [options]\n\n"
     "Builds the architecture of the preset with the heads the objective uses (MAE decoder, SimMIM head,\n"
     "MoCo v3 projector / predictor) and initialises it as `pretrain` does before its first step. Writes\n"
     "M.safetensors and the model card M.json.\n\n"
     "presets:\n"
     "  vit-s16    224 px, patch 16, 384-d, 12 blocks, 6 heads (MoCo v3's ViT-S uses --heads 12)\n"
     "  vit-b16    224 px, patch 16, 768-d, 12 blocks, 12 heads\n"
     "  bundled    the bundled models' 32 px, patch 4, 128-d, 12 blocks, 4 heads\n\n"
     "options:\n"
     "  --seed S              initialisation seed (default 0)\n"
     "  --lambda L            hybrid: weight of the CL loss (default 0.2)\n"
     "  --heads N             attention heads\n"
     "  --classes a,b,...     add a linear classifier head with these class names (random weights)\n"
     "  --normalize imagenet|cifar10   input statistics (default: cifar10 for bundled, else imagenet)\n"
     "  --mae-norm-pix        the MAE decoder predicts per-patch normalised pixels\n"
     "  --name NAME           model name (default random-<objective>-<preset>-seed<S>)\n"
     "  --half                store fp16 weights\n",
     {"mae-norm-pix", "half"}, run_create});

}  // namespace
}  // namespace vitscope::cli
