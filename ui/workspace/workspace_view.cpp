#include "ui/workspace/workspace_view.h"

#include <QVBoxLayout>

#include "ui/workspace/attention_panel.h"
#include "ui/workspace/probes_panel.h"
#include "ui/workspace/reconstruction_panel.h"
#include "ui/workspace/representation_panel.h"
#include "ui/workspace/spectrum_panel.h"

namespace vitscope::ui {

WorkspaceView::WorkspaceView(ComparisonModel& model, QWidget* parent) : QWidget(parent) {
  auto& state = model.state();
  auto* controls = new ControlsBar(state);
  tabs_ = new QTabWidget;
  tabs_->setDocumentMode(true);
  // Same order as the Panel enum.
  panels_ << new AttentionPanel(model) << new ReconstructionPanel(model) << new SpectrumPanel(model)
          << new RepresentationPanel(model) << new ProbesPanel(model);
  for (int i = 0; i < panels_.size(); ++i) {
    tabs_->addTab(panels_[i], panels_[i]->title());
    tabs_->setTabToolTip(i, tr("%1 (Ctrl+%2)").arg(panels_[i]->title()).arg(i + 1));
  }
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addWidget(controls);
  layout->addWidget(tabs_, 1);
  connect(tabs_, &QTabWidget::currentChanged, &state, [&state](int i) { state.setPanel(static_cast<Panel>(i)); });
  connect(&state, &AppState::panelChanged, tabs_, [this](Panel p) { tabs_->setCurrentIndex(static_cast<int>(p)); });
}

}  // namespace vitscope::ui
