#pragma once
// Run-time device choice shared by the CLI and the GUI.
#include <torch/torch.h>

#include <string>
#include <thread>
#include <vector>

namespace vitscope::runtime {

struct DeviceChoice {
  torch::Device device{torch::kCPU};
  std::string warning;  // non-empty when the request could not be honoured (e.g. no CUDA)
};

// "cpu", "cuda", "cuda:1" or "auto" (CUDA when present). A CUDA request on a machine without
// CUDA falls back to CPU with a warning instead of failing.
DeviceChoice choose_device(const std::string& request);
std::vector<std::string> available_devices();  // "cpu", "cuda:0", …
std::string describe(const torch::Device& device);  // "CPU (2 cores, 1 thread per op, torch 1.13.0)", "CUDA:0 NVIDIA H100 … (torch 2.11.0)"

// Starts a CUDA device's runtime (context, allocator, cuBLAS) on another thread, so that its
// start-up overlaps with reading checkpoints and decoding images instead of delaying the first
// model move or forward; does nothing for the CPU. The destructor waits for it. Errors are left
// to the first real use of the device, which reports them.
class DeviceWarmUp {
 public:
  explicit DeviceWarmUp(const torch::Device& device);
  ~DeviceWarmUp();
  DeviceWarmUp(const DeviceWarmUp&) = delete;
  DeviceWarmUp& operator=(const DeviceWarmUp&) = delete;

 private:
  std::thread thread_;
};

// Threads one CPU kernel may use, process-wide: LibTorch's intra-op threads and the BLAS
// library's (OpenBLAS through its run-time API when it is the BLAS in use; MKL follows
// LibTorch's setting). Setting LibTorch's alone is not enough: OpenBLAS keeps one thread per
// core, and callers that run forwards side by side then compete for the cores.
void set_cpu_kernel_threads(int threads);

// While alive, CPU kernels are single-threaded (set_cpu_kernel_threads(1)), then both libraries'
// settings are restored: for data-parallel CPU work, where each of a few threads runs whole
// forward passes. Process-wide: only for a process that does nothing else meanwhile.
class SingleThreadedKernels {
 public:
  SingleThreadedKernels();
  ~SingleThreadedKernels();
  SingleThreadedKernels(const SingleThreadedKernels&) = delete;
  SingleThreadedKernels& operator=(const SingleThreadedKernels&) = delete;

 private:
  int torch_threads_ = 1, blas_threads_ = 0;  // blas_threads_ 0: not OpenBLAS, nothing to restore
};

// Process-wide settings that make LibTorch fast on the CPU (toolchain.md §4): keep large
// activations out of mmap so they are not page-faulted on every forward.
void tune_process();

}  // namespace vitscope::runtime
