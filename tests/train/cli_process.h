#pragma once
// Running vitscope-cli as a user does, from training tests: the toy set written as an image
// folder, a child process whose stdout the test reads line by line (to kill it at a chosen
// moment), and byte comparison of the files it writes.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/io/image.h"
#include "support/test_env.h"
#include "toy_data.h"

namespace vitscope::test {

namespace fs = std::filesystem;

// Writes the toy set as an image folder with train/ and test/ splits.
inline fs::path write_toy_folder(const fs::path& root) {
  auto d = toy_dataset(64, 16);
  for (int64_t i = 0; i < d.size(); ++i) {
    const auto split = i < 48 ? "train" : "test";
    const auto dir = root / split / d.class_names[d.labels[i].item<int64_t>()];
    fs::create_directories(dir);
    vitscope::io::save_image(d.images[i].to(torch::kFloat32) / 255.0, (dir / (std::to_string(i) + ".png")).string());
  }
  return root;
}

struct Child {
  pid_t pid = -1;
  FILE* out = nullptr;  // the child's stdout
};

// with_stderr: the child's stderr goes into the same pipe (error messages).
inline Child spawn(const std::vector<std::string>& args, bool with_stderr = false) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    if (with_stderr) dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    const std::string cli = cli_path();
    std::vector<char*> argv{const_cast<char*>(cli.c_str())};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(cli.c_str(), argv.data());
    _exit(127);
  }
  close(fds[1]);
  return {pid, fdopen(fds[0], "r")};
}

// Runs to the end; returns the exit status and the output.
inline int run_cli(const std::vector<std::string>& args, std::string* output = nullptr, bool with_stderr = false) {
  Child c = spawn(args, with_stderr);
  char line[1024];
  while (fgets(line, sizeof line, c.out))
    if (output) *output += line;
  fclose(c.out);
  int status = 0;
  waitpid(c.pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

inline std::string file_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace vitscope::test
