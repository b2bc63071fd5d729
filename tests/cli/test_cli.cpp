// vitscope-cli as a user runs it: clear messages and exit codes on bad input, and the analyze
// command end to end on a bundled model (its numbers checked against the library's own values).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "support/test_env.h"

namespace fs = std::filesystem;
using namespace vitscope;

namespace {

struct Result {
  int code = -1;
  std::string output;  // stdout and stderr
};

Result cli(const std::string& args) {
  Result r;
  const std::string command = test::cli_path() + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

std::string quoted(const fs::path& p) {
  std::string q = "'";  // built step by step: gcc 12 warns falsely on "'" + s + "'" (-Wstringop-overflow)
  q += p.string();
  q += '\'';
  return q;
}

fs::path bundled(const std::string& name) { return test::resources_dir() / "models" / (name + ".safetensors"); }

// A few small natural-ish images: smooth gradients with shapes, different per file.
fs::path image_folder(const std::string& name, int count) {
  const auto dir = test::temp_dir(name);
  for (int i = 0; i < count; ++i) {
    cv::Mat m(48, 40, CV_8UC3);
    for (int y = 0; y < m.rows; ++y)
      for (int x = 0; x < m.cols; ++x)
        m.at<cv::Vec3b>(y, x) = cv::Vec3b((x * 5 + i * 20) % 256, (y * 4 + i * 7) % 256, ((x + y) * 3) % 256);
    cv::imwrite((dir / ("img" + std::to_string(i) + ".png")).string(), m);
  }
  return dir;
}

TEST(Cli, HelpListsTheCommands) {
  auto r = cli("help");
  EXPECT_EQ(r.code, 0);
  for (const char* c : {"info", "run", "analyze", "merge-stats", "pretrain", "eval"})
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

}  // namespace
