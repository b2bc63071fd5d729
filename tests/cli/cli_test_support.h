#pragma once
// Running vitscope-cli as a user does, and the small inputs the CLI tests give it.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>

#include "support/test_env.h"

namespace vitscope::test {

// vitscope-cli draws PNG / SVG figures and pictures only when built with Qt (VITSCOPE_BUILD_GUI,
// as on a user's machine; the GPU machine builds it without): its tests expect them only then,
// and their absence otherwise.
#ifdef VITSCOPE_HAVE_FIGURES
inline constexpr bool kCliDrawsFigures = true;
#else
inline constexpr bool kCliDrawsFigures = false;
#endif

struct CliResult {
  int code = -1;
  std::string output;  // stdout and stderr
};

inline CliResult cli(const std::string& args) {
  CliResult r;
  const std::string command = cli_path() + " " + args + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return r;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) r.output.append(buf, n);
  const int status = pclose(pipe);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline std::string quoted(const std::filesystem::path& p) {
  std::string q = "'";  // built step by step: gcc 12 warns falsely on "'" + s + "'" (-Wstringop-overflow)
  q += p.string();
  q += '\'';
  return q;
}

inline std::filesystem::path bundled(const std::string& name) {
  return resources_dir() / "models" / (name + ".safetensors");
}

inline nlohmann::json read_json(const std::filesystem::path& p) {
  nlohmann::json j;
  std::ifstream(p) >> j;
  return j;
}

// A few small natural-ish images: smooth gradients with shapes, different per file.
inline std::filesystem::path image_folder(const std::string& name, int count) {
  const auto dir = temp_dir(name);
  for (int i = 0; i < count; ++i) {
    cv::Mat m(48, 40, CV_8UC3);
    for (int y = 0; y < m.rows; ++y)
      for (int x = 0; x < m.cols; ++x)
        m.at<cv::Vec3b>(y, x) = cv::Vec3b((x * 5 + i * 20) % 256, (y * 4 + i * 7) % 256, ((x + y) * 3) % 256);
    cv::imwrite((dir / ("img" + std::to_string(i) + ".png")).string(), m);
  }
  return dir;
}

// An ImageFolder with two visually separable classes: "smooth" (gradients) and "stripes"
// (vertical bars 4 px apart), per_class images each, varied in colour and phase.
inline std::filesystem::path labelled_folder(const std::filesystem::path& dir, int per_class) {
  for (const char* cls : {"smooth", "stripes"}) {
    const auto class_dir = dir / cls;
    std::filesystem::create_directories(class_dir);
    for (int i = 0; i < per_class; ++i) {
      cv::Mat m(40, 40, CV_8UC3);
      for (int y = 0; y < m.rows; ++y)
        for (int x = 0; x < m.cols; ++x) {
          const int v = std::string(cls) == "smooth" ? (x + y) * 3 + i * 11 : ((x + i) / 2) % 2 * 200 + 20;
          m.at<cv::Vec3b>(y, x) = cv::Vec3b(v % 256, (v + i * 29) % 256, (255 - v) % 256);
        }
      cv::imwrite((class_dir / (std::to_string(i) + ".png")).string(), m);
    }
  }
  return dir;
}

}  // namespace vitscope::test
