#pragma once
// Sets the workspace up as a WorkspaceSetup asks (sessions, lesson steps): changes the shelf and
// the gallery, waits until the models are loaded and the image decoded, then applies the
// controls (before that, loading models would reset the block and a new image the painted mask).
#include <QObject>

#include "ui/app_state.h"
#include "ui/gallery/image_gallery_model.h"
#include "ui/session/workspace_setup.h"
#include "ui/shelf/model_shelf_model.h"

namespace vitscope::ui {

class WorkspaceDirector : public QObject {
  Q_OBJECT

 public:
  WorkspaceDirector(ModelShelfModel& shelf, ImageGalleryModel& gallery, AppState& state, QObject* parent = nullptr);

  // Replaces a set-up still waiting for its models or image.
  void apply(const WorkspaceSetup& setup);
  bool isApplying() const { return pending_.has_value(); }

 signals:
  void applied();  // models, image and controls are in place (analyses may still run)

 private:
  void setModels(const QVector<ModelRef>& models);
  void setImages(const QStringList& images);
  void finishWhenReady();

  ModelShelfModel& shelf_;
  ImageGalleryModel& gallery_;
  AppState& state_;
  std::optional<WorkspaceSetup> pending_;
};

}  // namespace vitscope::ui
