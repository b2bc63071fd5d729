#pragma once
// Probes of one model: how close each probe view of the image stays to the original in its
// representation (bars, mean over blocks; blue views keep the shape, orange ones the texture), its
// shape-reliance index, and its cue-conflict shape bias once measured.
#include "ui/plots/bar_plot.h"
#include "ui/workspace/panel_column.h"
#include "ui/workspace/probes_model.h"

namespace vitscope::ui {

// The colours of the two kinds of probe view, in every Probes plot.
QColor cue_color(const std::string& keeps);

class ProbesColumn : public PanelColumn {
  Q_OBJECT

 public:
  ProbesColumn(ComparisonModel& model, ProbesModel& probes, const ModelColumn& column, QWidget* parent = nullptr);
  void refresh() override;

 private:
  void refreshShapeBias();

  ProbesModel& probes_;
  BarPlot* views_;
  QLabel* index_caption_;
  QLabel* shape_bias_;
};

}  // namespace vitscope::ui
