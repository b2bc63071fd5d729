// vitscope-cli as a user runs it: clear messages and exit codes on bad input, and the analyze
// command end to end on a bundled model (its numbers checked against the library's own values).
#include <gtest/gtest.h>

#include "cli/cli_test_support.h"

namespace fs = std::filesystem;
using namespace vitscope;
using test::bundled;
using test::cli;
using test::image_folder;
using test::quoted;

namespace {

TEST(Cli, HelpListsTheCommands) {
  auto r = cli("help");
  EXPECT_EQ(r.code, 0);
  for (const char* c : {"info", "run", "analyze", "merge-stats", "pretrain", "eval", "probe", "create"})
    EXPECT_NE(r.output.find(c), std::string::npos) << c;
}

TEST(Cli, BadFilesGiveOneClearLineAndExitOne) {
  const auto dir = test::temp_dir("cli-bad");
  const auto text = dir / "readme.pth";
  std::ofstream(text) << "this is not a checkpoint";
  auto r = cli("info " + quoted(text));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("readme.pth"), std::string::npos) << r.output;

  // A bundled model cut short: the safetensors reader names the file and the problem.
  const auto cut = dir / "cut.safetensors";
  {
    std::ifstream in(bundled("moco"), std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ofstream(cut, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 3));
  }
  r = cli("info " + quoted(cut));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("cut.safetensors"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("terminate"), std::string::npos) << "no crash: " << r.output;

  r = cli("info " + quoted(bundled("moco")) + " --hedas 4");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.output.find("unknown option --hedas"), std::string::npos) << r.output;
}

TEST(Cli, RunSkipsABadImageAndWritesTheOthers) {
  const auto images = image_folder("cli-run-images", 2);
  const auto bad = images / "broken.png";
  std::ofstream(bad) << "garbage";
  const auto out = test::temp_dir("cli-run-out");
  auto r = cli("run " + quoted(bundled("mae")) + " " + quoted(images / "img0.png") + " " + quoted(bad) + " " +
               quoted(images / "img1.png") + " --capture 'attn:11;taps:0,24' --device cpu --out " + quoted(out));
  EXPECT_EQ(r.code, 1) << r.output;  // one image failed
  EXPECT_NE(r.output.find("broken.png"), std::string::npos);
  EXPECT_TRUE(fs::exists(out / "img0.safetensors"));
  EXPECT_TRUE(fs::exists(out / "img1.safetensors"));
  nlohmann::json summary;
  std::ifstream(out / "summary.json") >> summary;
  ASSERT_EQ(summary["images"].size(), 3u);
  EXPECT_TRUE(summary["images"][1].contains("error"));
  EXPECT_EQ(summary["images"][0]["tensors"], 5);  // attn.11, tap.0, tap.24, tokens, input
}

TEST(Cli, AnalyzeEndToEndAndSplitRunsMerge) {
  if (!fs::exists(bundled("moco"))) GTEST_SKIP() << "no bundled models in resources/models";
  const auto images = image_folder("cli-analyze-images", 6);
  const auto whole = test::temp_dir("cli-analyze-whole"), a = test::temp_dir("cli-analyze-a"),
             b = test::temp_dir("cli-analyze-b"), merged = test::temp_dir("cli-analyze-merged");
  const std::string models = "--model " + quoted(bundled("moco")) + " --model " + quoted(bundled("mae"));
  const std::string common = " --images " + quoted(images) +
                             " --metrics attention-distance,nmi,fourier,svd,cka --batch-size 4 --device cpu --no-figures";
  auto r = cli("analyze " + models + common + " --out " + quoted(whole));
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_EQ(cli("analyze " + models + common + " --first 0 --count 4 --out " + quoted(a)).code, 0);
  ASSERT_EQ(cli("analyze " + models + common + " --first 4 --count 2 --out " + quoted(b)).code, 0);
  r = cli("merge-stats " + quoted(a / "stats.json") + " " + quoted(b / "stats.json") + " --no-figures --out " + quoted(merged));
  ASSERT_EQ(r.code, 0) << r.output;

  nlohmann::json full, parts;
  std::ifstream(whole / "metrics.json") >> full;
  std::ifstream(merged / "metrics.json") >> parts;
  EXPECT_EQ(full["images"], 6);
  EXPECT_EQ(parts["images"], 6);
  ASSERT_EQ(full["models"].size(), 2u);
  for (size_t m = 0; m < 2; ++m) {
    for (const char* metric : {"attention-distance", "nmi", "delta-log-amplitude", "effective-rank"}) {
      const auto& x = full["models"][m]["metrics"][metric];
      const auto& y = parts["models"][m]["metrics"][metric];
      ASSERT_EQ(x["mean"]["values"].size(), y["mean"]["values"].size()) << metric;
      for (size_t i = 0; i < x["mean"]["values"].size(); ++i)
        EXPECT_NEAR(x["mean"]["values"][i].get<double>(), y["mean"]["values"][i].get<double>(), 1e-9) << metric;
      EXPECT_EQ(x["count"], 6);
    }
    // 12 blocks x 4 heads; distances in pixels of a 32-px, 8x8-patch input lie in [0, 4·7·√2].
    const auto& d = full["models"][m]["metrics"]["attention-distance"]["mean"];
    EXPECT_EQ(d["shape"], nlohmann::json({12, 4}));
    for (const auto& v : d["values"]) EXPECT_TRUE(v.get<double>() >= 0 && v.get<double>() <= 4 * 7 * 1.4143);
  }
  EXPECT_TRUE(fs::exists(whole / "nmi.csv"));
  EXPECT_FALSE(full["cka"].empty());
}

TEST(Cli, AnalyzeRejectsAnEmptyFolderAndMissingOptions) {
  const auto empty = test::temp_dir("cli-empty");
  auto r = cli("analyze --model " + quoted(bundled("moco")) + " --images " + quoted(empty) +
               " --metrics nmi --out " + quoted(empty / "out"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("no image files"), std::string::npos) << r.output;
  r = cli("analyze --images " + quoted(empty) + " --metrics nmi --out " + quoted(empty / "out"));
  EXPECT_EQ(r.code, 2);
  r = cli("analyze --model " + quoted(bundled("moco")) + " --image x.png --metrics bogus --out " + quoted(empty / "o"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("bogus"), std::string::npos) << r.output;
}

// vitscope-cli probe: label-free probes on images; the cue-conflict shape bias of a model without a
// classifier after --train-head, whose saved head model then measures alone with the same decisions.
TEST(Cli, ProbeImagesAndCueConflictWithATrainedHead) {
  if (!fs::exists(bundled("moco"))) GTEST_SKIP() << "no bundled models in resources/models";
  const auto images = image_folder("cli-probe-images", 2);
  const auto out = test::temp_dir("cli-probe-images-out");
  auto r = cli("probe --model " + quoted(bundled("moco")) + " --images " + quoted(images) +
               " --cutoffs 0.2,0.6 --pictures 1 --device cpu --no-figures --out " + quoted(out));
  ASSERT_EQ(r.code, 0) << r.output;
  nlohmann::json j;
  std::ifstream(out / "probes.json") >> j;
  EXPECT_TRUE(j["definitions"].contains("shape_reliance_index"));
  const auto& lf = j["models"][0]["label_free"];
  EXPECT_EQ(lf["index_per_block"].size(), 12u);
  EXPECT_LE(std::abs(lf["shape_reliance_index"].get<double>()), 2.0);
  EXPECT_EQ(j["models"][0]["frequency"]["low_pass_per_block"].size(), 2u);
  EXPECT_TRUE(fs::exists(out / "label_free.csv"));
  EXPECT_TRUE(fs::exists(out / "frequency.csv"));
  const cv::Mat view = cv::imread((out / "views" / "img0" / "silhouette.png").string());
  EXPECT_EQ(view.rows, 224);
  EXPECT_EQ(view.cols, 224);

  // Stimuli in Geirhos et al.'s layout and head data with CIFAR-10's class names.
  const auto stimuli = test::temp_dir("cli-probe-stimuli"), heads = test::temp_dir("cli-probe-head-data");
  for (const char* f : {"cat/cat1-dog1.png", "cat/cat2-cat1.png", "dog/dog1-cat2.png", "car/car1-truck1.png"}) {
    fs::create_directories((stimuli / f).parent_path());
    fs::copy_file(images / "img0.png", stimuli / f);
  }
  for (const char* c : {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"})
    for (int i = 0; i < 2; ++i) {
      fs::create_directories(heads / c);
      fs::copy_file(images / ("img" + std::to_string(i) + ".png"), heads / c / (std::to_string(i) + ".png"));
    }
  const auto cue = test::temp_dir("cli-probe-cue");
  r = cli("probe --model " + quoted(bundled("moco")) + " --cue-conflict " + quoted(stimuli) + " --out " + quoted(cue));
  EXPECT_EQ(r.code, 2) << "a model without a classifier needs --train-head";
  EXPECT_NE(r.output.find("--train-head"), std::string::npos) << r.output;
  r = cli("probe --model " + quoted(bundled("moco")) + " --cue-conflict " + quoted(stimuli) + " --train-head " +
          quoted(heads) + " --head-epochs 5 --no-frequency --device cpu --no-figures --out " + quoted(cue));
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream(cue / "probes.json") >> j;
  const auto& sb = j["models"][0]["shape_bias"];
  EXPECT_EQ(sb["overall"]["trials"], 3);
  EXPECT_EQ(sb["overall"]["excluded_same_class"], 1);
  EXPECT_TRUE(sb["mapping"]["source"].get<std::string>().ends_with("cifar10_to_cue_conflict.json"));
  EXPECT_EQ(j["models"][0]["classifier_head"]["train_images"], 18);  // every 10th of 20 held out
  const auto head = cue / "heads" / "moco-head.safetensors";
  ASSERT_TRUE(fs::exists(head));
  const auto again = test::temp_dir("cli-probe-cue-again");
  r = cli("probe --model " + quoted(head) + " --cue-conflict " + quoted(stimuli) + " --no-frequency --no-figures --out " +
          quoted(again));
  ASSERT_EQ(r.code, 0) << r.output;
  auto read = [](const fs::path& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  EXPECT_EQ(read(cue / "decisions.csv"), read(again / "decisions.csv"));
}

}  // namespace
