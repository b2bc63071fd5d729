#pragma once
// Representation of one model: its patch tokens at the selected block projected onto their
// first three principal components and shown as RGB (similar colours = similar tokens).
#include "ui/plots/heatmap_view.h"
#include "ui/workspace/panel_column.h"

namespace vitscope::ui {

class RepresentationColumn : public PanelColumn {
  Q_OBJECT

 public:
  RepresentationColumn(ComparisonModel& model, const ModelColumn& column, QWidget* parent = nullptr);
  void refresh() override;

 private:
  HeatmapView* pca_;
  HeatmapView* input_;
  QLabel* caption_;
};

}  // namespace vitscope::ui
