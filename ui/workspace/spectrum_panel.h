#pragma once
// Spectrum panel: per model, the 2-D log-amplitude spectrum of the selected block's features;
// under the columns, ΔLog amplitude over depth for every model on one plot.
#include "ui/plots/line_plot.h"
#include "ui/workspace/comparison_panel.h"

namespace vitscope::ui {

class SpectrumPanel : public ComparisonPanel {
  Q_OBJECT

 public:
  explicit SpectrumPanel(ComparisonModel& model, QWidget* parent = nullptr);
  QStringList cliMetrics() const override { return {"fourier"}; }

 protected:
  PanelColumn* createColumn(const ModelColumn& column) override;
  void refreshPlots() override;
  QJsonObject columnData(const PanelColumn& column) override;

 private:
  LinePlot* delta_;
};

}  // namespace vitscope::ui
