#pragma once
// A toy labelled data set and a tiny ViT for training tests that run in seconds on a CPU.
#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "core/io/dataset.h"
#include "core/model/model.h"
#include "core/train/pretraining_card.h"
#include "core/train/weight_init.h"

namespace vitscope::test {

// N images of size x size in 4 classes: class c has a bright square in quadrant c on a dark
// background of class-specific hue, plus mild noise. Deterministic.
inline io::ImageDataset toy_dataset(int n = 64, int size = 16) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1234);
  auto images = torch::rand({n, 3, size, size}, gen) * 0.15;
  auto labels = torch::arange(n, torch::kInt64).remainder(4);
  const int h = size / 2;
  for (int i = 0; i < n; ++i) {
    const int c = i % 4;
    images[i][c % 3].add_(0.3);
    images[i].narrow(1, (c / 2) * h, h).narrow(2, (c % 2) * h, h).add_(0.6);
  }
  io::ImageDataset d;
  d.images = (images.clamp(0, 1) * 255).round().to(torch::kUInt8);
  d.labels = labels;
  d.class_names = {"a", "b", "c", "d"};
  d.source = "toy";
  return d;
}

inline train::PretrainingArchitecture tiny_architecture() {
  train::PretrainingArchitecture a;
  a.image_size = 16;
  a.patch_size = 4;
  a.embed_dim = 32;
  a.depth = 2;
  a.num_heads = 2;
  a.mlp_hidden_dim = 64;
  a.decoder_dim = 32;
  a.decoder_depth = 1;
  a.decoder_heads = 2;
  a.moco_hidden_dim = 64;
  a.moco_out_dim = 32;
  return a;
}

// A tiny model with fresh weights, as `vitscope-cli create` makes it, saved in ViTScope's format
// as <dir>/<objective>-base.safetensors: the base model of fine-tuning tests.
inline std::string save_tiny_model(const std::string& dir, train::ObjectiveKind kind, uint64_t seed = 5) {
  auto model = model::Model::create(train::pretraining_card(kind, tiny_architecture(), 0.2, false));
  train::initialize_weights(model, seed);
  const auto path = dir + "/" + train::objective_kind_name(kind) + "-base.safetensors";
  model::save_model(model, path);
  return path;
}

}  // namespace vitscope::test
