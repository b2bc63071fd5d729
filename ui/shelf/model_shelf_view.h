#pragma once
// The model shelf: loaded models in column order, with buttons to add, remove and reorder them
// (double-click or F2 renames), and the selected model's card and load report below.
#include <QAction>
#include <QListView>
#include <QPlainTextEdit>
#include <QWidget>

#include "ui/shelf/model_shelf_model.h"

namespace vitscope::ui {

class ModelShelfView : public QWidget {
  Q_OBJECT

 public:
  ModelShelfView(ModelShelfModel& model, QAction* add_checkpoint, QAction* add_folder, QWidget* parent = nullptr);

 private:
  void updateDetails();
  int currentRow() const;

  ModelShelfModel& model_;
  QListView* list_;
  QPlainTextEdit* details_;
};

}  // namespace vitscope::ui
