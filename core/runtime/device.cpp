#include "core/runtime/device.h"

#include <malloc.h>

#include <thread>

namespace vitscope::runtime {

DeviceChoice choose_device(const std::string& request) {
  DeviceChoice c;
  const bool cuda = torch::cuda::is_available();
  if (request.empty() || request == "auto") {
    c.device = cuda ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    return c;
  }
  if (request == "cpu") return c;
  if (request.rfind("cuda", 0) == 0) {
    if (!cuda) {
      c.warning = "CUDA was requested but no CUDA device is available (this LibTorch build: " +
                  std::string(TORCH_VERSION) + "); running on the CPU instead";
      return c;
    }
    torch::Device d(request);
    if (d.index() >= static_cast<int>(torch::cuda::device_count())) {
      c.warning = "no device " + request + "; using cuda:0";
      d = torch::Device(torch::kCUDA, 0);
    }
    c.device = d;
    return c;
  }
  throw std::invalid_argument("unknown device '" + request + "' (use cpu, cuda, cuda:N or auto)");
}

std::vector<std::string> available_devices() {
  std::vector<std::string> out{"cpu"};
  if (torch::cuda::is_available())
    for (size_t i = 0; i < torch::cuda::device_count(); ++i) out.push_back("cuda:" + std::to_string(i));
  return out;
}

std::string describe(const torch::Device& d) {
  if (d.is_cpu())
    return "CPU (" + std::to_string(std::thread::hardware_concurrency()) + " cores, torch " + TORCH_VERSION + ")";
  return "CUDA:" + std::to_string(d.index()) + " (torch " + TORCH_VERSION + ")";
}

void tune_process() {
  // glibc would mmap every activation > 128 KiB and fault its pages in again on each forward
  // (toolchain.md §4: gelu 20x slower in the model than in isolation).
  mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
}

}  // namespace vitscope::runtime
