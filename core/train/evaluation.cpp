#include "core/train/evaluation.h"

#include <cmath>
#include <stdexcept>

#include "core/io/image.h"
#include "core/train/mae.h"
#include "core/train/objective.h"
#include "core/train/optimizer.h"
#include "core/train/random.h"
#include "core/train/schedule.h"
#include "core/train/simmim.h"

namespace vitscope::train {

namespace F = torch::nn::functional;

const char* feature_readout_name(FeatureReadout r) {
  switch (r) {
    case FeatureReadout::ClsToken: return "cls";
    case FeatureReadout::MeanPatchTokens: return "mean_patch";
    case FeatureReadout::HeadInput: return "head_input";
  }
  return "";
}

FeatureReadout feature_readout_from_name(const std::string& name) {
  if (name == "cls") return FeatureReadout::ClsToken;
  if (name == "mean_patch") return FeatureReadout::MeanPatchTokens;
  if (name == "head_input") return FeatureReadout::HeadInput;
  throw std::invalid_argument("unknown feature readout '" + name + "' (expected cls, mean_patch or head_input)");
}

namespace {

template <typename Fn>
void for_each_input_batch(model::Model& model, const io::ImageDataset& data, int batch_size, Fn&& fn) {
  for (int64_t start = 0; start < data.size(); start += batch_size)
    fn(model_input(model, data, start, std::min<int64_t>(batch_size, data.size() - start)), start);
}

double top1(const torch::Tensor& predicted, const torch::Tensor& labels) {
  return predicted.eq(labels.to(predicted.device())).to(torch::kFloat64).mean().item<double>();
}

}  // namespace

torch::Tensor model_input(const model::Model& model, const io::ImageDataset& data, int64_t start, int64_t n) {
  const int size = model.config().image_size;
  auto x = data.images.narrow(0, start, n).to(model.device()).to(torch::kFloat32).div_(255.0);
  if (x.size(2) != size || x.size(3) != size)
    x = F::interpolate(x, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{size, size})
                              .mode(torch::kBilinear)
                              .align_corners(false));
  return io::normalize(x, model.card.preprocess);
}

torch::Tensor extract_features(model::Model& model, const io::ImageDataset& data, FeatureReadout readout,
                               int batch_size) {
  torch::NoGradGuard no_grad;
  model.eval();
  std::vector<torch::Tensor> out;
  const int prefix = model.config().num_prefix_tokens();
  for_each_input_batch(model, data, batch_size, [&](const torch::Tensor& x, int64_t) {
    auto tokens = model.encoder->forward_features(x);  // after the final norm
    switch (readout) {
      case FeatureReadout::ClsToken: out.push_back(tokens.select(1, 0)); break;
      case FeatureReadout::MeanPatchTokens: out.push_back(tokens.narrow(1, prefix, tokens.size(1) - prefix).mean(1)); break;
      case FeatureReadout::HeadInput: out.push_back(model.encoder->readout(tokens)); break;
    }
  });
  return torch::cat(out, 0).to(torch::kFloat32);
}

double knn_top1(const torch::Tensor& train_features, const torch::Tensor& train_labels,
                const torch::Tensor& test_features, const torch::Tensor& test_labels, int num_classes,
                const KnnOptions& o) {
  torch::NoGradGuard no_grad;
  auto bank = F::normalize(train_features.to(torch::kFloat32), F::NormalizeFuncOptions().dim(1));
  auto bank_labels = train_labels.to(bank.device());
  const int k = std::min<int>(o.k, static_cast<int>(bank.size(0)));
  std::vector<torch::Tensor> predictions;
  constexpr int64_t kChunk = 1024;  // queries per similarity matrix
  for (int64_t start = 0; start < test_features.size(0); start += kChunk) {
    const int64_t n = std::min<int64_t>(kChunk, test_features.size(0) - start);
    auto q = F::normalize(test_features.narrow(0, start, n).to(bank.device(), torch::kFloat32),
                          F::NormalizeFuncOptions().dim(1));
    auto [similarity, index] = torch::matmul(q, bank.t()).topk(k, 1);
    auto neighbour_labels = bank_labels.index_select(0, index.reshape(-1)).reshape({n, k});
    auto votes = torch::zeros({n, num_classes}, q.options());
    votes.scatter_add_(1, neighbour_labels, (similarity / o.temperature).exp());
    predictions.push_back(votes.argmax(1));
  }
  return top1(torch::cat(predictions), test_labels);
}

LinearProbeResult linear_probe(const torch::Tensor& train_features, const torch::Tensor& train_labels,
                               const torch::Tensor& test_features, const torch::Tensor& test_labels, int num_classes,
                               const LinearProbeOptions& o) {
  const auto device = train_features.device();
  auto mean = train_features.mean(0, /*keepdim=*/true);
  auto std = train_features.std(0, /*unbiased=*/true, /*keepdim=*/true) + 1e-6;
  auto x_train = ((train_features - mean) / std).detach();
  auto x_test = ((test_features.to(device) - mean) / std).detach();
  auto y_train = train_labels.to(device);

  const int64_t N = x_train.size(0), D = x_train.size(1);
  auto init_gen = make_generator(o.seed, RandomStream::Evaluation, 0);
  const double bound = 1.0 / std::sqrt(static_cast<double>(D));  // nn.Linear's default range
  auto weight = torch::empty({num_classes, D}).uniform_(-bound, bound, init_gen).to(device).requires_grad_(true);
  auto bias = torch::zeros({num_classes}, torch::TensorOptions().device(device)).requires_grad_(true);
  AdamW optimizer({{"weight", weight}, {"bias", bias}}, AdamWOptions{0.9, 0.999, 1e-8, o.weight_decay});
  const int64_t steps_per_epoch = std::max<int64_t>(1, N / o.batch_size);
  const LrSchedule schedule{o.lr, 0.0, 0, steps_per_epoch * o.epochs};
  int64_t step = 0;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    auto order_gen = make_generator(o.seed, RandomStream::Evaluation, 1 + static_cast<uint64_t>(epoch));
    auto order = torch::randperm(N, order_gen, torch::TensorOptions().dtype(torch::kInt64)).to(device);
    for (int64_t s = 0; s < steps_per_epoch; ++s) {
      auto idx = order.narrow(0, s * o.batch_size, std::min<int64_t>(o.batch_size, N - s * o.batch_size));
      auto logits = F::linear(x_train.index_select(0, idx), weight, bias);
      auto loss = F::cross_entropy(logits, y_train.index_select(0, idx));
      optimizer.zero_grad();
      loss.backward();
      optimizer.step(learning_rate(schedule, step++));
    }
  }
  torch::NoGradGuard no_grad;
  LinearProbeResult r;
  r.train_top1 = top1(F::linear(x_train, weight, bias).argmax(1), train_labels);
  r.test_top1 = top1(F::linear(x_test, weight, bias).argmax(1), test_labels);
  // W (x - mean) / std + b = (W / std) x + (b - (W / std) mean).
  r.weight = (weight / std).detach();
  r.bias = (bias - F::linear(mean, r.weight).squeeze(0)).detach();
  return r;
}

double reconstruction_loss(model::Model& model, const io::ImageDataset& data, uint64_t seed, int batch_size) {
  torch::NoGradGuard no_grad;
  model.eval();
  std::function<torch::Tensor(const torch::Tensor&, torch::Generator&)> loss;
  std::unique_ptr<MaeObjective> mae;
  std::unique_ptr<SimMimObjective> simmim;
  if (model.mae_decoder) {
    mae = std::make_unique<MaeObjective>(model, MaeOptions{});
    loss = [&](const torch::Tensor& x, torch::Generator& g) { return mae->masked_loss(x, g); };
  } else if (model.simmim_head && model.encoder->mask_token.defined()) {
    simmim = std::make_unique<SimMimObjective>(model, SimMimOptions{});
    loss = [&](const torch::Tensor& x, torch::Generator& g) { return simmim->masked_loss(x, g); };
  } else {
    throw std::invalid_argument("this model has no reconstruction head");
  }
  double sum = 0.0;
  int64_t batches = 0;
  for_each_input_batch(model, data, batch_size, [&](const torch::Tensor& x, int64_t start) {
    auto gen = make_generator(seed, RandomStream::Evaluation, static_cast<uint64_t>(start));
    sum += loss(x, gen).item<double>() * static_cast<double>(x.size(0));
    batches += x.size(0);
  });
  return sum / static_cast<double>(batches);
}

nlohmann::json evaluate(model::Model& model, const io::ImageDataset& train, const io::ImageDataset& test,
                        const EvaluationOptions& o, const std::function<void(const std::string&)>& on_stage) {
  auto stage = [&](const std::string& s) {
    if (on_stage) on_stage(s);
  };
  nlohmann::json metrics = nlohmann::json::object();
  const std::string data = train.source + " -> " + test.source;
  if (o.run_knn || o.run_linear_probe) {
    if (train.class_names != test.class_names)
      throw std::invalid_argument("train and test sets have different classes");
    stage("features");
    auto f_train = extract_features(model, train, o.readout, o.batch_size);
    auto f_test = extract_features(model, test, o.readout, o.batch_size);
    const int C = train.num_classes();
    if (o.run_knn) {
      stage("knn");
      metrics["knn_top1"] = {{"value", knn_top1(f_train, train.labels, f_test, test.labels, C, o.knn)},
                             {"k", o.knn.k},
                             {"temperature", o.knn.temperature},
                             {"similarity", "cosine"},
                             {"feature", feature_readout_name(o.readout)},
                             {"data", data}};
    }
    if (o.run_linear_probe) {
      stage("linear probe");
      auto probe = o.probe;
      probe.seed = o.seed;
      auto r = linear_probe(f_train, train.labels, f_test, test.labels, C, probe);
      metrics["linear_probe_top1"] = {{"value", r.test_top1},
                                      {"train_top1", r.train_top1},
                                      {"epochs", probe.epochs},
                                      {"lr", probe.lr},
                                      {"weight_decay", probe.weight_decay},
                                      {"batch_size", probe.batch_size},
                                      {"optimizer", "AdamW, cosine schedule, standardised features"},
                                      {"feature", feature_readout_name(o.readout)},
                                      {"data", data}};
    }
  }
  if (o.run_reconstruction && model.can_reconstruct()) {
    stage("reconstruction");
    metrics["reconstruction_loss"] = {{"value", reconstruction_loss(model, test, o.seed, o.batch_size)},
                                      {"loss", model.mae_decoder ? "MAE: MSE on masked patches (mask ratio 0.75)"
                                                                 : "SimMIM: L1 on masked pixels (mask ratio 0.6)"},
                                      {"data", test.source}};
  }
  return metrics;
}

}  // namespace vitscope::train
