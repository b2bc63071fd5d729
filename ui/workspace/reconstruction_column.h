#pragma once
// Reconstruction of one model with a pixel decoder: the input with its masked patches in grey
// (click or drag to mask / unmask patches by hand, in every model at once), the original, the
// prediction, the prediction with the visible patches pasted back, and the error.
#include "ui/plots/heatmap_view.h"
#include "ui/workspace/panel_column.h"

namespace vitscope::ui {

class ReconstructionColumn : public PanelColumn {
  Q_OBJECT

 public:
  ReconstructionColumn(ComparisonModel& model, const ModelColumn& column, QWidget* parent = nullptr);
  void refresh() override;
  HeatmapView* maskedView() const { return masked_; }

 private:
  void paintCell(QPointF relative);

  HeatmapView* masked_ = nullptr;
  HeatmapView *original_ = nullptr, *prediction_ = nullptr, *composite_ = nullptr, *error_ = nullptr;
  QLabel* caption_ = nullptr;
  bool paint_masked_ = true;  // what a drag does: mask (true) or unmask the cells it crosses
  std::optional<GridCell> last_painted_;
};

}  // namespace vitscope::ui
