// Fine-tuning (core/train/finetune.h, core/runtime/finetune_job.h) on the toy set with a tiny
// ViT: the starting model keeps the base's weights and names its new parts; layer decay slows the
// early layers; a linear probe trains only the head, a full fine-tune the encoder too, and both
// learn the toy classes; the job reports curves and live diagnostics, pauses, resumes and
// cancels, refuses bad input with the file and the problem, keeps its last checkpoint when a
// checkpoint cannot be written, and writes a model whose card records its lineage.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli_process.h"
#include "core/io/file_hash.h"
#include "core/io/image.h"
#include "core/model/loader.h"
#include "core/runtime/finetune_job.h"
#include "core/train/finetune.h"
#include "support/test_env.h"
#include "toy_data.h"

namespace fs = std::filesystem;
namespace vt = vitscope::train;
namespace vr = vitscope::runtime;
using vitscope::test::tiny_architecture;
using vitscope::test::toy_dataset;

namespace {

fs::path save_base_model(const fs::path& dir, vt::ObjectiveKind kind) {
  return vitscope::test::save_tiny_model(dir.string(), kind);
}

vitscope::model::Model load(const fs::path& path) { return vitscope::model::load_model(path.string()).model; }

std::map<std::string, torch::Tensor> tensors_of(const vitscope::model::Model& m) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, t] : m.named_tensors()) out[name] = t.detach().clone();
  return out;
}

vt::TrainConfig toy_recipe(vt::FineTuneMode mode, int epochs) {
  auto c = vt::default_recipe(mode);
  c.epochs = epochs;
  c.batch_size = 16;
  c.lr = mode == vt::FineTuneMode::LinearProbe ? 1e-2 : 1e-3;
  c.seed = 2;
  c.log_every = 0;
  return c;
}

double final_val_top1(const vt::Trainer& t) {
  for (const auto& [name, v] : t.history().back().metrics)
    if (name == "val_top1") return v;
  return -1;
}

// A job on the toy folder (train/ for training, test/ for validation) from a tiny MoCo model.
struct ToyJob {
  fs::path root, base, data;
  vr::FineTuneSpec spec;
  explicit ToyJob(const std::string& name, const std::string& mode = "finetune") {
    root = vitscope::test::temp_dir(name);
    base = save_base_model(root, vt::ObjectiveKind::MocoV3);
    data = vitscope::test::write_toy_folder(root / "data");
    spec.base_model = base.string();
    spec.data = (data / "train").string();
    spec.val_data = (data / "test").string();
    spec.mode = mode;
    spec.epochs = 3;
    spec.batch_size = 8;  // 48 images: 6 steps per epoch
    spec.lr = 1e-3;
    spec.device = "cpu";
    spec.seed = 4;
    spec.log_every = 1;
    spec.diagnostics_every = 3;
    spec.checkpoint_dir = (root / "ckpt").string();
    spec.out = (root / "out" / "new.safetensors").string();
  }
  ~ToyJob() { fs::remove_all(root); }
};

std::string run_error(const vr::FineTuneSpec& spec) {
  try {
    vr::FineTuneJob(spec).run();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(FineTune, ModeNamesRoundTripAndUnknownNamesListTheModes) {
  for (auto m : {vt::FineTuneMode::LinearProbe, vt::FineTuneMode::FullFineTune, vt::FineTuneMode::PretrainMoco,
                 vt::FineTuneMode::PretrainSimMim, vt::FineTuneMode::PretrainMae, vt::FineTuneMode::PretrainHybrid})
    EXPECT_EQ(vt::finetune_mode_from_name(vt::finetune_mode_name(m)), m);
  try {
    vt::finetune_mode_from_name("probe");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("linear-probe"), std::string::npos);
  }
}

TEST(FineTune, StartingModelKeepsTheBaseWeightsAndNamesTheNewParts) {
  const auto dir = vitscope::test::temp_dir("ft-start");
  const auto base = load(save_base_model(dir, vt::ObjectiveKind::MocoV3));
  const std::vector<std::string> classes{"a", "b", "c", "d"};
  auto start = vt::starting_model(base, vt::FineTuneMode::LinearProbe, classes, 0.2, 1);
  EXPECT_EQ(start.model.config().num_classes, 4);
  EXPECT_EQ(start.model.card.class_names, classes);
  ASSERT_EQ(start.new_parts.size(), 1u);
  EXPECT_EQ(start.new_parts[0], "classifier head (4 classes)");
  const auto before = tensors_of(base);
  for (const auto& [name, t] : start.model.named_tensors()) {
    if (before.count(name)) {
      EXPECT_TRUE(t.equal(before.at(name))) << name;
    }
  }

  // MAE from a MoCo model: a fresh decoder; the MoCo heads stay.
  auto mae = vt::starting_model(base, vt::FineTuneMode::PretrainMae, {}, 0.2, 1);
  EXPECT_TRUE(mae.model.mae_decoder);
  EXPECT_EQ(mae.new_parts, std::vector<std::string>{"mae_decoder"});
  EXPECT_EQ(mae.model.card.objective, vitscope::model::Objective::MaskedImageModeling);

  // The hybrid from a MoCo model whose export dropped the MoCo heads: mask token, SimMIM head and
  // MoCo heads start fresh; the card says hybrid λ.
  auto exported = vt::exported_model(base, /*keep_moco_heads=*/false);
  auto hybrid = vt::starting_model(exported, vt::FineTuneMode::PretrainHybrid, {}, 0.4, 1);
  EXPECT_EQ(hybrid.new_parts, (std::vector<std::string>{"encoder.mask_token", "moco_predictor", "moco_projector", "simmim_head"}));
  EXPECT_EQ(hybrid.model.card.objective_label(), "hybrid λ=0.4");
  fs::remove_all(dir);
}

TEST(FineTune, ValidationSplitIsStratifiedDisjointAndSeeded) {
  const auto data = toy_dataset(64, 16);  // 16 per class
  auto [train, val] = vt::split_validation(data, 0.25, 3);
  EXPECT_EQ(val.size(), 16);
  EXPECT_EQ(train.size(), 48);
  for (int c = 0; c < 4; ++c) EXPECT_EQ(val.labels.eq(c).sum().item<int64_t>(), 4);
  auto [train2, val2] = vt::split_validation(data, 0.25, 3);
  EXPECT_TRUE(val.images.equal(val2.images));
  auto [train3, val3] = vt::split_validation(data, 0.25, 4);
  EXPECT_FALSE(val.images.equal(val3.images));
  EXPECT_EQ(vt::split_validation(data, 0.0, 3).second.size(), 0);
}

TEST(FineTune, LinearProbeTrainsOnlyTheHeadAndLearnsTheToyClasses) {
  const auto dir = vitscope::test::temp_dir("ft-probe");
  const auto base = load(save_base_model(dir, vt::ObjectiveKind::MocoV3));
  auto [train, val] = vt::split_validation(toy_dataset(96, 16), 0.25, 1);
  auto start = vt::starting_model(base, vt::FineTuneMode::LinearProbe, train.class_names, 0.2, 1);
  const auto before = tensors_of(start.model);
  vt::Trainer trainer(std::move(start.model), train, toy_recipe(vt::FineTuneMode::LinearProbe, 15), torch::kCPU);
  trainer.set_epoch_evaluator(vt::classification_evaluator(val));
  trainer.run();
  for (const auto& [name, t] : trainer.model().named_tensors()) {
    if (name.rfind("encoder.head.", 0) == 0) {
      EXPECT_FALSE(t.equal(before.at(name))) << name << " did not learn";
    } else {
      EXPECT_TRUE(t.equal(before.at(name))) << name << " changed in a linear probe";
    }
  }
  EXPECT_GE(final_val_top1(trainer), 0.6) << "chance is 0.25";
  EXPECT_LT(trainer.history().back().loss, trainer.history().front().loss);
  fs::remove_all(dir);
}

TEST(FineTune, FullFineTuneTrainsTheEncoderAndLearnsTheToyClasses) {
  const auto dir = vitscope::test::temp_dir("ft-full");
  const auto base = load(save_base_model(dir, vt::ObjectiveKind::SimMim));
  auto [train, val] = vt::split_validation(toy_dataset(96, 16), 0.25, 1);
  auto start = vt::starting_model(base, vt::FineTuneMode::FullFineTune, train.class_names, 0.2, 1);
  const auto before = tensors_of(start.model);
  vt::Trainer trainer(std::move(start.model), train, toy_recipe(vt::FineTuneMode::FullFineTune, 12), torch::kCPU);
  trainer.set_epoch_evaluator(vt::classification_evaluator(val));
  trainer.run();
  bool block_changed = false;
  for (const auto& [name, t] : trainer.model().named_tensors())
    if (name.find("blocks.1.") != std::string::npos && t.dim() == 2) block_changed |= !t.equal(before.at(name));
  EXPECT_TRUE(block_changed);
  EXPECT_GE(final_val_top1(trainer), 0.6) << "chance is 0.25";
  fs::remove_all(dir);
}

TEST(FineTune, LayerDecayMovesEarlyLayersLessThanTheHead) {
  const auto dir = vitscope::test::temp_dir("ft-layer-decay");
  const auto base = load(save_base_model(dir, vt::ObjectiveKind::MocoV3));
  const auto data = toy_dataset(32, 16);
  auto start = vt::starting_model(base, vt::FineTuneMode::FullFineTune, data.class_names, 0.2, 1);
  const auto before = tensors_of(start.model);
  auto recipe = toy_recipe(vt::FineTuneMode::FullFineTune, 1);
  recipe.layer_decay = 0.1;  // depth 2: patch embedding 0.1³, block 0 0.1², block 1 0.1, head 1
  recipe.warmup_epochs = 0;
  recipe.weight_decay = 0.0;
  recipe.max_steps = 1;
  vt::Trainer trainer(std::move(start.model), data, recipe, torch::kCPU);
  trainer.run();
  // Adam's first step moves every element with a gradient by about lr, whatever the gradient's
  // size: the largest move of a tensor is its learning rate.
  auto largest_move = [&](const std::string& name) {
    for (const auto& [n, t] : trainer.model().named_tensors())
      if (n == name) return (t - before.at(name)).abs().max().item<double>();
    ADD_FAILURE() << name << " not found";
    return 0.0;
  };
  const double head = largest_move("encoder.head.weight");
  EXPECT_GT(head, 0.5 * recipe.lr);
  EXPECT_NEAR(largest_move("encoder.blocks.1.mlp.fc1.weight") / head, 0.1, 0.02);
  EXPECT_NEAR(largest_move("encoder.blocks.0.mlp.fc1.weight") / head, 0.01, 0.002);
  EXPECT_NEAR(largest_move("encoder.patch_embed.proj.weight") / head, 0.001, 0.0002);
  EXPECT_EQ(vt::recipe_to_json(trainer.config()).at("layer_decay"), 0.1);
  fs::remove_all(dir);
}

TEST(FineTuneJob, ReportsCurvesDiagnosticsAndWritesAModelWithItsLineage) {
  ToyJob job("ft-job");
  std::vector<vr::FineTuneUpdate> updates;
  const auto outcome = vr::FineTuneJob(job.spec).run([&](const vr::FineTuneUpdate& u) { updates.push_back(u); });
  EXPECT_EQ(outcome.stop_reason, "finished");
  EXPECT_EQ(outcome.steps, 18);
  ASSERT_TRUE(fs::exists(job.spec.out));

  int steps = 0, epochs = 0, checkpoints = 0;
  double peak_lr = 0;
  std::vector<int64_t> diagnostic_steps;
  for (const auto& u : updates) {
    using K = vr::FineTuneUpdate::Kind;
    if (u.kind == K::Step) {
      ++steps;
      EXPECT_TRUE(std::isfinite(u.loss));
      EXPECT_GT(u.images_per_second, 0);
      peak_lr = std::max(peak_lr, u.lr);
    }
    if (u.kind == K::Epoch) {
      ++epochs;
      ASSERT_EQ(u.metrics.size(), 2u);
      EXPECT_EQ(u.metrics[0].first, "val_top1");
    }
    if (u.kind == K::Checkpoint) ++checkpoints;
    if (u.kind == K::Diagnostics) {
      diagnostic_steps.push_back(u.step);
      const auto& d = u.diagnostics;
      ASSERT_EQ(d.attention_distance.size(), 2u);  // depth 2
      ASSERT_EQ(d.nmi.size(), 2u);
      ASSERT_EQ(d.delta_log_amplitude.size(), 5u);  // 2 * depth + 1 taps
      for (double v : d.attention_distance) EXPECT_GT(v, 0);
      EXPECT_EQ(d.cls_attention.rows, 4);
      double sum = 0;
      for (float v : d.cls_attention.values) sum += v;
      EXPECT_NEAR(sum, 1.0, 1e-4);
      EXPECT_EQ(d.probe_image.width, 16);
    }
  }
  EXPECT_EQ(updates.front().kind, vr::FineTuneUpdate::Kind::Started);
  EXPECT_EQ(steps, 18);
  EXPECT_NEAR(peak_lr, 1e-3, 1e-9);  // warm-up from 0 over the first epoch, then cosine
  EXPECT_EQ(epochs, 3);
  EXPECT_EQ(checkpoints, 3);
  EXPECT_EQ(diagnostic_steps, (std::vector<int64_t>{0, 3, 6, 9, 12, 15, 18}));
  // The diagnostics move as the encoder trains.
  const auto& first = std::find_if(updates.begin(), updates.end(), [](auto& u) { return u.kind == vr::FineTuneUpdate::Kind::Diagnostics; })->diagnostics;
  const auto& last = std::find_if(updates.rbegin(), updates.rend(), [](auto& u) { return u.kind == vr::FineTuneUpdate::Kind::Diagnostics; })->diagnostics;
  EXPECT_NE(first.attention_distance, last.attention_distance);

  const auto card = nlohmann::json::parse(outcome.card_json);
  const auto& lineage = card.at("lineage");
  EXPECT_EQ(lineage.at("mode"), "finetune");
  EXPECT_EQ(lineage.at("base_model").at("path"), fs::absolute(job.base).string());
  EXPECT_EQ(lineage.at("base_model").at("sha256").get<std::string>(), vitscope::io::sha256_file(fs::path(job.base).string()));
  EXPECT_EQ(lineage.at("data").at("training_images"), 48);
  EXPECT_EQ(lineage.at("data").at("validation_images"), 16);
  EXPECT_EQ(lineage.at("hyperparameters").at("batch_size"), 8);
  EXPECT_TRUE(lineage.at("metrics").contains("val_top1"));
  EXPECT_EQ(lineage.at("new_parts"), nlohmann::json::array({"classifier head (4 classes)"}));
  // The written model loads with its classifier and the same card.
  auto loaded = load(job.spec.out);
  EXPECT_EQ(loaded.config().num_classes, 4);
  EXPECT_EQ(loaded.card.lineage, lineage);
  EXPECT_EQ(loaded.card.training.at("history").size(), 3u);
}

TEST(FineTuneJob, AugmentationAndLayerDecayReachTheRecipeInTheLineage) {
  ToyJob job("ft-augment");
  job.spec.max_steps = 1;
  job.spec.diagnostics_every = 0;
  job.spec.crop_scale = 0.8;
  job.spec.flip = false;
  job.spec.layer_decay = 0.7;
  const auto outcome = vr::FineTuneJob(job.spec).run();
  const auto recipe = nlohmann::json::parse(outcome.card_json).at("lineage").at("hyperparameters");
  EXPECT_EQ(recipe.at("classify").at("crop_scale_min"), 0.8);
  EXPECT_EQ(recipe.at("classify").at("flip_p"), 0.0);
  EXPECT_EQ(recipe.at("layer_decay"), 0.7);

  ToyJob defaults("ft-augment-defaults");  // 0 = the mode's default, flip on
  defaults.spec.max_steps = 1;
  defaults.spec.diagnostics_every = 0;
  const auto plain = nlohmann::json::parse(vr::FineTuneJob(defaults.spec).run().card_json).at("lineage").at("hyperparameters");
  EXPECT_EQ(plain.at("classify").at("crop_scale_min"), vt::ClassificationOptions{}.crop_scale_min);
  EXPECT_EQ(plain.at("classify").at("flip_p"), 0.5);
  EXPECT_EQ(plain.at("layer_decay"), 1.0);
}

TEST(FineTuneJob, UnreadableImagesAreLeftOutAndNamed) {
  ToyJob job("ft-broken-images");
  const auto class_dir = fs::directory_iterator(job.data / "train")->path();
  std::ofstream(class_dir / "broken.png") << "not a png";
  job.spec.max_steps = 1;
  job.spec.diagnostics_every = 0;
  std::vector<std::string> warnings;
  vr::FineTuneJob(job.spec).run([&](const vr::FineTuneUpdate& u) {
    if (u.kind == vr::FineTuneUpdate::Kind::Warning) warnings.push_back(u.message);
  });
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("left out 1 image that could not be read"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find((class_dir / "broken.png").string()), std::string::npos) << warnings[0];
}

TEST(FineTuneJob, PausesBetweenStepsResumesAndCancels) {
  ToyJob job("ft-pause");
  job.spec.epochs = 50;  // long enough never to finish in this test
  job.spec.diagnostics_every = 0;
  vr::FineTuneJob run(job.spec);
  std::mutex mutex;
  int64_t last_step = 0;
  bool paused_seen = false;
  auto on_update = [&](const vr::FineTuneUpdate& u) {
    std::lock_guard lock(mutex);
    if (u.kind == vr::FineTuneUpdate::Kind::Step) last_step = u.step;
    if (u.kind == vr::FineTuneUpdate::Kind::Paused) paused_seen = true;
  };
  auto outcome = std::async(std::launch::async, [&] { return run.run(on_update); });
  auto step_now = [&] {
    std::lock_guard lock(mutex);
    return last_step;
  };
  auto wait_for = [&](auto done) {
    for (int i = 0; i < 600 && !done(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return done();
  };
  ASSERT_TRUE(wait_for([&] { return step_now() >= 2; }));
  run.pause();
  ASSERT_TRUE(wait_for([&] {
    std::lock_guard lock(mutex);
    return paused_seen;
  }));
  const int64_t paused_at = step_now();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(step_now(), paused_at) << "steps ran while paused";
  run.resume();
  ASSERT_TRUE(wait_for([&] { return step_now() > paused_at + 2; }));
  run.cancel();
  const auto result = outcome.get();
  EXPECT_EQ(result.stop_reason, "cancelled");
  EXPECT_TRUE(result.model_path.empty());
  EXPECT_FALSE(fs::exists(job.spec.out));
  // The cancelled job left a checkpoint at the step it stopped.
  EXPECT_TRUE(fs::exists(fs::path(job.spec.checkpoint_dir) / "checkpoint.safetensors"));
}

TEST(FineTuneJob, BadInputNamesTheFileAndTheProblem) {
  ToyJob job("ft-bad");
  auto spec = job.spec;
  spec.data = (job.root / "nowhere").string();
  auto error = run_error(spec);
  EXPECT_NE(error.find(spec.data), std::string::npos) << error;
  EXPECT_NE(error.find("no such folder"), std::string::npos) << error;

  // A folder of images without class folders: fine for pre-training, not for a linear probe.
  const auto flat = job.root / "flat";
  fs::create_directories(flat);
  for (const auto& e : fs::directory_iterator(job.data / "train" / "a")) fs::copy(e.path(), flat / e.path().filename());
  spec = job.spec;
  spec.data = flat.string();
  spec.mode = "linear-probe";
  error = run_error(spec);
  EXPECT_NE(error.find(flat.string()), std::string::npos) << error;
  EXPECT_NE(error.find("class folders"), std::string::npos) << error;

  spec = job.spec;
  spec.base_model = (job.root / "missing.safetensors").string();
  error = run_error(spec);
  EXPECT_NE(error.find("missing.safetensors"), std::string::npos) << error;

  spec = job.spec;
  spec.mode = "distill";
  EXPECT_NE(run_error(spec).find("unknown mode 'distill'"), std::string::npos);

  spec = job.spec;
  spec.layer_decay = 1.5;  // a hand-edited jobs.json
  EXPECT_NE(run_error(spec).find("layer decay 1.5"), std::string::npos) << run_error(spec);
  spec = job.spec;
  spec.crop_scale = -0.5;
  EXPECT_NE(run_error(spec).find("crop scale -0.5"), std::string::npos) << run_error(spec);

  // An unlabeled folder is what continued pre-training takes.
  spec = job.spec;
  spec.mode = "pretrain-mae";
  spec.data = flat.string();
  spec.max_steps = 1;
  spec.batch_size = 4;
  EXPECT_EQ(run_error(spec), "") << "continued MAE pre-training on an unlabeled folder";

  // A model with a register token lacks what MAE training needs (one prefix token).
  auto card = vt::pretraining_card(vt::ObjectiveKind::MocoV3, tiny_architecture(), 0.2, false);
  card.vit.num_register_tokens = 1;
  auto with_register = vitscope::model::Model::create(card);
  vt::initialize_weights(with_register, 1);
  const auto register_path = job.root / "registers.safetensors";
  vitscope::model::save_model(with_register, register_path.string());
  spec.base_model = register_path.string();
  spec.checkpoint_dir = (job.root / "ckpt-registers").string();
  error = run_error(spec);
  EXPECT_NE(error.find(register_path.string()), std::string::npos) << error;
  EXPECT_NE(error.find("pretrain-mae"), std::string::npos) << error;
  EXPECT_NE(error.find("one prefix token"), std::string::npos) << error;
}

TEST(FineTuneJob, AFailedCheckpointWriteKeepsThePreviousCheckpoint) {
  ToyJob job("ft-diskfull");
  const auto checkpoint = fs::path(job.spec.checkpoint_dir) / "checkpoint.safetensors";
  std::string error;
  try {
    vr::FineTuneJob(job.spec).run([&](const vr::FineTuneUpdate& u) {
      // After the first checkpoint, the place of the next one's temporary file is taken, as a
      // full disk would refuse it.
      if (u.kind == vr::FineTuneUpdate::Kind::Checkpoint && u.step == 6) fs::create_directories(checkpoint.string() + ".tmp/x");
    });
  } catch (const std::exception& e) {
    error = e.what();
  }
  EXPECT_NE(error.find("checkpoint.safetensors.tmp: cannot"), std::string::npos) << error;
  EXPECT_NE(error.find("is intact"), std::string::npos) << error;
  // The epoch-1 checkpoint is still whole: a resumed job starts from step 6 and finishes.
  fs::remove_all(checkpoint.string() + ".tmp");
  std::string started;
  const auto outcome = vr::FineTuneJob(job.spec).run([&](const vr::FineTuneUpdate& u) {
    if (u.kind == vr::FineTuneUpdate::Kind::Started) started = u.message;
  });
  EXPECT_NE(started.find("at step 6"), std::string::npos) << started;
  EXPECT_EQ(outcome.stop_reason, "finished");
}

TEST(FineTuneJob, SpecSurvivesJson) {
  vr::FineTuneSpec s;
  s.base_model = "/m/a.safetensors";
  s.mode = "pretrain-hybrid";
  s.lambda = 0.4;
  s.epochs = 7;
  s.seed = 9;
  s.diagnostics_every = 25;
  s.layer_decay = 0.75;
  s.crop_scale = 0.3;
  s.flip = false;
  const auto back = vr::FineTuneSpec::from_json(s.to_json());
  EXPECT_EQ(back.to_json(), s.to_json());
  EXPECT_EQ(back.layer_decay, 0.75);
  EXPECT_FALSE(back.flip);
  EXPECT_EQ(vr::FineTuneSpec::from_json("{\"mode\": \"linear-probe\"}").epochs, vr::FineTuneSpec{}.epochs);
}

TEST(FineTuneJob, AMissingGpuFallsBackToTheCpuWithAWarning) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "this machine has a GPU";
  ToyJob job("ft-nogpu");
  job.spec.device = "cuda";
  job.spec.max_steps = 2;
  std::vector<std::string> warnings;
  const auto outcome = vr::FineTuneJob(job.spec).run([&](const vr::FineTuneUpdate& u) {
    if (u.kind == vr::FineTuneUpdate::Kind::Warning) warnings.push_back(u.message);
  });
  EXPECT_EQ(outcome.stop_reason, "max_steps");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("CPU"), std::string::npos) << warnings[0];
  EXPECT_NE(nlohmann::json::parse(outcome.card_json).at("training").at("device").get<std::string>().find("CPU"), std::string::npos);
}

TEST(FineTuneJob, OnCudaLeavesTf32OffForTheAnalysesBesideIt) {
  // TF32 is process-wide: a job in the app must not switch the app's analyses to it.
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  ToyJob job("ft-tf32");
  job.spec.device = "cuda";
  job.spec.max_steps = 2;
  at::globalContext().setAllowTF32CuBLAS(false);
  EXPECT_EQ(vr::FineTuneJob(job.spec).run().stop_reason, "max_steps");
  EXPECT_FALSE(at::globalContext().allowTF32CuBLAS());
}

TEST(FineTuneJob, OutOfMemoryHalvesTheBatchThenSaysWhatToChange) {
  // At 2048 px the tiny model has 262,145 tokens: one attention matrix needs about 550 GB, so
  // every batch size runs out of memory at the first step, the way a too-large batch does.
  if (TORCH_VERSION_MAJOR >= 2) GTEST_SKIP() << "LibTorch 2.x may attend without the full matrix (and take hours)";
  ToyJob job("ft-oom");
  job.spec.image_size = 2048;
  job.spec.max_per_class = 1;  // 4 images
  job.spec.batch_size = 4;
  job.spec.diagnostics_every = 0;
  std::vector<std::string> warnings;
  std::string error;
  try {
    vr::FineTuneJob(job.spec).run([&](const vr::FineTuneUpdate& u) {
      if (u.kind == vr::FineTuneUpdate::Kind::Warning) warnings.push_back(u.message);
    });
  } catch (const std::exception& e) {
    error = e.what();
  }
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_NE(warnings[0].find("out of memory"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[0].find("at batch size 4: starting again at batch size 2"), std::string::npos) << warnings[0];
  EXPECT_NE(warnings[1].find("at batch size 2: starting again at batch size 1"), std::string::npos) << warnings[1];
  EXPECT_NE(error.find("even at batch size 1: use a smaller image size"), std::string::npos) << error;
}
