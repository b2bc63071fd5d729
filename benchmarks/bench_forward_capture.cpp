// Forward with every attention map and residual-stream tap captured (the app's and the CLI's
// hot path), ViT-S/16 and ViT-B/16 at 224, batch 1 and 32, random weights. The PyTorch peer
// (benchmarks/forward_capture_peer.py) captures the same tensors with hooks; run_forward.sh runs
// both in the same run and prints the ratio. With capture, also the dataset metrics on that
// capture (attention distance, NMI, Fourier: what `vitscope-cli analyze` adds to a forward).
// Output: one JSON line per configuration.
#include <chrono>
#include <iostream>

#include "core/analysis/attention_distance.h"
#include "core/analysis/fourier.h"
#include "core/analysis/nmi.h"
#include "core/model/vision_transformer.h"
#include "core/runtime/device.h"

using namespace vitscope;

int main(int argc, char** argv) {
  runtime::tune_process();
  const std::string device_name = argc > 1 ? argv[1] : "cpu";
  const int iterations = argc > 2 ? std::atoi(argv[2]) : 5;
  const std::string only = argc > 3 ? argv[3] : "";
  auto choice = runtime::choose_device(device_name);
  if (!choice.warning.empty()) std::cerr << "warning: " << choice.warning << "\n";
  const auto device = choice.device;
  torch::NoGradGuard no_grad;
  struct Size { const char* name; int dim, heads; };
  for (Size s : {Size{"vit_s16", 384, 6}, Size{"vit_b16", 768, 12}}) {
    if (!only.empty() && only != s.name) continue;
    model::ViTConfig c;
    c.embed_dim = s.dim;
    c.num_heads = s.heads;
    c.mlp_hidden_dim = 4 * s.dim;
    model::VisionTransformer vit(c);
    vit->to(device);
    vit->eval();
    for (int batch : {1, 32}) {
      auto x = torch::randn({batch, 3, 224, 224}).to(device);
      for (bool capture : {true, false}) {
        auto request = capture ? model::CaptureRequest::everything(c.depth) : model::CaptureRequest::none();
        auto run = [&] {
          model::Capture cap;
          auto out = vit->forward_features(x, request, capture ? &cap : nullptr);
          if (device.is_cuda()) torch::cuda::synchronize();
          return out;
        };
        auto ms_per_call = [&](const auto& call) {
          call();  // warm-up
          const auto t0 = std::chrono::steady_clock::now();
          for (int i = 0; i < iterations; ++i) call();
          if (device.is_cuda()) torch::cuda::synchronize();
          return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() / iterations;
        };
        const double ms = ms_per_call(run);
        std::cout << "{\"impl\": \"vitscope\", \"model\": \"" << s.name << "\", \"batch\": " << batch
                  << ", \"capture\": " << (capture ? "true" : "false") << ", \"device\": \"" << device.str()
                  << "\", \"ms_per_batch\": " << ms << ", \"ms_per_image\": " << ms / batch;
        if (capture) {
          model::Capture cap;
          vit->forward_features(x, request, &cap);
          std::cout << ", \"metrics_ms_per_image\": {\"attention-distance\": "
                    << ms_per_call([&] { analysis::attention_distance_table(cap); }) / batch
                    << ", \"nmi\": " << ms_per_call([&] { analysis::nmi_table(cap); }) / batch
                    << ", \"fourier\": " << ms_per_call([&] { analysis::fourier_analysis(cap); }) / batch << "}";
        }
        std::cout << "}" << std::endl;
      }
    }
  }
  return 0;
}
