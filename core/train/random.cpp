#include "core/train/random.h"

#include <ATen/CPUGeneratorImpl.h>

namespace vitscope::train {

namespace {
// splitmix64 finaliser (Steele et al. 2014): consecutive inputs give unrelated outputs.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

torch::Generator make_generator(uint64_t seed, RandomStream stream, uint64_t index) {
  const uint64_t s = mix(mix(mix(seed) ^ static_cast<uint64_t>(stream)) ^ index);
  return at::make_generator<at::CPUGeneratorImpl>(s);
}

torch::Tensor upload(const torch::Tensor& t, const torch::Device& device) {
  if (t.device() == device) return t;
  if (!device.is_cuda() || !t.is_cpu()) return t.to(device);
  return t.pin_memory().to(device, /*non_blocking=*/true);
}

}  // namespace vitscope::train
