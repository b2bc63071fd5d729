#include "core/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "core/io/checkpoint_file.h"
#include "core/io/tensor_convert.h"
#include "core/runtime/device.h"
#include "core/train/amp.h"
#include "core/train/random.h"
#include "core/train/weight_init.h"

namespace vitscope::train {

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

constexpr const char* kCheckpointFormat = "vitscope-training-checkpoint";

std::unique_ptr<Objective> make_objective(const TrainConfig& c, model::Model& m) {
  switch (c.objective) {
    case ObjectiveKind::MocoV3: return std::make_unique<MocoV3Objective>(m, c.moco);
    case ObjectiveKind::SimMim: return std::make_unique<SimMimObjective>(m, c.simmim);
    case ObjectiveKind::Mae: return std::make_unique<MaeObjective>(m, c.mae);
    case ObjectiveKind::Hybrid: return std::make_unique<HybridObjective>(m, c.lambda, c.moco, c.simmim);
    case ObjectiveKind::Classification: return std::make_unique<ClassificationObjective>(m, c.classify);
  }
  throw std::logic_error("unknown objective");
}

nlohmann::json to_json(const EpochRecord& e) {
  nlohmann::json j = {{"epoch", e.epoch}, {"loss", e.loss}, {"lr", e.lr}, {"images_per_second", e.images_per_second},
                      {"seconds", e.seconds}};
  for (const auto& [name, value] : e.metrics) j[name] = value;
  return j;
}

EpochRecord epoch_record_from_json(const nlohmann::json& j) {
  EpochRecord e{j.at("epoch").get<int>(), j.at("loss").get<double>(), j.at("lr").get<double>(),
                j.at("images_per_second").get<double>(), j.at("seconds").get<double>(), {}};
  for (const auto& [name, value] : j.items())
    if (!nlohmann::json{"epoch", "loss", "lr", "images_per_second", "seconds"}.contains(name))
      e.metrics.emplace_back(name, value.get<double>());
  return e;
}

model::Model fresh_model(const model::ModelCard& card, uint64_t seed) {
  auto m = model::Model::create(card);
  initialize_weights(m, seed);
  return m;
}

// Copies every tensor of `targets` from map entry "<prefix><name>"; a checkpoint must be complete.
void restore_tensors(const std::vector<std::pair<std::string, torch::Tensor>>& targets, const std::string& prefix,
                     const io::TensorMap& map, const std::string& path) {
  torch::NoGradGuard no_grad;
  for (const auto& [name, target] : targets) {
    auto it = map.tensors.find(prefix + name);
    if (it == map.tensors.end()) throw io::FormatError(path, "checkpoint lacks '" + prefix + name + "'");
    auto source = io::to_torch(it->second);
    if (source.sizes() != target.sizes())
      throw io::FormatError(path, "'" + prefix + name + "' has shape " + c10::str(source.sizes()) + ", expected " +
                                      c10::str(target.sizes()));
    target.copy_(source.to(target.device(), target.scalar_type()));
  }
}

}  // namespace

const char* stop_reason_name(StopReason r) {
  switch (r) {
    case StopReason::Finished: return "finished";
    case StopReason::MaxSteps: return "max_steps";
    case StopReason::TimeBudget: return "time_budget";
    case StopReason::Cancelled: return "cancelled";
  }
  return "unknown";
}

nlohmann::json recipe_to_json(const TrainConfig& c) {
  return {{"objective", objective_kind_name(c.objective)},
          {"lambda", c.lambda},
          {"moco", {{"temperature", c.moco.temperature},
                    {"base_momentum", c.moco.base_momentum},
                    {"freeze_patch_embed", c.moco.freeze_patch_embed}}},
          {"simmim", {{"mask_ratio", c.simmim.mask_ratio}, {"mask_unit", c.simmim.mask_unit}}},
          {"mae", {{"mask_ratio", c.mae.mask_ratio}}},
          {"classify", {{"freeze_encoder", c.classify.freeze_encoder},
                        {"label_smoothing", c.classify.label_smoothing},
                        {"crop_scale_min", c.classify.crop_scale_min},
                        {"flip_p", c.classify.flip_p}}},
          {"epochs", c.epochs},
          {"batch_size", c.batch_size},
          {"lr", c.lr},
          {"min_lr", c.min_lr},
          {"warmup_epochs", c.warmup_epochs},
          {"weight_decay", c.weight_decay},
          {"layer_decay", c.layer_decay},
          {"betas", {c.beta1, c.beta2}},
          {"grad_clip", c.grad_clip},
          {"amp", c.amp},
          {"seed", c.seed}};
}

void recipe_from_json(const nlohmann::json& j, TrainConfig& c) {
  c.objective = objective_kind_from_name(j.at("objective").get<std::string>());
  c.lambda = j.at("lambda").get<double>();
  c.moco.temperature = j.at("moco").at("temperature").get<double>();
  c.moco.base_momentum = j.at("moco").at("base_momentum").get<double>();
  c.moco.freeze_patch_embed = j.at("moco").at("freeze_patch_embed").get<bool>();
  c.simmim.mask_ratio = j.at("simmim").at("mask_ratio").get<double>();
  c.simmim.mask_unit = j.at("simmim").at("mask_unit").get<int>();
  c.mae.mask_ratio = j.at("mae").at("mask_ratio").get<double>();
  if (j.contains("classify")) {  // absent in pre-training checkpoints of earlier versions
    const auto& k = j.at("classify");
    c.classify.freeze_encoder = k.at("freeze_encoder").get<bool>();
    c.classify.label_smoothing = k.at("label_smoothing").get<double>();
    c.classify.crop_scale_min = k.at("crop_scale_min").get<double>();
    c.classify.flip_p = k.at("flip_p").get<double>();
  }
  c.epochs = j.at("epochs").get<int>();
  c.batch_size = j.at("batch_size").get<int>();
  c.lr = j.at("lr").get<double>();
  c.min_lr = j.at("min_lr").get<double>();
  c.warmup_epochs = j.at("warmup_epochs").get<double>();
  c.weight_decay = j.at("weight_decay").get<double>();
  c.layer_decay = j.value("layer_decay", 1.0);  // absent before layer decay existed
  c.beta1 = j.at("betas").at(0).get<double>();
  c.beta2 = j.at("betas").at(1).get<double>();
  c.grad_clip = j.at("grad_clip").get<double>();
  c.amp = j.at("amp").get<bool>();
  c.seed = j.at("seed").get<uint64_t>();
}

Trainer::Trainer(const model::ModelCard& card, const io::ImageDataset& data, TrainConfig config,
                 const torch::Device& device)
    : Trainer(fresh_model(card, config.seed), data, config, device) {}

Trainer::Trainer(model::Model initial, const io::ImageDataset& data, TrainConfig config, const torch::Device& device)
    : model_(std::move(initial)), data_(data), config_(std::move(config)), device_(device) {
  const auto& card = model_.card;
  if (config_.batch_size <= 0 || config_.epochs <= 0) throw std::invalid_argument("batch size and epochs must be positive");
  if (data_.size() < config_.batch_size)
    throw std::invalid_argument("the data set has " + std::to_string(data_.size()) + " images, fewer than one batch of " +
                                std::to_string(config_.batch_size));
  if (data_.image_size() != card.vit.image_size)
    throw std::invalid_argument("the data set holds " + std::to_string(data_.image_size()) + " px images but the model takes " +
                                std::to_string(card.vit.image_size) + " px");
  if (config_.objective == ObjectiveKind::Classification && data_.num_classes() != card.vit.num_classes)
    throw std::invalid_argument("the data set has " + std::to_string(data_.num_classes()) + " classes but the model's classifier has " +
                                std::to_string(card.vit.num_classes));
  model_.to(device_);
  if (data_.images.device() != device_) data_ = data_.to(device_);
  if (device_.is_cuda() && config_.allow_tf32) allow_tf32(true);
  objective_ = make_objective(config_, model_);  // may freeze parameters (MoCo's patch embedding)
  std::vector<NamedParameter> trainable;
  for (const auto& [name, t] : model_.named_tensors())
    if (t.requires_grad()) trainable.push_back({name, t, layer_decay_lr_scale(name, card.vit.depth, config_.layer_decay)});
  optimizer_ = std::make_unique<AdamW>(std::move(trainable),
                                       AdamWOptions{config_.beta1, config_.beta2, 1e-8, config_.weight_decay});
  steps_per_epoch_ = data_.size() / config_.batch_size;  // the last partial batch is dropped
  planned_epochs_ = config_.epochs;
}

std::unique_ptr<Trainer> Trainer::resume(const std::string& path, const io::ImageDataset& data,
                                         const TrainConfig& run_control, const torch::Device& device) {
  std::map<std::string, std::string> meta;
  const auto map = io::read_safetensors(path, &meta);
  if (meta["format"] != kCheckpointFormat)
    throw io::FormatError(path, "not a ViTScope training checkpoint");
  TrainConfig config = run_control;
  recipe_from_json(nlohmann::json::parse(meta.at("recipe")), config);
  const auto card = model::model_card_from_json(nlohmann::json::parse(meta.at("model_card")));
  auto trainer = std::make_unique<Trainer>(card, data, config, device);
  restore_tensors(trainer->model_.named_tensors(), "model.", map, path);
  restore_tensors(trainer->objective_->state(), "objective.", map, path);
  restore_tensors(trainer->optimizer_->state(), "optimizer.", map, path);
  const auto state = nlohmann::json::parse(meta.at("trainer_state"));
  trainer->step_ = state.at("step").get<int64_t>();
  trainer->optimizer_->set_steps(state.at("optimizer_steps").get<int64_t>());
  trainer->planned_epochs_ = state.at("planned_epochs").get<int>();
  trainer->epochs_planned_ = state.at("epochs_planned").get<bool>();
  trainer->elapsed_before_ = state.at("elapsed_seconds").get<double>();
  for (const auto& e : state.at("history")) trainer->history_.push_back(epoch_record_from_json(e));
  if (state.at("steps_per_epoch").get<int64_t>() != trainer->steps_per_epoch_)
    throw std::invalid_argument(path + ": the checkpoint was trained with " + std::to_string(state["steps_per_epoch"].get<int64_t>()) +
                                " steps per epoch, this data set gives " + std::to_string(trainer->steps_per_epoch_) +
                                " (different data?)");
  return trainer;
}

std::string Trainer::checkpoint_path(const std::string& dir) {
  return (std::filesystem::path(dir) / "checkpoint.safetensors").string();
}

void Trainer::save_checkpoint(const std::string& path) const {
  io::TensorMap map;
  auto add = [&](const std::string& prefix, const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
    for (const auto& [name, t] : tensors) map.insert(prefix + name, io::from_torch(t));
  };
  add("model.", model_.named_tensors());
  add("objective.", objective_->state());
  add("optimizer.", optimizer_->state());
  nlohmann::json history = nlohmann::json::array();
  for (const auto& e : history_) history.push_back(to_json(e));
  const nlohmann::json state = {{"step", step_},
                                {"epoch", static_cast<double>(step_) / static_cast<double>(steps_per_epoch_)},
                                {"steps_per_epoch", steps_per_epoch_},
                                {"optimizer_steps", optimizer_->steps()},
                                {"planned_epochs", planned_epochs_},
                                {"epochs_planned", epochs_planned_},
                                {"elapsed_seconds", elapsed_before_},
                                {"history", history}};
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
  // write_safetensors replaces the file atomically (temporary file, fsync, rename): a run killed
  // while writing leaves the previous checkpoint intact.
  io::write_safetensors(path, map,
                        {{"format", kCheckpointFormat},
                         {"recipe", recipe_to_json(config_).dump()},
                         {"model_card", model::to_json(model_.card).dump()},
                         {"trainer_state", state.dump()}});
}

LrSchedule Trainer::schedule() const {
  LrSchedule s;
  s.peak_lr = config_.lr;
  s.min_lr = config_.min_lr;
  s.warmup_steps = static_cast<int64_t>(std::llround(config_.warmup_epochs * static_cast<double>(steps_per_epoch_)));
  s.total_steps = static_cast<int64_t>(planned_epochs_) * steps_per_epoch_;
  return s;
}

LossTerms Trainer::train_step() {
  const int64_t epoch = step_ / steps_per_epoch_, in_epoch = step_ % steps_per_epoch_;
  if (epoch_order_of_ != epoch) {
    auto order_gen = make_generator(config_.seed, RandomStream::DataOrder, static_cast<uint64_t>(epoch));
    epoch_order_ = torch::randperm(data_.size(), order_gen, torch::TensorOptions().dtype(torch::kInt64));
    epoch_order_of_ = epoch;
  }
  const int64_t B = config_.batch_size;
  const auto batch = upload(epoch_order_.narrow(0, in_epoch * B, B), device_);
  auto images = data_.images.index_select(0, batch);
  auto gen = make_generator(config_.seed, RandomStream::Step, static_cast<uint64_t>(step_));
  const auto total = static_cast<double>(planned_epochs_) * static_cast<double>(steps_per_epoch_);
  StepContext context{gen, static_cast<double>(step_) / total,
                      data_.labels.defined() ? data_.labels.index_select(0, batch) : torch::Tensor()};
  LossTerms terms;
  {
    AutocastScope autocast(device_, config_.amp);
    terms = objective_->loss(images, context);
  }
  optimizer_->zero_grad();
  terms.total.backward();
  if (config_.grad_clip > 0) clip_grad_norm(optimizer_->parameters(), config_.grad_clip);
  optimizer_->step(learning_rate(schedule(), step_));
  ++step_;
  terms.total = terms.total.detach();
  return terms;
}

TrainResult Trainer::run(const ProgressCallback& on_progress, const std::atomic<bool>* cancel,
                         const BetweenSteps& between_steps) {
  const auto run_start = Clock::now();
  auto elapsed = [&] { return elapsed_before_ + seconds_since(run_start); };
  auto report = [&](TrainProgress p) {
    if (!on_progress) return;
    p.step = step_;
    p.planned_epochs = planned_epochs_;
    p.total_steps = static_cast<int64_t>(planned_epochs_) * steps_per_epoch_;
    p.lr = learning_rate(schedule(), std::max<int64_t>(0, step_ - 1));
    p.elapsed_seconds = elapsed();
    on_progress(p);
  };
  // Each checkpoint records the time spent so far, so a resumed run's budget counts it.
  auto checkpoint = [&] {
    if (config_.checkpoint_dir.empty()) return;
    const double before = elapsed_before_;
    elapsed_before_ = elapsed();
    save_checkpoint(checkpoint_path(config_.checkpoint_dir));
    elapsed_before_ = before;
    TrainProgress p;
    p.event = TrainProgress::Event::CheckpointWritten;
    p.epoch = static_cast<int>(step_ / steps_per_epoch_);
    p.message = checkpoint_path(config_.checkpoint_dir);
    report(p);
  };

  model_.train();
  objective_->train(true);
  const double budget = config_.time_budget_seconds;
  const int64_t timing_skip = steps_per_epoch_ >= 10 ? 3 : 0;  // first steps of an epoch: warm-up, not timed
  auto zero = torch::zeros({}, torch::TensorOptions().device(device_));
  torch::Tensor report_sum = zero.clone(), epoch_sum = zero.clone();
  std::vector<std::pair<std::string, torch::Tensor>> part_sums;
  int64_t report_count = 0, epoch_count = 0;
  auto report_time = Clock::now();
  auto epoch_time = Clock::now(), timed_from = Clock::now();
  int64_t timed_from_step = step_;
  TrainResult result;

  for (;;) {
    if (between_steps) between_steps(step_);
    const int64_t total_steps = static_cast<int64_t>(planned_epochs_) * steps_per_epoch_;
    if (step_ >= total_steps) {
      result.reason = StopReason::Finished;
      break;
    }
    if (config_.max_steps > 0 && step_ >= config_.max_steps) {
      result.reason = StopReason::MaxSteps;
      break;
    }
    if (cancel != nullptr && cancel->load()) {
      result.reason = StopReason::Cancelled;
      break;
    }
    if (step_ % steps_per_epoch_ == 0) epoch_time = Clock::now();
    if (step_ % steps_per_epoch_ == timing_skip) {
      timed_from = Clock::now();
      timed_from_step = step_;
    }
    auto terms = train_step();
    report_sum += terms.total;
    epoch_sum += terms.total;
    ++epoch_count;
    if (part_sums.empty())
      for (const auto& [name, v] : terms.parts) part_sums.emplace_back(name, torch::zeros_like(v));
    for (size_t i = 0; i < terms.parts.size(); ++i) part_sums[i].second += terms.parts[i].second;
    ++report_count;

    if (config_.log_every > 0 && step_ % config_.log_every == 0) {
      TrainProgress p;
      p.event = TrainProgress::Event::Step;
      p.epoch = static_cast<int>((step_ - 1) / steps_per_epoch_);
      p.loss = report_sum.item<double>() / static_cast<double>(report_count);  // syncs the device
      for (auto& [name, sum] : part_sums) p.loss_terms.emplace_back(name, sum.item<double>() / report_count);
      const double dt = seconds_since(report_time);
      p.images_per_second = static_cast<double>(report_count * config_.batch_size) / std::max(dt, 1e-9);
      p.eta_seconds = static_cast<double>(total_steps - step_) * dt / static_cast<double>(report_count);
      report(p);
      report_sum.zero_();
      for (auto& [name, sum] : part_sums) sum.zero_();
      report_count = 0;
      report_time = Clock::now();
    }

    if (step_ % steps_per_epoch_ != 0) continue;
    // ---- epoch end ----
    EpochRecord record;
    record.epoch = static_cast<int>(step_ / steps_per_epoch_);
    record.loss = epoch_sum.item<double>() / static_cast<double>(epoch_count);  // syncs the device
    record.seconds = seconds_since(epoch_time);
    record.images_per_second = static_cast<double>(steps_per_epoch_ * config_.batch_size) / std::max(record.seconds, 1e-9);
    record.lr = learning_rate(schedule(), step_ - 1);
    if (epoch_evaluator_) {
      model_.eval();
      objective_->train(false);
      record.metrics = epoch_evaluator_(model_);
      model_.train();
      objective_->train(true);
    }
    history_.push_back(record);
    epoch_sum.zero_();
    epoch_count = 0;
    // Speed of this epoch without its first (warm-up) steps, extrapolated to a whole epoch.
    const double epoch_seconds = timed_from_step < step_
                                     ? seconds_since(timed_from) * static_cast<double>(steps_per_epoch_) /
                                           static_cast<double>(step_ - timed_from_step)
                                     : record.seconds;
    {
      TrainProgress p;
      p.event = TrainProgress::Event::EpochEnd;
      p.epoch = record.epoch;
      p.loss = record.loss;
      p.images_per_second = record.images_per_second;
      p.metrics = record.metrics;
      p.eta_seconds = static_cast<double>(static_cast<int64_t>(planned_epochs_) * steps_per_epoch_ - step_) /
                      static_cast<double>(steps_per_epoch_) * epoch_seconds;
      report(p);
    }
    const auto checkpoint_start = Clock::now();
    checkpoint();
    const double epoch_cost = epoch_seconds + seconds_since(checkpoint_start);
    if (budget > 0 && !epochs_planned_) {
      // Planned once, from the first epoch this run completes; the checkpoint is written again
      // so that a run resumed from it keeps the same plan (and learning-rate schedule).
      const double remaining = budget - elapsed();
      const int fit = record.epoch + static_cast<int>(std::floor(std::max(0.0, remaining) / epoch_cost));
      planned_epochs_ = std::clamp(fit, record.epoch, config_.epochs);
      epochs_planned_ = true;
      TrainProgress p;
      p.event = TrainProgress::Event::Planned;
      p.epoch = record.epoch;
      p.message = "planned " + std::to_string(planned_epochs_) + " epochs (" + std::to_string(epoch_cost) +
                  " s per epoch with its checkpoint, " + std::to_string(remaining) + " s of the budget left)";
      report(p);
      checkpoint();
    }
    if (budget > 0 && step_ < static_cast<int64_t>(planned_epochs_) * steps_per_epoch_ && elapsed() + epoch_cost > budget) {
      result.reason = StopReason::TimeBudget;
      break;
    }
  }
  // A run stopped inside an epoch keeps its place too (an epoch end has just been saved).
  if (step_ % steps_per_epoch_ != 0) checkpoint();
  elapsed_before_ = elapsed();
  result.steps = step_;
  result.epochs_completed = static_cast<int>(step_ / steps_per_epoch_);
  result.planned_epochs = planned_epochs_;
  result.wall_seconds = elapsed_before_;
  model_.eval();
  objective_->train(false);
  return result;
}

double Trainer::benchmark(int warmup_steps, int steps) {
  model_.train();
  objective_->train(true);
  auto sync = [&] {
    if (device_.is_cuda()) torch::cuda::synchronize();
  };
  for (int i = 0; i < warmup_steps; ++i) train_step();
  sync();
  const auto start = Clock::now();
  for (int i = 0; i < steps; ++i) train_step();
  sync();
  return static_cast<double>(steps) * config_.batch_size / seconds_since(start);
}

model::Model exported_model(const model::Model& trained, bool keep_moco_heads) {
  model::Model exported = trained;
  if (!keep_moco_heads) {
    exported.moco_projector = nullptr;
    exported.moco_predictor = nullptr;
    exported.card.moco_heads.reset();
  }
  exported.to(torch::kCPU);
  return exported;
}

nlohmann::json Trainer::training_record() const {
  nlohmann::json history = nlohmann::json::array();
  for (const auto& e : history_) history.push_back(to_json(e));
  return {{"objective", objective_kind_name(config_.objective)},
          {"recipe", recipe_to_json(config_)},
          {"data", {{"source", data_.source}, {"images", data_.size()}, {"classes", data_.num_classes()}}},
          {"steps", step_},
          {"steps_per_epoch", steps_per_epoch_},
          {"epochs_completed", static_cast<double>(step_) / static_cast<double>(steps_per_epoch_)},
          {"planned_epochs", planned_epochs_},
          {"wall_seconds", elapsed_before_},
          {"device", runtime::describe(device_)},
          {"history", history}};
}

}  // namespace vitscope::train
