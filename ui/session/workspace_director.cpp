#include "ui/session/workspace_director.h"

#include <QFileInfo>
#include <QTimer>

#include "ui/session/controls_json.h"

namespace vitscope::ui {

namespace {

int row_of(const QAbstractItemModel& model, int role, const QString& path) {
  for (int r = 0; r < model.rowCount(); ++r)
    if (model.index(r, 0).data(role).toString() == path) return r;
  return -1;
}

}  // namespace

WorkspaceDirector::WorkspaceDirector(ModelShelfModel& shelf, ImageGalleryModel& gallery, AppState& state, QObject* parent)
    : QObject(parent), shelf_(shelf), gallery_(gallery), state_(state) {
  // Every event that can complete a set-up: a model loaded or failed, an image decoded or failed.
  connect(&shelf_, &ModelShelfModel::columnsChanged, this, &WorkspaceDirector::finishWhenReady);
  connect(&shelf_, &ModelShelfModel::loadFailed, this, &WorkspaceDirector::finishWhenReady);
  connect(&gallery_, &ImageGalleryModel::dataChanged, this, &WorkspaceDirector::finishWhenReady);
  connect(&gallery_, &ImageGalleryModel::loadFailed, this, &WorkspaceDirector::finishWhenReady);
  connect(&state_, &AppState::imageChanged, this, &WorkspaceDirector::finishWhenReady);
}

void WorkspaceDirector::apply(const WorkspaceSetup& setup) {
  pending_ = setup;
  if (setup.models) setModels(*setup.models);
  if (setup.images) setImages(*setup.images);
  if (!setup.image.isEmpty()) gallery_.addPaths({setup.image}, /*show_first=*/true);
  // Even when everything is in place already, finish from the event loop, like the slow case.
  QTimer::singleShot(0, this, &WorkspaceDirector::finishWhenReady);
}

void WorkspaceDirector::setModels(const QVector<ModelRef>& models) {
  QStringList wanted;
  for (const auto& m : models) wanted << QFileInfo(m.path).absoluteFilePath();
  for (int r = shelf_.rowCount() - 1; r >= 0; --r)
    if (!wanted.contains(shelf_.index(r).data(ModelShelfModel::PathRole).toString())) shelf_.removeModel(r);
  for (int i = 0; i < models.size(); ++i) {
    const int row = row_of(shelf_, ModelShelfModel::PathRole, wanted[i]);
    if (row < 0) shelf_.addCheckpoint(wanted[i], models[i].name);
    else if (!models[i].name.isEmpty()) shelf_.setData(shelf_.index(row), models[i].name, Qt::EditRole);
    shelf_.moveModel(row_of(shelf_, ModelShelfModel::PathRole, wanted[i]), i);
  }
}

void WorkspaceDirector::setImages(const QStringList& images) {
  QStringList wanted;
  for (const auto& p : images) wanted << QFileInfo(p).absoluteFilePath();
  for (int r = gallery_.rowCount() - 1; r >= 0; --r)
    if (!wanted.contains(gallery_.index(r).data(ImageGalleryModel::PathRole).toString())) gallery_.removeImage(r);
  gallery_.addPaths(wanted, /*show_first=*/false);
}

void WorkspaceDirector::finishWhenReady() {
  if (!pending_ || shelf_.isLoading()) return;
  if (!pending_->image.isEmpty()) {
    const int row = row_of(gallery_, ImageGalleryModel::PathRole, QFileInfo(pending_->image).absoluteFilePath());
    // Still decoding, or decoded but not yet shown; a failed image is gone from the gallery.
    if (row >= 0) {
      const QString id = gallery_.index(row).data(ImageGalleryModel::ImageIdRole).toString();
      if (id.isEmpty() || id != state_.imageId()) return;
    }
  }
  const QJsonObject controls = pending_->controls;
  pending_.reset();
  apply_controls_json(controls, state_);
  emit applied();
}

}  // namespace vitscope::ui
