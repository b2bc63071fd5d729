// CPU and CUDA give the same numbers (≤ 1e-4): forward with capture, reconstruction, and the
// Fourier spectra of the taps (matrix products on the CPU, cuFFT on CUDA: analysis/fourier.cpp).
// Skipped where LibTorch has no CUDA device (Debian's libtorch, CI); run on the GPU machine.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "core/analysis/fourier.h"
#include "core/model/masking.h"
#include "core/model/model.h"
#include "core/model/reconstruction.h"

using namespace vitscope::model;

namespace {

ModelCard mae_like_card() {
  ModelCard card;
  card.vit.image_size = 32;
  card.vit.patch_size = 4;
  card.vit.embed_dim = 64;
  card.vit.depth = 3;
  card.vit.num_heads = 4;
  card.vit.mlp_hidden_dim = 128;
  card.vit.pos_embed = PosEmbedKind::SinCosColumnFirst;
  card.mae_decoder = MaeDecoderConfig{32, 2, 4, 64, 1e-6, false};
  return card;
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kCPU, torch::kFloat64) - b.to(torch::kCPU, torch::kFloat64)).abs().max().item<double>();
}

TEST(CudaEquivalence, ForwardCaptureAndReconstructionMatchTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device in this LibTorch build / machine";
  torch::manual_seed(3);
  auto cpu = Model::create(mae_like_card());
  cpu.eval();
  auto gpu = Model::create(mae_like_card());
  {
    torch::NoGradGuard g;
    auto src = cpu.named_tensors();
    auto dst = gpu.named_tensors();
    for (size_t i = 0; i < src.size(); ++i) dst[i].second.copy_(src[i].second);
  }
  gpu.to(torch::Device(torch::kCUDA, 0));
  gpu.eval();
  torch::NoGradGuard g;
  auto x = torch::randn({4, 3, 32, 32});
  Capture c_cpu, c_gpu;
  auto t_cpu = cpu.encoder->forward_features(x, CaptureRequest::everything(3), &c_cpu);
  auto t_gpu = gpu.encoder->forward_features(x.cuda(), CaptureRequest::everything(3), &c_gpu);
  EXPECT_LE(max_diff(t_cpu, t_gpu), 1e-4);
  for (int k = 0; k < 3; ++k) EXPECT_LE(max_diff(c_cpu.attentions[k], c_gpu.attentions[k]), 1e-4) << "block " << k;
  for (int t = 0; t < 7; ++t) EXPECT_LE(max_diff(c_cpu.taps[t], c_gpu.taps[t]), 1e-4) << "tap " << t;
  EXPECT_LE(max_diff(vitscope::analysis::fourier_analysis(c_cpu).per_image_spectrum,
                     vitscope::analysis::fourier_analysis(c_gpu).per_image_spectrum),
            1e-4);
  // Without a capture request LibTorch 2.x takes the fused attention kernel: same numbers.
  EXPECT_LE(max_diff(t_cpu, gpu.encoder->forward_features(x.cuda())), 1e-4);
  auto gen = at::detail::createCPUGenerator(5);
  auto mask = mae_random_mask(4, 64, 0.75, gen);
  auto r_cpu = reconstruct(cpu, x, mask);
  auto r_gpu = reconstruct(gpu, x.cuda(), mask.cuda());
  EXPECT_LE(max_diff(r_cpu.prediction, r_gpu.prediction), 1e-4);
}

}  // namespace
