#include "ui/gallery/image_gallery_view.h"

#include <QHBoxLayout>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace vitscope::ui {

ImageGalleryView::ImageGalleryView(ImageGalleryModel& model, AppState& state, const QList<QAction*>& actions,
                                   QWidget* parent)
    : QWidget(parent), model_(model), state_(state) {
  list_ = new QListView;
  list_->setModel(&model_);
  list_->setViewMode(QListView::IconMode);
  list_->setIconSize(QSize(80, 80));
  list_->setGridSize(QSize(104, 112));
  list_->setResizeMode(QListView::Adjust);
  list_->setMovement(QListView::Static);
  list_->setWordWrap(true);
  list_->setAccessibleName(tr("Images"));
  list_->setToolTip(tr("Click an image to analyse it with every model. Drop image files or folders anywhere on the "
                       "window, or paste a picture (Ctrl+V)."));
  auto* buttons = new QHBoxLayout;
  buttons->setContentsMargins(0, 0, 0, 0);
  for (auto* action : actions) {
    auto* b = new QToolButton;
    b->setDefaultAction(action);
    b->setToolButtonStyle(Qt::ToolButtonTextOnly);
    buttons->addWidget(b);
  }
  auto* remove = new QToolButton;
  remove->setText(tr("Remove"));
  remove->setToolTip(tr("Remove the selected image from the gallery"));
  connect(remove, &QToolButton::clicked, this, [this] {
    const int row = list_->currentIndex().row();
    if (row < 0) return;
    const bool current = model_.index(row).data(ImageGalleryModel::ImageIdRole).toString() == state_.imageId();
    model_.removeImage(row);
    if (!current) return;
    // Show the neighbour instead, or nothing when the gallery is empty.
    const QModelIndex next = model_.index(std::min(row, model_.rowCount() - 1));
    state_.setImage(next.data(ImageGalleryModel::ImageIdRole).toString(), next.data(Qt::DisplayRole).toString());
  });
  buttons->addWidget(remove);
  buttons->addStretch(1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(buttons);
  layout->addWidget(list_, 1);

  // Activation by mouse or keyboard (arrows move the selection, the image follows).
  connect(list_->selectionModel(), &QItemSelectionModel::currentChanged, this, [this](const QModelIndex& index) {
    const QString id = index.data(ImageGalleryModel::ImageIdRole).toString();
    if (!id.isEmpty()) state_.setImage(id, index.data(Qt::DisplayRole).toString());
  });
  connect(&state_, &AppState::imageChanged, this, &ImageGalleryView::selectCurrentImage);
}

void ImageGalleryView::selectCurrentImage() {
  const int row = model_.rowOfImage(state_.imageId());
  if (row >= 0 && list_->currentIndex().row() != row) list_->setCurrentIndex(model_.index(row));
}

}  // namespace vitscope::ui
