#pragma once
// Where tests find their inputs. ctest sets these variables (tests/CMakeLists.txt); running a
// test binary by hand falls back to paths relative to the source tree.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

namespace vitscope::test {

inline std::filesystem::path env_path(const char* var, const char* fallback) {
  const char* v = std::getenv(var);
  return std::filesystem::path(v && *v ? v : fallback);
}
inline std::filesystem::path fixtures_dir() { return env_path("VITSCOPE_FIXTURES", VITSCOPE_SOURCE_DIR "/tests/fixtures"); }
inline std::filesystem::path shared_dir() { return env_path("VITSCOPE_SHARED", VITSCOPE_SOURCE_DIR "/../shared"); }
inline std::filesystem::path resources_dir() { return env_path("VITSCOPE_RESOURCES", VITSCOPE_SOURCE_DIR "/resources"); }
inline std::string cli_path() { return env_path("VITSCOPE_CLI", "vitscope-cli").string(); }

// A fresh temporary directory per call, removed by the caller or left for inspection.
inline std::filesystem::path temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("vitscope-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}

}  // namespace vitscope::test
