#include "ui/workspace/probes_model.h"

#include <QFileInfo>

#include "ui/export/cli_command.h"
#include "ui/resource_paths.h"

namespace vitscope::ui {

ProbesModel::ProbesModel(ComparisonModel& comparison, QObject* parent)
    : QObject(parent),
      comparison_(comparison),
      explorer_(comparison.explorer()),
      state_(comparison.state()),
      jobs_(comparison.jobs()),
      stimuli_dir_(shared_data_path(QStringLiteral("data/cue-conflict"))),
      head_data_(shared_data_path(QStringLiteral("data/cifar10/cifar10-jpg.tar.gz"))) {
  connect(&state_, &AppState::imageChanged, this, &ProbesModel::onImageChanged);
  connect(&comparison_, &ComparisonModel::columnsChanged, this, &ProbesModel::onColumnsChanged);
}

// ---------------------------------------------------------------------------------------------
// Label-free probes of the current image

void ProbesModel::onImageChanged() {
  ++generation_;
  for (const auto& job : image_jobs_) JobRunner::cancel(job);
  image_jobs_.clear();
  views_.reset();
  views_running_ = false;
  for (auto& slot : slots_) {
    slot.probe.reset();
    slot.probe_status.clear();
    slot.probe_running = false;
  }
  emit viewsChanged();
  for (const auto& c : comparison_.columns()) emit imageProbeChanged(c.id());
}

void ProbesModel::onColumnsChanged() {
  QHash<QString, Slot> kept;
  for (const auto& c : comparison_.columns())
    if (slots_.contains(c.id())) kept.insert(c.id(), std::move(slots_[c.id()]));
    else kept.insert(c.id(), Slot{});
  slots_ = std::move(kept);
  queue_.removeIf([this](const QString& id) { return !slots_.contains(id); });
}

void ProbesModel::requestImageProbes() {
  const QString image = state_.imageId();
  if (image.isEmpty()) return;
  const int generation = generation_;
  const std::string image_id = image.toStdString();
  if (!views_ && !views_running_) {
    views_running_ = true;
    image_jobs_ << jobs_.run<std::vector<runtime::ProbeView>>(
        tr("Making the probe views of %1").arg(state_.imageName()), this,
        [this, image_id](const runtime::CancelToken&) { return explorer_.probe_views(image_id); },
        [this, generation](std::vector<runtime::ProbeView> views) {
          if (generation != generation_) return;
          views_running_ = false;
          views_ = std::move(views);
          emit viewsChanged();
        },
        [this, generation](const QString&) {
          if (generation == generation_) views_running_ = false;
        });
  }
  for (const auto& c : comparison_.columns()) {
    Slot& slot = slots_[c.id()];
    if (slot.probe || slot.probe_running) continue;
    slot.probe_running = true;
    slot.probe_status = tr("Probing…");
    emit imageProbeChanged(c.id());
    const QString id = c.id();
    const std::string model_id = c.info.id;
    auto finish = [this, id, generation](std::optional<runtime::ImageProbe> probe, const QString& status) {
      if (generation != generation_ || !slots_.contains(id)) return;
      Slot& s = slots_[id];
      s.probe_running = false;
      s.probe = std::move(probe);
      s.probe_status = status;
      emit imageProbeChanged(id);
    };
    image_jobs_ << jobs_.run<runtime::ImageProbe>(
        tr("Probing %1 with %2").arg(state_.imageName(), c.name()), this,
        [this, model_id, image_id](const runtime::CancelToken& token) { return explorer_.probe_image(model_id, image_id, &token); },
        [finish](runtime::ImageProbe p) { finish(std::move(p), {}); },
        [finish](const QString& error) {
          finish(std::nullopt, error.isEmpty() ? tr("Cancelled. Show the panel again to probe.") : tr("Probe failed: %1").arg(error));
        });
  }
}

const std::vector<runtime::ProbeView>* ProbesModel::views() const { return views_ ? &*views_ : nullptr; }

const runtime::ImageProbe* ProbesModel::imageProbe(const QString& model_id) const {
  auto it = slots_.constFind(model_id);
  return it != slots_.cend() && it->probe ? &*it->probe : nullptr;
}

QString ProbesModel::imageProbeStatus(const QString& model_id) const {
  auto it = slots_.constFind(model_id);
  return it != slots_.cend() ? it->probe_status : QString();
}

bool ProbesModel::allImageProbesReady() const {
  for (const auto& c : comparison_.columns())
    if (!imageProbe(c.id())) return false;
  return views_.has_value() && !comparison_.columns().isEmpty();
}

// ---------------------------------------------------------------------------------------------
// Cue-conflict shape bias

void ProbesModel::setStimuliDir(const QString& dir) { stimuli_dir_ = dir; }
void ProbesModel::setHeadData(const QString& path) { head_data_ = path; }

void ProbesModel::setShapeBiasStatus(const QString& model_id, const QString& text) {
  if (!slots_.contains(model_id)) return;
  slots_[model_id].shape_bias_status = text;
  emit shapeBiasChanged(model_id);
}

void ProbesModel::measureShapeBias(const QString& model_id) {
  if (!slots_.contains(model_id) || queue_.contains(model_id) || running_ == model_id) return;
  if (stimuli_dir_.isEmpty()) return setShapeBiasStatus(model_id, tr("Choose the stimuli first."));
  queue_.enqueue(model_id);
  setShapeBiasStatus(model_id, tr("Queued…"));
  if (!running_) startNextShapeBias();
}

void ProbesModel::measureAllShapeBias() {
  for (const auto& c : comparison_.columns()) measureShapeBias(c.id());
}

void ProbesModel::cancelShapeBias() {
  for (const auto& id : queue_) setShapeBiasStatus(id, {});
  queue_.clear();
  JobRunner::cancel(running_job_);
}

void ProbesModel::startNextShapeBias() {
  if (queue_.isEmpty()) return;
  const QString id = queue_.dequeue();
  const auto* column = comparison_.column(id);
  if (!column) return startNextShapeBias();
  running_ = id;
  const std::string model_id = column->info.id, stimuli = stimuli_dir_.toStdString(), data = head_data_.toStdString();
  const int per_class = head_per_class_;
  const bool needs_head = explorer_.model(model_id).num_classes == 0;
  setShapeBiasStatus(id, needs_head ? tr("Training a linear head…") : tr("Measuring…"));
  // Progress comes from the worker: handed to the UI thread, dropped if this model is gone.
  auto progress = [this, id](const std::string& stage, int64_t done, int64_t total) {
    const QString text = total > 0 ? tr("%1 %2/%3").arg(QString::fromStdString(stage)).arg(done).arg(total)
                                   : QString::fromStdString(stage) + QStringLiteral("…");
    QMetaObject::invokeMethod(this, [this, id, text] { if (running_ == id) setShapeBiasStatus(id, text); }, Qt::QueuedConnection);
  };
  auto finish = [this, id](std::optional<Measured> result, const QString& status) {
    running_.reset();
    if (slots_.contains(id)) {
      Slot& s = slots_[id];
      if (result) {
        s.head = result->head;
        s.shape_bias = std::move(result->report);
      }
      s.shape_bias_status = status;
      emit shapeBiasChanged(id);
    }
    startNextShapeBias();
  };
  running_job_ = jobs_.run<Measured>(
      tr("Cue-conflict shape bias of %1").arg(column->name()), this,
      [this, model_id, stimuli, data, per_class, needs_head, progress](const runtime::CancelToken& token) {
        Measured m;
        if (needs_head) {
          if (data.empty()) throw std::runtime_error("the model has no classifier: choose labelled images for a linear head");
          m.head = explorer_.train_head(model_id, data, per_class, progress, &token);
        }
        m.report = explorer_.measure_shape_bias(model_id, stimuli, "", progress, &token);
        return m;
      },
      [finish](Measured m) { finish(std::move(m), {}); },
      [finish](const QString& error) { finish(std::nullopt, error.isEmpty() ? tr("Cancelled.") : tr("Failed: %1").arg(error)); });
}

const runtime::ShapeBiasReport* ProbesModel::shapeBias(const QString& model_id) const {
  auto it = slots_.constFind(model_id);
  return it != slots_.cend() && it->shape_bias ? &*it->shape_bias : nullptr;
}

const runtime::HeadTrainingReport* ProbesModel::headTraining(const QString& model_id) const {
  auto it = slots_.constFind(model_id);
  return it != slots_.cend() && it->head ? &*it->head : nullptr;
}

QString ProbesModel::shapeBiasStatus(const QString& model_id) const {
  auto it = slots_.constFind(model_id);
  return it != slots_.cend() ? it->shape_bias_status : QString();
}

QString ProbesModel::cliCommand(const QStringList& model_paths, const QString& image_path) const {
  bool any_without_head = false;
  for (const auto& c : comparison_.columns())
    any_without_head |= c.info.num_classes == 0;
  return probe_cli_command(model_paths, image_path, stimuli_dir_, any_without_head ? head_data_ : QString(),
                           head_per_class_, QStringLiteral("vitscope-probes"));
}

}  // namespace vitscope::ui
