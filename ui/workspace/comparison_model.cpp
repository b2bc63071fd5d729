#include "ui/workspace/comparison_model.h"

namespace vitscope::ui {

namespace {
QByteArray mask_key(const std::vector<uint8_t>& mask) {
  return QByteArray(reinterpret_cast<const char*>(mask.data()), static_cast<qsizetype>(mask.size()));
}
}  // namespace

ComparisonModel::ComparisonModel(runtime::Explorer& explorer, AppState& state, JobRunner& jobs, QObject* parent)
    : QObject(parent), explorer_(explorer), state_(state), jobs_(jobs) {
  connect(&state_, &AppState::imageChanged, this, &ComparisonModel::onImageChanged);
  connect(&state_, &AppState::maskChanged, this, &ComparisonModel::startReconstructions);
}

void ComparisonModel::setColumns(const QVector<ModelColumn>& columns) {
  QHash<QString, Slot> kept;
  for (const auto& c : columns)
    if (slots_.contains(c.id())) kept.insert(c.id(), std::move(slots_[c.id()]));
  slots_ = std::move(kept);
  columns_ = columns;
  int depth = 1, heads = 1;
  for (const auto& c : columns_) {
    depth = std::max(depth, c.info.depth);
    heads = std::max(heads, c.info.heads);
  }
  state_.setLimits(depth, heads);
  emit columnsChanged();
  startAnalyses();
  startReconstructions();
}

const ModelColumn* ComparisonModel::column(const QString& model_id) const {
  for (const auto& c : columns_)
    if (c.id() == model_id) return &c;
  return nullptr;
}

const runtime::ImageAnalysis* ComparisonModel::analysis(const QString& model_id) const {
  auto it = slots_.constFind(model_id);
  return it != slots_.cend() && it->analysis ? &*it->analysis : nullptr;
}

const runtime::ReconstructionView* ComparisonModel::reconstruction(const QString& model_id) const {
  auto it = slots_.constFind(model_id);
  if (it == slots_.cend()) return nullptr;
  auto r = it->reconstructions.constFind(mask_key(currentMask(model_id)));
  return r != it->reconstructions.cend() ? &*r : nullptr;
}

QString ComparisonModel::analysisStatus(const QString& model_id) const {
  auto it = slots_.constFind(model_id);
  return it != slots_.cend() ? it->analysis_status : QString();
}

QString ComparisonModel::reconstructionStatus(const QString& model_id) const {
  auto it = slots_.constFind(model_id);
  return it != slots_.cend() ? it->reconstruction_status : QString();
}

std::vector<uint8_t> ComparisonModel::currentMask(const QString& model_id) const {
  const auto* c = column(model_id);
  if (!c || !c->info.can_reconstruct) return {};
  try {
    auto mask = explorer_.random_mask(c->info.id, state_.maskRatio(), static_cast<uint64_t>(state_.maskSeed()));
    return state_.applyMaskEdits(std::move(mask), c->info.grid);
  } catch (const std::exception&) {
    return {};  // the model is being removed
  }
}

bool ComparisonModel::allAnalysesReady() const {
  for (const auto& c : columns_)
    if (!analysis(c.id())) return false;
  return !columns_.isEmpty();
}

bool ComparisonModel::allReconstructionsReady() const {
  for (const auto& c : columns_)
    if (c.info.can_reconstruct && !reconstruction(c.id())) return false;
  return true;
}

void ComparisonModel::recompute() { onImageChanged(); }

void ComparisonModel::onImageChanged() {
  ++generation_;
  for (const auto& job : image_jobs_) JobRunner::cancel(job);
  image_jobs_.clear();
  for (auto& slot : slots_) slot = Slot{};
  for (const auto& c : columns_) {
    emit analysisChanged(c.id());
    emit reconstructionChanged(c.id());
  }
  startAnalyses();
  startReconstructions();
}

void ComparisonModel::startAnalyses() {
  const QString image = state_.imageId();
  if (image.isEmpty()) return;
  for (const auto& c : columns_) {
    Slot& slot = slots_[c.id()];
    if (slot.analysis || slot.analysis_running) continue;
    slot.analysis_running = true;
    slot.analysis_status = tr("Analysing…");
    emit analysisChanged(c.id());
    const int generation = generation_;
    const QString id = c.id();
    const std::string model_id = c.info.id, image_id = image.toStdString();
    auto finish = [this, id, generation](std::optional<runtime::ImageAnalysis> result, const QString& error) {
      if (generation != generation_ || !slots_.contains(id)) return;
      Slot& s = slots_[id];
      s.analysis_running = false;
      s.analysis = std::move(result);
      s.analysis_status = error;
      emit analysisChanged(id);
    };
    image_jobs_ << jobs_.run<runtime::ImageAnalysis>(
        tr("Analysing %1 with %2").arg(state_.imageName(), c.name()), this,
        [this, model_id, image_id](const runtime::CancelToken& token) {
          return explorer_.analyze(model_id, image_id, &token);
        },
        [finish](runtime::ImageAnalysis a) { finish(std::move(a), {}); },
        [finish](const QString& error) {
          finish(std::nullopt, error.isEmpty() ? tr("Cancelled. Press F5 to analyse again.") : tr("Analysis failed: %1").arg(error));
        });
  }
}

void ComparisonModel::startReconstructions() {
  for (const auto& c : columns_)
    if (c.info.can_reconstruct) startReconstruction(c.id());
}

void ComparisonModel::startReconstruction(const QString& id) {
  const QString image = state_.imageId();
  if (image.isEmpty() || !slots_.contains(id)) return;
  Slot& slot = slots_[id];
  auto mask = currentMask(id);
  if (slot.reconstructions.contains(mask_key(mask))) return emit reconstructionChanged(id);
  // One reconstruction per model at a time; while painting, the finished job starts the next
  // one with whatever mask is current then (intermediate masks are skipped).
  if (slot.reconstruction_running) return;
  slot.reconstruction_running = true;
  image_jobs_.removeIf([](const JobRunner::Handle& h) { return h.expired(); });
  const int generation = generation_;
  const std::string model_id = column(id)->info.id, image_id = image.toStdString();
  auto finish = [this, id, generation, mask](std::optional<runtime::ReconstructionView> view, const QString& error) {
    if (generation != generation_ || !slots_.contains(id)) return;
    Slot& s = slots_[id];
    s.reconstruction_running = false;
    s.reconstruction_status = error;
    if (view) {
      if (s.reconstructions.size() >= 64) s.reconstructions.clear();  // painting makes many masks
      s.reconstructions.insert(mask_key(mask), std::move(*view));
    }
    if (currentMask(id) != mask) return startReconstruction(id);  // painted meanwhile
    emit reconstructionChanged(id);
  };
  image_jobs_ << jobs_.run<runtime::ReconstructionView>(
      tr("Reconstructing with %1").arg(column(id)->name()), this,
      [this, model_id, image_id, mask](const runtime::CancelToken&) {
        return explorer_.reconstruct(model_id, image_id, mask);
      },
      [finish](runtime::ReconstructionView v) { finish(std::move(v), {}); },
      [finish](const QString& error) {
        finish(std::nullopt, error.isEmpty() ? tr("Cancelled. Press F5 to reconstruct again.")
                                             : tr("Reconstruction failed: %1").arg(error));
      });
}

}  // namespace vitscope::ui
