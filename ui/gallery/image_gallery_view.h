#pragma once
// The image gallery: thumbnails of the sample images and of everything dropped, opened or
// pasted; clicking one shows it in every model column.
#include <QAction>
#include <QListView>
#include <QWidget>

#include "ui/app_state.h"
#include "ui/gallery/image_gallery_model.h"

namespace vitscope::ui {

class ImageGalleryView : public QWidget {
  Q_OBJECT

 public:
  ImageGalleryView(ImageGalleryModel& model, AppState& state, const QList<QAction*>& actions, QWidget* parent = nullptr);

 private:
  void selectCurrentImage();

  ImageGalleryModel& model_;
  AppState& state_;
  QListView* list_;
};

}  // namespace vitscope::ui
