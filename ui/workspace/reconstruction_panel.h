#pragma once
// Reconstruction panel: masked input, prediction and error for every model with a decoder;
// one mask ratio and seed for all (each model draws its own kind of random mask), and hand
// edits painted in any column apply to all.
#include "ui/workspace/comparison_panel.h"

namespace vitscope::ui {

class ReconstructionPanel : public ComparisonPanel {
  Q_OBJECT

 public:
  explicit ReconstructionPanel(ComparisonModel& model, QWidget* parent = nullptr);
  // vitscope-cli has no reconstruction command yet.
  QStringList cliMetrics() const override { return {}; }

 protected:
  PanelColumn* createColumn(const ModelColumn& column) override;
  QJsonObject columnData(const PanelColumn& column) override;
};

}  // namespace vitscope::ui
