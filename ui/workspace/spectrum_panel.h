#pragma once
// Spectrum panel: per model, the 2-D log-amplitude spectrum of the selected block's features;
// under the columns, for every model on one plot each: ΔLog amplitude over depth, and the
// selected block's relative log amplitude over frequency (paper Fig. 9, left and right).
#include "ui/plots/line_plot.h"
#include "ui/workspace/comparison_panel.h"

namespace vitscope::ui {

class SpectrumPanel : public ComparisonPanel {
  Q_OBJECT

 public:
  explicit SpectrumPanel(ComparisonModel& model, QWidget* parent = nullptr);
  QStringList cliMetrics() const override { return {"fourier"}; }
  LinePlot* profilePlot() const { return profile_; }

 protected:
  PanelColumn* createColumn(const ModelColumn& column) override;
  void refreshPlots() override;
  QJsonObject columnData(const PanelColumn& column) override;

 private:
  LinePlot* delta_;
  LinePlot* profile_;
};

}  // namespace vitscope::ui
