#pragma once
// The comparison workspace: the shared controls above five panels (Attention, Reconstruction,
// Spectrum, Representation, Probes), each showing one column per model.
#include <QTabWidget>
#include <QWidget>

#include "ui/workspace/comparison_model.h"
#include "ui/workspace/comparison_panel.h"
#include "ui/workspace/controls_bar.h"

namespace vitscope::ui {

class WorkspaceView : public QWidget {
  Q_OBJECT

 public:
  explicit WorkspaceView(ComparisonModel& model, QWidget* parent = nullptr);

  ComparisonPanel* panel(Panel p) const { return panels_[static_cast<int>(p)]; }
  ComparisonPanel* currentPanel() const { return panels_[tabs_->currentIndex()]; }
  QList<ComparisonPanel*> panels() const { return panels_; }

 private:
  QTabWidget* tabs_;
  QList<ComparisonPanel*> panels_;
};

}  // namespace vitscope::ui
