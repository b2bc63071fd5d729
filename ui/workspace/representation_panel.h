#pragma once
// Representation panel: per model, PCA-RGB of the patch tokens; under the columns, the token
// singular-value spectrum at the selected block and the effective rank over depth.
#include "ui/plots/line_plot.h"
#include "ui/workspace/comparison_panel.h"

namespace vitscope::ui {

class RepresentationPanel : public ComparisonPanel {
  Q_OBJECT

 public:
  explicit RepresentationPanel(ComparisonModel& model, QWidget* parent = nullptr);
  QStringList cliMetrics() const override { return {"pca", "svd"}; }

 protected:
  PanelColumn* createColumn(const ModelColumn& column) override;
  void refreshPlots() override;
  QJsonObject columnData(const PanelColumn& column) override;

 private:
  LinePlot* singular_;
  LinePlot* rank_;
};

}  // namespace vitscope::ui
