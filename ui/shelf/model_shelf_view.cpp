#include "ui/shelf/model_shelf_view.h"

#include <QHBoxLayout>
#include <QMenu>
#include <QSplitter>
#include <QToolButton>
#include <QVBoxLayout>

#include "ui/shelf/model_item_delegate.h"

namespace vitscope::ui {

ModelShelfView::ModelShelfView(ModelShelfModel& model, QAction* add_checkpoint, QAction* add_folder, QWidget* parent)
    : QWidget(parent), model_(model) {
  list_ = new QListView;
  list_->setModel(&model_);
  list_->setItemDelegate(new ModelItemDelegate(list_));
  list_->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed);
  list_->setToolTip(tr("Models in column order. Double-click or F2 renames; drop checkpoint files or Hugging Face "
                       "folders anywhere on the window to add them."));
  list_->setAccessibleName(tr("Models"));
  details_ = new QPlainTextEdit;
  details_->setReadOnly(true);
  details_->setPlaceholderText(tr("Select a model to see its card and load report."));
  details_->setAccessibleName(tr("Model details"));

  auto* add = new QToolButton;
  add->setText(tr("Add"));
  add->setToolTip(tr("Add a checkpoint file or a Hugging Face model folder"));
  add->setPopupMode(QToolButton::InstantPopup);
  auto* add_menu = new QMenu(add);
  add_menu->addAction(add_checkpoint);
  add_menu->addAction(add_folder);
  add->setMenu(add_menu);
  auto button = [this](const QString& text, const QString& tip, auto slot) {
    auto* b = new QToolButton;
    b->setText(text);
    b->setToolTip(tip);
    connect(b, &QToolButton::clicked, this, slot);
    return b;
  };
  auto* remove = button(tr("Remove"), tr("Remove the selected model (Delete)"), [this] { model_.removeModel(currentRow()); });
  auto* up = button(tr("↑"), tr("Move the selected model's column left"), [this] {
    const int r = currentRow();
    model_.moveModel(r, r - 1);
    list_->setCurrentIndex(model_.index(std::max(0, r - 1)));
  });
  auto* down = button(tr("↓"), tr("Move the selected model's column right"), [this] {
    const int r = currentRow();
    model_.moveModel(r, r + 1);
    list_->setCurrentIndex(model_.index(std::min(model_.rowCount() - 1, r + 1)));
  });
  auto* rename = button(tr("Rename"), tr("Rename the selected model (F2)"), [this] { list_->edit(list_->currentIndex()); });
  auto* remove_key = new QAction(this);
  remove_key->setShortcut(QKeySequence::Delete);
  remove_key->setShortcutContext(Qt::WidgetWithChildrenShortcut);
  connect(remove_key, &QAction::triggered, this, [this] { model_.removeModel(currentRow()); });
  list_->addAction(remove_key);

  auto* buttons = new QHBoxLayout;
  buttons->setContentsMargins(0, 0, 0, 0);
  for (auto* b : {add, remove, up, down, rename}) buttons->addWidget(b);
  buttons->addStretch(1);

  auto* splitter = new QSplitter(Qt::Vertical);
  splitter->addWidget(list_);
  splitter->addWidget(details_);
  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 1);
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(4, 4, 4, 4);
  layout->addLayout(buttons);
  layout->addWidget(splitter, 1);

  connect(list_->selectionModel(), &QItemSelectionModel::currentChanged, this, &ModelShelfView::updateDetails);
  connect(&model_, &QAbstractItemModel::dataChanged, this, &ModelShelfView::updateDetails);
  connect(&model_, &QAbstractItemModel::rowsRemoved, this, &ModelShelfView::updateDetails);
}

int ModelShelfView::currentRow() const { return list_->currentIndex().isValid() ? list_->currentIndex().row() : -1; }

void ModelShelfView::updateDetails() { details_->setPlainText(model_.details(currentRow())); }

}  // namespace vitscope::ui
