// vitscope-cli finetune as a user runs it: a job killed with SIGKILL in the middle of an epoch
// resumes from its last checkpoint and ends with the same model, byte for byte, as a job that
// was never interrupted; a stale checkpoint is not continued without --resume; bad input fails
// with the file named.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>

#include "cli_process.h"
#include "support/test_env.h"
#include "toy_data.h"

namespace fs = std::filesystem;

namespace {

std::vector<std::string> finetune_args(const fs::path& model, const fs::path& data, const fs::path& out) {
  return {"finetune", "--model",      model.string(), "--data",      (data / "train").string(), "--val",
          (data / "test").string(),   "--mode",       "finetune",    "--out",  out.string(),      "--epochs",
          "3",        "--batch-size", "4",            "--lr",        "1e-3",   "--log-every",     "1",
          "--device", "cpu",          "--seed",       "3",           "--diagnostics-every", "6",
          "--layer-decay", "0.8"};
}

}  // namespace

TEST(FineTuneCli, KilledMidEpochResumesFromLastCheckpointToTheSameModel) {
  if (!fs::exists(vitscope::test::cli_path())) GTEST_SKIP() << "vitscope-cli not built at " << vitscope::test::cli_path();
  const auto root = vitscope::test::temp_dir("finetune-kill");
  const auto model = vitscope::test::save_tiny_model(root.string(), vitscope::train::ObjectiveKind::MocoV3);
  const auto data = vitscope::test::write_toy_folder(root / "data");  // 48 training images → 12 steps per epoch

  std::string log;
  ASSERT_EQ(vitscope::test::run_cli(finetune_args(model, data, root / "whole.safetensors"), &log), 0) << log;
  EXPECT_NE(log.find("diagnostics at step 12: attention distance ["), std::string::npos) << log;
  EXPECT_NE(log.find("val_top1"), std::string::npos) << log;

  // Second run: SIGKILL once a step of epoch 2 has been reported (the epoch-1 checkpoint exists).
  auto child = vitscope::test::spawn(finetune_args(model, data, root / "killed.safetensors"));
  char line[4096];
  bool killed = false;
  const std::regex step_line(R"(^epoch 2/3 step (\d+)/)");
  while (fgets(line, sizeof line, child.out)) {
    std::cmatch m;
    if (std::regex_search(line, m, step_line) && std::stoi(m[1]) >= 15) {
      kill(child.pid, SIGKILL);
      killed = true;
      break;
    }
  }
  fclose(child.out);
  int status = 0;
  waitpid(child.pid, &status, 0);
  ASSERT_TRUE(killed);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(fs::exists(root / "killed.safetensors"));

  // Without --resume the job refuses to overwrite or silently continue the checkpoint.
  std::string refused;
  EXPECT_NE(vitscope::test::run_cli(finetune_args(model, data, root / "killed.safetensors"), &refused), 0);

  auto resume = finetune_args(model, data, root / "killed.safetensors");
  resume.push_back("--resume");
  std::string resumed_log;
  ASSERT_EQ(vitscope::test::run_cli(resume, &resumed_log), 0) << resumed_log;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(resumed_log, m, std::regex(R"(resumed from .* at step (\d+))"))) << resumed_log;
  EXPECT_EQ(std::stoi(m[1]) % 12, 0);
  EXPECT_GT(std::stoi(m[1]), 0);
  EXPECT_EQ(vitscope::test::file_bytes(root / "whole.safetensors"), vitscope::test::file_bytes(root / "killed.safetensors"));
  // The cards agree too, apart from the timings.
  auto card = [&](const char* name) {
    auto j = nlohmann::json::parse(vitscope::test::file_bytes(root / name));
    return j.at("lineage").at("metrics");
  };
  EXPECT_EQ(card("whole.json"), card("killed.json"));
  fs::remove_all(root);
}

TEST(FineTuneCli, BadInputFailsNamingTheFile) {
  if (!fs::exists(vitscope::test::cli_path())) GTEST_SKIP() << "vitscope-cli not built at " << vitscope::test::cli_path();
  const auto root = vitscope::test::temp_dir("finetune-bad");
  const auto model = vitscope::test::save_tiny_model(root.string(), vitscope::train::ObjectiveKind::Mae);
  std::string log;
  auto args = finetune_args(model, root / "no-data", root / "x.safetensors");
  EXPECT_NE(vitscope::test::run_cli(args, &log, /*with_stderr=*/true), 0);
  EXPECT_NE(log.find((root / "no-data" / "train").string() + ": no such folder"), std::string::npos) << log;

  // An MAE model's encoder can be fine-tuned, but not on a folder without class folders.
  const auto flat = root / "flat";
  fs::create_directories(flat);
  auto d = vitscope::test::toy_dataset(8, 16);
  for (int i = 0; i < 8; ++i) vitscope::io::save_image(d.images[i].to(torch::kFloat32) / 255.0, (flat / (std::to_string(i) + ".png")).string());
  args = {"finetune", "--model", model, "--data", flat.string(), "--mode", "linear-probe", "--out", (root / "y.safetensors").string(), "--device", "cpu"};
  log.clear();
  EXPECT_NE(vitscope::test::run_cli(args, &log, true), 0);
  EXPECT_NE(log.find(flat.string() + ": linear-probe needs labelled images in class folders"), std::string::npos) << log;

  args = finetune_args(model, root / "no-data", root / "z.safetensors");
  args.back() = "1.5";  // --layer-decay
  log.clear();
  EXPECT_NE(vitscope::test::run_cli(args, &log, true), 0);
  EXPECT_NE(log.find("--layer-decay must lie in (0, 1]"), std::string::npos) << log;

  args = {"finetune", "--model", model, "--data", flat.string(), "--mode", "pretrain-mae", "--no-flip",
          "--out", (root / "w.safetensors").string(), "--device", "cpu"};
  log.clear();
  EXPECT_NE(vitscope::test::run_cli(args, &log, true), 0);
  EXPECT_NE(log.find("pretrain-mae augments as its objective does"), std::string::npos) << log;
  fs::remove_all(root);
}
