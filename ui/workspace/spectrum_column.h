#pragma once
// Spectrum of one model: the mean log-amplitude 2-D Fourier spectrum of the selected block's
// token feature map (DC in the centre).
#include "ui/plots/heatmap_view.h"
#include "ui/workspace/panel_column.h"

namespace vitscope::ui {

class SpectrumColumn : public PanelColumn {
  Q_OBJECT

 public:
  SpectrumColumn(ComparisonModel& model, const ModelColumn& column, QWidget* parent = nullptr);
  void refresh() override;

 private:
  HeatmapView* spectrum_;
  QLabel* caption_;
};

}  // namespace vitscope::ui
