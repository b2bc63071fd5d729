#include "core/runtime/finetune_job.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <new>
#include <optional>
#include <stdexcept>

#ifdef VITSCOPE_CUDA_STREAMS
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include "core/io/dataset.h"
#include "core/io/file_hash.h"
#include "core/model/loader.h"
#include "core/runtime/device.h"
#include "core/runtime/training_diagnostics.h"
#include "core/train/evaluation.h"
#include "core/train/finetune.h"

namespace vitscope::runtime {

namespace fs = std::filesystem;

namespace {

// LibTorch 2.x throws c10::OutOfMemoryError on the GPU; 1.13's caching allocator a c10::Error
// saying "out of memory"; the CPU allocator one saying "can't allocate memory".
bool is_out_of_memory(const std::exception& e) {
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e) != nullptr || dynamic_cast<const std::bad_alloc*>(&e) != nullptr)
    return true;
  if (dynamic_cast<const c10::Error*>(&e) == nullptr) return false;
  const std::string what = e.what();
  return what.find("out of memory") != std::string::npos || what.find("can't allocate memory") != std::string::npos;
}

// "<folder>: left out 2 images that could not be read: <file>: <why>; …" (at most five named).
std::string skipped_images_warning(const io::ImageDataset& data, const std::string& path) {
  const auto& skipped = data.skipped;
  std::string text = path + ": left out " + std::to_string(skipped.size()) + " image" + (skipped.size() == 1 ? "" : "s") +
                     " that could not be read: ";
  for (size_t i = 0; i < std::min<size_t>(skipped.size(), 5); ++i) text += (i ? "; " : "") + skipped[i];
  if (skipped.size() > 5) text += "; and " + std::to_string(skipped.size() - 5) + " more";
  return text;
}

// The images of `path`; the ones that could not be read are left out and named through `warn`.
io::ImageDataset load_data(const std::string& path, const std::string& what, const io::DatasetOptions& options,
                           const std::function<void(const std::string&)>& warn) {
  if (path.empty()) throw std::invalid_argument("no " + what + " folder given");
  if (!fs::exists(path)) throw std::invalid_argument(path + ": no such folder or archive (" + what + ")");
  auto data = io::load_dataset(path, options);
  if (!data.skipped.empty()) warn(skipped_images_warning(data, path));
  return data;
}

void require_labels(const io::ImageDataset& data, const std::string& path, const std::string& mode) {
  if (data.num_classes() >= 2) return;
  const bool unlabeled = data.num_classes() == 1 && data.class_names[0] == io::kUnlabeledClass;
  throw std::invalid_argument(path + ": " + mode + " needs labelled images in class folders (" + path +
                              "/<class>/<image>) of at least two classes; found " +
                              (unlabeled ? std::string("images without class folders")
                                         : "one class ('" + data.class_names[0] + "')"));
}

FineTuneUpdate to_update(const train::TrainProgress& p, int batch_size) {
  using E = train::TrainProgress::Event;
  FineTuneUpdate u;
  u.kind = p.event == E::Step ? FineTuneUpdate::Kind::Step
           : p.event == E::EpochEnd ? FineTuneUpdate::Kind::Epoch
           : p.event == E::CheckpointWritten ? FineTuneUpdate::Kind::Checkpoint
                                              : FineTuneUpdate::Kind::Warning;
  u.step = p.step;
  u.total_steps = p.total_steps;
  u.epoch = p.epoch;
  u.epochs = p.planned_epochs;
  u.batch_size = batch_size;
  u.loss = p.loss;
  u.lr = p.lr;
  u.images_per_second = p.images_per_second;
  u.elapsed_seconds = p.elapsed_seconds;
  u.eta_seconds = p.eta_seconds;
  u.metrics = p.metrics;
  u.message = p.message;
  return u;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Spec

FineTuneDefaults finetune_defaults(const std::string& mode) {
  const auto recipe = train::default_recipe(train::finetune_mode_from_name(mode));
  return {recipe.lr, recipe.layer_decay, recipe.classify.crop_scale_min,
          train::needs_labels(train::finetune_mode_from_name(mode))};
}

std::string FineTuneSpec::to_json() const {
  return nlohmann::json{{"name", name},
                        {"base_model", base_model},
                        {"data", data},
                        {"val_data", val_data},
                        {"val_split", val_split},
                        {"mode", mode},
                        {"lambda", lambda},
                        {"epochs", epochs},
                        {"batch_size", batch_size},
                        {"lr", lr},
                        {"layer_decay", layer_decay},
                        {"crop_scale", crop_scale},
                        {"flip", flip},
                        {"image_size", image_size},
                        {"max_per_class", max_per_class},
                        {"device", device},
                        {"seed", seed},
                        {"amp", amp},
                        {"checkpoint_dir", checkpoint_dir},
                        {"out", out},
                        {"log_every", log_every},
                        {"diagnostics_every", diagnostics_every},
                        {"diagnostics_images", diagnostics_images},
                        {"max_steps", max_steps}}
      .dump(2);
}

FineTuneSpec FineTuneSpec::from_json(const std::string& text) {
  const auto j = nlohmann::json::parse(text);
  FineTuneSpec s;
  auto read = [&](const char* key, auto& field) {
    if (j.contains(key)) field = j.at(key).get<std::decay_t<decltype(field)>>();
  };
  read("name", s.name);
  read("base_model", s.base_model);
  read("data", s.data);
  read("val_data", s.val_data);
  read("val_split", s.val_split);
  read("mode", s.mode);
  read("lambda", s.lambda);
  read("epochs", s.epochs);
  read("batch_size", s.batch_size);
  read("lr", s.lr);
  read("layer_decay", s.layer_decay);
  read("crop_scale", s.crop_scale);
  read("flip", s.flip);
  read("image_size", s.image_size);
  read("max_per_class", s.max_per_class);
  read("device", s.device);
  read("seed", s.seed);
  read("amp", s.amp);
  read("checkpoint_dir", s.checkpoint_dir);
  read("out", s.out);
  read("log_every", s.log_every);
  read("diagnostics_every", s.diagnostics_every);
  read("diagnostics_images", s.diagnostics_images);
  read("max_steps", s.max_steps);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Pause, resume, cancel

void FineTuneJob::pause() {
  std::lock_guard lock(mutex_);
  paused_ = true;
}

void FineTuneJob::resume() {
  {
    std::lock_guard lock(mutex_);
    paused_ = false;
  }
  wake_.notify_all();
}

void FineTuneJob::cancel() {
  {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
  }
  wake_.notify_all();
}

void FineTuneJob::wait_while_paused(int64_t step, const FineTuneUpdateFn& on_update) {
  std::unique_lock lock(mutex_);
  if (!paused_ || cancelled_) return;
  FineTuneUpdate u;
  u.kind = FineTuneUpdate::Kind::Paused;
  u.step = step;
  lock.unlock();
  if (on_update) on_update(u);
  lock.lock();
  wake_.wait(lock, [&] { return !paused_ || cancelled_.load(); });
  lock.unlock();
  u.kind = FineTuneUpdate::Kind::Resumed;
  if (on_update) on_update(u);
}

// ---------------------------------------------------------------------------------------------
// The job

FineTuneOutcome FineTuneJob::run(const FineTuneUpdateFn& on_update) {
  auto emit = [&](FineTuneUpdate u) {
    if (on_update) on_update(u);
  };
  auto warn = [&](const std::string& text) {
    FineTuneUpdate u;
    u.kind = FineTuneUpdate::Kind::Warning;
    u.message = text;
    emit(u);
  };
  const auto mode = train::finetune_mode_from_name(spec_.mode);
  const auto choice = choose_device(spec_.device);
  if (!choice.warning.empty()) warn(choice.warning);
  const auto& device = choice.device;
#ifdef VITSCOPE_CUDA_STREAMS
  // The job's kernels queue on a stream of their own, so that the app's analyses (on the default
  // stream, from other threads) run beside the training instead of behind it.
  std::optional<c10::cuda::CUDAStreamGuard> own_stream;
  if (device.is_cuda()) own_stream.emplace(c10::cuda::getStreamFromPool(false, device.index()));
#endif

  if (!fs::exists(spec_.base_model)) throw std::invalid_argument(spec_.base_model + ": no such model file or folder");
  if (spec_.layer_decay < 0.0 || spec_.layer_decay > 1.0)
    throw std::invalid_argument("layer decay " + std::to_string(spec_.layer_decay) + " lies outside (0, 1]");
  if (spec_.crop_scale < 0.0 || spec_.crop_scale > 1.0)
    throw std::invalid_argument("crop scale " + std::to_string(spec_.crop_scale) + " lies outside (0, 1]");
  model::LoadOptions load_options;
  if (spec_.image_size > 0) load_options.image_size = spec_.image_size;
  auto base = model::load_model(spec_.base_model, load_options).model;
  const int image_size = base.config().image_size;

  io::DatasetOptions data_options;
  data_options.image_size = image_size;
  data_options.max_per_class = spec_.max_per_class;
  auto data = load_data(spec_.data, "data", data_options, warn);
  io::ImageDataset train_data, validation;
  if (train::needs_labels(mode)) {
    require_labels(data, spec_.data, spec_.mode);
    if (!spec_.val_data.empty()) {
      validation = load_data(spec_.val_data, "validation", data_options, warn);
      if (validation.class_names != data.class_names)
        throw std::invalid_argument(spec_.val_data + ": its class folders differ from those of " + spec_.data);
      train_data = std::move(data);
    } else {
      std::tie(train_data, validation) = train::split_validation(data, spec_.val_split, spec_.seed);
    }
  } else {
    train_data = std::move(data);
  }
  if (train_data.size() < 1) throw std::invalid_argument(spec_.data + ": no training images left");

  // The fixed probe batch of the live diagnostics: the first images of the validation set (the
  // training set when there is none), the same at every step and after a resume.
  const auto& probe_source = validation.size() > 0 ? validation : train_data;
  const int64_t probe_count = std::min<int64_t>(std::max(1, spec_.diagnostics_images), probe_source.size());

  train::TrainConfig config = train::default_recipe(mode, spec_.lambda);
  config.epochs = spec_.epochs;
  config.batch_size = std::min<int>(spec_.batch_size, static_cast<int>(train_data.size()));
  if (spec_.lr > 0) config.lr = spec_.lr;
  if (spec_.layer_decay > 0) config.layer_decay = spec_.layer_decay;
  if (spec_.crop_scale > 0) config.classify.crop_scale_min = spec_.crop_scale;
  if (!spec_.flip) config.classify.flip_p = 0.0;
  config.seed = spec_.seed;
  config.amp = spec_.amp;
  config.checkpoint_dir = spec_.checkpoint_dir;
  config.log_every = spec_.log_every;
  config.max_steps = spec_.max_steps;
  const std::string checkpoint = spec_.checkpoint_dir.empty() ? "" : train::Trainer::checkpoint_path(spec_.checkpoint_dir);

  std::unique_ptr<train::Trainer> trainer;
  std::vector<std::string> new_parts;
  train::TrainResult result;
  for (;;) {  // once, or again at half the batch after running out of GPU memory
    try {
      FineTuneUpdate started;
      started.kind = FineTuneUpdate::Kind::Started;
      if (!checkpoint.empty() && fs::exists(checkpoint)) {
        trainer = train::Trainer::resume(checkpoint, train_data, config, device);
        started.message = "resumed from " + checkpoint + " at step " + std::to_string(trainer->step());
      } else {
        auto start = train::starting_model(base, mode, train_data.class_names, spec_.lambda, spec_.seed);
        new_parts = start.new_parts;
        try {
          trainer = std::make_unique<train::Trainer>(std::move(start.model), train_data, config, device);
        } catch (const std::invalid_argument& e) {  // the objective's requirements of the model
          throw std::invalid_argument(spec_.base_model + ": cannot be trained with " + spec_.mode + ": " + e.what());
        }
        started.message = "started from " + spec_.base_model;
        for (const auto& part : new_parts) started.message += "; new: " + part;
      }
      started.message += "; on " + device.str();
#ifdef VITSCOPE_CUDA_STREAMS
      if (device.is_cuda() && c10::cuda::getCurrentCUDAStream(device.index()) != c10::cuda::getDefaultCUDAStream(device.index()))
        started.message += " (own CUDA stream)";
#endif
      started.batch_size = trainer->config().batch_size;
      started.total_steps = static_cast<int64_t>(trainer->planned_epochs()) * trainer->steps_per_epoch();
      started.epochs = trainer->planned_epochs();
      started.step = trainer->step();
      emit(started);
      if (validation.size() > 0) trainer->set_epoch_evaluator(train::classification_evaluator(validation));

      auto& model = trainer->model();
      const auto probe_input = train::model_input(model, probe_source, 0, probe_count);
      const auto probe_pixels = probe_source.images[0].to(torch::kFloat32) / 255.0;
      const int64_t total = started.total_steps;
      const int batch = trainer->config().batch_size;
      int64_t last_diagnostics = -1;
      auto between_steps = [&](int64_t step) {
        wait_while_paused(step, on_update);
        if (spec_.diagnostics_every <= 0 || step == last_diagnostics) return;
        if (step % spec_.diagnostics_every != 0 && step != total) return;
        FineTuneUpdate u;
        u.kind = FineTuneUpdate::Kind::Diagnostics;
        u.step = step;
        u.total_steps = total;
        u.diagnostics = training_diagnostics(model, probe_input, probe_pixels, step);
        last_diagnostics = step;
        emit(u);
      };
      auto progress = [&](const train::TrainProgress& p) { emit(to_update(p, batch)); };
      try {
        result = trainer->run(progress, &cancelled_, between_steps);
      } catch (const std::exception& e) {
        if (is_out_of_memory(e)) throw;
        // A failed checkpoint write (disk full, …) leaves the previous checkpoint in place.
        throw std::runtime_error(std::string(e.what()) +
                                 (checkpoint.empty() ? "" : " (the last complete checkpoint, " + checkpoint + ", is intact: resume from it)"));
      }
      break;
    } catch (const std::exception& e) {
      if (!is_out_of_memory(e)) throw;
      const int batch = config.batch_size;
      trainer.reset();  // its tensors go back to the caching allocator, which the retry reuses
      if (batch <= 1)
        throw std::runtime_error("out of memory on " + describe(device) + " even at batch size 1: use a smaller image size" +
                                 (device.is_cuda() ? " or the CPU" : ""));
      config.batch_size = batch / 2;
      // A checkpoint of the larger batch has other steps per epoch: start again from the base.
      if (!checkpoint.empty()) fs::remove(checkpoint);
      warn("out of memory on " + describe(device) + " at batch size " + std::to_string(batch) +
           ": starting again at batch size " + std::to_string(config.batch_size));
    }
  }

  FineTuneOutcome outcome;
  outcome.stop_reason = train::stop_reason_name(result.reason);
  outcome.steps = result.steps;
  outcome.batch_size = trainer->config().batch_size;
  if (result.reason == train::StopReason::Cancelled) return outcome;

  auto exported = train::exported_model(trainer->model(), /*keep_moco_heads=*/false);
  auto& card = exported.card;
  card.name = !spec_.name.empty() ? spec_.name : base.card.name + " · " + spec_.mode;
  card.description = "Fine-tuned by ViTScope (" + spec_.mode + ") from " + base.card.name + " on " + train_data.source + ".";
  auto record = trainer->training_record();
  record["stop_reason"] = outcome.stop_reason;
  card.training = record;
  nlohmann::json metrics = nlohmann::json::object();
  if (!trainer->history().empty())
    for (const auto& [name, value] : trainer->history().back().metrics) metrics[name] = value;
  if (!metrics.empty())
    metrics["protocol"] = "classifier on the validation images (" + validation.source + ", " +
                          std::to_string(validation.size()) + " images), no augmentation, after the last epoch";
  card.metrics = metrics;
  card.lineage = {{"base_model",
                   {{"path", fs::absolute(spec_.base_model).string()},
                    {"name", base.card.name},
                    {"objective", base.card.objective_label()},
                    {"sha256", fs::is_regular_file(spec_.base_model) ? io::sha256_file(spec_.base_model) : ""}}},
                  {"data",
                   {{"path", fs::absolute(spec_.data).string()},
                    {"validation", !train::needs_labels(mode)   ? nlohmann::json(nullptr)
                                   : spec_.val_data.empty() ? nlohmann::json(spec_.val_split)
                                                            : nlohmann::json(fs::absolute(spec_.val_data).string())},
                    {"training_images", train_data.size()},
                    {"validation_images", validation.size()},
                    {"classes", train_data.class_names}}},
                  {"mode", spec_.mode},
                  {"hyperparameters", train::recipe_to_json(trainer->config())},
                  {"new_parts", new_parts},
                  {"metrics", metrics}};
  if (spec_.out.empty()) throw std::invalid_argument("no output path for the new model");
  const fs::path out(spec_.out);
  if (!out.parent_path().empty()) fs::create_directories(out.parent_path());
  model::save_model(exported, spec_.out);
  outcome.model_path = spec_.out;
  outcome.card_json = model::to_json(card).dump(2);
  return outcome;
}

}  // namespace vitscope::runtime
