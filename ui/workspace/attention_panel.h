#pragma once
// Attention panel: per model, the query's attention (one head or the mean), every head, the
// rollout; under the columns, mean attention distance and NMI per block, one line per model.
#include "ui/plots/line_plot.h"
#include "ui/workspace/comparison_panel.h"

namespace vitscope::ui {

class AttentionPanel : public ComparisonPanel {
  Q_OBJECT

 public:
  explicit AttentionPanel(ComparisonModel& model, QWidget* parent = nullptr);
  QStringList cliMetrics() const override;

 protected:
  PanelColumn* createColumn(const ModelColumn& column) override;
  void refreshPlots() override;
  QJsonObject columnData(const PanelColumn& column) override;

 private:
  LinePlot* distance_;
  LinePlot* nmi_;
};

}  // namespace vitscope::ui
