#include <gtest/gtest.h>

#include <thread>

#include "core/runtime/device.h"

namespace vitscope::runtime {
namespace {

TEST(Device, CpuDescriptionNamesTheThreadsPerOpWhenFewerThanTheCores) {
  const auto cores = std::to_string(std::thread::hardware_concurrency());
  const int threads_before = at::get_num_threads();
  at::set_num_threads(static_cast<int>(std::thread::hardware_concurrency()));
  EXPECT_EQ(describe(torch::kCPU), "CPU (" + cores + " cores, torch " + TORCH_VERSION + ")");
  if (std::thread::hardware_concurrency() > 1) {
    at::set_num_threads(1);
    EXPECT_EQ(describe(torch::kCPU), "CPU (" + cores + " cores, 1 thread per op, torch " + TORCH_VERSION + ")");
  }
  at::set_num_threads(threads_before);
}

}  // namespace
}  // namespace vitscope::runtime
