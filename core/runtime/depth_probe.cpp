#include "core/runtime/depth_probe.h"

#include "core/io/image.h"
#include "core/train/evaluation.h"

namespace vitscope::runtime {

namespace {

// (N, depth, D) mean patch token of every block output, on the CPU.
torch::Tensor depth_features(model::Model& m, const io::ImageDataset& data, const InputTransform& input_transform,
                             const CancelToken* cancel) {
  torch::NoGradGuard no_grad;
  const auto& c = m.config();
  model::CaptureRequest request;
  for (int k = 1; k <= c.depth; ++k) request.taps.push_back(2 * k);
  std::vector<torch::Tensor> out;
  const int64_t batch = 128;
  for (int64_t i = 0; i < data.size(); i += batch) {
    if (cancel && cancel->is_cancelled()) throw Cancelled();
    auto x = train::model_input(m, data, i, std::min(batch, data.size() - i));
    if (input_transform) x = input_transform(x);
    model::Capture cap;
    m.encoder->forward_features(x, request, &cap);
    std::vector<torch::Tensor> per_depth;
    for (int k = 1; k <= c.depth; ++k) per_depth.push_back(cap.patch_tokens(2 * k).mean(1));
    out.push_back(torch::stack(per_depth, 1).to(torch::kCPU));
  }
  return torch::cat(out);
}

}  // namespace

DepthProbe probe_per_depth(model::Model& m, const io::ImageDataset& train, const io::ImageDataset& test,
                           int probe_epochs, const InputTransform& input_transform, const CancelToken* cancel) {
  if (train.num_classes() < 2) throw std::invalid_argument("linear probing needs a labelled training set with 2+ classes");
  if (test.size() == 0) throw std::invalid_argument("linear probing needs test images");
  auto ftrain = depth_features(m, train, input_transform, cancel);
  auto ftest = depth_features(m, test, input_transform, cancel);
  auto ltrain = train.labels.to(torch::kCPU), ltest = test.labels.to(torch::kCPU);
  DepthProbe p;
  train::LinearProbeOptions lp;
  lp.epochs = probe_epochs;
  for (int64_t k = 0; k < ftrain.size(1); ++k) {
    if (cancel && cancel->is_cancelled()) throw Cancelled();
    auto a = ftrain.select(1, k).contiguous(), b = ftest.select(1, k).contiguous();
    p.linear_top1.push_back(train::linear_probe(a, ltrain, b, ltest, train.num_classes(), lp).test_top1);
    p.knn_top1.push_back(train::knn_top1(a, ltrain, b, ltest, train.num_classes()));
  }
  p.protocol = "feature: mean of the patch tokens of block k's output (residual stream before the final norm); "
               "linear: standardised features, AdamW lr 1e-3, " + std::to_string(probe_epochs) +
               " epochs (train::linear_probe); kNN: k = 20, cosine, T = 0.07. The paper's protocol is unverified "
               "(paper-analyses.md §3.9)";
  return p;
}

}  // namespace vitscope::runtime
