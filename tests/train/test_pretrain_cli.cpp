// vitscope-cli pretrain / eval as a user runs them: a run killed with SIGKILL in the middle of an
// epoch resumes from its last complete checkpoint and ends with the same weights as a run that
// was never interrupted; eval writes metrics and updates the model card.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/io/image.h"
#include "cli_process.h"
#include "support/test_env.h"

namespace fs = std::filesystem;
using vitscope::test::Child;
using vitscope::test::file_bytes;
using vitscope::test::run_cli;
using vitscope::test::spawn;
using vitscope::test::write_toy_folder;

namespace {

std::vector<std::string> pretrain_args(const fs::path& data, const fs::path& out) {
  return {"pretrain",     "--objective",    "moco",        "--data",      data.string(), "--out",
          out.string(),   "--image-size",   "16",          "--patch-size", "4",          "--embed-dim",
          "32",           "--depth",        "2",           "--heads",     "2",           "--moco-hidden-dim",
          "64",           "--moco-out-dim", "32",          "--batch-size", "4",          "--epochs",
          "3",            "--warmup-epochs", "1",          "--log-every", "1",           "--device",
          "cpu",          "--seed",         "3"};
}

}  // namespace

TEST(PretrainCli, KilledMidEpochResumesFromLastCheckpointToTheSameWeights) {
  if (!fs::exists(vitscope::test::cli_path())) GTEST_SKIP() << "vitscope-cli not built at " << vitscope::test::cli_path();
  const auto root = vitscope::test::temp_dir("pretrain-kill");
  const auto data = write_toy_folder(root / "data");  // 48 training images → 12 steps per epoch

  std::string log;
  ASSERT_EQ(run_cli(pretrain_args(data, root / "whole.safetensors"), &log), 0) << log;

  // Second run: SIGKILL once a step of epoch 2 has been reported (checkpoint of epoch 1 written).
  Child c = spawn(pretrain_args(data, root / "killed.safetensors"));
  char line[1024];
  bool killed = false;
  const std::regex step_line(R"(^epoch 2/3 step (\d+)/)");
  while (fgets(line, sizeof line, c.out)) {
    std::cmatch m;
    if (std::regex_search(line, m, step_line) && std::stoi(m[1]) >= 14) {
      kill(c.pid, SIGKILL);
      killed = true;
      break;
    }
  }
  fclose(c.out);
  int status = 0;
  waitpid(c.pid, &status, 0);
  ASSERT_TRUE(killed);
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_FALSE(fs::exists(root / "killed.safetensors"));

  auto resume = pretrain_args(data, root / "killed.safetensors");
  resume.push_back("--resume");
  std::string resumed_log;
  ASSERT_EQ(run_cli(resume, &resumed_log), 0) << resumed_log;
  // It resumed from the end of an epoch (step 12 or, if the kill came late, 24), not from step 0.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(resumed_log, m, std::regex(R"(resumed from .* at step (\d+))"))) << resumed_log;
  EXPECT_EQ(std::stoi(m[1]) % 12, 0);
  EXPECT_GT(std::stoi(m[1]), 0);
  EXPECT_EQ(file_bytes(root / "whole.safetensors"), file_bytes(root / "killed.safetensors"));
  fs::remove_all(root);
}

TEST(EvalCli, WritesMetricsAndUpdatesTheCard) {
  if (!fs::exists(vitscope::test::cli_path())) GTEST_SKIP() << "vitscope-cli not built at " << vitscope::test::cli_path();
  const auto root = vitscope::test::temp_dir("eval-cli");
  const auto data = write_toy_folder(root / "data");
  auto args = pretrain_args(data, root / "m.safetensors");
  auto set = [&](const std::string& key, const std::string& value) { *(std::find(args.begin(), args.end(), key) + 1) = value; };
  set("--objective", "mae");
  set("--epochs", "1");
  args.insert(args.end(), {"--half", "--decoder-dim", "32", "--decoder-depth", "1", "--decoder-heads", "2"});
  std::string log;
  ASSERT_EQ(run_cli(args, &log), 0) << log;
  ASSERT_EQ(run_cli({"eval", (root / "m.safetensors").string(), "--data", data.string(), "--linear-probe-epochs", "3",
                     "--knn-k", "5", "--device", "cpu", "--out", (root / "metrics.json").string(), "--update-card"},
                    &log),
            0)
      << log;
  std::ifstream metrics_file(root / "metrics.json");
  auto report = nlohmann::json::parse(metrics_file);
  for (const char* key : {"knn_top1", "linear_probe_top1", "reconstruction_loss"})
    EXPECT_TRUE(report["metrics"].contains(key)) << key;
  EXPECT_EQ(report["metrics"]["knn_top1"]["k"], 5);
  std::ifstream card_file(root / "m.json");
  auto card = nlohmann::json::parse(card_file);
  EXPECT_EQ(card["metrics"]["knn_top1"]["value"], report["metrics"]["knn_top1"]["value"]);
  EXPECT_EQ(card["objective"], "MIM");
  EXPECT_EQ(card["training"]["objective"], "mae");
  EXPECT_EQ(card["training"]["stop_reason"], "finished");
  fs::remove_all(root);
}
