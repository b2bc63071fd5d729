// The training loop: every objective learns on a toy set; checkpoints resume bit-exactly after
// a stop at a step, a cancel and a time budget.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>

#include "core/io/checkpoint_file.h"
#include "core/io/tensor_convert.h"
#include "core/train/trainer.h"
#include "support/test_env.h"
#include "toy_data.h"

namespace fs = std::filesystem;
namespace vt = vitscope::train;
using vitscope::test::tiny_architecture;
using vitscope::test::toy_dataset;

namespace {

vt::TrainConfig tiny_config(vt::ObjectiveKind kind, int epochs) {
  vt::TrainConfig c;
  c.objective = kind;
  c.lambda = 0.5;
  c.moco.freeze_patch_embed = kind == vt::ObjectiveKind::MocoV3;
  c.epochs = epochs;
  c.batch_size = 16;
  c.lr = 2e-3;
  c.warmup_epochs = 1;
  c.weight_decay = 0.05;
  c.seed = 11;
  c.log_every = 0;
  return c;
}

std::unique_ptr<vt::Trainer> make_trainer(vt::ObjectiveKind kind, const vt::TrainConfig& c) {
  const auto card = vt::pretraining_card(kind, tiny_architecture(), c.lambda, false);
  return std::make_unique<vt::Trainer>(card, toy_dataset(), c, torch::kCPU);
}

// Every tensor of the model and of the checkpoint state, by name.
std::map<std::string, torch::Tensor> all_weights(vt::Trainer& t) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, v] : t.model().named_tensors()) out[name] = v;
  return out;
}

void expect_identical(vt::Trainer& a, vt::Trainer& b) {
  auto wa = all_weights(a), wb = all_weights(b);
  ASSERT_EQ(wa.size(), wb.size());
  for (const auto& [name, v] : wa) EXPECT_TRUE(v.equal(wb.at(name))) << name;
  // The momentum encoder and optimiser moments travel in the checkpoint: compare via files.
  const auto dir = vitscope::test::temp_dir("compare");
  a.save_checkpoint((dir / "a.safetensors").string());
  b.save_checkpoint((dir / "b.safetensors").string());
  auto ra = vitscope::io::read_safetensors((dir / "a.safetensors").string());
  auto rb = vitscope::io::read_safetensors((dir / "b.safetensors").string());
  for (const auto& name : ra.names) {
    if (name.rfind("model.", 0) == 0) continue;
    EXPECT_TRUE(vitscope::io::to_torch(ra.tensors.at(name)).equal(vitscope::io::to_torch(rb.tensors.at(name)))) << name;
  }
  fs::remove_all(dir);
}

}  // namespace

class EveryObjective : public ::testing::TestWithParam<vt::ObjectiveKind> {};

TEST_P(EveryObjective, TinyTrainingLowersTheLoss) {
  auto trainer = make_trainer(GetParam(), tiny_config(GetParam(), 12));
  auto result = trainer->run();
  EXPECT_EQ(result.reason, vt::StopReason::Finished);
  EXPECT_EQ(result.steps, 12 * 4);
  const auto& h = trainer->history();
  ASSERT_EQ(h.size(), 12u);
  const double first = (h[0].loss + h[1].loss) / 2, last = (h[10].loss + h[11].loss) / 2;
  EXPECT_LT(last, 0.9 * first) << vt::objective_kind_name(GetParam()) << ": " << first << " -> " << last;
  for (const auto& e : h) EXPECT_TRUE(std::isfinite(e.loss));
}

INSTANTIATE_TEST_SUITE_P(Train, EveryObjective,
                         ::testing::Values(vt::ObjectiveKind::MocoV3, vt::ObjectiveKind::SimMim, vt::ObjectiveKind::Mae,
                                           vt::ObjectiveKind::Hybrid),
                         [](const auto& info) { return std::string(vt::objective_kind_name(info.param)); });

TEST(Trainer, MocoFreezesThePatchEmbedding) {
  auto trainer = make_trainer(vt::ObjectiveKind::MocoV3, tiny_config(vt::ObjectiveKind::MocoV3, 1));
  auto before = trainer->model().encoder->patch_embed->proj->weight.clone();
  EXPECT_EQ(trainer->model().encoder->patch_embed->proj->bias.abs().sum().item<double>(), 0.0);
  trainer->run();
  EXPECT_TRUE(trainer->model().encoder->patch_embed->proj->weight.equal(before));
  // xavier-uniform bound sqrt(6 / (3·P·P + D)) (paper-analyses.md §1.3).
  EXPECT_LE(before.abs().max().item<double>(), std::sqrt(6.0 / (3 * 16 + 32)));
}

class ResumeObjective : public ::testing::TestWithParam<vt::ObjectiveKind> {};

TEST_P(ResumeObjective, StopAtAStepThenResumeIsBitIdentical) {
  const auto kind = GetParam();
  const auto dir = vitscope::test::temp_dir(std::string("resume-") + vt::objective_kind_name(kind));
  auto config = tiny_config(kind, 3);
  auto whole = make_trainer(kind, config);
  whole->run();

  config.checkpoint_dir = dir.string();
  config.max_steps = 6;  // in the middle of epoch 2
  auto first = make_trainer(kind, config);
  EXPECT_EQ(first->run().reason, vt::StopReason::MaxSteps);
  config.max_steps = 0;
  auto resumed = vt::Trainer::resume(vt::Trainer::checkpoint_path(dir.string()), toy_dataset(), config, torch::kCPU);
  EXPECT_EQ(resumed->step(), 6);
  EXPECT_EQ(resumed->run().reason, vt::StopReason::Finished);
  EXPECT_EQ(resumed->step(), whole->step());
  expect_identical(*whole, *resumed);
  EXPECT_DOUBLE_EQ(resumed->history().back().loss, whole->history().back().loss);
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Train, ResumeObjective,
                         ::testing::Values(vt::ObjectiveKind::MocoV3, vt::ObjectiveKind::Mae, vt::ObjectiveKind::Hybrid),
                         [](const auto& info) { return std::string(vt::objective_kind_name(info.param)); });

TEST(Trainer, CancelMidEpochThenResumeIsBitIdentical) {
  const auto kind = vt::ObjectiveKind::MocoV3;
  const auto dir = vitscope::test::temp_dir("cancel");
  auto config = tiny_config(kind, 2);
  auto whole = make_trainer(kind, config);
  whole->run();

  config.checkpoint_dir = dir.string();
  config.log_every = 1;
  std::atomic<bool> cancel{false};
  auto first = make_trainer(kind, config);
  auto result = first->run(
      [&](const vt::TrainProgress& p) {
        if (p.event == vt::TrainProgress::Event::Step && p.step == 5) cancel = true;
      },
      &cancel);
  EXPECT_EQ(result.reason, vt::StopReason::Cancelled);
  EXPECT_EQ(result.steps, 5);
  auto resumed = vt::Trainer::resume(vt::Trainer::checkpoint_path(dir.string()), toy_dataset(), config, torch::kCPU);
  EXPECT_EQ(resumed->step(), 5);
  resumed->run();
  expect_identical(*whole, *resumed);
  fs::remove_all(dir);
}

TEST(Trainer, TimeBudgetPlansEpochsAndKeepsThePlanOnResume) {
  const auto dir = vitscope::test::temp_dir("budget");
  auto config = tiny_config(vt::ObjectiveKind::Mae, 1000);
  config.time_budget_seconds = 1.0;
  config.checkpoint_dir = dir.string();
  std::string plan;
  auto trainer = make_trainer(vt::ObjectiveKind::Mae, config);
  auto result = trainer->run([&](const vt::TrainProgress& p) {
    if (p.event == vt::TrainProgress::Event::Planned) plan = p.message;
  });
  EXPECT_FALSE(plan.empty());
  EXPECT_GE(result.planned_epochs, 1);
  EXPECT_LT(result.planned_epochs, 1000);
  EXPECT_TRUE(result.reason == vt::StopReason::Finished || result.reason == vt::StopReason::TimeBudget);
  // The plan stops the run within the budget, give or take an epoch (plus its checkpoint); the
  // bound scales with the epoch's measured time, so a loaded machine does not fail it.
  ASSERT_FALSE(trainer->history().empty());
  EXPECT_LT(result.wall_seconds, config.time_budget_seconds + 2.0 * trainer->history().front().seconds + 0.5);
  auto resumed = vt::Trainer::resume(vt::Trainer::checkpoint_path(dir.string()), toy_dataset(), config, torch::kCPU);
  EXPECT_EQ(resumed->planned_epochs(), result.planned_epochs);
  fs::remove_all(dir);
}

TEST(Trainer, RejectsDataOfTheWrongSize) {
  auto config = tiny_config(vt::ObjectiveKind::Mae, 1);
  const auto card = vt::pretraining_card(vt::ObjectiveKind::Mae, tiny_architecture(), 0.0, false);
  EXPECT_THROW(vt::Trainer(card, toy_dataset(64, 32), config, torch::kCPU), std::invalid_argument);
}
