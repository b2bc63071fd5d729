#pragma once
// The shared controls above the panels: block, head, query, mask ratio and seed. They act on
// every model column at once (through AppState).
#include <QComboBox>
#include <QLabel>
#include <QSlider>
#include <QSpinBox>
#include <QToolButton>
#include <QWidget>

#include "ui/app_state.h"

namespace vitscope::ui {

class ControlsBar : public QWidget {
  Q_OBJECT

 public:
  explicit ControlsBar(AppState& state, QWidget* parent = nullptr);

 private:
  void syncFromState();

  AppState& state_;
  QSlider* layer_;
  QLabel* layer_label_;
  QComboBox* head_;
  QToolButton* cls_;
  QLabel* query_label_;
  QSlider* ratio_;
  QLabel* ratio_label_;
  QSpinBox* seed_;
  QToolButton* clear_edits_;
};

}  // namespace vitscope::ui
