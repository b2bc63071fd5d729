#include "core/runtime/device.h"

#include <dlfcn.h>
#include <malloc.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
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

namespace {
// The GPU's model name from the NVIDIA driver's /proc entries (in PCI bus order, which is CUDA's
// order on single-GPU and CUDA_DEVICE_ORDER=PCI_BUS_ID machines); "" when there are none.
// Reading it there keeps CUDA headers out of core.
std::string nvidia_gpu_name(int index) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<fs::path> gpus;
  for (const auto& entry : fs::directory_iterator("/proc/driver/nvidia/gpus", ec)) gpus.push_back(entry.path());
  std::sort(gpus.begin(), gpus.end());
  if (index < 0 || index >= static_cast<int>(gpus.size())) return "";
  std::ifstream info(gpus[index] / "information");
  for (std::string line; std::getline(info, line);)
    if (line.rfind("Model:", 0) == 0) {
      const auto start = line.find_first_not_of(" \t", 6);
      return start == std::string::npos ? "" : line.substr(start);
    }
  return "";
}
}  // namespace

std::string describe(const torch::Device& d) {
  if (d.is_cpu()) {
    // Also the threads one op may use (torch's intra-op threads), when fewer than the cores: a
    // training run on one thread (model cards quote this) or the app's workers side by side,
    // each on its share of the cores.
    const auto cores = static_cast<int>(std::thread::hardware_concurrency());
    const int threads = at::get_num_threads();
    const auto per_op =
        threads < cores ? std::to_string(threads) + (threads == 1 ? " thread" : " threads") + " per op, " : "";
    return "CPU (" + std::to_string(cores) + " cores, " + per_op + "torch " + TORCH_VERSION + ")";
  }
  const int index = d.has_index() ? d.index() : 0;  // an unindexed CUDA device is the current one, 0 here
  const auto name = nvidia_gpu_name(index);
  return "CUDA:" + std::to_string(index) + (name.empty() ? "" : " " + name) + " (torch " + TORCH_VERSION + ")";
}

DeviceWarmUp::DeviceWarmUp(const torch::Device& device) {
  if (!device.is_cuda()) return;
  thread_ = std::thread([device] {
    try {
      const auto a = torch::ones({64, 64}, torch::TensorOptions().device(device));
      (void)torch::mm(a, a).sum().item<float>();  // context, caching allocator, cuBLAS handle
    } catch (const std::exception&) {
    }
  });
}

DeviceWarmUp::~DeviceWarmUp() {
  if (thread_.joinable()) thread_.join();
}

namespace {
// OpenBLAS's thread-count API, looked up at run time: LibTorch may use another BLAS (MKL), and
// core does not link OpenBLAS itself.
using SetThreads = void (*)(int);
using GetThreads = int (*)();
SetThreads openblas_set_threads() { return reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")); }
GetThreads openblas_get_threads() { return reinterpret_cast<GetThreads>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads")); }
}  // namespace

void set_cpu_kernel_threads(int threads) {
  threads = std::max(1, threads);
  at::set_num_threads(threads);
  if (const auto set = openblas_set_threads()) set(threads);
}

SingleThreadedKernels::SingleThreadedKernels() : torch_threads_(at::get_num_threads()) {
  if (const auto get = openblas_get_threads(); get && openblas_set_threads()) blas_threads_ = get();
  set_cpu_kernel_threads(1);
}

SingleThreadedKernels::~SingleThreadedKernels() {
  at::set_num_threads(torch_threads_);
  if (blas_threads_ > 0) openblas_set_threads()(blas_threads_);
}

void tune_process() {
  // glibc would mmap every activation > 128 KiB and fault its pages in again on each forward
  // (toolchain.md §4: gelu 20x slower in the model than in isolation).
  mallopt(M_MMAP_THRESHOLD, 256 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
}

}  // namespace vitscope::runtime
