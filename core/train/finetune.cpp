#include "core/train/finetune.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <stdexcept>

#include "core/train/evaluation.h"
#include "core/train/random.h"
#include "core/train/weight_init.h"

namespace vitscope::train {

namespace {

struct ModeName {
  FineTuneMode mode;
  const char* name;
};
constexpr ModeName kModes[] = {{FineTuneMode::LinearProbe, "linear-probe"},     {FineTuneMode::FullFineTune, "finetune"},
                               {FineTuneMode::PretrainMoco, "pretrain-moco"},   {FineTuneMode::PretrainSimMim, "pretrain-simmim"},
                               {FineTuneMode::PretrainMae, "pretrain-mae"},     {FineTuneMode::PretrainHybrid, "pretrain-hybrid"}};

// "encoder.head.weight" -> "encoder.head", "mae_decoder.blocks.0.…" -> "mae_decoder": the part a
// tensor belongs to, for the list of parts that start fresh.
std::string part_of(const std::string& name) {
  const auto first = name.find('.');
  if (first == std::string::npos || name.compare(0, first, "encoder") != 0) return name.substr(0, first);
  const auto second = name.find('.', first + 1);
  return name.substr(0, second);
}

}  // namespace

const char* finetune_mode_name(FineTuneMode mode) {
  for (const auto& m : kModes)
    if (m.mode == mode) return m.name;
  return "unknown";
}

FineTuneMode finetune_mode_from_name(const std::string& name) {
  for (const auto& m : kModes)
    if (name == m.name) return m.mode;
  throw std::invalid_argument("unknown mode '" + name +
                              "' (expected linear-probe, finetune, pretrain-moco, pretrain-simmim, pretrain-mae or "
                              "pretrain-hybrid)");
}

bool needs_labels(FineTuneMode mode) { return mode == FineTuneMode::LinearProbe || mode == FineTuneMode::FullFineTune; }

ObjectiveKind objective_of(FineTuneMode mode) {
  switch (mode) {
    case FineTuneMode::LinearProbe:
    case FineTuneMode::FullFineTune: return ObjectiveKind::Classification;
    case FineTuneMode::PretrainMoco: return ObjectiveKind::MocoV3;
    case FineTuneMode::PretrainSimMim: return ObjectiveKind::SimMim;
    case FineTuneMode::PretrainMae: return ObjectiveKind::Mae;
    case FineTuneMode::PretrainHybrid: return ObjectiveKind::Hybrid;
  }
  throw std::logic_error("unknown fine-tune mode");
}

TrainConfig default_recipe(FineTuneMode mode, double lambda) {
  TrainConfig c;
  c.objective = objective_of(mode);
  c.lambda = lambda;
  c.epochs = 10;
  c.batch_size = 64;
  c.warmup_epochs = 1;
  c.min_lr = 1e-6;
  switch (mode) {
    case FineTuneMode::LinearProbe:
      c.classify.freeze_encoder = true;
      c.lr = 1e-3;
      c.weight_decay = 0.0;
      break;
    case FineTuneMode::FullFineTune:
      c.lr = 1e-4;
      c.weight_decay = 0.05;
      c.classify.label_smoothing = 0.1;
      break;
    default:
      // Continued pre-training: the objective's own settings (as vitscope-cli pretrain), a tenth
      // of its learning rate so the base's representation is refined rather than overwritten.
      c.lr = 1e-4;
      c.weight_decay = mode == FineTuneMode::PretrainMoco ? 0.1 : 0.05;
      c.beta2 = mode == FineTuneMode::PretrainMae ? 0.95 : 0.999;
      c.moco.freeze_patch_embed = mode == FineTuneMode::PretrainMoco;
      break;
  }
  return c;
}

StartingModel starting_model(const model::Model& base, FineTuneMode mode, const std::vector<std::string>& class_names,
                             double lambda, uint64_t seed) {
  model::ModelCard card = base.card;
  card.training = nlohmann::json::object();
  card.metrics = nlohmann::json::object();
  card.lineage = nlohmann::json::object();
  card.source_path.clear();
  const PretrainingArchitecture defaults;
  const auto objective = objective_of(mode);
  if (objective == ObjectiveKind::Classification) {
    card.vit.num_classes = static_cast<int>(class_names.size());
    card.class_names = class_names;
  }
  if (objective == ObjectiveKind::SimMim || objective == ObjectiveKind::Hybrid) {
    card.vit.mask_token = true;
    card.simmim_head = true;
  }
  if (objective == ObjectiveKind::Mae && !card.mae_decoder) {
    model::MaeDecoderConfig d;
    d.embed_dim = defaults.decoder_dim;
    d.depth = defaults.decoder_depth;
    d.num_heads = defaults.decoder_heads;
    d.mlp_hidden_dim = 4 * defaults.decoder_dim;
    card.mae_decoder = d;
  }
  if ((objective == ObjectiveKind::MocoV3 || objective == ObjectiveKind::Hybrid) && !card.moco_heads)
    card.moco_heads = model::ModelCard::MocoHeads{defaults.moco_hidden_dim, defaults.moco_out_dim};
  if (objective != ObjectiveKind::Classification) {
    const auto pretraining = pretraining_card(objective, {}, lambda, false);
    card.objective = pretraining.objective;
    card.lambda = pretraining.lambda;
  }

  StartingModel out{model::Model::create(card), {}};
  initialize_weights(out.model, seed);
  std::map<std::string, torch::Tensor> from_base;
  for (const auto& [name, t] : base.named_tensors()) from_base.emplace(name, t);
  // The base's classifier only carries over when it predicts the same classes.
  const bool same_classes = base.card.class_names == class_names && base.config().num_classes == card.vit.num_classes;
  std::set<std::string> fresh;
  torch::NoGradGuard no_grad;
  for (const auto& [name, t] : out.model.named_tensors()) {
    auto it = from_base.find(name);
    const bool keep = it != from_base.end() && it->second.sizes() == t.sizes() &&
                      (part_of(name) != "encoder.head" || same_classes);
    if (keep) t.copy_(it->second.to(torch::kCPU, t.scalar_type()));
    else fresh.insert(part_of(name));
  }
  for (const auto& part : fresh) {
    if (part == "encoder.head")
      out.new_parts.push_back("classifier head (" + std::to_string(class_names.size()) + " classes)");
    else
      out.new_parts.push_back(part);
  }
  return out;
}

std::pair<io::ImageDataset, io::ImageDataset> split_validation(const io::ImageDataset& data, double fraction,
                                                               uint64_t seed) {
  if (fraction < 0.0 || fraction >= 1.0) throw std::invalid_argument("the validation fraction must lie in [0, 1)");
  auto gen = make_generator(seed, RandomStream::Evaluation, 0x5a11);
  auto labels = data.labels.to(torch::kCPU);
  std::vector<int64_t> train_idx, val_idx;
  for (int c = 0; c < data.num_classes(); ++c) {
    auto members = labels.eq(c).nonzero().flatten();
    const int64_t n = members.numel();
    if (n == 0) continue;
    members = members.index_select(0, torch::randperm(n, gen, torch::TensorOptions().dtype(torch::kInt64)));
    int64_t k = std::llround(fraction * static_cast<double>(n));
    if (fraction > 0.0 && n >= 2) k = std::clamp<int64_t>(k, 1, n - 1);
    const auto* m = members.data_ptr<int64_t>();
    val_idx.insert(val_idx.end(), m, m + k);
    train_idx.insert(train_idx.end(), m + k, m + n);
  }
  std::sort(train_idx.begin(), train_idx.end());
  std::sort(val_idx.begin(), val_idx.end());
  auto subset = [&](const std::vector<int64_t>& idx, const std::string& part) {
    io::ImageDataset s;
    auto index = torch::tensor(idx, torch::kInt64).to(data.images.device());
    s.images = data.images.index_select(0, index);
    s.labels = data.labels.index_select(0, index.to(data.labels.device()));
    s.class_names = data.class_names;
    s.source = data.source + " (" + part + ")";
    return s;
  };
  return {subset(train_idx, "training part"), subset(val_idx, "validation part")};
}

EpochEvaluator classification_evaluator(io::ImageDataset validation, int batch_size) {
  auto data = std::make_shared<io::ImageDataset>(std::move(validation));
  return [data, batch_size](model::Model& model) -> std::vector<std::pair<std::string, double>> {
    if (data->size() == 0) return {};
    if (data->images.device() != model.device()) *data = data->to(model.device());
    torch::NoGradGuard no_grad;
    double loss_sum = 0.0;
    int64_t correct = 0;
    for (int64_t start = 0; start < data->size(); start += batch_size) {
      const int64_t n = std::min<int64_t>(batch_size, data->size() - start);
      auto logits = model.encoder->forward(model_input(model, *data, start, n)).to(torch::kFloat32);
      auto labels = data->labels.narrow(0, start, n);
      loss_sum += classification_loss(logits, labels, 0.0).item<double>() * static_cast<double>(n);
      correct += logits.argmax(1).eq(labels).sum().item<int64_t>();
    }
    const auto n = static_cast<double>(data->size());
    return {{"val_top1", static_cast<double>(correct) / n}, {"val_loss", loss_sum / n}};
  };
}

}  // namespace vitscope::train
