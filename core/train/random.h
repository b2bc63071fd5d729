#pragma once
// Every random number of a training run is a pure function of (seed, stream, index): each step
// draws from its own CPU generator seeded from (seed, Step, global step), each epoch's data order
// from (seed, DataOrder, epoch). Nothing carries over from one step to the next, so resuming
// from a checkpoint replays exactly the numbers an uninterrupted run would have drawn, and the
// same seed gives the same augmentations and masks on the CPU and on a GPU.
#include <torch/torch.h>

#include <cstdint>

namespace vitscope::train {

enum class RandomStream : uint64_t {
  ModelInit = 1,   // initial weights
  DataOrder = 2,   // index: epoch
  Step = 3,        // index: global step (augmentations, masks)
  Evaluation = 4,  // index: purpose-specific (probe shuffling, evaluation masks)
};

// A fresh CPU generator for (seed, stream, index); the three are mixed with splitmix64.
torch::Generator make_generator(uint64_t seed, RandomStream stream, uint64_t index);

// Copies numbers drawn on the CPU to `device`. For CUDA the copy goes through pinned memory and
// does not block: a plain copy from pageable memory would wait for the GPU to drain its queue,
// and a training step makes several of these small copies.
torch::Tensor upload(const torch::Tensor& cpu_tensor, const torch::Device& device);

}  // namespace vitscope::train
