#pragma once
// Where tests find their inputs. ctest sets these variables (tests/CMakeLists.txt); running a
// test binary by hand falls back to paths relative to the source tree.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>
#include <unistd.h>
#include <vector>

namespace vitscope::test {

inline std::filesystem::path env_path(const char* var, const char* fallback) {
  const char* v = std::getenv(var);
  return std::filesystem::path(v && *v ? v : fallback);
}
inline std::filesystem::path fixtures_dir() { return env_path("VITSCOPE_FIXTURES", VITSCOPE_SOURCE_DIR "/tests/fixtures"); }
inline std::filesystem::path shared_dir() { return env_path("VITSCOPE_SHARED", VITSCOPE_SOURCE_DIR "/../shared"); }
inline std::filesystem::path resources_dir() { return env_path("VITSCOPE_RESOURCES", VITSCOPE_SOURCE_DIR "/resources"); }
inline std::string cli_path() { return env_path("VITSCOPE_CLI", "vitscope-cli").string(); }

// Removes the registered directories when the test program ends, unless VITSCOPE_KEEP_TEST_FILES
// is set (to look at what a test wrote).
inline void remove_at_exit(const std::filesystem::path& dir) {
  static struct Registry {
    std::vector<std::filesystem::path> dirs;
    ~Registry() {
      if (std::getenv("VITSCOPE_KEEP_TEST_FILES")) return;
      std::error_code ignored;
      for (const auto& d : dirs) std::filesystem::remove_all(d, ignored);
    }
  } registry;
  registry.dirs.push_back(dir);
}

// A fresh temporary directory per call, removed when the test program ends.
inline std::filesystem::path temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("vitscope-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  remove_at_exit(p);
  return p;
}

}  // namespace vitscope::test
